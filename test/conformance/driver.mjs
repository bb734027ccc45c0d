// One child process of the conformance suite: drives one entry point of
// the built package (by its public name) through one case, as an
// application would. argv: entry, case, dashRoot, prefix.
// The parent test (conformance.test.ts) checks what was stored and said.
import { createRequire } from 'node:module'
import { writeFileSync } from 'node:fs'

const [entry, scenario, dashRoot, prefix] = process.argv.slice(2)
const LEVELS = ['debug', 'info', 'warn', 'error', 'fatal']
const require = createRequire(import.meta.url)

/** A correctly spelled option of each entry point's own, which must draw no warning. */
const OWN_NAMES = {
  experiment: { description: 'kept', tags: ['t'] },
  winston: { handleExceptions: false },
  receiver: { maxConnections: 10 },
}

/** Spellings of a prefix leading into or through the experiment alice/rt/victim (the parent made it and lists them). */
const INTO_VICTIM = JSON.parse(process.env.CONFORMANCE_INTO_VICTIM ?? '[]')

/** The times case's times, epoch milliseconds with a fraction (the parent gives and checks them). */
const TIMES = JSON.parse(process.env.CONFORMANCE_TIMES ?? '[]')

/** The time the pino call under way was given (pino reads it through pinoOptions' timestamp). */
let givenTime

/** pino's options: in the times case, a timestamp that writes the time the call was given. */
function pinoOptions() {
  if (scenario !== 'times') return { level: 'debug' }
  return {
    level: 'debug',
    timestamp: () => `,"time":${givenTime ?? Date.now()}`,
  }
}

/** Options per case; the prefix is left out by the no-prefix case. */
function options() {
  const base = { prefix, dashRoot, closeTimeoutMs: 3000 }
  if (scenario === 'no-prefix') return { dashRoot }
  // The Experiment does not route: its own prefix goes through the other experiment.
  if (scenario === 'routed-into' && entry === 'experiment')
    return { ...base, prefix: 'alice/rt/victim/sub/x' }
  // One misspelled shared option, beside names that are the entry point's own.
  // A prefix written as an SDK template (the parent gives it and checks its expansion).
  if (scenario === 'template')
    return { ...base, prefix: process.env.CONFORMANCE_TEMPLATE }
  if (scenario === 'misspelled')
    return { ...base, batchsize: 5, ...OWN_NAMES[entry] }
  // A server that takes connections and never answers (the parent runs it).
  if (scenario === 'silent-end' || scenario === 'silent-exit')
    return {
      prefix,
      dashRoot: false,
      dashUrl: process.env.CONFORMANCE_SILENT_URL,
      token: process.env.CONFORMANCE_TOKEN ?? 'opaque-test-token',
      closeTimeoutMs: 1500,
      // The Experiment's start() waits this long for the silent server.
      requestTimeoutMs: 1000,
    }
  if (scenario === 'server-down')
    return {
      prefix,
      dashRoot: false,
      dashUrl: 'http://127.0.0.1:1',
      token: 'opaque-test-token',
      maxRetries: 0,
      closeTimeoutMs: 2000,
    }
  return base
}

