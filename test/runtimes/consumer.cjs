// A CommonJS project's use of every entry point (`require`), run by
// scripts/test-runtimes.mjs on each runtime: `<runtime> consumer.cjs <dir>`.
// Stores one record through each adapter and checks that it is there.
'use strict'
const assert = require('node:assert/strict')
const { readFileSync } = require('node:fs')
const { join } = require('node:path')
const { Experiment, isMlDashError } = require('ml-dash-logs')
const { createPinoDestination } = require('ml-dash-logs/pino')
const { MlDashTransport } = require('ml-dash-logs/winston')
const { MlDashLogRecordExporter } = require('ml-dash-logs/otel')
const { startReceiver } = require('ml-dash-logs/receiver')
const pino = require('pino')
const winston = require('winston')
const {
  LoggerProvider,
  SimpleLogRecordProcessor,
} = require('@opentelemetry/sdk-logs')

const dashRoot = process.argv[2]
const messages = (name) =>
  readFileSync(
    join(dashRoot, 'alice/commonjs', name, 'logs/logs.jsonl'),
    'utf8',
  )
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line).message)

async function main() {
  assert.equal(typeof startReceiver, 'function')
  assert.equal(isMlDashError(new Error('x')), false)
  await new Experiment({ prefix: 'alice/commonjs/experiment', dashRoot }).run(
    (exp) => exp.log('from require'),
  )
  const destination = createPinoDestination({
    prefix: 'alice/commonjs/pino',
    dashRoot,
  })
  pino(destination).info('from require')
  await new Promise((resolve) => {
    destination.once('close', resolve)
    destination.end()
  })
  const logger = winston.createLogger({
    transports: [
      new MlDashTransport({ prefix: 'alice/commonjs/winston', dashRoot }),
    ],
  })
  logger.info('from require')
  await new Promise((resolve) => {
    logger.on('finish', resolve)
    logger.end()
  })
  const provider = new LoggerProvider({
    processors: [
      // sdk-logs 3 takes { exporter }; 0.2xx took the exporter itself.
      new SimpleLogRecordProcessor({
        exporter: new MlDashLogRecordExporter({
          prefix: 'alice/commonjs/otel',
          dashRoot,
        }),
      }),
    ],
  })
  provider.getLogger('commonjs').emit({ body: 'from require' })
  await provider.shutdown()
  for (const name of ['experiment', 'pino', 'winston', 'otel'])
    assert.deepEqual(messages(name), ['from require'], name)
}

main().catch((error) => {
  console.error((error && error.stack) || String(error))
  process.exit(1)
})
