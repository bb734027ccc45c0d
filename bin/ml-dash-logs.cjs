#!/usr/bin/env node
'use strict'
// The `ml-dash-logs` command: a shim over the compiled CLI.
const { runCli } = require('../dist/cjs/cli/main.js')
const { version } = require('../package.json')
process.exitCode = runCli(
  process.argv.slice(2),
  process.stdout,
  process.stderr,
  version,
)
