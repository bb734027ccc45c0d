// One runtime's checks, run by scripts/test-runtimes.mjs in a scratch project
// where the packed package is installed: `<runtime> check.mjs <check> <dir>`.
// Each check stores into its own experiment under <dir>, reads the store back
// and exits 0 when everything is as expected; otherwise it exits 1, saying
// what differs. `exit` ends the process with process.exit(1) right after
// logging (the runner counts what was stored).
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

const [check, dashRoot] = process.argv.slice(2)
const LEVELS = ['debug', 'info', 'warn', 'error', 'fatal']

/** The stored entries of `prefix`, parsed. */
function stored(prefix) {
  const file = join(dashRoot, prefix, 'logs', 'logs.jsonl')
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line))
}

function assertNumbered(lines) {
  assert.deepEqual(
    lines.map((line) => line.sequenceNumber),
    lines.map((_, i) => i),
  )
}

async function experiment() {
  const { Experiment } = await import('ml-dash-logs')
  const prefix = 'alice/runtimes/experiment'
  await new Experiment({ prefix, dashRoot }).run((exp) => {
    for (const level of LEVELS)
      exp.log(`at ${level}`, { level, metadata: { step: 1 } })
    exp.logs.info('built', { nested: { ok: true } })
  })
  const lines = stored(prefix)
  assert.deepEqual(
    lines.map((line) => line.level),
    [...LEVELS, 'info'],
  )
  assert.deepEqual(lines[5].metadata, { nested: { ok: true } })
  assertNumbered(lines)
}

async function pinoTransport() {
  const { default: pino } = await import('pino')
  const prefix = 'alice/runtimes/pino'
  const logger = pino(
    { level: 'trace' },
    pino.transport({
      target: 'ml-dash-logs/pino',
      options: { prefix, dashRoot },
    }),
  )
  for (let i = 0; i < 1000; i++) logger.info({ i }, 'record')
  logger.error(new Error('boom'), 'failed')
  await new Promise((resolve, reject) =>
    logger.flush((error) => (error ? reject(error) : resolve())),
  )
  const lines = stored(prefix)
  assert.equal(lines.length, 1001)
  assert.equal(lines[999].metadata.i, 999)
  assert.equal(lines[1000].level, 'error')
  assert.equal(lines[1000].metadata.err.message, 'boom')
  assertNumbered(lines)
}

async function winston() {
  const { default: winstonModule } = await import('winston')
  const { MlDashTransport } = await import('ml-dash-logs/winston')
  const prefix = 'alice/runtimes/winston'
  const logger = winstonModule.createLogger({
    level: 'debug',
    transports: [new MlDashTransport({ prefix, dashRoot })],
  })
  logger.debug('at debug', { step: 1 })
  logger.warn('at warn')
  logger.error(new Error('bad batch'))
  await new Promise((resolve) => {
    logger.on('finish', resolve)
    logger.end()
  })
  const lines = stored(prefix)
  assert.deepEqual(
    lines.map((line) => line.level),
    ['debug', 'warn', 'error'],
  )
  assert.equal(lines[0].metadata.step, 1)
  assertNumbered(lines)
}

async function otel() {
  const { context, trace } = await import('@opentelemetry/api')
  const { resourceFromAttributes } = await import('@opentelemetry/resources')
  const { BatchLogRecordProcessor, LoggerProvider, SimpleLogRecordProcessor } =
    await import('@opentelemetry/sdk-logs')
  const { MlDashLogRecordExporter } = await import('ml-dash-logs/otel')
  for (const [kind, Processor] of [
    ['batch', BatchLogRecordProcessor],
    ['simple', SimpleLogRecordProcessor],
  ]) {
    const prefix = `alice/runtimes/otel-${kind}`
    const exporter = new MlDashLogRecordExporter({ prefix, dashRoot })
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'runtimes' }),
      processors: [new Processor({ exporter })],
    })
    const logger = provider.getLogger('scope', '3.0.0')
    for (const severityNumber of [1, 9, 13, 17, 21])
      logger.emit({ severityNumber, body: `n${severityNumber}` })
    const spanContext = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
    }
    logger.emit({
      body: { structured: true },
      timestamp: [1_700_000_000, 123_456_789],
      attributes: { 'exception.type': 'E' },
      context: trace.setSpanContext(context.active(), spanContext),
    })
    await provider.shutdown()
    const lines = stored(prefix)
    assert.deepEqual(
      lines.map((line) => line.level),
      [...LEVELS, 'info'],
    )
    assertNumbered(lines)
    const last = lines[5]
    assert.equal(last.timestamp, '2023-11-14T22:13:20.123456Z')
    assert.equal(last.message, '{"structured":true}')
    assert.deepEqual(last.metadata.exception, { type: 'E' })
    assert.equal(last.metadata.trace_id, spanContext.traceId)
    assert.deepEqual(last.metadata['otel.resource'], {
      'service.name': 'runtimes',
    })
    assert.deepEqual(last.metadata['otel.scope'], {
      name: 'scope',
      version: '3.0.0',
    })
  }
}

