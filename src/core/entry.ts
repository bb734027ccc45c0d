/**
 * The ml-dash log entry and its encoding.
 *
 * An entry is `{ timestamp, level, message, metadata? }` (ml-dash-spec §3).
 * It is normalized and encoded once, when it is accepted: metadata is
 * snapshotted through {@link toJsonValue} (so later mutation by the caller
 * changes nothing), limits are applied with visible markers, and the result
 * is kept as its JSON text. Stores never serialize again: the local store
 * prefixes the text with `"sequenceNumber"` (the SDK's key order), the remote
 * store joins texts into a batch body.
 */
import type { Level } from './levels.js'
import type { JsonValue, SerializeLimits } from './serialize.js'
import {
  DEFAULT_SERIALIZE_LIMITS,
  TRUNCATED_KEYS_MARKER,
  memberCost,
  primitiveCost,
  toJsonValue,
  truncateString,
  walkBudget,
} from './serialize.js'

/** One ml-dash log entry, as stored (without its sequence number). */
export interface LogEntry {
  /** ISO-8601 UTC with `Z`: the time of the log call. */
  timestamp: string
  level: Level
  message: string
  /** Omitted when empty, never null. */
  metadata?: Record<string, JsonValue>
}

/** An accepted entry: its JSON text, `{"timestamp":…,"level":…,…}`. */
export type EncodedEntry = string

/** Size limits for one entry; what is cut is marked in the entry. */
export interface EntryLimits extends SerializeLimits {
  /** Longest message kept whole, in UTF-16 code units. @default 32768 */
  maxMessageLength: number
  /** Largest metadata kept, in bytes of JSON. @default 262144 */
  maxMetadataBytes: number
}

/** The limits applied unless configured otherwise. */
export const DEFAULT_ENTRY_LIMITS: Readonly<EntryLimits> = {
  ...DEFAULT_SERIALIZE_LIMITS,
  maxMessageLength: 32_768,
  maxMetadataBytes: 262_144,
}

/** Metadata key that replaces metadata over `maxMetadataBytes`. */
export const METADATA_TRUNCATED_KEY = 'ml_dash_truncated'

/** The farthest from the epoch a Date holds, in milliseconds. */
export const MAX_DATE_MS = 8.64e15

/** Metadata key saying what of a record could not be read or mapped. */
export const UNMAPPED_KEY = 'ml_dash.unmapped'

/** What an adapter or the Experiment hands over for one entry. */
export interface EntryInput {
  level: Level
  message: unknown
  /** Event time: a Date, epoch milliseconds (fractions kept to µs) or an ISO string. */
  time?: Date | number | string
  /** Any value; a plain object becomes the metadata, anything else `{ value }`. */
  metadata?: unknown
  /**
   * True when message and metadata were just made by `JSON.parse` from a
   * line no longer than {@link longestParsedLine} that
   * {@link parsedLineWithinLimits} accepts: they are then already
   * JSON-safe and within the size and nesting limits, and are stored
   * without a second walk.
   */
  parsedJson?: boolean
  /**
   * Metadata members shared by many entries (an OpenTelemetry record's
   * resource and scope), stored after the metadata's own members. The same
   * object for every entry that shares them: its text is made once per
   * object (and limits), not once per entry. Merged into the metadata and
   * walked with it instead when the joined text would pass
   * `maxMetadataBytes` or the item limit, or the metadata has one of its
   * keys (a key is never written twice). Never mutated once given.
   */
  metadataTail?: Readonly<Record<string, unknown>>
  /**
   * True when `metadata` is an object the mapping made itself, with data
   * properties only (no getter): flat, it goes to `JSON.stringify` once its
   * values are checked, without building the text member by member.
   */
  ownMetadata?: boolean
}

/**
 * The longest line whose parsed values need no examination against
 * `limits`: it holds no string over `maxStringLength`, no message over
 * `maxMessageLength`, and its JSON (at most 3 UTF-8 bytes per UTF-16 unit)
 * is within `maxMetadataBytes`.
 */
