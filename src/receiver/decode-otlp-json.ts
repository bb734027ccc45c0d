/**
 * OTLP/JSON logs requests decoded into the records the OpenTelemetry
 * mapping reads: lowerCamelCase keys, 64-bit integers as strings or
 * numbers, trace and span ids as hex, bytes as base64.
 *
 * The body is read as a stream of JSON tokens (@streamparser/json), a slice
 * of bytes per step of the generator, so one large body never holds the
 * event loop for long; `JSON.parse` would build the whole request at once
 * (a 16 MiB body of empty objects: seconds, gigabytes). Every `{` and `[`
 * is counted against the request's {@link DecodeBudget} as it is read, and
 * the request's shape is checked token by token, so a wrong shape or a
 * budget spent stops the read where it happens.
 *
 * A record is given out once its resource and scope are known: when they
 * come first (as every encoder writes them), at once; otherwise when its
 * `ResourceLogs` or `ScopeLogs` ends.
 */
import type { ParsedTokenInfo } from '@streamparser/json'
import { TokenParser, TokenType, Tokenizer } from '@streamparser/json'
import { freeName, setKey } from '../core/serialize.js'
import { warnOnce } from '../delivery/failure-log.js'
import type { OtelLogRecord } from '../otel/map.js'
import type { RecordContext } from './decode-otlp.js'
import {
  DecodeBudget,
  MAX_VALUE_DEPTH,
  OtlpDecodeError,
  OtlpTooLargeError,
  int64,
  nanosToHrTime,
} from './decode-otlp.js'

/** Bytes tokenized per step of {@link jsonRecords}. */
const SLICE_BYTES = 16 * 1024

type Attributes = Record<string, unknown>

/**
 * @streamparser/json (0.0.26, pinned) decodes each run of a string's bytes
 * with a `TextDecoder` made without `ignoreBOM`, which drops a U+FEFF at
 * the start of what it is given: a string's first character, one after an
 * escape or a slice boundary, and every `\ufeff` escape would vanish. Its
 * two builders get a decoder that keeps the character (still `fatal`, as
 * theirs). Internals: a version that moves them fails the decoder's test
 * ("keeps an OTLP/JSON string as it was sent"), and says so on stderr once
 * (the strings are then decoded as that version decodes them).
 */
function keepByteOrderMarks(tokenizer: Tokenizer): void {
  const builders = tokenizer as unknown as Partial<
    Record<'bufferedString' | 'bufferedNumber', { decoder?: unknown }>
  >
  let replaced = 0
  for (const builder of [builders.bufferedString, builders.bufferedNumber]) {
    if (builder?.decoder instanceof TextDecoder) {
      builder.decoder = new TextDecoder('utf-8', {
        fatal: true,
        ignoreBOM: true,
      })
      replaced++
    }
  }
  if (replaced < 2)
    warnOnce(
      'dependency: @streamparser/json',
      "@streamparser/json's string decoder was not found (not the pinned 0.0.26?): OTLP/JSON strings may lose a U+FEFF at their start",
    )
}

/**
 * The records of an OTLP/JSON `ExportLogsServiceRequest` (UTF-8 bytes), one
 * at a time, and `null` after each slice of bytes read (so the caller can
 * hand the event loop back even while no record is ready).
 * @throws OtlpDecodeError, OtlpTooLargeError (from `next()`)
 */
export function* jsonRecords(
  body: Uint8Array,
  budget = new DecodeBudget(),
): Generator<OtelLogRecord | null, void, undefined> {
  try {
    const reader = new RequestReader(budget)
    for (let start = 0; start < body.length; start += SLICE_BYTES) {
      reader.write(body.subarray(start, start + SLICE_BYTES))
      yield* reader.ready()
      yield null
    }
    reader.end()
    yield* reader.ready()
  } catch (error) {
    if (error instanceof OtlpDecodeError || error instanceof OtlpTooLargeError)
      throw error
    // A value of a type OTLP does not allow where the mapping reads it.
    throw new OtlpDecodeError(
      `invalid JSON logs request: ${(error as Error).message}`,
    )
  }
}

/** Decodes a whole OTLP/JSON request. @throws OtlpDecodeError, OtlpTooLargeError */
export function decodeOtlpJson(
  text: string,
  budget = new DecodeBudget(),
): OtelLogRecord[] {
  const records: OtelLogRecord[] = []
  for (const record of jsonRecords(Buffer.from(text, 'utf8'), budget))
    if (record !== null) records.push(record)
  return records
}

/** Where a value sits: the indexes of its ResourceLogs and ScopeLogs. */
interface Found {
  kind: 'resource' | 'scope' | 'record'
  value: unknown
  resource: number
  scope: number
}