/**
 * A python3 writer appends under the SDK's flock while this runtime's
 * Experiment writes the same experiment: every entry is kept once, and the
 * numbers run 0, 1, 2, … with none handed out twice.
 */
async function flock() {
  const { Experiment } = await import('ml-dash-logs')
  const prefix = 'alice/runtimes/flock'
  const COUNT = 400
  const directory = join(dashRoot, prefix)
  const go = join(dashRoot, 'flock-go')
  const python = spawn(
    'python3',
    ['sdk-writer.py', directory, String(COUNT), go],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let said = ''
  python.stdout.on('data', (chunk) => (said += chunk))
  const ended = new Promise((resolve) => python.on('close', resolve))
  while (!said.includes('ready')) await new Promise((r) => setTimeout(r, 5))
  const exp = new Experiment({ prefix, dashRoot, flushIntervalMs: 1 })
  await exp.start()
  writeFileSync(go, '')
  for (let i = 0; i < COUNT; i++) {
    exp.log(`node ${i}`, { metadata: { source: 'node', i } })
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1))
  }
  await exp.close()
  assert.equal(await ended, 0)
  const lines = stored(prefix)
  assert.equal(lines.length, 2 * COUNT)
  assert.deepEqual(
    [...lines.map((line) => line.sequenceNumber)].sort((a, b) => a - b),
    lines.map((_, i) => i),
  )
  for (const source of ['node', 'python'])
    assert.deepEqual(
      lines
        .filter((line) => line.metadata.source === source)
        .map((line) => line.metadata.i),
      Array.from({ length: COUNT }, (_, i) => i),
    )
}

/** Logs through the Experiment, winston and pino, then process.exit(1) at once. */
async function exit() {
  const { Experiment } = await import('ml-dash-logs')
  const { default: pino } = await import('pino')
  const pinoLogger = pino(
    pino.transport({
      target: 'ml-dash-logs/pino',
      options: { prefix: 'alice/runtimes/exit-pino', dashRoot },
    }),
  )
  const { default: winstonModule } = await import('winston')
  const { MlDashTransport } = await import('ml-dash-logs/winston')
  const exp = await new Experiment({
    prefix: 'alice/runtimes/exit',
    dashRoot,
  }).start()
  const logger = winstonModule.createLogger({
    transports: [
      new MlDashTransport({ prefix: 'alice/runtimes/exit-winston', dashRoot }),
    ],
  })
  for (let i = 0; i < 1000; i++) {
    exp.log(`entry ${i}`, { metadata: { i } })
    logger.info(`entry ${i}`, { i })
    pinoLogger.info({ i }, `entry ${i}`)
  }
  pinoLogger.error('failed')
  exp.log('failed', { level: 'error' })
  logger.error('failed')
  process.exit(1)
}

const CHECKS = { experiment, pino: pinoTransport, winston, otel, flock, exit }
if (!(check in CHECKS) || dashRoot === undefined || !existsSync(dashRoot)) {
  console.error(`usage: check.mjs <${Object.keys(CHECKS).join('|')}> <dir>`)
  process.exit(2)
}
try {
  await CHECKS[check]()
} catch (error) {
  console.error(error?.stack ?? String(error))
  process.exit(1)
}
