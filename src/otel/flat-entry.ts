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
 * takes the mapping. Each field and each attribute is read once here;
 * when this gives up, the mapping reads them again (a getter that throws
 * only once is then read without a throw).
 *
 * The members are written in the order `for…in` gives them, which is the
 * mapping's order for every ordinary object (integer keys first, then the
 * others as they were set); a Proxy whose `ownKeys` trap lists them in
 * another order is stored in that order. The SDK's and the receiver's
 * records are ordinary objects.
 */
import type { EntryLimits } from '../core/entry.js'
import { membersJson } from '../core/entry.js'
import type { FlatEntry } from '../core/flat-json.js'
import {
  MemberKeys,
  flatEntryText,
  stringJson,
  valueJson,
  withinFlatLimits,
} from '../core/flat-json.js'
import type { LevelMap } from '../core/level-tables.js'
import { SOURCE_LEVEL_KEY } from '../core/level-tables.js'
import { PREFIX_ATTRIBUTE } from '../core/prefix.js'
import type { OtelLogRecord } from './map.js'
import {
  RESOURCE_KEY,
  SCOPE_KEY,
  hrTimeToMs,
  otelLevelOf,
  ownPrefix,
  sharedPart,
} from './map.js'

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

/** Attribute keys kept as they are: all but the mapping's own and `exception.*`. */
const MEMBER_KEYS = new MemberKeys(
  (key) => MAPPING_KEYS.has(key) || key.startsWith('exception.'),
)

/** The longest key the mapping writes itself: the limits must keep it whole. */
const LONGEST_OWN_KEY = Math.max(
  ...['event_name', 'trace_id', 'span_id', 'trace_flags', SOURCE_LEVEL_KEY].map(
    (key) => key.length,
  ),
)

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
  if (maxStringLength < LONGEST_OWN_KEY) return undefined
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
  const attributes = record.attributes
  // Found as the mapping finds it: an own property, enumerable or not.
  const prefix = ownPrefix(attributes ?? {})
  if (attributes !== undefined) {
    for (const key in attributes) {
      if (key === PREFIX_ATTRIBUTE || !Object.hasOwn(attributes, key)) continue
      const value = attributes[key]
      const keyJson = MEMBER_KEYS.json(key, maxStringLength)
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
  if (!withinFlatLimits(text, members, limits)) return undefined
  const time = hrTimeToMs(record.hrTime) ?? hrTimeToMs(record.hrTimeObserved)
  const level = otelLevelOf({ severityNumber, severityText }, levelMap)
  const entry = flatEntryText(time, level, message, text)
  // As the mapping: the record's own prefix, unless null or absent.
  return { entry, prefix: prefix ?? shared.prefix }
}
