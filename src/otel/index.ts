/** `ml-dash-logs/otel`: the OpenTelemetry log record exporter and its pure mapping. */
export { MlDashLogRecordExporter } from './exporter.js'
export type {
  ExportResult,
  MlDashLogRecordExporterOptions,
} from './exporter.js'
export {
  RESOURCE_KEY,
  SCOPE_KEY,
  UNMAPPED_KEY,
  hrTimeToMs,
  mapOtelLogRecord,
} from './map.js'
export type { HrTime, OtelLogRecord } from './map.js'
