/**
 * OTLP logs requests (`ExportLogsServiceRequest`) decoded into the records
 * the OpenTelemetry mapping reads, from protobuf or from OTLP/JSON.
 *
 * Pure: bytes in, records out one at a time (a generator, so the receiver
 * can hand the event loop back between records), `OtlpDecodeError` for
 * anything that is not a well-formed request (the receiver answers 400
 * with its message). What one request may hold is bounded
 * ({@link DecodeBudget}): log records, values in one record, values in
 * all; past a bound, `OtlpTooLargeError` (the receiver answers 413). The
 * bounds are counted as the bytes are read, before anything is built for
 * what lies beyond them, so a small body that claims millions of records
 * costs little. Nesting of values is bounded ({@link MAX_VALUE_DEPTH}), so
 * a hostile body cannot exhaust the stack. Times are read as 64-bit integers
 * (split exactly into seconds and nanoseconds, without a BigInt) and kept
 * to the nanosecond in HrTime form.
 *
 * Schema (opentelemetry-proto, logs/v1): ExportLogsServiceRequest
 * { repeated ResourceLogs resource_logs = 1 }; ResourceLogs { Resource
 * resource = 1; repeated ScopeLogs scope_logs = 2 }; ScopeLogs
 * { InstrumentationScope scope = 1; repeated LogRecord log_records = 2 };
 * LogRecord { fixed64 time_unix_nano = 1; SeverityNumber severity_number = 2;
 * string severity_text = 3; AnyValue body = 5; repeated KeyValue attributes
 * = 6; fixed32 flags = 8; bytes trace_id = 9; bytes span_id = 10; fixed64
 * observed_time_unix_nano = 11; string event_name = 12 }.
 */
import { RECEIVER_OPTIONS } from '../core/option-table.js'
import { freeName, setKey } from '../core/serialize.js'
import type { HrTime, OtelLogRecord } from '../otel/map.js'
import {
  FIXED32,
  FIXED64,
  LENGTH,
  ProtoReader,
  RepeatedStrings,
  VARINT,
} from './protobuf-reader.js'

/** A body that is not a well-formed OTLP logs request. */
export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError'
}

/** A request that holds more than a {@link DecodeBudget} allows. */
export class OtlpTooLargeError extends Error {
  override readonly name = 'OtlpTooLargeError'
}

/** Deepest nesting of array and key-value list values accepted. */
export const MAX_VALUE_DEPTH = 32

/** Most values (attributes, list items, map entries) in one record, resource or scope. */
const MAX_VALUES_PER_RECORD = 10_000

/** Most values and containers in one request, all records together. */
const MAX_VALUES_PER_REQUEST = 2_000_000

/**
 * Most JSON objects and arrays in one OTLP/JSON request. Counted by the
 * tokenizer, before the values they hold are built, as the memory guard of
 * the token parser: a value takes one to three of them (an attribute is
 * `{"key":…,"value":{…}}`), so this bound stays above what
 * {@link MAX_VALUES_PER_REQUEST} lets through, and a request refused as
 * JSON is one refused as protobuf too.
 */
const MAX_CONTAINERS_PER_REQUEST = 2 * MAX_VALUES_PER_REQUEST

/** Parts (resource logs, scope logs, records found) read between two `null`s of a generator. */
const TICK_PARTS = 4096

/** Most log records in one request, unless the receiver is told otherwise. */
const DEFAULT_MAX_RECORDS: number =
  RECEIVER_OPTIONS.maxRecordsPerRequest.default

/**
 * What one request may still hold, spent as it is decoded. One budget per
 * request; every count throws `OtlpTooLargeError` once past its bound.
 */
export class DecodeBudget {
  readonly maxRecords: number
  #records = 0
  #values = 0
  #inRecord = 0
  #containers = 0

  constructor(maxRecords = DEFAULT_MAX_RECORDS) {
    this.maxRecords = maxRecords
  }

  /** One more log record (counted when it is found, before it is decoded); returns the count. */
  record(): number {
    if (++this.#records > this.maxRecords)
      throw new OtlpTooLargeError(
        `the request holds more than ${this.maxRecords} log records (maxRecordsPerRequest)`,
      )
    return this.#records
  }

  /** A record, resource or scope starts: its own count of values starts at 0. */
  begin(): void {
    this.#inRecord = 0
  }

