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
let settled = false
runCli(process.argv.slice(2), io).then(
  (code) => {
    settled = true
    process.exitCode = code
  },
  (error) => {
    settled = true
    process.stderr.write(`ml-dash-logs: ${error && error.message}\n`)
    process.exitCode = 1
  },
)
// Nothing left to wait on, yet the command never finished: never exit 0.
process.once('exit', (code) => {
  if (settled || code !== 0) return
  process.stderr.write('ml-dash-logs: ended before its work was done\n')
  process.exitCode = 1
})
