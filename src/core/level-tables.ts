/**
 * Severity tables: how each source's levels map onto ml-dash's five.
 *
 * Every adapter resolves a level through {@link mapLevel} with its own table,
 * so a user's `levelMap` override works the same way everywhere. The numbers
 * here are copied from pino and OpenTelemetry rather than imported: core
 * depends on no logging library.
 */
import type { Level } from './levels.js'
import { isLevel } from './levels.js'

/**
 * A user's override, keyed by the source's level as text: a pino number
 * (`'35'`), a winston level name (`'verbose'`), an OpenTelemetry
 * SeverityNumber (`'9'`) or severityText (`'NOTICE'`).
 */
export type LevelMap = Readonly<Record<string, Level>>

/**
 * `table[key]` when `table` has it as its own property, else undefined:
 * level names come from records, and `constructor` or `valueOf` must not
 * find Object.prototype's functions.
 */
export function own<T>(
  table: Readonly<Record<string, T>> | undefined,
  key: string,
): T | undefined {
  return table !== undefined && Object.hasOwn(table, key)
    ? table[key]
    : undefined
}

/** Metadata key under which adapters keep the source's own level. */
export const SOURCE_LEVEL_KEY = 'source_level'

/** pino's default numeric levels. */
export const PINO_LEVELS = {
  trace: 10,
  debug: 20,
  info: 30,
  warn: 40,
  error: 50,
  fatal: 60,
} as const

/**
 * pino number to ml-dash level. Custom numbers fall into the bucket of the
 * highest default level they reach: 35 is `info`, 45 is `warn`, 70 is
 * `fatal`, anything under 30 is `debug`.
 */
export function pinoLevel(value: number): Level {
  if (value >= PINO_LEVELS.fatal) return 'fatal'
  if (value >= PINO_LEVELS.error) return 'error'
  if (value >= PINO_LEVELS.warn) return 'warn'
  if (value >= PINO_LEVELS.info) return 'info'
  return 'debug'
}

/** winston's `npm` level set (winston's default). */
export const WINSTON_NPM: LevelMap = {
  error: 'error',
  warn: 'warn',
  info: 'info',
  http: 'info',
  verbose: 'debug',
  debug: 'debug',
  silly: 'debug',
}

/** winston's `syslog` level set. */
export const WINSTON_SYSLOG: LevelMap = {
  emerg: 'fatal',
  alert: 'fatal',
  crit: 'error',
  error: 'error',
  warning: 'warn',
  notice: 'info',
  info: 'info',
  debug: 'debug',
}

/** winston's `cli` level set. */
export const WINSTON_CLI: LevelMap = {
  error: 'error',
  warn: 'warn',
  help: 'info',
  data: 'info',
  info: 'info',
  debug: 'debug',
  prompt: 'debug',
  verbose: 'debug',
  input: 'debug',
  silly: 'debug',
}

/**
 * OpenTelemetry SeverityNumber to ml-dash level: 1–8 debug (TRACE, DEBUG),
 * 9–12 info, 13–16 warn, 17–20 error, 21–24 fatal. 0 (UNSPECIFIED), absent
 * or out of range: from `severityText` when it names a level, else `info`.
 */
export function otelLevel(
  severityNumber: number | undefined,
  severityText?: string,
): Level {
  const n = severityNumber ?? 0
  if (n >= 1 && n <= 24) {
    if (n <= 8) return 'debug'
    if (n <= 12) return 'info'
    if (n <= 16) return 'warn'
    if (n <= 20) return 'error'
    return 'fatal'
  }
  return levelFromText(severityText) ?? 'info'
}

/**
 * A level named in free text, as OpenTelemetry's severityText and other
 * sources spell them: the five levels in any case, plus the common
 * spellings `trace`, `warning`, `err`, `critical`, `crit`, `emerg`, `alert`,
 * `notice` and `panic`. Undefined when the text names none.
 */
export function levelFromText(text: unknown): Level | undefined {
  // A severityText of the wrong type (null, a number) names no level.
  if (typeof text !== 'string') return undefined
  const lower = text.trim().toLowerCase()
  if (isLevel(lower)) return lower
  return own(TEXT_ALIASES, lower)
}

const TEXT_ALIASES: Readonly<Record<string, Level>> = {
  trace: 'debug',
  warning: 'warn',
  err: 'error',
  crit: 'error',
  critical: 'error',
  alert: 'fatal',
  emerg: 'fatal',
  emergency: 'fatal',
  panic: 'fatal',
  notice: 'info',
}

/**
 * Resolves a source level: the user's `levelMap` first, tried under each
 * name the source level has (a pino label and its number, an OpenTelemetry
 * severityText and its number), valid levels only; else `fallback`, the
 * source's own table.
 */
export function mapLevel(
  source: string | number | readonly (string | number | undefined)[],
  fallback: Level,
  levelMap?: LevelMap,
): Level {
  if (levelMap === undefined) return fallback
  const names = typeof source === 'object' ? source : [source]
  for (const name of names) {
    if (name === undefined) continue
    const override = own(levelMap, String(name))
    if (override !== undefined && isLevel(override)) return override
  }
  return fallback
}
