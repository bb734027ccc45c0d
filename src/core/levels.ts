/**
 * The five ml-dash log levels and their validation.
 *
 * ml-dash knows exactly `debug`, `info`, `warn`, `error` and `fatal`,
 * lowercase. The Python SDK lower-cases what it is given and rejects anything
 * else with the message reproduced by {@link normalizeLevel}; this module keeps
 * that behaviour so `Experiment.log` fails exactly as the SDK does.
 */

import type { MlDashErrorCode } from './error-codes.js'

/** The five ml-dash levels, in the order the SDK lists them in its error. */
export const LEVELS = ['info', 'warn', 'error', 'debug', 'fatal'] as const

/** One of the five ml-dash levels. */
export type Level = (typeof LEVELS)[number]

/** Levels ordered by severity, lowest first. */
const LEVEL_SEVERITY: Readonly<Record<Level, number>> = {
  debug: 0,
  info: 1,
  warn: 2,
  error: 3,
  fatal: 4,
}

/** The five levels, lowest severity first (for messages that list them). */
export const LEVELS_BY_SEVERITY: readonly Level[] = [...LEVELS].sort(
  (a, b) => LEVEL_SEVERITY[a] - LEVEL_SEVERITY[b],
)

/** True when `value` is already one of the five lowercase levels. */
export function isLevel(value: unknown): value is Level {
  return typeof value === 'string' && Object.hasOwn(LEVEL_SEVERITY, value)
}

/**
 * Lower-cases `value` and returns it when it names a level.
 *
 * @throws Error `Invalid log level: 'X'. Must be one of: info, warn, error, debug, fatal`
 *   (the SDK's wording; code `ML_DASH_INVALID_LEVEL`) for anything else.
 */
export function normalizeLevel(value: unknown): Level {
  const lower = typeof value === 'string' ? value.toLowerCase() : undefined
  if (isLevel(lower)) return lower
  // The SDK's sentence as it is, without the library's prefix.
  throw Object.assign(
    new Error(
      `Invalid log level: '${String(value)}'. Must be one of: ${LEVELS.join(', ')}`,
    ),
    { code: 'ML_DASH_INVALID_LEVEL' satisfies MlDashErrorCode },
  )
}
