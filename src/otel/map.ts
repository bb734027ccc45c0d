/**
 * OpenTelemetry log record → ml-dash entry: a pure mapping, shared by the
 * in-process exporter and (later) the OTLP receiver.
 *
 * - level: SeverityNumber by range (1–8 debug, 9–12 info, 13–16 warn,
 *   17–20 error, 21–24 fatal); 0 or absent: from severityText when it names
 *   a level, else info. `levelMap` is checked first, keyed by severityText
 *   or by the number. The source level is kept as `source_level`.
 * - message: a string body as is; any other body serialized, and a
 *   structured body (object or array) also kept as `metadata.body`.
 * - time: the record's time at full precision down to the microsecond
 *   (hrTime), else the observed time.
 * - metadata: the attributes; `exception.*` attributes grouped under
 *   `exception` ({ type, message, stacktrace, … }); trace context as
 *   `trace_id`, `span_id`, `trace_flags` (as the pino bridge writes them);
 *   the resource's attributes under `otel.resource`; the instrumentation
 *   scope under `otel.scope` ({ name, version }); `eventName` as `event_name`.
 *   Resource and scope are the entry's `metadataTail`, made once per
 *   resource attributes and scope objects (the SDK shares them across a
 *   logger's records): their text is encoded once, not per record.
 * - `ml_dash.prefix` from the record's attributes, else the resource's, is
 *   returned apart for routing.
 *
 * A record the mapping throws on (a getter that throws) is mapped by
 * `mapUnmappableRecord` from what can be read, with what threw under
 * `ml_dash.unmapped`.
 */
import type { MappedRecord } from '../core/entry.js'
import { UNMAPPED_KEY } from '../core/entry.js'
import type { LevelMap } from '../core/level-tables.js'
import { SOURCE_LEVEL_KEY, mapLevel, otelLevel } from '../core/level-tables.js'
import type { Level } from '../core/levels.js'
import { describeThrown, guardedMembers, setKey } from '../core/serialize.js'
import { PREFIX_ATTRIBUTE } from '../core/prefix.js'

/** Metadata key of the resource's attributes. */
export const RESOURCE_KEY = 'otel.resource'
/** Metadata key of the instrumentation scope. */
export const SCOPE_KEY = 'otel.scope'

/** `[seconds, nanoseconds]`, OpenTelemetry's HrTime. */
export type HrTime = readonly [number, number]

/** The fields of a log record this mapping reads (sdk-logs' ReadableLogRecord has them). */
export interface OtelLogRecord {
  hrTime?: HrTime
  hrTimeObserved?: HrTime
  severityNumber?: number
  severityText?: string
  body?: unknown
  eventName?: string
  attributes?: Readonly<Record<string, unknown>>
  spanContext?: { traceId: string; spanId: string; traceFlags: number }
  resource?: { attributes?: Readonly<Record<string, unknown>> }
  instrumentationScope?: { name: string; version?: string }
}

/** Maps one record. Never throws. */
export function mapOtelLogRecord(
  record: OtelLogRecord,
  levelMap?: LevelMap,
): MappedRecord {
  const attributes = record.attributes ?? {}
  const recordPrefix = ownPrefix(attributes)
  const { prefix: resourcePrefix, tail } = sharedPart(
    record.resource?.attributes,
    record.instrumentationScope,
  )
  const metadata = groupExceptionAttributes(attributes)
  const { body } = record
  if (
    body !== null &&
    typeof body === 'object' &&
    !(body instanceof Uint8Array)
  )
    metadata.body = body
  if (record.eventName) metadata.event_name = record.eventName
  if (record.spanContext) {
    metadata.trace_id = record.spanContext.traceId
    metadata.span_id = record.spanContext.spanId
    metadata.trace_flags = record.spanContext.traceFlags
      .toString(16)
      .padStart(2, '0')
  }
  const source = record.severityText ?? record.severityNumber
  if (source !== undefined) metadata[SOURCE_LEVEL_KEY] = source
  const input: MappedRecord['input'] = {
    level: otelLevelOf(record, levelMap),
    message: body,
    metadata,
    time: hrTimeToMs(record.hrTime) ?? hrTimeToMs(record.hrTimeObserved),
    // Made here, data properties only (setKey defines them).
    ownMetadata: true,
  }
  if (tail !== undefined) input.metadataTail = tail
  const prefix = recordPrefix ?? resourcePrefix
  return prefix === undefined ? { input } : { input, prefix }
}

