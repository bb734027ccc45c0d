/**
 * The entry text of an OpenTelemetry record with flat values, made in one
 * pass without the mapping's objects: the fast path of the exporter and the
 * receiver (issue 15).
 *
 * A record is flat when its body is a string (or absent), and its
 * attributes are strings, finite numbers, booleans or null, with none of
 * the keys the mapping writes itself (`exception.*`, `source_level`,
 * `trace_id`, `span_id`, `trace_flags`, `event_name`, `otel.resource`,
 * `otel.scope`, `__proto__`), and the entry lies well within every limit
 * (each string within `maxStringLength`, the message within
 * `maxMessageLength`, the members within `maxItems`, the metadata within a
 * third of `maxMetadataBytes` and within the walk's budget). Its text is
 * then exactly what {@link mapOtelLogRecord} and `encodeEntry` make of it,
 * character for character (a property test holds the two together); every
 * other record, and any record whose fields throw, gets undefined here and
 * takes the mapping. Each field and each attribute is read once.
 */
import type { EncodedEntry, EntryLimits, MappedRecord } from '../core/entry.js'
import { finishEntry, formatTimestamp, membersJson } from '../core/entry.js'
import type { LevelMap } from '../core/level-tables.js'
import { SOURCE_LEVEL_KEY } from '../core/level-tables.js'
import type { Level } from '../core/levels.js'
import { PREFIX_ATTRIBUTE } from '../core/prefix.js'
import { walkBudget } from '../core/serialize.js'
import type { Router, Routed } from '../delivery/router.js'
import type { OtelLogRecord } from './map.js'
import {
  RESOURCE_KEY,
  SCOPE_KEY,
  hrTimeToMs,
  otelLevelOf,
  sharedPart,
} from './map.js'

/** A flat record's entry text, and the prefix it asks to be routed to. */
export interface FlatEntry {
  entry: EncodedEntry
  prefix: unknown
}

/**
 * Keys the mapping writes into the metadata itself (or moves): a record
 * whose attributes hold one takes the mapping.
 */
const MAPPING_KEYS = new Set([
  SOURCE_LEVEL_KEY,
  'trace_id',
  'span_id',
  'trace_flags',
  'event_name',
  RESOURCE_KEY,
  SCOPE_KEY,
  '__proto__',
])

/** The longest key the mapping writes itself: the limits must keep it whole. */
const LONGEST_OWN_KEY = Math.max(
  ...['event_name', 'trace_id', 'span_id', 'trace_flags', SOURCE_LEVEL_KEY].map(
    (key) => key.length,
  ),
)

/** Each level's JSON text. */
const LEVEL_JSON: Readonly<Record<Level, string>> = {
  debug: '"debug"',
  info: '"info"',
  warn: '"warn"',
  error: '"error"',
  fatal: '"fatal"',
}

/**
 * What the walk's budget pays for a member beyond the member's own JSON
 * text, at most (a number costs up to 25 whatever its digits; a key and a
 * string one more than their text): checked against the text, so that a
 * flat entry never stops where the walk would have cut.
 */
const BUDGET_PER_MEMBER = 26

/**
 * Routes one record for the exporter and the receiver: a flat one as its
 * text, unless its routed prefix is refused; any other through `map` and
 * `router.route`, which marks a refused prefix. Undefined when the router
 * has no experiment for it (counted there); 'unmapped' when `map` gave
 * nothing.
 */
export function routeRecord(
  router: Router,
  record: OtelLogRecord,
  limits: EntryLimits,
  levelMap: LevelMap | undefined,
  map: (record: OtelLogRecord) => MappedRecord | undefined,
): Routed | undefined | 'unmapped' {
  const flat = flatEntry(record, limits, levelMap)
  if (flat !== undefined) {
    const routed = router.routeEncoded(flat.entry, flat.prefix)
    if (routed !== 'refused') return routed
  }
  const mapped = map(record)
  return mapped === undefined
    ? 'unmapped'
    : router.route(mapped.input, mapped.prefix)
}

/** The flat record's entry, or undefined when the record takes the mapping. Never throws. */
export function flatEntry(
  record: OtelLogRecord,
  limits: EntryLimits,
  levelMap?: LevelMap,
): FlatEntry | undefined {
  try {
    return encodeFlat(record, limits, levelMap)
  } catch {
    // A getter that throws: the mapping reads what it can, and marks it.
    return undefined
  }
}