/** Records waiting for their resource or scope, per ScopeLogs. */
interface Waiting {
  resource: number
  scope: number
  values: unknown[]
}

class RequestReader {
  readonly #budget: DecodeBudget
  readonly #tokenizer = new Tokenizer()
  readonly #parser = new TokenParser({
    paths: [
      '$.resourceLogs.*.resource',
      '$.resourceLogs.*.scopeLogs.*.scope',
      '$.resourceLogs.*.scopeLogs.*.logRecords.*',
    ],
    keepStack: false,
  })
  readonly #shape = new ShapeCheck()
  #found: Found[] = []
  readonly #resources = new Map<number, Attributes>()
  readonly #scopes = new Map<string, RecordContext['scope']>()
  /** By `resource/scope` index, in the order they were found. */
  readonly #waiting = new Map<string, Waiting>()
  /** The ResourceLogs and ScopeLogs being read now (earlier ones have ended). */
  #at = { resource: -1, scope: -1 }

  constructor(budget: DecodeBudget) {
    this.#budget = budget
    keepByteOrderMarks(this.#tokenizer)
    this.#tokenizer.onToken = (token) => this.#token(token)
    // Errors thrown from the callbacks below come back through onError.
    const onError = (error: Error): never => {
      if (
        error instanceof OtlpDecodeError ||
        error instanceof OtlpTooLargeError
      )
        throw error
      throw new OtlpDecodeError(`invalid JSON logs request: ${error.message}`)
    }
    this.#tokenizer.onError = onError
    this.#parser.onError = onError
    this.#parser.onValue = ({ value, key, stack }) => {
      const resource = Number(stack[2]?.key ?? 0)
      if (key === 'resource')
        this.#found.push({ kind: 'resource', value, resource, scope: -1 })
      else if (key === 'scope')
        this.#found.push({
          kind: 'scope',
          value,
          resource,
          scope: Number(stack[4]?.key ?? 0),
        })
      else {
        this.#budget.record()
        this.#found.push({
          kind: 'record',
          value,
          resource,
          scope: Number(stack[4]?.key ?? 0),
        })
      }
    }
  }

  /** Reads more of the body (anything after the request but white space is refused by the parser). */
  write(bytes: Uint8Array): void {
    this.#tokenizer.write(bytes)
  }

  end(): void {
    if (!this.#parser.isEnded)
      throw new OtlpDecodeError(
        'invalid JSON logs request: the body ends inside the request',
      )
    this.#at = { resource: Infinity, scope: Infinity }
  }

  /** The records whose resource and scope are known now. */
  *ready(): Generator<OtelLogRecord, void, undefined> {
    const found = this.#found
    this.#found = []
    for (const item of found) {
      this.#moveTo(item)
      const key = `${item.resource}/${item.scope}`
      if (item.kind === 'resource') {
        this.#budget.begin()
        // null is the default value in proto3 JSON, as a missing field is.
        const resource = object(item.value ?? {}, 'resource')
        this.#resources.set(
          item.resource,
          jsonAttributes(resource.attributes, 0, this.#budget),
        )
      } else if (item.kind === 'scope')
        this.#scopes.set(
          key,
          item.value === null
            ? undefined
            : jsonScope(object(item.value, 'scope')),
        )
      else {
        const waiting = this.#waiting.get(key)
        if (waiting === undefined)
          this.#waiting.set(key, {
            resource: item.resource,
            scope: item.scope,
            values: [item.value],
          })
        else waiting.values.push(item.value)
      }
    }
    for (const [key, waiting] of this.#waiting) {
      const context = this.#context(waiting)
      if (context === undefined) continue
      this.#waiting.delete(key)
      for (const value of waiting.values)
        yield jsonLogRecord(
          object(value, 'logRecords[]'),
          context,
          this.#budget,
        )
    }
  }

  /** A value of a later ResourceLogs or ScopeLogs: the earlier ones have ended. */
  #moveTo(item: Found): void {
    if (item.resource > this.#at.resource)
      this.#at = { resource: item.resource, scope: item.scope }
    else if (item.resource === this.#at.resource && item.scope > this.#at.scope)
      this.#at.scope = item.scope
  }

  /** The records' context once their resource and scope are known or can no longer come. */
  #context(item: Waiting): RecordContext | undefined {
    const resourceEnded = item.resource < this.#at.resource
    const scopeEnded =
      resourceEnded ||
      (item.resource === this.#at.resource && item.scope < this.#at.scope)
    const attributes = this.#resources.get(item.resource)
    const scopeKey = `${item.resource}/${item.scope}`
    const hasScope = this.#scopes.has(scopeKey)
    if (
      (attributes === undefined && !resourceEnded) ||
      (!hasScope && !scopeEnded)
    )
      return undefined
    return {
      resource: { attributes: attributes ?? {} },
      scope: this.#scopes.get(scopeKey),
    }
  }

  #token(token: ParsedTokenInfo): void {
    if (
      token.token === TokenType.LEFT_BRACE ||
      token.token === TokenType.LEFT_BRACKET
    )
      this.#budget.container()
    this.#shape.token(token)
    this.#parser.write(token)
  }
}

