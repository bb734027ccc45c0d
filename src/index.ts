/**
 * ml-dash-logs: Node logs into ml-dash experiments.
 *
 * The root entry point: the {@link Experiment} API and the pure core that
 * adapters share (levels, severity tables, entry encoding, prefixes,
 * options). Adapters live at `ml-dash-logs/pino`, `/winston`, `/otel`.
 */
export { Experiment } from './experiment.js'
export type {
  ExperimentOptions,
  ExperimentState,
  ExperimentStatus,
  LogBuilder,
  LogOptions,
} from './experiment.js'
export { LEVELS, isLevel, normalizeLevel } from './core/levels.js'
export type { Level } from './core/levels.js'
export {
  SOURCE_LEVEL_KEY,
  PINO_LEVELS,
  WINSTON_NPM,
  WINSTON_SYSLOG,
  WINSTON_CLI,
  levelFromText,
  mapLevel,
  otelLevel,
  pinoLevel,
} from './core/level-tables.js'
export type { LevelMap } from './core/level-tables.js'
export {
  DEFAULT_ENTRY_LIMITS,
  METADATA_TRUNCATED_KEY,
  createEntry,
  encodeEntry,
  formatTimestamp,
} from './core/entry.js'
export type {
  EncodedEntry,
  EntryInput,
  EntryLimits,
  LogEntry,
} from './core/entry.js'
export { DEFAULT_SERIALIZE_LIMITS, toJsonValue } from './core/serialize.js'
export type { JsonValue, SerializeLimits } from './core/serialize.js'
export { parsePrefix, prefixProblem } from './core/prefix.js'
export type { ExperimentPrefix } from './core/prefix.js'
export { DEFAULT_DASH_URL, resolveOptions } from './core/options.js'
export { ERROR_CODES, isMlDashError } from './core/error-codes.js'
export type { MlDashError, MlDashErrorCode } from './core/error-codes.js'
export type { MlDashOptions, ResolvedOptions } from './core/options.js'
export type { DeliveryReport, SinkStats } from './delivery/sink.js'
export type { ChannelReport, ChannelStats } from './delivery/channel.js'
export { PREFIX_ATTRIBUTE, PREFIX_REFUSED_KEY } from './core/prefix.js'
export type {
  ReadLogsQuery,
  RemoteStatus,
} from './store/remote/remote-store.js'