export function longestParsedLine(limits: EntryLimits): number {
  return Math.min(
    limits.maxStringLength,
    limits.maxMessageLength,
    Math.floor(limits.maxMetadataBytes / 3),
  )
}

/**
 * True when `JSON.parse` of `line` (no longer than {@link longestParsedLine})
 * gives values already within the nesting and item limits: no container
 * nests deeper than `maxDepth` (the record's own braces count as the
 * metadata's level) or holds more than `maxItems` items. Anything else goes
 * through the walk, which cuts and marks, so the limits hold on every path.
 * One scan of the text, stopping at the first breach.
 */
export function parsedLineWithinLimits(
  line: string,
  limits: EntryLimits,
): boolean {
  const { maxDepth, maxItems } = limits
  // Commas seen in each open container, by depth.
  const commas = new Uint32Array(maxDepth + 1)
  let depth = 0
  let inString = false
  for (let i = 0; i < line.length; i++) {
    const code = line.charCodeAt(i)
    if (inString) {
      if (code === BACKSLASH) i++
      else if (code === QUOTE) inString = false
    } else if (code === QUOTE) inString = true
    else if (code === COMMA) {
      if (++commas[depth]! >= maxItems) return false
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) {
      if (++depth > maxDepth) return false
      commas[depth] = 0
    } else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) depth--
  }
  return true
}

/**
 * The same for a flat line (no nested value, as the pino scanner accepts):
 * only its width can break a limit, and a line too short to hold more than
 * `maxItems` members (each takes at least two characters) needs no scan.
 */
export function flatLineWithinLimits(
  line: string,
  limits: EntryLimits,
): boolean {
  return (
    line.length <= 2 * limits.maxItems || parsedLineWithinLimits(line, limits)
  )
}

const COMMA = 0x2c
const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d

/** An adapter's mapped record: the entry, and the prefix it asks to be routed to, if any. */
export interface MappedRecord {
  input: EntryInput
  prefix?: unknown
}

/** Builds a normalized entry from loose input. Never throws. */
export function createEntry(
  input: EntryInput,
  limits: EntryLimits = DEFAULT_ENTRY_LIMITS,
): LogEntry {
  return JSON.parse(encodeEntry(input, limits)) as LogEntry
}

/**
 * Normalizes and encodes in one step: the form the delivery queue holds.
 * Metadata is stringified once; its size check reuses that text.
 */
export function encodeEntry(
  input: EntryInput,
  limits: EntryLimits = DEFAULT_ENTRY_LIMITS,
): EncodedEntry {
  // Built as text: what JSON.stringify of { timestamp, level, message } gives.
  const head = `{"timestamp":"${formatTimestamp(input.time)}","level":${JSON.stringify(input.level)},"message":${JSON.stringify(toMessage(input.message, limits))}`
  const metadata =
    input.metadataTail === undefined
      ? input.parsedJson
        ? parsedMetadataJson(input.metadata)
        : metadataJson(input.metadata, limits, input.ownMetadata)
      : metadataWithTail(
          input.metadata,
          input.metadataTail,
          limits,
          input.ownMetadata,
        )
  return finishEntry(
    metadata === undefined ? `${head}}` : `${head},"metadata":${metadata}}`,
  )
}

/**
 * The last step of every entry's encoding: a long text with a `…` gets it
 * written as an escape (see {@link oneByteMarkers}). For a mapping that
 * builds an entry's text itself (the fast paths, src/core/flat-json.ts).
 */
export function finishEntry(text: string): EncodedEntry {
  if (text.length > MARKED_LENGTH && text.includes('…'))
    return oneByteMarkers(text)
  // Made flat now, while its parts are fresh, as its write would later: an
  // entry that waits is then one string, not the tree of its parts, each
  // of which the garbage collector would copy. V8 flattens a string to read
  // a character of it; the character is kept, so that an optimizing
  // compiler cannot drop the read as unused (it dropped `void Number(text)`
  // where it inlined this: winston's entries waited unflattened).
  lastCharacter = text.charCodeAt(text.length - 1)
  return text
}

