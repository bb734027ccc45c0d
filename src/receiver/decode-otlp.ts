/**
 * OTLP logs requests (`ExportLogsServiceRequest`) decoded into the records
 * the OpenTelemetry mapping reads, from protobuf or from OTLP/JSON.
 *
 * Pure: bytes or text in, records out, `OtlpDecodeError` for anything that
 * is not a well-formed request (the receiver answers 400 with its message).
 * Nesting of attribute values is bounded ({@link MAX_VALUE_DEPTH}), so a
 * hostile body cannot exhaust the stack. Times are read as 64-bit integers
 * (BigInt) and kept to the nanosecond in HrTime form.
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
import { setKey } from '../core/serialize.js'
import type { HrTime, OtelLogRecord } from '../otel/map.js'
import {
  FIXED32,
  FIXED64,
  LENGTH,
  ProtoReader,
  ProtobufError,
  VARINT,
} from './protobuf-reader.js'

/** A body that is not a well-formed OTLP logs request. */
export class OtlpDecodeError extends Error {
  override readonly name = 'OtlpDecodeError'
}

/** Deepest nesting of array and key-value list values accepted. */
export const MAX_VALUE_DEPTH = 32

type Attributes = Record<string, unknown>
interface Context {
  resource: { attributes: Attributes }
  scope: { name: string; version?: string } | undefined
}

/** Decodes a protobuf `ExportLogsServiceRequest`. @throws OtlpDecodeError */
export function decodeOtlpProtobuf(body: Uint8Array): OtelLogRecord[] {
  try {
    const records: OtelLogRecord[] = []
    const reader = new ProtoReader(body)
    while (!reader.done) {
      const { field, wire } = reader.tag()
      if (field === 1 && wire === LENGTH) resourceLogs(reader.bytes(), records)
      else reader.skip(wire)
    }
    return records
  } catch (error) {
    if (error instanceof ProtobufError || error instanceof OtlpDecodeError) {
      throw new OtlpDecodeError(
        `invalid protobuf logs request: ${error.message}`,
      )
    }
    throw error
  }
}

function resourceLogs(bytes: Uint8Array, records: OtelLogRecord[]): void {
  const reader = new ProtoReader(bytes)
  const scopes: Uint8Array[] = []
  let attributes: Attributes = {}
  while (!reader.done) {
    const { field, wire } = reader.tag()
    if (field === 1 && wire === LENGTH)
      attributes = keyValueList(reader.bytes(), 0) // Resource: repeated KeyValue attributes = 1
    else if (field === 2 && wire === LENGTH) scopes.push(reader.bytes())
    else reader.skip(wire)
  }
  // The resource may follow its scopes in the bytes: read scopes once it is known.
  for (const scope of scopes)
    scopeLogs(scope, { resource: { attributes }, scope: undefined }, records)
}

function scopeLogs(
  bytes: Uint8Array,
  context: Context,
  records: OtelLogRecord[],
): void {
  const reader = new ProtoReader(bytes)
  const logRecords: Uint8Array[] = []
  let scope: Context['scope']
  while (!reader.done) {
    const { field, wire } = reader.tag()
    if (field === 1 && wire === LENGTH)
      scope = instrumentationScope(reader.bytes())
    else if (field === 2 && wire === LENGTH) logRecords.push(reader.bytes())
    else reader.skip(wire)
  }
  for (const record of logRecords)
    records.push(logRecord(record, { ...context, scope }))
}

