// One pino run of bench/peers.mjs, in its own process: N records through one
// worker transport (pino.transport by target name) to its sink, the
// transport ended and its 'close' awaited, then the sink (or the file)
// polled until it holds every record. Prints { variant, total, delivered,
// inCalls, maxRssMb }.
import { once } from 'node:events'
import { join } from 'node:path'
import pino from 'pino'
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

// pino-opentelemetry-transport, protobuf (its default protocol) to the sink.
const otel = (processorConfig) => ({
  target: 'pino-opentelemetry-transport',
  options: {
    loggerName: 'bench',
    serviceVersion: '1.0.0',
    logRecordProcessorOptions: {
      recordProcessorType: 'batch',
      exporterOptions: {
        protocol: 'http/protobuf',
        protobufExporterOptions: { url: `${url}/v1/logs` },
      },
      processorConfig,
    },
  },
})

const setups = {
  'pino/file': () => ({
    target: 'pino/file',
    options: { destination: file },
    count: fileCounter(file),
  }),
  'ml-dash-logs/pino local': () => ({
    target: 'ml-dash-logs/pino',
    options: { dashRoot: join(dir, '.dash'), prefix: 'bench/pino/run' },
    count: fileCounter(join(dir, '.dash/bench/pino/run/logs/logs.jsonl')),
  }),
  'ml-dash-logs/pino remote': () => ({
    target: 'ml-dash-logs/pino',
    options: {
      dashUrl: url,
      token,
      dashRoot: false,
      prefix: 'alice/bench/pino-run',
    },
    count: counterFor(config),
  }),
  // Defaults: a batch every 5 s, at most 10 000 waiting (the oldest dropped).
  'pino-loki': () => ({
    target: 'pino-loki',
    options: { host: url },
    count: counterFor(config),
  }),
  'pino-loki (maxBufferSize: 0, unbounded)': () => ({
    target: 'pino-loki',
    options: { host: url, batching: { maxBufferSize: 0 } },
    count: counterFor(config),
  }),
  // Defaults: BatchLogRecordProcessor, queue 2048 (new records dropped
  // beyond it), batches of 512, every 1 s.
  'pino-opentelemetry-transport': () => ({
    ...otel(undefined),
    count: counterFor(config),
  }),
  'pino-opentelemetry-transport (maxQueueSize: N+1)': () => ({
    ...otel({ maxQueueSize: N + 1 }),
    count: counterFor(config),
  }),
  // Defaults: index "pino", bulk requests of about 1000 bytes, 5 in flight.
  'pino-elasticsearch': () => ({
    target: 'pino-elasticsearch',
    options: { node: url },
    count: counterFor(config),
  }),
  // The client's bulk helper's own default size (pino-elasticsearch sets 1000).
  'pino-elasticsearch (flushBytes: 5 MB)': () => ({
    target: 'pino-elasticsearch',
    options: { node: url, flushBytes: 5_000_000 },
    count: counterFor(config),
  }),
}

const { target, options, count } = setups[variant]()
const transport = pino.transport({ target, options })
// The logger first: pino sends its configuration when it is created, and a
// transport built with expectPinoConfig (pino-opentelemetry-transport) is
// not ready before it has it.
const logger = pino(transport)
await once(transport, 'ready')
// A transport that fails (thread-stream's end() gives up after 10 s) is
// reported with what reached the sink, not as a crash.
let error
transport.on('error', (e) => (error ??= e.message))

const start = performance.now()
const inCalls = await logAll(N, (i) => logger.info(fields(i), MESSAGE))
await new Promise((resolve) => {
  // pino unrefs the worker once ready; hold the loop open until it closes.
  transport.ref()
  transport.once('close', resolve)
  transport.end()
})
const { delivered, total } = await waitDelivered(count, N, start)
report({ variant, total, delivered, inCalls, ...(error && { error }) })
