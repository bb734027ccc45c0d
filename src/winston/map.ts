/**
 * winston info → ml-dash entry: a pure mapping.
 *
 * - level: `info[Symbol.for('level')]` (the level as logged, never the
 *   possibly colorized `info.level`), through `levelMap`, then the npm,
 *   syslog and cli tables, then, for a custom level set, its position in
 *   the logger's own ordering (see {@link customLevel}). The source level
 *   is kept in metadata under `source_level`.
 * - message: `info.message` as given (what `format.splat()` made of it);
 *   a non-string is serialized.
 * - time: `info.timestamp` when a timestamp format set it and `Date` can
 *   read it; otherwise the entry gets the time of the call and an
 *   unreadable `timestamp` stays in metadata.
 * - metadata: every other enumerable field (call metadata, `defaultMeta`,
 *   `child()` metadata); an info that is itself an Error (`logger.error(err)`)
 *   is kept whole under `error` with name, message, stack, code and cause.
 * - `ml_dash.prefix` is returned apart, for routing.
 */
import type { MappedRecord } from '../core/entry.js'
import type { LevelMap } from '../core/level-tables.js'
import {
  SOURCE_LEVEL_KEY,
  WINSTON_CLI,
  WINSTON_NPM,
  WINSTON_SYSLOG,
  levelFromText,
  mapLevel,
  own,
} from '../core/level-tables.js'
import type { Level } from '../core/levels.js'
import { PREFIX_ATTRIBUTE } from '../core/prefix.js'

/** winston's level-as-logged symbol (triple-beam's LEVEL). */
const LEVEL = Symbol.for('level')

/** The known level names of winston's three built-in sets. */
const KNOWN: LevelMap = { ...WINSTON_CLI, ...WINSTON_SYSLOG, ...WINSTON_NPM }

/** A logger's levels: name → priority, 0 the most severe (winston's convention). */
export type WinstonLevels = Readonly<Record<string, number>>

/** Maps one winston info. Never throws. */
export function mapWinstonInfo(
  info: Record<string | symbol, unknown>,
  levels?: WinstonLevels,
  levelMap?: LevelMap,
): MappedRecord {
  const name = levelName(info)
  const {
    level: _level,
    message,
    timestamp,
    [PREFIX_ATTRIBUTE]: prefix,
    ...rest
  } = info
  const metadata: Record<string, unknown> = rest
  if (info instanceof Error) metadata.error = info
  metadata[SOURCE_LEVEL_KEY] = name
  let time: number | undefined
  if (timestamp !== undefined) {
    const parsed = readTime(timestamp)
    if (parsed === undefined) metadata.timestamp = timestamp
    else time = parsed
  }
  const text =
    message === undefined && info instanceof Error ? info.message : message
  const input = {
    level: resolveWinstonLevel(name, levels, levelMap),
    message: text,
    metadata,
    time,
    // The rest copy is made here, data properties only.
    ownMetadata: true,
  }
  return prefix === undefined ? { input } : { input, prefix }
}

/** The ml-dash level of a winston level name. */
export function resolveWinstonLevel(
  name: string,
  levels?: WinstonLevels,
  levelMap?: LevelMap,
): Level {
  const fallback =
    own(KNOWN, name) ??
    customLevel(name, levels) ??
    levelFromText(name) ??
    'info'
  return mapLevel(name, fallback, levelMap)
}

/**
 * A custom level's ml-dash level by its place in the logger's ordering:
 * the priority divided by the largest one, from the most severe (0) to the
 * least: up to 0.2 error, 0.4 warn, 0.6 info, beyond that debug.
 */
function customLevel(name: string, levels?: WinstonLevels): Level | undefined {
  const priority = own(levels, name)
  if (priority === undefined) return undefined
  const max = Math.max(1, ...Object.values(levels!))
  const q = priority / max
  if (q <= 0.2) return 'error'
  if (q <= 0.4) return 'warn'
  if (q <= 0.6) return 'info'
  return 'debug'
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g

export function levelName(info: Record<string | symbol, unknown>): string {
  const raw = info[LEVEL] ?? info.level
  if (typeof raw !== 'string') return 'info'
  // Most levels carry no colour: no regular expression run for them.
  return raw.includes('\u001b') ? raw.replace(ANSI, '') : raw
}

export function readTime(value: unknown): number | undefined {
  if (value instanceof Date)
    return Number.isNaN(value.getTime()) ? undefined : value.getTime()
  if (typeof value === 'number')
    return Number.isFinite(value) ? value : undefined
  if (typeof value !== 'string') return undefined
  const parsed = Date.parse(value)
  return Number.isNaN(parsed) ? undefined : parsed
}
