import { resourceFromAttributes } from '@opentelemetry/resources'
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs'
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs'

/**
 * Real SDK log records, as an exporter receives them: `emit` logs through
 * a provider whose resource has `resourceAttributes`.
 */
export async function captureRecords(
  emit: (provider: LoggerProvider) => void,
  resourceAttributes: Record<string, string> = {},
): Promise<ReadableLogRecord[]> {
  const memory = new InMemoryLogRecordExporter()
  const provider = new LoggerProvider({
    resource: resourceFromAttributes(resourceAttributes),
    processors: [new SimpleLogRecordProcessor({ exporter: memory })],
  })
  emit(provider)
  await provider.forceFlush()
  return memory.getFinishedLogRecords()
}