/** What a container in the request must be, by where it is. */
interface Shape {
  /** The container this place must hold: 'object' or 'array' (null is allowed too). */
  kind: 'object' | 'array'
  name: string
  /** For an object: the shapes of its known keys. For an array: its items'. */
  keys?: Record<string, Shape>
  items?: Shape
}

const RECORD: Shape = { kind: 'object', name: 'logRecords[]' }
const SCOPE_LOGS: Shape = {
  kind: 'object',
  name: 'scopeLogs[]',
  keys: {
    scope: { kind: 'object', name: 'scope' },
    logRecords: { kind: 'array', name: 'logRecords', items: RECORD },
  },
}
const RESOURCE_LOGS: Shape = {
  kind: 'object',
  name: 'resourceLogs[]',
  keys: {
    resource: { kind: 'object', name: 'resource' },
    scopeLogs: { kind: 'array', name: 'scopeLogs', items: SCOPE_LOGS },
  },
}
const REQUEST: Shape = {
  kind: 'object',
  name: 'request',
  keys: {
    resourceLogs: {
      kind: 'array',
      name: 'resourceLogs',
      items: RESOURCE_LOGS,
    },
  },
}

/**
 * Checks, token by token, that the request's containers have the shape
 * OTLP gives them down to each record (inside a record, the mapping
 * checks). The parser checks the JSON grammar itself.
 */
class ShapeCheck {
  /** Open containers: their shape (undefined: not checked) and, in an object, the key just read. */
  readonly #open: { shape: Shape | undefined; key: string | undefined }[] = []
  /** In an object, the next string is a key. */
  #expectKey = false
  #started = false

  token({ token, value }: ParsedTokenInfo): void {
    if (this.#expectKey && token === TokenType.STRING) {
      this.#top()!.key = String(value)
      this.#expectKey = false
      return
    }
    if (token === TokenType.COLON) return
    if (token === TokenType.COMMA) {
      this.#expectKey = this.#top()?.shape?.kind === 'object'
      const top = this.#top()
      if (top !== undefined && top.shape?.kind === 'object') top.key = undefined
      return
    }
    if (token === TokenType.RIGHT_BRACE || token === TokenType.RIGHT_BRACKET) {
      this.#open.pop()
      this.#expectKey = false
      return
    }
    const place = this.#place()
    const kind =
      token === TokenType.LEFT_BRACE
        ? 'object'
        : token === TokenType.LEFT_BRACKET
          ? 'array'
          : undefined
    if (
      place !== undefined &&
      kind !== place.kind &&
      !(kind === undefined && token === TokenType.NULL && this.#open.length > 0)
    )
      throw new OtlpDecodeError(`${place.name} must be an ${place.kind}`)
    if (kind !== undefined) {
      this.#open.push({ shape: place, key: undefined })
      this.#expectKey = kind === 'object'
    }
  }

  #top(): { shape: Shape | undefined; key: string | undefined } | undefined {
    return this.#open.at(-1)
  }

  /** The shape the next value must have, if its place has one. */
  #place(): Shape | undefined {
    if (!this.#started) {
      this.#started = true
      return REQUEST
    }
    const top = this.#top()
    if (top?.shape === undefined) return undefined
    if (top.shape.kind === 'array') return top.shape.items
    const keys = top.shape.keys
    // Own keys only: a key named like an Object.prototype member is an unknown field.
    return top.key === undefined ||
      keys === undefined ||
      !Object.hasOwn(keys, top.key)
      ? undefined
      : keys[top.key]
  }
}

