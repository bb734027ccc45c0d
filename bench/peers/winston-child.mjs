// One winston run of bench/peers.mjs, in its own process: N records through
// one transport to its sink, logger.end() and 'finish' awaited (and the
// OpenTelemetry provider shut down), then the sink (or the file) polled
// until it holds every record. Peers are imported only by their own
// variant, so each run's peak memory is its own. Prints { variant, total,
// delivered, inCalls, maxRssMb }.
import { join } from 'node:path'
import winston from 'winston'
import {
  MESSAGE,
  childArgs,
  counterFor,
  fields,
  fileCounter,
  logAll,
  report,
  waitDelivered,
} from './common.mjs'

const config = childArgs()
const { variant, N, dir, url, token } = config
const file = join(dir, 'app.log')

// @opentelemetry/winston-transport emits to the global LoggerProvider:
// sdk-logs' BatchLogRecordProcessor with the OTLP/proto exporter to the sink.
async function otel(processorConfig) {
  const [{ logs }, { BatchLogRecordProcessor, LoggerProvider }, otlp, wt] =
    await Promise.all([
      import('@opentelemetry/api-logs'),
      import('@opentelemetry/sdk-logs'),
      import('@opentelemetry/exporter-logs-otlp-proto'),
      import('@opentelemetry/winston-transport'),
    ])
  const exporter = new otlp.OTLPLogExporter({ url: `${url}/v1/logs` })
  const provider = new LoggerProvider({
    processors: [new BatchLogRecordProcessor({ exporter, ...processorConfig })],
  })
  logs.setGlobalLoggerProvider(provider)
  return {
    transport: new wt.OpenTelemetryTransportV3(),
    count: counterFor(config),
    shutdown: () => provider.shutdown(),
  }
}

async function ours(options, count) {
  const { MlDashTransport } = await import('ml-dash-logs/winston')
  return { transport: new MlDashTransport(options), count }
}

const setups = {
  'winston/file': async () => ({
    transport: new winston.transports.File({ filename: file }),
    count: fileCounter(file),
  }),
  'ml-dash-logs/winston local': () =>
    ours(
      { dashRoot: join(dir, '.dash'), prefix: 'bench/winston/run' },
      fileCounter(join(dir, '.dash/bench/winston/run/logs/logs.jsonl')),
    ),
  'ml-dash-logs/winston remote': () =>
    ours(
      {
        dashUrl: url,
        token,
        dashRoot: false,
        prefix: 'alice/bench/winston-run',
      },
      counterFor(config),
    ),
  // Defaults: protobuf + snappy, a batch every 5 s, unbounded; close() (on
  // the transport's unpipe at the end) sends what is left.
  'winston-loki': async () => {
    const { default: LokiTransport } = await import('winston-loki')
    return {
      transport: new LokiTransport({ host: url }),
      count: counterFor(config),
    }
  },
  // Defaults: queue 2048 (new records dropped beyond it), batches of 512, every 1 s.
  '@opentelemetry/winston-transport': () => otel({}),
  '@opentelemetry/winston-transport (maxQueueSize: N+1)': () =>
    otel({ maxQueueSize: N + 1 }),
}

const { transport, count, shutdown } = await setups[variant]()
const logger = winston.createLogger({ transports: [transport] })

const start = performance.now()
const inCalls = await logAll(N, (i) => logger.info(MESSAGE, fields(i)))
await new Promise((resolve) => {
  logger.once('finish', resolve)
  logger.end()
})
await shutdown?.()
const { delivered, total } = await waitDelivered(count, N, start)
report({ variant, total, delivered, inCalls })
