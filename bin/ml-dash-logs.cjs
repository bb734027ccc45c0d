#!/usr/bin/env node
'use strict'
// The `ml-dash-logs` command: a shim over the compiled CLI.
const { runCli } = require('../dist/cjs/cli/main.js')
const { version } = require('../package.json')

const io = {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  version,
  signals: process,
}
runCli(process.argv.slice(2), io).then(
  (code) => (process.exitCode = code),
  (error) => {
    process.stderr.write(`ml-dash-logs: ${error && error.message}\n`)
    process.exitCode = 1
  },
)
