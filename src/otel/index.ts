/** `ml-dash-logs/otel`: the OpenTelemetry log record exporter. */
export { MlDashLogRecordExporter } from './exporter.js'
export type {
  ExportResult,
  MlDashLogRecordExporterOptions,
} from './exporter.js'