function instrumentationScope(bytes: Uint8Array): Context['scope'] {
  const reader = new ProtoReader(bytes)
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

function logRecord(bytes: Uint8Array, context: Context): OtelLogRecord {
  const reader = new ProtoReader(bytes)
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
        record.hrTime = nanosToHrTime(reader.fixed64())
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
        record.body = anyValue(reader.bytes(), 0)
        break
      case 6:
        reader.expect(wire, LENGTH, 'attributes')
        keyValue(reader.bytes(), record.attributes as Attributes, 0)
        break
      case 8:
        reader.expect(wire, FIXED32, 'flags')
        flags = reader.fixed32()
        break
      case 9:
        reader.expect(wire, LENGTH, 'trace_id')
        traceId = Buffer.from(reader.bytes()).toString('hex')
        break
      case 10:
        reader.expect(wire, LENGTH, 'span_id')
        spanId = Buffer.from(reader.bytes()).toString('hex')
        break
      case 11:
        reader.expect(wire, FIXED64, 'observed_time_unix_nano')
        record.hrTimeObserved = nanosToHrTime(reader.fixed64())
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

/** One KeyValue into `into`. */
function keyValue(bytes: Uint8Array, into: Attributes, depth: number): void {
  const reader = new ProtoReader(bytes)
  let key = ''
  let value: unknown
  while (!reader.done) {
    const { field, wire } = reader.tag()
    if (field === 1 && wire === LENGTH) key = reader.string()
    else if (field === 2 && wire === LENGTH)
      value = anyValue(reader.bytes(), depth)
    else reader.skip(wire)
  }
  setKey<unknown>(into, key, value ?? null)
}

/** AnyValue: string 1, bool 2, int64 3, double 4, array 5, kvlist 6, bytes 7. */
function anyValue(bytes: Uint8Array, depth: number): unknown {
  if (depth > MAX_VALUE_DEPTH)
    throw new OtlpDecodeError(`values nested deeper than ${MAX_VALUE_DEPTH}`)
  const reader = new ProtoReader(bytes)
  let value: unknown = null
  while (!reader.done) {
    const { field, wire } = reader.tag()
    if (field === 1 && wire === LENGTH) value = reader.string()
    else if (field === 2 && wire === VARINT) value = reader.varint() !== 0
    else if (field === 3 && wire === VARINT) value = int64(reader.int64())
    else if (field === 4 && wire === FIXED64) value = reader.double()
    else if (field === 5 && wire === LENGTH)
      value = valueList(reader.bytes(), depth + 1)
    else if (field === 6 && wire === LENGTH)
      value = keyValueList(reader.bytes(), depth + 1)
    else if (field === 7 && wire === LENGTH) value = Buffer.from(reader.bytes())
    else reader.skip(wire)
  }
  return value
}

function valueList(bytes: Uint8Array, depth: number): unknown[] {
  const reader = new ProtoReader(bytes)
  const values: unknown[] = []
  while (!reader.done) {
    const { field, wire } = reader.tag()
    if (field === 1 && wire === LENGTH)
      values.push(anyValue(reader.bytes(), depth))
    else reader.skip(wire)
  }
  return values
}

function keyValueList(bytes: Uint8Array, depth: number): Attributes {
  const reader = new ProtoReader(bytes)
  const values: Attributes = {}
  while (!reader.done) {
    const { field, wire } = reader.tag()
    if (field === 1 && wire === LENGTH) keyValue(reader.bytes(), values, depth)
    else reader.skip(wire)
  }
  return values
}

/** An int64 as a number when exact, else its decimal string (OTLP/JSON's own rule). */
function int64(value: bigint): number | string {
  return value >= BigInt(Number.MIN_SAFE_INTEGER) &&
    value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value.toString()
}

/** Nanoseconds since the epoch as HrTime; 0 stays [0, 0] (unset). */
export function nanosToHrTime(nanos: bigint): HrTime {
  return [Number(nanos / 1_000_000_000n), Number(nanos % 1_000_000_000n)]
}

/**
 * Decodes an OTLP/JSON `ExportLogsServiceRequest`: lowerCamelCase keys,
 * 64-bit integers as strings or numbers, trace and span ids as hex,
 * bytes as base64. @throws OtlpDecodeError
 */
export function decodeOtlpJson(text: string): OtelLogRecord[] {
  let request: unknown
  try {
    request = JSON.parse(text)
  } catch (error) {
    throw new OtlpDecodeError(
      `invalid JSON logs request: ${(error as Error).message}`,
    )
  }
  const records: OtelLogRecord[] = []
  for (const resourceLog of list(
    object(request, 'request').resourceLogs,
    'resourceLogs',
  )) {
    const resourceLogObject = object(resourceLog, 'resourceLogs[]')
    const resource = {
      attributes: jsonAttributes(
        object(resourceLogObject.resource ?? {}, 'resource').attributes,
      ),
    }
    for (const scopeLog of list(resourceLogObject.scopeLogs, 'scopeLogs')) {
      const scopeLogObject = object(scopeLog, 'scopeLogs[]')
      const scope =
        scopeLogObject.scope === undefined
          ? undefined
          : jsonScope(object(scopeLogObject.scope, 'scope'))
      for (const logRecord of list(scopeLogObject.logRecords, 'logRecords')) {
        records.push(
          jsonLogRecord(object(logRecord, 'logRecords[]'), { resource, scope }),
        )
      }
    }
  }
  return records
}

function jsonLogRecord(
  record: Record<string, unknown>,
  context: Context,
): OtelLogRecord {
  const result: { -readonly [K in keyof OtelLogRecord]: OtelLogRecord[K] } = {
    resource: context.resource,
    attributes: jsonAttributes(record.attributes),
  }
  if (context.scope !== undefined) result.instrumentationScope = context.scope
  if (record.timeUnixNano !== undefined)
    result.hrTime = nanosToHrTime(
      jsonUint64(record.timeUnixNano, 'timeUnixNano'),
    )
  if (record.observedTimeUnixNano !== undefined) {
    result.hrTimeObserved = nanosToHrTime(
      jsonUint64(record.observedTimeUnixNano, 'observedTimeUnixNano'),
    )
  }
  if (typeof record.severityNumber === 'number')
    result.severityNumber = record.severityNumber
  if (typeof record.severityText === 'string')
    result.severityText = record.severityText
  if (typeof record.eventName === 'string') result.eventName = record.eventName
  if (record.body !== undefined) result.body = jsonAnyValue(record.body, 0)
  const { traceId, spanId } = record
  if (
    typeof traceId === 'string' &&
    traceId !== '' &&
    typeof spanId === 'string' &&
    spanId !== ''
  ) {
    if (
      !/^[0-9a-fA-F]{32}$/.test(traceId) ||
      !/^[0-9a-fA-F]{16}$/.test(spanId)
    ) {
      throw new OtlpDecodeError(
        'traceId and spanId must be hex (32 and 16 digits)',
      )
    }
    result.spanContext = {
      traceId: traceId.toLowerCase(),
      spanId: spanId.toLowerCase(),
      traceFlags: Number(record.flags ?? 0) & 0xff,
    }
  }
  return result
}

function jsonScope(scope: Record<string, unknown>): Context['scope'] {
  const name = typeof scope.name === 'string' ? scope.name : ''
  return typeof scope.version === 'string' && scope.version !== ''
    ? { name, version: scope.version }
    : { name }
}

function jsonAttributes(value: unknown, depth = 0): Attributes {
  const attributes: Attributes = {}
  for (const item of list(value, 'attributes')) {
    const { key, value: inner } = object(item, 'attribute')
    if (typeof key !== 'string')
      throw new OtlpDecodeError('an attribute key must be a string')
    setKey(
      attributes,
      key,
      inner === undefined ? null : jsonAnyValue(inner, depth),
    )
  }
  return attributes
}

function jsonAnyValue(value: unknown, depth: number): unknown {
  if (depth > MAX_VALUE_DEPTH)
    throw new OtlpDecodeError(`values nested deeper than ${MAX_VALUE_DEPTH}`)
  const any = object(value, 'AnyValue')
  if ('stringValue' in any) return String(any.stringValue)
  if ('boolValue' in any) return any.boolValue === true
  if ('intValue' in any) return int64(jsonInt64(any.intValue))
  if ('doubleValue' in any) return Number(any.doubleValue)
  if ('arrayValue' in any)
    return list(object(any.arrayValue, 'arrayValue').values, 'values').map(
      (v) => jsonAnyValue(v, depth + 1),
    )
  if ('kvlistValue' in any)
    return jsonAttributes(
      object(any.kvlistValue, 'kvlistValue').values,
      depth + 1,
    )
  if ('bytesValue' in any) return Buffer.from(String(any.bytesValue), 'base64')
  return null
}

function jsonUint64(value: unknown, name: string): bigint {
  const parsed = jsonInt64(value)
  if (parsed < 0n) throw new OtlpDecodeError(`${name} must not be negative`)
  return parsed
}

function jsonInt64(value: unknown): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value))
    return BigInt(value)
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value))
    return BigInt.asIntN(64, BigInt(value))
  throw new OtlpDecodeError(`not a 64-bit integer: ${JSON.stringify(value)}`)
}

function object(value: unknown, name: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new OtlpDecodeError(`${name} must be an object`)
  }
  return value as Record<string, unknown>
}

function list(value: unknown, name: string): unknown[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value))
    throw new OtlpDecodeError(`${name} must be an array`)
  return value
}
