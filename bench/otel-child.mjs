// One OpenTelemetry benchmark run: N records through a LoggerProvider with
// BatchLogRecordProcessor (same settings for both variants) into either the
// official OTLP/proto exporter (to the loopback sink) or this package's
// exporter (local store); ends with provider.shutdown(). Prints JSON.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto'
import {
  BatchLogRecordProcessor,
  LoggerProvider,
} from '@opentelemetry/sdk-logs'
import { MlDashLogRecordExporter } from 'ml-dash-logs/otel'

const [variant, count, sinkUrl] = process.argv.slice(2)
const N = Number(count)
const dir = mkdtempSync(join(tmpdir(), 'ml-dash-bench-'))
const exporter =
  variant === 'otlp-proto'
    ? new OTLPLogExporter({ url: `${sinkUrl}/v1/logs` })
    : new MlDashLogRecordExporter({
        dashRoot: join(dir, '.dash'),
        prefix: 'bench/otel/run',
      })
const processor = new BatchLogRecordProcessor({
  exporter,
  maxQueueSize: N + 1,
  maxExportBatchSize: 512,
  scheduledDelayMillis: 50,
})
const provider = new LoggerProvider({ processors: [processor] })
const logger = provider.getLogger('bench')

const sinkCount = async () =>
  Number(await (await fetch(`${sinkUrl}/count`)).text())
const before = variant === 'otlp-proto' ? await sinkCount() : 0
const start = performance.now()
for (let i = 0; i < N; i += 1000) {
  for (let j = i; j < i + 1000; j++) {
    logger.emit({
      severityNumber: 9,
      body: 'request handled',
      attributes: { i: j, route: '/api/items', status: 200, ms: 1.25 },
    })
  }
  await new Promise((resolve) => setImmediate(resolve))
}
await provider.shutdown()
const total = performance.now() - start
const delivered =
  variant === 'otlp-proto'
    ? (await sinkCount()) - before
    : exporter.stats.experiments['bench/otel/run']?.local?.delivered
rmSync(dir, { recursive: true, force: true })
process.stdout.write(JSON.stringify({ variant, total, delivered }) + '\n')