/** See finishEntry: written for the read's sake, never read. */
// eslint-disable-next-line @typescript-eslint/no-unused-vars
let lastCharacter = 0

/**
 * The text with each `…` written as `\u2026`, in a string V8 keeps in one
 * byte per character when nothing else in it lies outside Latin-1 (a
 * replacement alone keeps the two-byte form; a Latin-1 round trip does
 * not). Otherwise the text as it was.
 */
function oneByteMarkers(text: string): string {
  const escaped = text.replaceAll('…', '\\u2026')
  return OUTSIDE_LATIN1.test(escaped)
    ? text
    : Buffer.from(escaped, 'latin1').toString('latin1')
}

// eslint-disable-next-line no-control-regex
const OUTSIDE_LATIN1 = /[^\u0000-\u00ff]/

/**
 * Entries longer than this are checked for the `…` of a cut's marker, which
 * is written as the JSON escape `\u2026` (the same text to every reader):
 * V8 keeps a string with any character outside Latin-1 in two bytes per
 * character, so one marker would double what a long cut entry holds in
 * memory while it waits. Shorter entries are not worth the look. The
 * escape is 3 bytes longer in UTF-8 than the character: metadata cut to
 * `maxMetadataBytes` may pass it by that much per marker.
 */
const MARKED_LENGTH = 1024

/** The local store's line: `{"sequenceNumber":n,` + the entry's fields + `\n`. */
export function toStoreLine(
  entry: EncodedEntry,
  sequenceNumber: number,
): string {
  return `{"sequenceNumber":${sequenceNumber},${entry.slice(1)}\n`
}

/**
 * ISO-8601 UTC with `Z`. Milliseconds give 3 fractional digits; a fraction of
 * a millisecond (OpenTelemetry's precision) gives 6, as the SDK writes.
 * A missing or unusable time is the current time.
 */
export function formatTimestamp(time?: Date | number | string): string {
  return isoWithMicros(toEpochMs(time))
}

/** Epoch milliseconds of a time; the current time when missing or unusable. */
function toEpochMs(time?: Date | number | string): number {
  let ms: number
  if (time instanceof Date) ms = time.getTime()
  else if (typeof time === 'number') ms = time
  else if (typeof time === 'string') ms = Date.parse(time)
  else return Date.now()
  return Number.isFinite(ms) && Math.abs(ms) <= MAX_DATE_MS ? ms : Date.now()
}

/**
 * The time rounded to the microsecond: a fraction that rounds up to 1000
 * microseconds is the next millisecond (never a seventh digit).
 */
function isoWithMicros(ms: number): string {
  let whole = Math.floor(ms)
  let micros = Math.round((ms - whole) * 1000)
  if (micros === 1000) {
    whole += 1
    micros = 0
  }
  if (whole !== lastMillisecond.ms) {
    lastMillisecond.ms = whole
    lastMillisecond.iso = new Date(whole).toISOString()
  }
  const iso = lastMillisecond.iso
  if (micros === 0) return iso
  return `${iso.slice(0, -1)}${String(micros).padStart(3, '0')}Z`
}

/**
 * The last whole millisecond formatted: records logged in one millisecond
 * share it, whatever their fractions (OpenTelemetry's nanoseconds), and
 * `toISOString` costs more than the rest of an entry's time.
 */
const lastMillisecond = { ms: Number.NaN, iso: '' }

function toMessage(message: unknown, limits: EntryLimits): string {
  let text: string
  if (typeof message === 'string') text = message
  else if (message === undefined) text = ''
  else {
    const converted = toJsonValue(message, limits, limits.maxMessageLength)
    text = typeof converted === 'string' ? converted : JSON.stringify(converted)
  }
  return truncateString(text, limits.maxMessageLength)
}