  /** One more value inside the current record, resource or scope. */
  value(): void {
    this.part()
    if (++this.#inRecord > MAX_VALUES_PER_RECORD)
      throw new OtlpTooLargeError(
        `a log record, resource or scope holds more than ${MAX_VALUES_PER_RECORD} values`,
      )
  }

  /** One more JSON object or array anywhere in the request (OTLP/JSON only). */
  container(): void {
    if (++this.#containers > MAX_CONTAINERS_PER_REQUEST)
      throw new OtlpTooLargeError(
        `the request holds more than ${MAX_CONTAINERS_PER_REQUEST} JSON objects and arrays`,
      )
  }

  /** One more value or container anywhere in the request; returns the count. */
  part(): number {
    if (++this.#values > MAX_VALUES_PER_REQUEST)
      throw new OtlpTooLargeError(
        `the request holds more than ${MAX_VALUES_PER_REQUEST} values`,
      )
    return this.#values
  }
}

type Attributes = Record<string, unknown>
/** The resource and scope a record was sent under. */
export interface RecordContext {
  resource: { attributes: Attributes }
  scope: { name: string; version?: string } | undefined
}
type Context = RecordContext

/**
 * The records of a protobuf `ExportLogsServiceRequest`, one at a time, and
 * `null` every {@link TICK_PARTS} parts read without a record (so the
 * caller can hand the event loop back through a long run of empty ones).
 * @throws OtlpDecodeError, OtlpTooLargeError (from `next()`)
 */
export function* protobufRecords(
  body: Uint8Array,
  budget = new DecodeBudget(),
): Generator<OtelLogRecord | null, void, undefined> {
  try {
    const reader = ProtoReader.of(body)
    while (!reader.done) {
      const { field, wire } = reader.tag()
      if (field === 1 && wire === LENGTH) {
        if (budget.part() % TICK_PARTS === 0) yield null
        yield* resourceLogs(reader.message(), budget)
      } else reader.skip(wire)
    }
  } catch (error) {
    if (error instanceof OtlpTooLargeError) throw error
    throw new OtlpDecodeError(
      `invalid protobuf logs request: ${(error as Error).message}`,
    )
  }
}

/** Decodes a whole protobuf `ExportLogsServiceRequest`. @throws OtlpDecodeError, OtlpTooLargeError */
export function decodeOtlpProtobuf(
  body: Uint8Array,
  budget = new DecodeBudget(),
): OtelLogRecord[] {
  const records: OtelLogRecord[] = []
  for (const record of protobufRecords(body, budget))
    if (record !== null) records.push(record)
  return records
}

function* resourceLogs(
  reader: ProtoReader,
  budget: DecodeBudget,
): Generator<OtelLogRecord | null, void, undefined> {
  const scopes: ProtoReader[] = []
  let attributes: Attributes = {}
  while (!reader.done) {
    const { field, wire } = reader.tag()
    if (field === 1 && wire === LENGTH) {
      budget.begin()
      attributes = keyValueList(reader.message(), 0, budget) // Resource: repeated KeyValue attributes = 1
    } else if (field === 2 && wire === LENGTH) {
      if (budget.part() % TICK_PARTS === 0) yield null
      scopes.push(reader.message())
    } else reader.skip(wire)
  }
  // The resource may follow its scopes in the bytes: read scopes once it is known.
  for (const scope of scopes)
    yield* scopeLogs(
      scope,
      { resource: { attributes }, scope: undefined },
      budget,
    )
}

function* scopeLogs(
  reader: ProtoReader,
  context: Context,
  budget: DecodeBudget,
): Generator<OtelLogRecord | null, void, undefined> {
  const logRecords: ProtoReader[] = []
  let scope: Context['scope']
  while (!reader.done) {
    const { field, wire } = reader.tag()
    if (field === 1 && wire === LENGTH)
      scope = instrumentationScope(reader.message())
    else if (field === 2 && wire === LENGTH) {
      if (budget.record() % TICK_PARTS === 0) yield null
      logRecords.push(reader.message())
    } else reader.skip(wire)
  }
  const recordContext = { ...context, scope }
  for (const record of logRecords)
    yield logRecord(record, recordContext, budget)
}

function instrumentationScope(reader: ProtoReader): Context['scope'] {
  let name = ''
  let version: string | undefined
  while (!reader.done) {
    const { field, wire } = reader.tag()
    if (field === 1 && wire === LENGTH) name = reader.string()
    else if (field === 2 && wire === LENGTH) version = reader.string()
    else reader.skip(wire)
  }
  return version === undefined || version === '' ? { name } : { name, version }
}

function logRecord(
  reader: ProtoReader,
  context: Context,
  budget: DecodeBudget,
): OtelLogRecord {
  budget.begin()
  const record: {
    -readonly [K in keyof OtelLogRecord]: OtelLogRecord[K]
  } = { resource: context.resource, attributes: {} }
  if (context.scope !== undefined) record.instrumentationScope = context.scope
  let traceId = ''
  let spanId = ''
  let flags = 0
  while (!reader.done) {
    const { field, wire } = reader.tag()
    switch (field) {
      case 1:
        reader.expect(wire, FIXED64, 'time_unix_nano')
        record.hrTime = reader.fixed64ByBillion()
        break
      case 2:
        reader.expect(wire, VARINT, 'severity_number')
        record.severityNumber = reader.varint()
        break
      case 3:
        reader.expect(wire, LENGTH, 'severity_text')
        record.severityText = reader.string()
        break
      case 5:
        reader.expect(wire, LENGTH, 'body')
        record.body = anyValue(reader.message(), 0, budget)
        break
      case 6:
        reader.expect(wire, LENGTH, 'attributes')
        keyValue(reader.message(), record.attributes as Attributes, 0, budget)
        break
      case 8:
        reader.expect(wire, FIXED32, 'flags')
        flags = reader.fixed32()
        break
      case 9:
        reader.expect(wire, LENGTH, 'trace_id')
        traceId = reader.hex()
        break
      case 10:
        reader.expect(wire, LENGTH, 'span_id')
        spanId = reader.hex()
        break
      case 11:
        reader.expect(wire, FIXED64, 'observed_time_unix_nano')
        record.hrTimeObserved = reader.fixed64ByBillion()
        break
      case 12:
        reader.expect(wire, LENGTH, 'event_name')
        record.eventName = reader.string()
        break
      default:
        reader.skip(wire)
    }
  }
  if (traceId !== '' && spanId !== '')
    record.spanContext = { traceId, spanId, traceFlags: flags & 0xff }
  return record
}

/** Attribute keys: the same few in every record. */
const KEYS = new RepeatedStrings()

/** One KeyValue into `into`. */
function keyValue(
  reader: ProtoReader,
  into: Attributes,
  depth: number,
  budget: DecodeBudget,
): void {
  budget.value()
  let key = ''
  let value: unknown
  while (!reader.done) {
    const { field, wire } = reader.tag()
    if (field === 1 && wire === LENGTH) key = reader.repeatedString(KEYS)
    else if (field === 2 && wire === LENGTH)
      value = anyValue(reader.message(), depth, budget)
    else reader.skip(wire)
  }
  // A key sent twice (or two that decode alike: bad UTF-8 becomes U+FFFD) keeps both values.
  setKey<unknown>(into, freeName(into, key), value ?? null)
}

/** AnyValue: string 1, bool 2, int64 3, double 4, array 5, kvlist 6, bytes 7. */
function anyValue(
  reader: ProtoReader,
  depth: number,
  budget: DecodeBudget,
): unknown {
  if (depth > MAX_VALUE_DEPTH)
    throw new OtlpDecodeError(`values nested deeper than ${MAX_VALUE_DEPTH}`)
  let value: unknown = null
  while (!reader.done) {
    const { field, wire } = reader.tag()
    if (field === 1 && wire === LENGTH) value = reader.string()
    else if (field === 2 && wire === VARINT) value = reader.varint() !== 0
    else if (field === 3 && wire === VARINT)
      value = reader.smallInt64() ?? int64(reader.int64())
    else if (field === 4 && wire === FIXED64) value = reader.double()
    else if (field === 5 && wire === LENGTH)
      value = valueList(reader.message(), depth + 1, budget)
    else if (field === 6 && wire === LENGTH)
      value = keyValueList(reader.message(), depth + 1, budget)
    else if (field === 7 && wire === LENGTH) value = Buffer.from(reader.bytes())
    else reader.skip(wire)
  }
  return value
}

function valueList(
  reader: ProtoReader,
  depth: number,
  budget: DecodeBudget,
): unknown[] {
  const values: unknown[] = []
  while (!reader.done) {
    const { field, wire } = reader.tag()
    if (field === 1 && wire === LENGTH) {
      budget.value()
      values.push(anyValue(reader.message(), depth, budget))
    } else reader.skip(wire)
  }
  return values
}

function keyValueList(
  reader: ProtoReader,
  depth: number,
  budget: DecodeBudget,
): Attributes {
  const values: Attributes = {}
  while (!reader.done) {
    const { field, wire } = reader.tag()
    if (field === 1 && wire === LENGTH)
      keyValue(reader.message(), values, depth, budget)
    else reader.skip(wire)
  }
  return values
}

/** An int64 as a number when exact, else its decimal string (OTLP/JSON's own rule). */
export function int64(value: bigint): number | string {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) &&
    value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value.toString()
}

/** Nanoseconds since the epoch as HrTime; 0 stays [0, 0] (unset). */
export function nanosToHrTime(nanos: bigint): HrTime {
  return [Number(nanos / 1_000_000_000n), Number(nanos % 1_000_000_000n)]
}