function jsonLogRecord(
  record: Record<string, unknown>,
  context: RecordContext,
  budget: DecodeBudget,
): OtelLogRecord {
  budget.begin()
  const result: { -readonly [K in keyof OtelLogRecord]: OtelLogRecord[K] } = {
    resource: context.resource,
    attributes: jsonAttributes(record.attributes, 0, budget),
  }
  if (context.scope !== undefined) result.instrumentationScope = context.scope
  if (record.timeUnixNano !== undefined && record.timeUnixNano !== null)
    result.hrTime = nanosToHrTime(
      jsonUint64(record.timeUnixNano, 'timeUnixNano'),
    )
  if (
    record.observedTimeUnixNano !== undefined &&
    record.observedTimeUnixNano !== null
  ) {
    result.hrTimeObserved = nanosToHrTime(
      jsonUint64(record.observedTimeUnixNano, 'observedTimeUnixNano'),
    )
  }
  if (typeof record.severityNumber === 'number')
    result.severityNumber = record.severityNumber
  if (typeof record.severityText === 'string')
    result.severityText = record.severityText
  if (typeof record.eventName === 'string') result.eventName = record.eventName
  if (record.body !== undefined && record.body !== null)
    result.body = jsonAnyValue(record.body, 0, budget)
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

function jsonScope(scope: Record<string, unknown>): RecordContext['scope'] {
  const name = typeof scope.name === 'string' ? scope.name : ''
  return typeof scope.version === 'string' && scope.version !== ''
    ? { name, version: scope.version }
    : { name }
}

function jsonAttributes(
  value: unknown,
  depth: number,
  budget: DecodeBudget,
): Attributes {
  const attributes: Attributes = {}
  for (const item of list(value, 'attributes')) {
    budget.value()
    const { key, value: inner } = object(item, 'attribute')
    if (typeof key !== 'string')
      throw new OtlpDecodeError('an attribute key must be a string')
    // A key sent twice keeps both values.
    setKey(
      attributes,
      freeName(attributes, key),
      inner === undefined || inner === null
        ? null
        : jsonAnyValue(inner, depth, budget),
    )
  }
  return attributes
}

function jsonAnyValue(
  value: unknown,
  depth: number,
  budget: DecodeBudget,
): unknown {
  if (depth > MAX_VALUE_DEPTH)
    throw new OtlpDecodeError(`values nested deeper than ${MAX_VALUE_DEPTH}`)
  const any = object(value, 'AnyValue')
  if ('stringValue' in any)
    return typed(any.stringValue, 'string', 'stringValue')
  if ('boolValue' in any) return any.boolValue === true
  if ('intValue' in any) return int64(jsonInt64(any.intValue))
  // proto3 JSON writes NaN and the infinities as strings.
  if ('doubleValue' in any)
    return typeof any.doubleValue === 'number'
      ? any.doubleValue
      : Number(typed(any.doubleValue, 'string', 'doubleValue'))
  if ('arrayValue' in any)
    return list(object(any.arrayValue, 'arrayValue').values, 'values').map(
      (item) => {
        budget.value()
        return jsonAnyValue(item, depth + 1, budget)
      },
    )
  if ('kvlistValue' in any)
    return jsonAttributes(
      object(any.kvlistValue, 'kvlistValue').values,
      depth + 1,
      budget,
    )
  if ('bytesValue' in any)
    return Buffer.from(typed(any.bytesValue, 'string', 'bytesValue'), 'base64')
  return null
}

function typed(value: unknown, type: 'string', name: string): string {
  if (typeof value !== type)
    throw new OtlpDecodeError(`${name} must be a ${type}`)
  return value as string
}

/** A fixed64 (times): 0 to 2^64 - 1, as protobuf's wire holds it; anything else refused. */
function jsonUint64(value: unknown, name: string): bigint {
  const parsed = jsonInteger(value)
  if (parsed < 0n || parsed > MAX_UINT64)
    throw new OtlpDecodeError(
      `${name} must be an unsigned 64-bit integer: ${JSON.stringify(value)}`,
    )
  return parsed
}

/** An int64 (intValue): -2^63 to 2^63 - 1; anything else refused, never wrapped. */
function jsonInt64(value: unknown): bigint {
  const parsed = jsonInteger(value)
  if (parsed < MIN_INT64 || parsed > MAX_INT64)
    throw new OtlpDecodeError(`not a 64-bit integer: ${JSON.stringify(value)}`)
  return parsed
}

/** An integer as OTLP/JSON writes a 64-bit one: a decimal string, or a safe number. */
function jsonInteger(value: unknown): bigint {
  if (typeof value === 'number' && Number.isSafeInteger(value))
    return BigInt(value)
  if (typeof value === 'string' && /^-?\d{1,20}$/.test(value))
    return BigInt(value)
  throw new OtlpDecodeError(`not a 64-bit integer: ${JSON.stringify(value)}`)
}

const MAX_UINT64 = 2n ** 64n - 1n
const MIN_INT64 = -(2n ** 63n)
const MAX_INT64 = 2n ** 63n - 1n

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

export { OtlpDecodeError, OtlpTooLargeError }
