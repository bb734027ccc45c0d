/**
 * The pieces of an entry's text that an adapter's fast path writes itself,
 * for a record whose values are flat (src/otel/flat-entry.ts,
 * src/winston/flat-entry.ts): each value's JSON when it is stored as it
 * is, each key's `"key":`, and the limits such an entry must lie well
 * within, so that its text is exactly what the mapping and `encodeEntry`
 * would make of it. Anything else gets '' or undefined here, and the
 * record takes the mapping.
 */
import type { EncodedEntry, EntryLimits } from './entry.js'
import { finishEntry, formatTimestamp } from './entry.js'
import type { Level } from './levels.js'
import { walkBudget } from './serialize.js'

/** A record's entry text made by a fast path, and the prefix the record asks to be routed to. */
export interface FlatEntry {
  entry: EncodedEntry
  prefix: unknown
}

/**
 * Characters `JSON.stringify` escapes, and surrogates: a string without
 * any is its own JSON text between quotes.
 */
// eslint-disable-next-line no-control-regex
const NEEDS_CARE = /["\\\u0000-\u001f\ud800-\udfff]/

/** A string's JSON text when it is kept as it is (well formed, within `max`); '' otherwise. */
export function stringJson(value: unknown, max: number): string {
  if (typeof value !== 'string' || value.length > max) return ''
  if (!NEEDS_CARE.test(value)) return `"${value}"`
  return value.isWellFormed() ? JSON.stringify(value) : ''
}

/** A value's JSON text when it is stored as it is (a kept string, a finite number, a boolean, null); '' otherwise. */
export function valueJson(value: unknown, maxStringLength: number): string {
  switch (typeof value) {
    case 'string':
      return stringJson(value, maxStringLength)
    case 'number':
      // String() writes every finite number as JSON does (-0 as 0).
      return Number.isFinite(value) ? String(value) : ''
    case 'boolean':
      return value ? 'true' : 'false'
    default:
      return value === null ? 'null' : ''
  }
}

/**
 * `"key":` for the metadata keys an adapter keeps as they are; undefined
 * for a key the mapping must see: one `reserved` names (a key the mapping
 * writes or moves itself), a key too long or not well formed. Remembered
 * for short keys, a bounded number of them: records repeat their keys.
 */
export class MemberKeys {
  readonly #reserved: (key: string) => boolean
  /** Each remembered key's `"key":`, or null when the mapping must see it. */
  readonly #known = new Map<string, string | null>()

  constructor(reserved: (key: string) => boolean) {
    this.#reserved = reserved
  }

  json(key: string, maxStringLength: number): string | undefined {
    // The only limit a key meets, checked first: the verdict is the same under any limits.
    if (key.length > maxStringLength) return undefined
    const known = this.#known.get(key)
    if (known !== undefined) return known ?? undefined
    const json = this.#reserved(key) ? '' : stringJson(key, key.length)
    const verdict = json === '' ? null : `${json}:`
    if (
      key.length <= MAX_REMEMBERED_KEY &&
      this.#known.size < MAX_REMEMBERED_KEYS
    )
      this.#known.set(key, verdict)
    return verdict ?? undefined
  }
}

/** Keys remembered by {@link MemberKeys}: a bound on their number and length, whatever the records hold. */
const MAX_REMEMBERED_KEYS = 4096
const MAX_REMEMBERED_KEY = 128

/**
 * What the walk's budget pays for a member beyond the member's own JSON
 * text, at most (a number costs up to 25 whatever its digits; a key and a
 * string one more than their text): checked against the text, so that a
 * flat entry never stops where the walk would have cut.
 */
const BUDGET_PER_MEMBER = 26

/**
 * Whether metadata of `members` members (`text` between its braces) lies
 * well within the limits: the item and node counts, a third of
 * `maxMetadataBytes` (at most 3 UTF-8 bytes a UTF-16 unit) and the walk's
 * budget. Keys must also be within `maxStringLength` (the caller checks
 * its own), and `maxDepth` at least 1.
 */
export function withinFlatLimits(
  text: string,
  members: number,
  limits: EntryLimits,
): boolean {
  if (
    limits.maxDepth < 1 ||
    members > limits.maxItems ||
    members + 2 > limits.maxNodes
  )
    return false
  const length = text.length + 2
  return (
    length * 3 <= limits.maxMetadataBytes &&
    length + BUDGET_PER_MEMBER * members <=
      walkBudget(limits.maxMetadataBytes) - 2
  )
}

/** Each level's JSON text. */
const LEVEL_JSON: Readonly<Record<Level, string>> = {
  debug: '"debug"',
  info: '"info"',
  warn: '"warn"',
  error: '"error"',
  fatal: '"fatal"',
}

/**
 * The entry's text from its parts, as `encodeEntry` joins them: `message`
 * is the message's JSON text, `members` the metadata's between its braces
 * ('' for none).
 */
export function flatEntryText(
  time: number | undefined,
  level: Level,
  message: string,
  members: string,
): EncodedEntry {
  const head = `{"timestamp":"${formatTimestamp(time)}","level":${LEVEL_JSON[level]},"message":${message}`
  return finishEntry(
    members === '' ? `${head}}` : `${head},"metadata":{${members}}}`,
  )
}
