// One OpenTelemetry run of bench/peers.mjs (groups otel and receiver), in
// its own process: N records through sdk-logs' LoggerProvider and a
// BatchLogRecordProcessor with the same settings for every exporter (queue
// N+1, batches of 512, every 50 ms, as bench/otel-child.mjs), then
// provider.shutdown() and the sink, the file or the exporter polled until it
// holds every record. Prints { variant, total, delivered, maxRssMb }.
import { join } from 'node:path'
import {
  BatchLogRecordProcessor,
  LoggerProvider,
} from '@opentelemetry/sdk-logs'
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

async function ours(options, count) {
  const { MlDashLogRecordExporter } = await import('ml-dash-logs/otel')
  return { exporter: new MlDashLogRecordExporter(options), count }
}

const setups = {
  // The official exporter, to the counting sink or to `ml-dash-logs serve`.
  'otlp-proto': async () => {
    const { OTLPLogExporter } =
      await import('@opentelemetry/exporter-logs-otlp-proto')
    return {
      exporter: new OTLPLogExporter({ url: `${url}/v1/logs` }),
      count: counterFor(config),
    }
  },
  'ml-dash-logs/otel local': () =>
    ours(
      { dashRoot: join(dir, '.dash'), prefix: 'bench/otel/run' },
      fileCounter(join(dir, '.dash/bench/otel/run/logs/logs.jsonl')),
    ),
  'ml-dash-logs/otel remote': () =>
    ours(
      { dashUrl: url, token, dashRoot: false, prefix: 'alice/bench/otel-run' },
      counterFor(config),
    ),
  // The ceiling: the processor's own cost, an exporter that takes at once.
  'no-op exporter': async () => {
    let given = 0
    return {
      exporter: {
        export(records, done) {
          given += records.length
          done({ code: 0 }) // ExportResultCode.SUCCESS
        },
        forceFlush: async () => {},
        shutdown: async () => {},
      },
      count: async () => given,
    }
  },
}

const { exporter, count } = await setups[variant]()
const provider = new LoggerProvider({
  processors: [
    new BatchLogRecordProcessor({
      exporter,
      maxQueueSize: N + 1,
      maxExportBatchSize: 512,
      scheduledDelayMillis: 50,
    }),
  ],
})
const logger = provider.getLogger('bench')

const start = performance.now()
await logAll(N, (i) =>
  logger.emit({ severityNumber: 9, body: MESSAGE, attributes: fields(i) }),
)
await provider.shutdown()
const { delivered, total } = await waitDelivered(count, N, start)
report({ variant, total, delivered })