/** Metadata straight from JSON.parse (see EntryInput.parsedJson). */
function parsedMetadataJson(metadata: unknown): string | undefined {
  if (typeof metadata !== 'object' || metadata === null) return undefined
  for (const _ in metadata) return JSON.stringify(metadata)
  return undefined
}

/**
 * The metadata's JSON text with the tail's members after its own; the tail
 * merged into the metadata and walked with it when the joined text passes
 * the byte limit, or the metadata is not a plain object that lacks the
 * tail's keys (a key is never written twice).
 */
function metadataWithTail(
  metadata: unknown,
  tail: Readonly<Record<string, unknown>>,
  limits: EntryLimits,
  own = false,
): string | undefined {
  try {
    return joinTail(metadata, tail, limits, own)
  } catch {
    // A Proxy whose traps throw (no mapping makes one): the walk marks it.
    return metadataJson(metadata, limits)
  }
}

function joinTail(
  metadata: unknown,
  tail: Readonly<Record<string, unknown>>,
  limits: EntryLimits,
  own: boolean,
): string | undefined {
  // A spread makes data properties, each value read once.
  const merged = (): string | undefined =>
    metadataJson({ ...(metadata as object), ...tail }, limits, true)
  const tailJson = membersJson(tail, limits)
  if (tailJson === undefined) return merged()
  if (metadata !== undefined) {
    if (!isPlainRecord(metadata)) return merged()
    let members = 0
    for (const key in tail) {
      members++
      if (Object.hasOwn(metadata, key)) return merged()
    }
    // Past the item limit together: the walk cuts and marks, as when merged.
    for (const key in metadata)
      if (Object.hasOwn(metadata, key) && ++members > limits.maxItems)
        return merged()
  }
  const ownText = metadataJson(metadata, limits, own)
  if (tailJson === '') return ownText
  const text =
    ownText === undefined
      ? `{${tailJson}}`
      : `${ownText.slice(0, -1)},${tailJson}}`
  if (text.length * 3 <= limits.maxMetadataBytes) return text
  // The walk of the metadata alone may have cut it to fit: then walk both.
  return Buffer.byteLength(text) <= limits.maxMetadataBytes &&
    ownText?.includes(`"${METADATA_TRUNCATED_KEY}"`) !== true
    ? text
    : merged()
}

/**
 * A tail's members as JSON text (`"k":v,…`; '' for none), made once per
 * tail and limits; undefined when it does not fit alone (then the tail is
 * merged into the metadata and walked with it).
 */
export function membersJson(
  tail: Readonly<Record<string, unknown>>,
  limits: EntryLimits,
): string | undefined {
  const cached = tailTexts.get(tail)
  if (cached?.limits === limits) return cached.json
  const whole = metadataJson(tail, limits)
  const json =
    whole === undefined
      ? ''
      : whole.includes(`"${METADATA_TRUNCATED_KEY}"`)
        ? undefined
        : whole.slice(1, -1)
  tailTexts.set(tail, { limits, json })
  return json
}

/** Each tail's text, with the limits it was made under. */
const tailTexts = new WeakMap<
  object,
  { limits: EntryLimits; json: string | undefined }
>()

/**
 * The text of a plain object whose members are all strings within
 * `maxStringLength`, finite numbers, booleans or null (what most log calls
 * give: OpenTelemetry attributes, winston's and pino's fields), no more
 * than `maxItems` of them, within the walk's budget: what the walk would
 * store, made without its copy. Each value is read once (`own`: the
 * mapping's object, data properties only, given to `JSON.stringify` once
 * checked). Undefined for anything else (the walk decides), and when a
 * getter throws.
 */
