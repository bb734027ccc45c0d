// One run of the experiments curve: N OpenTelemetry records through the
// batch processor into MlDashLogRecordExporter (local store), each routed
// by its `ml_dash.prefix` attribute to one of K experiments, round robin,
// after one record has opened each experiment. Prints { total (ms, the N
// records), open (ms, opening the K experiments), delivered }.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  BatchLogRecordProcessor,
  LoggerProvider,
} from '@opentelemetry/sdk-logs'
import { MlDashLogRecordExporter } from 'ml-dash-logs/otel'

const [count, experiments] = process.argv.slice(2).map(Number)
const dir = mkdtempSync(join(tmpdir(), 'ml-dash-curve-'))
const exporter = new MlDashLogRecordExporter({
  dashRoot: join(dir, '.dash'),
  routingOnly: true,
})
const provider = new LoggerProvider({
  processors: [
    new BatchLogRecordProcessor({
      exporter,
      maxQueueSize: count + 1,
      maxExportBatchSize: 512,
      scheduledDelayMillis: 50,
    }),
  ],
})
const logger = provider.getLogger('bench')
const prefixes = Array.from(
  { length: experiments },
  (_, e) => `bench/curve/e${e}`,
)

// Each experiment opened first (its folders, experiment.json, lock file):
// a cost once per experiment, timed apart from the per-record cost.
const opening = performance.now()
for (const prefix of prefixes)
  logger.emit({ body: 'open', attributes: { 'ml_dash.prefix': prefix } })
await provider.forceFlush()
const open = performance.now() - opening

const start = performance.now()
for (let i = 0; i < count; i += 1000) {
  for (let j = i; j < i + 1000; j++) {
    logger.emit({
      severityNumber: 9,
      body: 'request handled',
      attributes: {
        'ml_dash.prefix': prefixes[j % experiments],
        i: j,
        route: '/api/items',
        status: 200,
        ms: 1.25,
      },
    })
  }
  await new Promise((resolve) => setImmediate(resolve))
}
await provider.shutdown()
const total = performance.now() - start
let delivered = 0
for (const prefix of prefixes) {
  const file = join(dir, '.dash', prefix, 'logs/logs.jsonl')
  delivered += readFileSync(file, 'utf8').split('\n').length - 2
}
rmSync(dir, { recursive: true, force: true })
process.stdout.write(`${JSON.stringify({ total, open, delivered })}\n`)