function encodeFlat(
  record: OtelLogRecord,
  limits: EntryLimits,
  levelMap: LevelMap | undefined,
): FlatEntry | undefined {
  const { maxStringLength } = limits
  if (limits.maxDepth < 1 || maxStringLength < LONGEST_OWN_KEY) return undefined
  const body = record.body
  let message = '""'
  if (body !== undefined) {
    message = stringJson(body, limits.maxMessageLength)
    if (message === '') return undefined
  }
  // The metadata's members as text, each value read once, in the mapping's
  // order: the attributes, then what the record itself gives.
  let text = ''
  let members = 0
  let prefix: unknown
  const attributes = record.attributes
  if (attributes !== undefined) {
    for (const key in attributes) {
      if (!Object.hasOwn(attributes, key)) continue
      const value = attributes[key]
      if (key === PREFIX_ATTRIBUTE) {
        prefix = value
        continue
      }
      const keyJson = memberKey(key, maxStringLength)
      if (keyJson === undefined) return undefined
      const json = valueJson(value, maxStringLength)
      if (json === '') return undefined
      text += members++ === 0 ? keyJson + json : `,${keyJson}${json}`
    }
  }
  const { eventName, spanContext } = record
  if (eventName) {
    const json = stringJson(eventName, maxStringLength)
    if (json === '') return undefined
    text += `${members++ === 0 ? '' : ','}"event_name":${json}`
  }
  if (spanContext) {
    const { traceId, spanId, traceFlags } = spanContext
    const traceJson = stringJson(traceId, maxStringLength)
    const spanJson = stringJson(spanId, maxStringLength)
    if (traceJson === '' || spanJson === '' || typeof traceFlags !== 'number')
      return undefined
    const flags = stringJson(
      traceFlags.toString(16).padStart(2, '0'),
      maxStringLength,
    )
    if (flags === '') return undefined
    text += `${members === 0 ? '' : ','}"trace_id":${traceJson},"span_id":${spanJson},"trace_flags":${flags}`
    members += 3
  }
  const severityText = record.severityText
  const severityNumber = record.severityNumber
  const source = severityText ?? severityNumber
  if (source !== undefined) {
    const json = source === null ? '' : valueJson(source, maxStringLength)
    if (json === '') return undefined
    text += `${members++ === 0 ? '' : ','}"${SOURCE_LEVEL_KEY}":${json}`
  }
  const shared = sharedPart(
    record.resource?.attributes,
    record.instrumentationScope,
  )
  if (shared.tail !== undefined) {
    const json = membersJson(shared.tail, limits)
    if (json === undefined) return undefined
    if (json !== '') text += members === 0 ? json : `,${json}`
    // A tail holds these two at most (see sharedPart).
    if (Object.hasOwn(shared.tail, RESOURCE_KEY)) members++
    if (Object.hasOwn(shared.tail, SCOPE_KEY)) members++
  }
  if (members > limits.maxItems || members + 2 > limits.maxNodes)
    return undefined
  // Braces included.
  const length = text.length + 2
  if (
    length * 3 > limits.maxMetadataBytes ||
    length + BUDGET_PER_MEMBER * members >
      walkBudget(limits.maxMetadataBytes) - 2
  )
    return undefined
  const time = hrTimeToMs(record.hrTime) ?? hrTimeToMs(record.hrTimeObserved)
  const level = otelLevelOf({ severityNumber, severityText }, levelMap)
  const head = `{"timestamp":"${formatTimestamp(time)}","level":${LEVEL_JSON[level]},"message":${message}`
  const entry = finishEntry(
    text === '' ? `${head}}` : `${head},"metadata":{${text}}}`,
  )
  // As the mapping: the record's own prefix, unless null or absent.
  return { entry, prefix: prefix ?? shared.prefix }
}

/**
 * Characters `JSON.stringify` escapes, and surrogates: a string without
 * any is its own JSON text between quotes.
 */
// eslint-disable-next-line no-control-regex
const NEEDS_CARE = /["\\\u0000-\u001f\ud800-\udfff]/

/** A string's JSON text when it is kept as it is (well formed, within `max`); '' otherwise. */
function stringJson(value: unknown, max: number): string {
  if (typeof value !== 'string' || value.length > max) return ''
  if (!NEEDS_CARE.test(value)) return `"${value}"`
  return value.isWellFormed() ? JSON.stringify(value) : ''
}

/** A value's JSON text when it is stored as it is (a kept string, a finite number, a boolean, null); '' otherwise. */
function valueJson(value: unknown, maxStringLength: number): string {
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
 * `"key":` for an attribute key the entry keeps as it is, or undefined for
 * one the mapping must see (one it writes itself, an `exception.*`, a key
 * too long or not well formed). Remembered for short keys: attributes
 * repeat their keys from record to record.
 */
function memberKey(key: string, maxStringLength: number): string | undefined {
  // The only limit a key meets, checked first: the verdict is the same under any limits.
  if (key.length > maxStringLength) return undefined
  const known = memberKeys.get(key)
  if (known !== undefined) return known ?? undefined
  const json =
    MAPPING_KEYS.has(key) || key.startsWith('exception.')
      ? ''
      : stringJson(key, key.length)
  const verdict = json === '' ? null : `${json}:`
  if (key.length <= MAX_REMEMBERED_KEY && memberKeys.size < MAX_REMEMBERED_KEYS)
    memberKeys.set(key, verdict)
  return verdict ?? undefined
}

/** Keys remembered by {@link memberKey}: a bound on their number and length, whatever the records hold. */
const MAX_REMEMBERED_KEYS = 4096
const MAX_REMEMBERED_KEY = 128

/** Each remembered key's `"key":`, or null when the mapping must see it. */
const memberKeys = new Map<string, string | null>()