/** The fields {@link mapOtelLogRecord} reads, each read once by the fallback. */
const RECORD_FIELDS = [
  'hrTime',
  'hrTimeObserved',
  'severityNumber',
  'severityText',
  'body',
  'eventName',
  'attributes',
  'spanContext',
  'resource',
  'instrumentationScope',
] as const

/**
 * Maps a record {@link mapOtelLogRecord} threw on (a getter that throws, a
 * field of the wrong type), as well as it can: the fields that read without
 * throwing are mapped as usual, and what threw is kept under
 * {@link UNMAPPED_KEY} (field → error); a body that threw leaves a marker
 * message. When even those fields do not map, an entry at the record's
 * severity whose message says what threw. Never throws for a record that
 * only getters or wrong types spoil; the caller still guards against the rest.
 */
export function mapUnmappableRecord(
  record: OtelLogRecord,
  error: unknown,
  levelMap?: LevelMap,
): MappedRecord {
  const { fields, threw } = readFields(record)
  // What the mapping reads inside them, read once each: a member whose
  // getter throws becomes its marker, the others are kept.
  fields.attributes = guardedCopy(fields.attributes, threw, 'attributes')
  if (fields.resource !== undefined && fields.resource !== null) {
    const resource = fields.resource
    let attributes: unknown
    try {
      attributes = resource.attributes
    } catch (thrown) {
      threw.resource = describeThrown(thrown)
    }
    fields.resource = {
      attributes: guardedCopy(attributes, threw, 'resource'),
    }
  }
  let mapped: MappedRecord
  try {
    mapped = mapOtelLogRecord(fields, levelMap)
  } catch (again) {
    // Still throws: without the body (a proxy whose traps throw), said
    // as the body's only when the rest then maps.
    try {
      mapped = mapOtelLogRecord({ ...fields, body: undefined }, levelMap)
      threw.body ??= describeThrown(again)
    } catch (third) {
      return markerEntry(fields, { ...threw, record: describeThrown(third) })
    }
  }
  const metadata = mapped.input.metadata as Record<string, unknown>
  metadata[UNMAPPED_KEY] =
    Object.keys(threw).length > 0 ? threw : { record: describeThrown(error) }
  if (threw.body !== undefined)
    mapped.input.message = `[body threw: ${threw.body}]`
  return mapped
}

/** Each field of a record read once: the values, and what each getter that threw threw. */
function readFields(record: OtelLogRecord): {
  fields: OtelLogRecord
  threw: Record<string, string>
} {
  const fields: Record<string, unknown> = {}
  const threw: Record<string, string> = {}
  for (const name of RECORD_FIELDS) {
    try {
      fields[name] = record[name]
    } catch (error) {
      threw[name] = describeThrown(error)
    }
  }
  return { fields, threw }
}

/**
 * A plain copy of an attributes object (see `guardedMembers`); keys that
 * cannot be listed are said under `threw[name]`. Anything but an object is
 * given back as it is.
 */
function guardedCopy(
  value: unknown,
  threw: Record<string, string>,
  name: string,
): Readonly<Record<string, unknown>> | undefined {
  if (typeof value !== 'object' || value === null) return value as undefined
  const { members, unlisted } = guardedMembers(value)
  if (unlisted !== undefined) threw[name] = unlisted
  return members
}

/** The last resort: the record's severity, if it reads, and why the rest is missing. */
function markerEntry(
  fields: OtelLogRecord,
  threw: Record<string, string>,
): MappedRecord {
  let level: Level = 'info'
  try {
    level = otelLevel(fields.severityNumber, fields.severityText)
  } catch {
    // a severity of the wrong type: the entry stays at info
  }
  return {
    input: {
      level,
      message: `[log record not mapped: ${threw.record}]`,
      metadata: { [UNMAPPED_KEY]: threw },
    },
  }
}

