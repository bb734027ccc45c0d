// OpenTelemetry → ml-dash: the exporter under the SDK's batch processor.
import { SeverityNumber } from '@opentelemetry/api-logs'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  BatchLogRecordProcessor,
  LoggerProvider,
} from '@opentelemetry/sdk-logs'
import { MlDashLogRecordExporter } from 'ml-dash-logs/otel'

const exporter = new MlDashLogRecordExporter({
  prefix: 'alice/scheduler/run-2',
})
const provider = new LoggerProvider({
  resource: resourceFromAttributes({ 'service.name': 'scheduler' }),
  processors: [new BatchLogRecordProcessor({ exporter })],
})

const logger = provider.getLogger('scheduler', '1.0.0')
logger.emit({
  severityNumber: SeverityNumber.INFO,
  body: 'job queued',
  attributes: { job: 'train-7' },
})
logger.emit({
  severityNumber: SeverityNumber.WARN,
  body: { event: 'retry', attempt: 2 },
})

// shutdown() delivers everything before it resolves.
await provider.shutdown()
console.log('otel → .dash/alice/scheduler/run-2/logs/logs.jsonl')