/** Each entry point: open(options) → { log(level, message, metadata, time?), raw(line), end() }; pino's loggers write it through pinoOptions(). */
const ENTRIES = {
  async experiment(opts) {
    const { Experiment } = await import('ml-dash-logs')
    const exp = await new Experiment(opts).start()
    return {
      log: (level, message, metadata, time) =>
        exp.log(message, { level, metadata, timestamp: time }),
      end: () => exp.close(),
    }
  },
  async 'pino-transport'(opts) {
    const pino = require('pino')
    const transport = pino.transport({
      target: 'ml-dash-logs/pino',
      options: opts,
    })
    transport.on('error', (error) => console.log(`ERROR ${error.message}`))
    // An option error (no prefix, say) fails the worker's start: seen as its 'error'.
    if (scenario === 'no-prefix')
      await new Promise((resolve, reject) => {
        transport.once('ready', resolve)
        transport.once('error', reject)
      })
    const logger = pino(pinoOptions(), transport)
    return pinoEntry(
      logger,
      // pino itself cannot stringify 5000 levels; 1100 is past what Python's json reads.
      () => logger.info({ x: nestedArray(1100) }, 'deep'),
      // Ended as pino apps end it; the worker then delivers and the process ends with it.
      // ('close' is not awaited: thread-stream does not emit it when end() comes before 'ready', even for pino/file.)
      async () => transport.end(),
    )
  },
  async 'pino-destination'(opts) {
    const pino = require('pino')
    const { createPinoDestination } = await import('ml-dash-logs/pino')
    const destination = createPinoDestination(opts)
    const logger = pino(pinoOptions(), destination)
    return pinoEntry(
      logger,
      (line) => destination.write(line),
      () =>
        new Promise((resolve) => {
          destination.on('close', resolve)
          destination.end()
        }),
    )
  },
  // The application half of `node app.js | ml-dash-logs --prefix …`: pino to stdout.
  async 'cli-pipe'() {
    const pino = require('pino')
    const logger = pino(
      pinoOptions(),
      pino.destination({ dest: 1, sync: true }),
    )
    return pinoEntry(
      logger,
      (line) => process.stdout.write(line),
      async () => {},
    )
  },
  async winston(opts) {
    const winston = require('winston')
    const { MlDashTransport } = await import('ml-dash-logs/winston')
    const transport = new MlDashTransport(opts)
    transport.on('warn', () => {})
    const logger = winston.createLogger({
      levels: winston.config.syslog.levels,
      level: 'debug',
      // Not the default json(): that format stringifies the whole value in winston itself, before any transport.
      format: winston.format.timestamp(),
      transports: [transport],
    })
    const syslog = {
      debug: 'debug',
      info: 'info',
      warn: 'warning',
      error: 'error',
      fatal: 'emerg',
    }
    return {
      log: (level, message, metadata, time) =>
        logger.log(
          syslog[level],
          message,
          time === undefined ? metadata : { ...metadata, timestamp: time },
        ),
      end: () =>
        new Promise((resolve) => {
          transport.on('finish', resolve)
          logger.end()
        }),
    }
  },
  'otel-batch': (opts) => otelEntry(opts, 'BatchLogRecordProcessor'),
  'otel-simple': (opts) => otelEntry(opts, 'SimpleLogRecordProcessor'),
  // The receiver in this process, fed by the official OTLP/HTTP exporter.
  async receiver(opts) {
    const { startReceiver } = await import('ml-dash-logs/receiver')
    const receiver = await startReceiver({ ...opts, port: 0 })
    const {
      OTLPLogExporter,
    } = require('@opentelemetry/exporter-logs-otlp-proto')
    const exporter = new OTLPLogExporter({ url: `${receiver.url}/v1/logs` })
    const otel = await otelEntry({}, 'BatchLogRecordProcessor', exporter)
    return {
      ...otel,
      // Acknowledged by the receiver before the exit case exits.
      beforeExit: () => otel.provider.forceFlush(),
      raw: (line) =>
        fetch(`${receiver.url}/v1/logs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: line,
        }).then(async (response) =>
          console.log(`ANSWER ${response.status} ${await response.text()}`),
        ),
      end: async () => {
        await otel.provider.shutdown()
        await receiver.close()
        console.log(`STATS ${JSON.stringify(receiver.stats)}`)
      },
    }
  },
}

function pinoEntry(logger, raw, end) {
  return {
    log: (level, message, metadata, time) => {
      givenTime = time
      logger[level](metadata, message)
    },
    raw,
    end,
  }
}

async function otelEntry(opts, processorName, given) {
  const sdk = require('@opentelemetry/sdk-logs')
  const exporter =
    given ??
    new (await import('ml-dash-logs/otel')).MlDashLogRecordExporter(opts)
  const handed = { count: 0, exitAt: Infinity }
  const counting = {
    export(records, done) {
      exporter.export(records, done)
      handed.count += records.length
      // The exit case: exit in the same tick as the records are handed over.
      if (handed.count >= handed.exitAt) process.exit(1)
    },
    forceFlush: () => exporter.forceFlush?.() ?? Promise.resolve(),
    shutdown: () => exporter.shutdown(),
  }
  const processor = new sdk[processorName]({
    exporter: given === undefined ? counting : exporter,
    maxQueueSize: 20_000,
    maxExportBatchSize: 20_000,
  })
  const provider = new sdk.LoggerProvider({ processors: [processor] })
  const logger = provider.getLogger('conformance')
  const severity = { debug: 5, info: 9, warn: 13, error: 17, fatal: 21 }
  return {
    provider,
    log: (level, message, metadata, time) =>
      logger.emit({
        ...(time === undefined ? {} : { timestamp: time }),
        severityNumber: severity[level],
        severityText: level.toUpperCase(),
        body: message,
        attributes: metadata,
      }),
    // sdk-logs validates attributes recursively itself (a DAG or a deep array
    // overflows or stalls it before any exporter), so hostile values go in the body.
    hostile: (value) => logger.emit({ severityNumber: 9, body: value }),
    handOver: () => void processor.forceFlush(),
    /** True when the exit is left to the export that hands over the last records. */
    exitWhenHanded: (count) => {
      if (handed.count >= count) return false
      handed.exitAt = count
      void processor.forceFlush()
      return true
    },
    end: () => provider.shutdown(),
  }
}

function nestedArray(depth) {
  let value = []
  for (let i = 0; i < depth; i++) value = [value]
  return value
}

function logMany(target, count) {
  for (let i = 0; i < count; i++) {
    const level = LEVELS[i % LEVELS.length]
    target.log(level, `record ${i}`, { n: i, tag: 'conformance' })
  }
}

/** A DAG of 10^9 leaves sharing one reference, and an array nested 5000 deep. */
function hostileValues() {
  let dag = 'x'
  for (let i = 0; i < 3; i++) dag = new Array(1000).fill(dag)
  return { dag, deep: nestedArray(5000) }
}

const DEEP_LINE = `{"level":30,"time":1700000000123,"msg":"deep","x":${'['.repeat(5000)}${']'.repeat(5000)}}\n`
/** An OTLP/JSON body whose one attribute nests arrays 20 deep. */
const deepOtlp = () => {
  // Deeper than maxDepth, within the receiver's own nesting limit (32).
  const value = `${'{"arrayValue":{"values":['.repeat(20)}${']}}'.repeat(20)}`
  return `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"severityNumber":9,"body":{"stringValue":"deep"},"attributes":[{"key":"x","value":${value}}]}]}]}]}`
}

async function main() {
  let target
  try {
    target = await ENTRIES[entry](options())
  } catch (error) {
    console.log(`CONSTRUCTION ${error.message} [${error.code}]`)
    return
  }
  const rss = process.memoryUsage().rss
  switch (scenario) {
    case 'levels':
    case 'template':
    case 'misspelled':
    case 'unwritable':
    case 'server-down':
    case 'no-prefix':
      logMany(target, 5)
      await target.end()
      return
    case 'times':
      for (const [i, time] of TIMES.entries())
        target.log('info', `time ${i}`, { n: i }, time)
      await target.end()
      return
    case 'routed-into':
      for (const [i, into] of INTO_VICTIM.entries())
        target.log('info', `routed ${i}`, { 'ml_dash.prefix': into })
      await target.end()
      return
    case 'silent-end':
      logMany(target, 5)
      // The Batch processor hands its buffer to the exporter now, not at its timer.
      target.handOver?.()
      // The program just ends: nothing closes the logger (the receiver, a
      // server itself, is closed as its process would be on SIGTERM).
      if (entry === 'receiver') await target.end()
      return
    case 'silent-exit':
      logMany(target, 5)
      // The receiver is closed as on SIGTERM: with a silent server and no local
      // store it answers an OTLP request only once delivery gave up (issue 12/14).
      if (entry === 'receiver') await target.end()
      if (!target.exitWhenHanded?.(5)) process.exit(1)
      return
    // falls through (never reached)
    case 'exit-first-tick':
    case 'exit-after-10000':
      logMany(target, scenario === 'exit-first-tick' ? 100 : 10_000)
      // The receiver answers first (then exits in that tick); the others exit at once.
      if (entry === 'receiver') {
        await target.beforeExit()
        process.exit(1)
      }
      // Batch processor: what it hands the exporter (then exit at once); it keeps its own buffer until then.
      if (
        !target.exitWhenHanded?.(scenario === 'exit-first-tick' ? 100 : 10_000)
      )
        process.exit(1)
      return
    // falls through (never reached)
    case 'getters': {
      // A field whose getter throws: the call must not throw into the app
      // from this library, and the record after it must be stored.
      const value = { ok: 1 }
      Object.defineProperty(value, 'bad', {
        enumerable: true,
        get() {
          throw new Error('getter exploded')
        },
      })
      let threw = 'nothing'
      try {
        target.log('info', 'with getter', value)
      } catch (error) {
        threw = String(error)
      }
      target.log('info', 'after', { n: 1 })
      console.log(`THREW ${threw}`)
      await target.end()
      return
    }
    case 'hostile': {
      const started = performance.now()
      if (entry.startsWith('pino') || entry === 'cli-pipe')
        target.raw(DEEP_LINE)
      else if (entry === 'receiver') await target.raw(deepOtlp())
      else if (target.hostile !== undefined) {
        target.hostile(hostileValues())
        target.hostile(hostileValues().dag)
      } else {
        const { dag, deep } = hostileValues()
        target.log('info', 'hostile', { dag, deep })
        target.log('info', dag)
      }
      writeFileSync(
        `${dashRoot}.measure`,
        JSON.stringify({
          ms: performance.now() - started,
          rssGrowth: process.memoryUsage().rss - rss,
        }),
      )
      await target.end()
      return
    }
  }
}

await main()