/**
 * The attributes' own `ml_dash.prefix` and the other attributes. A prefix
 * seen only through the prototype is ignored: sdk-logs assigns attribute
 * keys with `=`, so an attribute `__proto__` becomes the prototype, and
 * what it holds must not route the record.
 */
function splitPrefix(
  attributes: Readonly<Record<string, unknown>> = {},
): [unknown, Record<string, unknown>] {
  const { [PREFIX_ATTRIBUTE]: prefix, ...rest } = attributes
  return [
    Object.hasOwn(attributes, PREFIX_ATTRIBUTE) ? prefix : undefined,
    rest,
  ]
}

/** A resource's routing prefix, and the metadata tail its records share with their scope. */
interface SharedPart {
  prefix: unknown
  tail: Readonly<Record<string, unknown>> | undefined
}

/**
 * The resource's `ml_dash.prefix` and the tail of `otel.resource` and
 * `otel.scope`, made once per resource attributes and scope objects: the
 * SDK gives every record of a logger the same two (a Resource is
 * immutable), and so does the receiver's decoder for the records of one
 * ScopeLogs, so each tail's text is made once too (`metadataTail`).
 * Records with other objects are mapped alike, each once.
 */
export function sharedPart(
  attributes: Readonly<Record<string, unknown>> | undefined,
  scope: OtelLogRecord['instrumentationScope'],
): SharedPart {
  const resourceKey = attributes ?? NO_OBJECT
  const scopeKey = scope ?? NO_OBJECT
  let byScope = sharedParts.get(resourceKey)
  const cached = byScope?.get(scopeKey)
  if (cached !== undefined) return cached
  const [prefix, resource] = splitPrefix(attributes)
  const tail: Record<string, unknown> = {}
  if (Object.keys(resource).length > 0) tail[RESOURCE_KEY] = resource
  if (scope) {
    const { name, version } = scope
    tail[SCOPE_KEY] = version === undefined ? { name } : { name, version }
  }
  const part: SharedPart = {
    prefix,
    tail: Object.keys(tail).length > 0 ? Object.freeze(tail) : undefined,
  }
  if (byScope === undefined) {
    byScope = new WeakMap()
    sharedParts.set(resourceKey, byScope)
  }
  byScope.set(scopeKey, part)
  return part
}

/** The key of a missing resource or scope. */
const NO_OBJECT = Object.freeze({})

const sharedParts = new WeakMap<object, WeakMap<object, SharedPart>>()

/** A record's level: `levelMap` by severityText, then by number, else by range. */
export function otelLevelOf(record: OtelLogRecord, levelMap?: LevelMap): Level {
  const fallback = otelLevel(record.severityNumber, record.severityText)
  return levelMap === undefined
    ? fallback
    : mapLevel([record.severityText, record.severityNumber], fallback, levelMap)
}

/** Epoch milliseconds, with the sub-millisecond part kept to the microsecond; undefined for 0 or missing. */
export function hrTimeToMs(time: HrTime | undefined): number | undefined {
  if (time === undefined) return undefined
  const [seconds, nanos] = time
  if (seconds === 0 && nanos === 0) return undefined
  return seconds * 1000 + Math.floor(nanos / 1000) / 1000
}

/** The attributes' own `ml_dash.prefix` (see {@link splitPrefix}). */
export function ownPrefix(
  attributes: Readonly<Record<string, unknown>>,
): unknown {
  return Object.hasOwn(attributes, PREFIX_ATTRIBUTE)
    ? attributes[PREFIX_ATTRIBUTE]
    : undefined
}

/** Copies attributes but `ml_dash.prefix`, moving `exception.*` into one `exception` object. */
function groupExceptionAttributes(
  attributes: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const metadata: Record<string, unknown> = {}
  let exception: Record<string, unknown> | undefined
  for (const [key, value] of Object.entries(attributes)) {
    if (key === PREFIX_ATTRIBUTE) continue
    if (key.startsWith('exception.')) {
      exception ??= {}
      setKey(exception, key.slice('exception.'.length), value)
    } else setKey(metadata, key, value)
  }
  if (exception !== undefined) metadata.exception = exception
  return metadata
}
