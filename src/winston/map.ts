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
import { MAX_DATE_MS, UNMAPPED_KEY } from '../core/entry.js'
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
import { guardedMembers, throwsMarker } from '../core/serialize.js'

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
  let fields: InfoFields
  try {
    const {
      level: _level,
      message,
      timestamp,
      [PREFIX_ATTRIBUTE]: prefix,
      ...rest
    } = info
    fields = { message, timestamp, prefix, rest }
  } catch {
    fields = guardedFields(info)
  }
  const { message, timestamp, prefix } = fields
  const metadata: Record<string, unknown> = fields.rest
  if (isError(info)) metadata.error = info
  metadata[SOURCE_LEVEL_KEY] = name
  let time: number | undefined
  if (timestamp !== undefined) {
    const parsed = readTime(timestamp)
    if (parsed === undefined) metadata.timestamp = timestamp
    else time = parsed
  }
  const text =
    message === undefined && isError(info) ? errorMessage(info) : message
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

/** An info's fields as the mapping takes them apart. */
interface InfoFields {
  message: unknown
  timestamp: unknown
  prefix: unknown
  rest: Record<string | symbol, unknown>
}

/** The fields the mapping takes out of the metadata (read through the prototype, as its destructuring reads them). */
export function isTakenField(key: string): boolean {
  // Compared one by one: cheaper than a set for four names, on the fast path too.
  return (
    key === 'level' ||
    key === 'message' ||
    key === 'timestamp' ||
    key === PREFIX_ATTRIBUTE
  )
}

/**
 * The fields of an info whose getters or proxy traps throw, each read once
 * on its own: a member that throws is kept as `[Throws: …]` (as the
 * serializer marks it), a message that throws becomes the marker, a
 * timestamp or prefix that throws is left out (the time of the call, the
 * transport's own experiment), and keys that cannot be listed are said
 * under `ml_dash.unmapped`.
 */
function guardedFields(info: Record<string | symbol, unknown>): InfoFields {
  const read = (key: string): { value?: unknown; threw?: string } => {
    try {
      return { value: info[key] }
    } catch (error) {
      return { threw: throwsMarker(error) }
    }
  }
  const message = read('message')
  const { members: rest, unlisted } = guardedMembers(info, isTakenField)
  if (unlisted !== undefined) rest[UNMAPPED_KEY] = { keys: unlisted }
  return {
    message: message.threw ?? message.value,
    timestamp: read('timestamp').value,
    prefix: read(PREFIX_ATTRIBUTE).value,
    rest,
  }
}

/** Whether the info is an Error (`logger.error(err)`); false when even that cannot be asked. */
function isError(info: unknown): boolean {
  try {
    return info instanceof Error
  } catch {
    return false
  }
}

function errorMessage(error: Record<string | symbol, unknown>): unknown {
  try {
    return error.message
  } catch (thrown) {
    return throwsMarker(thrown)
  }
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
  let raw: unknown
  try {
    raw = info[LEVEL] ?? info.level
  } catch {
    return 'info'
  }
  if (typeof raw !== 'string') return 'info'
  // Most levels carry no colour: no regular expression run for them.
  return raw.includes('\u001b') ? raw.replace(ANSI, '') : raw
}

export function readTime(value: unknown): number | undefined {
  try {
    if (value instanceof Date)
      return Number.isNaN(value.getTime()) ? undefined : value.getTime()
  } catch {
    // Not a Date after all (a Date.prototype object, a proxy): it stays in the metadata.
    return undefined
  }
  // Beyond what a Date holds, it stays in the metadata.
  if (typeof value === 'number')
    return Number.isFinite(value) && Math.abs(value) <= MAX_DATE_MS
      ? value
      : undefined
  if (typeof value !== 'string') return undefined
  const parsed = Date.parse(value)
  return Number.isNaN(parsed) ? undefined : parsed
}
