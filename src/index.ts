/**
 * ml-dash-logs: Node logs into ml-dash experiments.
 *
 * The root entry point: the {@link Experiment} API and the types of its
 * options, reports, levels and errors. The adapters live at
 * `ml-dash-logs/pino`, `/winston`, `/otel`, the OTLP/HTTP receiver at
 * `/receiver`, a fake ml-dash server for tests at `/testing`. Everything
 * else (option resolution, entry encoding, level tables) is internal: the
 * exports snapshot test (test/package/exports.test.ts) holds this list.
 */
export { Experiment } from './experiment.js'
export type {
  ExperimentOptions,
  ExperimentState,
  LogBuilder,
  LogOptions,
} from './experiment.js'
export type { ExperimentStatus } from './core/experiment-status.js'
export { LEVELS, isLevel } from './core/levels.js'
export type { Level } from './core/levels.js'
export type { LevelMap } from './core/level-tables.js'
export type { EntryLimits, LogEntry } from './core/entry.js'
export type { JsonValue } from './core/serialize.js'
export { PREFIX_ATTRIBUTE } from './core/prefix.js'
export { ERROR_CODES, isMlDashError } from './core/error-codes.js'
export type { MlDashError, MlDashErrorCode } from './core/error-codes.js'
export type { MlDashOptions } from './core/options.js'
export type { DeliveryReport, SinkStats } from './delivery/sink.js'
export type { ChannelReport, ChannelStats } from './delivery/channel.js'
export type { RouterStats } from './delivery/router.js'