function flatMetadataJson(
  metadata: unknown,
  limits: EntryLimits,
  own: boolean,
): string | undefined {
  if (!isPlainRecord(metadata) || limits.maxDepth <= 0) return undefined
  // The walk's budget, spent as it spends it (toJsonValue), so that both
  // stop at the same member: its size estimate, and its count of values.
  // The object's own braces are paid first, as the walk pays them.
  let left = walkBudget(limits.maxMetadataBytes) - 2
  let nodes = limits.maxNodes - 1
  let text = '{'
  let count = 0
  try {
    for (const key in metadata) {
      if (!Object.hasOwn(metadata, key)) continue
      if (count >= limits.maxItems || left < 0 || nodes < 0) return undefined
      // A long key is cut, and two cleaned keys may become one: the walk decides.
      if (key.length > limits.maxStringLength || !key.isWellFormed())
        return undefined
      const value = metadata[key]
      nodes--
      let json: string
      if (typeof value === 'string') {
        if (value.length > limits.maxStringLength) return undefined
        if (own) {
          // JSON.stringify would escape a lone surrogate; the walk replaces it.
          if (!value.isWellFormed()) return undefined
          json = ''
        } else
          json = JSON.stringify(
            value.isWellFormed() ? value : value.toWellFormed(),
          )
      } else if (typeof value === 'number') {
        if (!Number.isFinite(value)) return undefined
        json = value === 0 ? '0' : String(value)
      } else if (typeof value === 'boolean') json = value ? 'true' : 'false'
      else if (value === null) json = 'null'
      else return undefined
      // -0 costs as 0, as the walk converts it.
      left -= primitiveCost(value === 0 ? 0 : value) + memberCost(key)
      if (own) count++
      else text += `${count++ === 0 ? '' : ','}${JSON.stringify(key)}:${json}`
    }
  } catch {
    return undefined
  }
  // -0 is written 0 either way.
  text = own ? JSON.stringify(metadata) : `${text}}`
  if (text.length * 3 <= limits.maxMetadataBytes) return text
  return Buffer.byteLength(text) <= limits.maxMetadataBytes ? text : undefined
}

/** An object whose own members are the metadata (not an array, not a class instance). */
function isPlainRecord(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false
  let proto: unknown
  try {
    proto = Object.getPrototypeOf(value)
  } catch {
    // A revoked Proxy, or a trap that throws: not plain; the walk marks it.
    return false
  }
  return proto === Object.prototype || proto === null
}

/** The metadata's JSON text, or undefined when there is none to store. */
function metadataJson(
  metadata: unknown,
  limits: EntryLimits,
  own = false,
): string | undefined {
  if (metadata === undefined || metadata === null) return undefined
  const flat = flatMetadataJson(metadata, limits, own)
  if (flat !== undefined) return flat === '{}' ? undefined : flat
  const converted = toJsonValue(metadata, limits, limits.maxMetadataBytes)
  if (converted === undefined) return undefined
  const object =
    typeof converted === 'object' &&
    converted !== null &&
    !Array.isArray(converted)
      ? converted
      : { value: converted }
  const keys = Object.keys(object)
  if (keys.length === 0) return undefined
  const text = JSON.stringify(object)
  // A UTF-16 code unit is at most 3 UTF-8 bytes: skip the count when short.
  if (text.length * 3 <= limits.maxMetadataBytes) return text
  const bytes = Buffer.byteLength(text)
  if (bytes <= limits.maxMetadataBytes) return text
  return JSON.stringify({
    [METADATA_TRUNCATED_KEY]: `metadata of ${bytes} bytes exceeds the limit of ${limits.maxMetadataBytes} bytes`,
    // The caller's own keys: the walk may have cut them short, with its marker.
    keys: (object === converted ? firstKeys(metadata, keys) : keys).slice(
      0,
      100,
    ),
  })
}

/** The first 100 own keys of the caller's metadata object (`walked`, unmarked, if they cannot be read). */
function firstKeys(metadata: unknown, walked: string[]): string[] {
  if (typeof metadata !== 'object' || metadata === null) return walked
  try {
    const keys: string[] = []
    for (const key in metadata) {
      if (!Object.hasOwn(metadata, key)) continue
      if (keys.push(key) >= 100) break
    }
    if (keys.length > 0) return keys
  } catch {
    // A proxy or getter that throws: fall back to what the walk kept.
  }
  return walked.filter((key) => key !== TRUNCATED_KEYS_MARKER)
}
