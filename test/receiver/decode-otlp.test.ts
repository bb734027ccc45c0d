import { context, trace, TraceFlags } from '@opentelemetry/api'
import type { AnyValueMap } from '@opentelemetry/api-logs'
import { SeverityNumber } from '@opentelemetry/api-logs'
import {
  JsonLogsSerializer,
  ProtobufLogsSerializer,
} from '@opentelemetry/otlp-transformer'
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs'
import { describe, expect, it } from 'vitest'
import { encodeEntry } from '../../src/core/entry.js'
import { mapOtelLogRecord } from '../../src/otel/map.js'
import {
  decodeOtlpJson,
  jsonRecords,
} from '../../src/receiver/decode-otlp-json.js'
import {
  DecodeBudget,
  OtlpDecodeError,
  OtlpTooLargeError,
  decodeOtlpProtobuf,
  protobufRecords,
} from '../../src/receiver/decode-otlp.js'

/** A protobuf varint. */
function varint(value: number): number[] {
  const bytes: number[] = []
  while (value > 0x7f) {
    bytes.push((value & 0x7f) | 0x80)
    value = Math.floor(value / 128)
  }
  bytes.push(value)
  return bytes
}
import { captureRecords } from '../otel-records.js'

/** Real SDK records, as an exporter receives them. */
function sdkRecords(): Promise<ReadableLogRecord[]> {
  return captureRecords(
    (provider) => {
      const logger = provider.getLogger('scope-a', '1.0.0')
      const spanContext = {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceFlags: TraceFlags.SAMPLED,
      }
      logger.emit({
        severityNumber: SeverityNumber.WARN,
        severityText: 'WARN',
        body: 'plain',
        timestamp: [1_700_000_000, 123_456_789],
        attributes: {
          n: 42,
          big: 2 ** 40,
          // Around the reader's boundaries: 7-byte varints, then BigInt.
          zero: 0,
          below: 2 ** 49 - 1,
          at: 2 ** 49,
          safe: Number.MAX_SAFE_INTEGER,
          negative: -1,
          lowest: Number.MIN_SAFE_INTEGER,
          f: 1.5,
          ok: true,
          list: ['a', 1],
          nested: { k: 'v' },
          'exception.type': 'E',
        },
        context: trace.setSpanContext(context.active(), spanContext),
      })
      logger.emit({
        severityNumber: SeverityNumber.FATAL,
        body: { structured: [1, { deep: true }] },
        eventName: 'crash',
      })
      provider.getLogger('scope-b').emit({
        body: 'other scope',
        attributes: { 'ml_dash.prefix': 'alice/otlp/other' },
      })
    },
    { 'service.name': 'evaluator', 'ml_dash.prefix': 'alice/otlp/run' },
  )
}

/** What ends up stored, for comparison (time of records without one aside). */
const stored = (records: Parameters<typeof mapOtelLogRecord>[0][]) =>
  records.map((record) => {
    const { input, prefix } = mapOtelLogRecord(record)
    return { entry: JSON.parse(encodeEntry(input)) as unknown, prefix }
  })

/** Both wire formats, written by the official serializers, then decoded. */
const formats = [
  [
    'protobuf',
    (records: ReadableLogRecord[]) =>
      decodeOtlpProtobuf(ProtobufLogsSerializer.serializeRequest(records)!),
  ],
  [
    'JSON',
    (records: ReadableLogRecord[]) =>
      decodeOtlpJson(
        new TextDecoder().decode(JsonLogsSerializer.serializeRequest(records)),
      ),
  ],
] as const

describe('OTLP decoding', () => {
  it.each(formats)(
    'decodes what the official %s serializer writes into the same entries as the SDK records',
    async (_name, decode) => {
      const records = await sdkRecords()
      const decoded = decode(records)
      expect(decoded).toHaveLength(3)
      expect(stored(decoded)).toEqual(stored(records))
      expect(stored(decoded)[0]?.entry).toMatchObject({
        timestamp: '2023-11-14T22:13:20.123456Z',
        level: 'warn',
      })
    },
  )

  it('keeps a protobuf string as it was sent, a leading U+FEFF too', async () => {
    const records = await captureRecords((provider) =>
      provider
        .getLogger('bom')
        .emit({ body: '\ufeffbody', attributes: { text: '\ufeffkept' } }),
    )
    const [decoded] = decodeOtlpProtobuf(
      ProtobufLogsSerializer.serializeRequest(records)!,
    )
    expect(decoded?.body).toBe('\ufeffbody')
    expect(decoded?.attributes).toEqual({ text: '\ufeffkept' })
  })

  it('keeps an OTLP/JSON string as it was sent: U+FEFF leading, escaped, in a key, across a slice', async () => {
    const records = await captureRecords((provider) =>
      provider.getLogger('bom').emit({
        body: '\ufeffbody',
        attributes: { text: '\ufeffkept', '\ufeffkey': 'a\n\ufeffb' },
      }),
    )
    const serialized = new TextDecoder().decode(
      JsonLogsSerializer.serializeRequest(records),
    )
    // As the official serializer writes it (raw), and escaped.
    for (const text of [
      serialized,
      serialized.replaceAll('\ufeff', '\\ufeff'),
    ]) {
      const [decoded] = decodeOtlpJson(text)
      expect(decoded?.body).toBe('\ufeffbody')
      expect(decoded?.attributes).toEqual({
        text: '\ufeffkept',
        '\ufeffkey': 'a\n\ufeffb',
      })
    }
    // The character's first byte at every offset around the first 16 KiB
    // boundary, after an ASCII run and after a character that is not.
    const head =
      '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"'
    for (const before of ['', '\u00e9'])
      for (let at = 16_384 - 6; at <= 16_384 + 2; at++) {
        const pad = at - head.length - Buffer.byteLength(before)
        const body = `${'a'.repeat(pad)}${before}\ufeff\ufeffz`
        expect(Buffer.byteLength(head + body.slice(0, -3))).toBe(at)
        const text = `${head}${body}"}}]}]}]}`
        expect(decodeOtlpJson(text)[0]?.body).toBe(body)
      }
  })

  it('decodes OTLP/JSON whatever the order of its keys, and across slices that split a character', async () => {
    const records = await sdkRecords()
    const request = JSON.parse(
      new TextDecoder().decode(JsonLogsSerializer.serializeRequest(records)),
    ) as {
      resourceLogs: {
        resource?: unknown
        scopeLogs: { scope?: unknown; logRecords: unknown[] }[]
      }[]
    }
    // Resource after its scopes, scope after its records: JSON objects have no order.
    const reordered = {
      resourceLogs: request.resourceLogs.map(({ resource, scopeLogs }) => ({
        scopeLogs: scopeLogs.map(({ scope, logRecords }) => ({
          logRecords,
          scope,
        })),
        resource,
      })),
    }
    expect(stored(decodeOtlpJson(JSON.stringify(reordered)))).toEqual(
      stored(records),
    )
    // 16 KiB slices: a three-byte character at every offset around the first boundary.
    for (let pad = 16_370; pad < 16_390; pad++) {
      const text = `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"${'a'.repeat(pad)}€€€"}}]}]}]}`
      expect(decodeOtlpJson(text)[0]?.body).toBe(`${'a'.repeat(pad)}€€€`)
    }
  })

  it('refuses past the records and values one request may hold, counting before it builds', () => {
    const records = (n: number) =>
      `{"resourceLogs":[{"scopeLogs":[{"logRecords":[${Array(n).fill('{}').join(',')}]}]}]}`
    expect(decodeOtlpJson(records(3), new DecodeBudget(3))).toHaveLength(3)
    expect(() => decodeOtlpJson(records(4), new DecodeBudget(3))).toThrow(
      new OtlpTooLargeError(
        'the request holds more than 3 log records (maxRecordsPerRequest)',
      ),
    )
    const attributes = (n: number) =>
      `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[${Array.from(
        { length: n },
        (_, i) => `{"key":"k${i}","value":{"intValue":1}}`,
      ).join(',')}]}]}]}]}`
    expect(() => decodeOtlpJson(attributes(10_000))).not.toThrow()
    expect(() => decodeOtlpJson(attributes(10_001))).toThrow(
      'holds more than 10000 values',
    )
  })

  it('takes as OTLP/JSON the same request it takes as protobuf, near the values bound of a request', async () => {
    // 5400 records of 128 attributes (the SDK's default limit): 691 200
    // values, which JSON writes with two objects each beside the value.
    const attributes = Object.fromEntries(
      Array.from({ length: 128 }, (_, i) => [`k${i}`, i]),
    )
    const records = await captureRecords((provider) => {
      const logger = provider.getLogger('bulk')
      for (let i = 0; i < 5400; i++) logger.emit({ body: `r${i}`, attributes })
    })
    for (const [name, decode] of formats)
      expect(decode(records), name).toHaveLength(5400)
  })

  it('hands back a step after every slice read, also while no record is ready', () => {
    // No scope key: every record waits for its ScopeLogs to end.
    const count = 20_000
    const body = Buffer.from(
      `{"resourceLogs":[{"scopeLogs":[{"logRecords":[${Array(count).fill('{"severityNumber":9}').join(',')}]}]}]}`,
    )
    const steps = [...jsonRecords(body)]
    const firstRecord = steps.findIndex((step) => step !== null)
    expect(firstRecord).toBeGreaterThanOrEqual(Math.floor(body.length / 16_384))
    expect(steps.filter((step) => step !== null)).toHaveLength(count)
    // Protobuf: a long run of empty ScopeLogs.
    const empty = Buffer.alloc(100_000 * 2)
    for (let i = 0; i < 100_000; i++) empty[i * 2] = 0x12
    const length = empty.length
    const resourceLogs = Buffer.concat([
      Buffer.from([0x0a, ...varint(length)]),
      empty,
    ])
    const ticks = [...protobufRecords(resourceLogs)]
    expect(ticks.length).toBeGreaterThanOrEqual(Math.floor(100_000 / 4096))
    expect(ticks.every((step) => step === null)).toBe(true)
  })

  it('reads null as the default value, as proto3 JSON says, and refuses a value of the wrong type with a decode error', () => {
    const [record] = decodeOtlpJson(
      '{"resourceLogs":[{"resource":null,"scopeLogs":[{"scope":null,"logRecords":[{"timeUnixNano":null,"body":null,"attributes":[{"key":"a","value":null}]}]}]}]}',
    )
    expect(record).toMatchObject({
      resource: { attributes: {} },
      attributes: { a: null },
    })
    for (const value of [
      '{"stringValue":{"toString":1}}',
      '{"doubleValue":{"valueOf":1}}',
      '{"bytesValue":[1]}',
    ])
      expect(() =>
        decodeOtlpJson(
          `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":${value}}]}]}]}`,
        ),
      ).toThrow(OtlpDecodeError)
  })

  it('ignores unknown fields, even one named like an Object.prototype member', () => {
    expect(
      decodeOtlpJson(
        '{"__proto__":{"x":1},"constructor":[1],"resourceLogs":[{"toString":"x","scopeLogs":[{"logRecords":[{"body":{"stringValue":"kept"}}]}]}]}',
      ).map((record) => record.body),
    ).toEqual(['kept'])
  })

  it('refuses malformed bodies with a decode error', () => {
    expect(() =>
      decodeOtlpProtobuf(Uint8Array.from([0x0a, 0x05, 0x01])),
    ).toThrow(OtlpDecodeError)
    expect(() => decodeOtlpProtobuf(Uint8Array.from([0x0b]))).toThrow(
      /unsupported wire type 3/,
    )
    expect(() => decodeOtlpJson('{')).toThrow(OtlpDecodeError)
    expect(() => decodeOtlpJson('{"resourceLogs": 5}')).toThrow(
      'resourceLogs must be an array',
    )
    expect(() =>
      decodeOtlpJson(
        '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"soon"}]}]}]}',
      ),
    ).toThrow('not a 64-bit integer')
  })

  it('reads OTLP/JSON 64-bit integers over their whole range, and refuses any beyond it instead of wrapping it', () => {
    const record = (fields: string) =>
      decodeOtlpJson(
        `{"resourceLogs":[{"scopeLogs":[{"logRecords":[${fields}]}]}]}`,
      )[0]
    const intValue = (text: string) =>
      record(`{"attributes":[{"key":"n","value":{"intValue":"${text}"}}]}`)
        ?.attributes?.n
    // timeUnixNano is a fixed64, as on protobuf's wire.
    expect(record('{"timeUnixNano":"18446744073709551615"}')?.hrTime).toEqual([
      18_446_744_073, 709_551_615,
    ])
    expect(() => record('{"timeUnixNano":"18446744073709551616"}')).toThrow(
      'timeUnixNano must be an unsigned 64-bit integer: "18446744073709551616"',
    )
    expect(() => record('{"observedTimeUnixNano":"-1"}')).toThrow(
      'observedTimeUnixNano must be an unsigned 64-bit integer',
    )
    expect([
      intValue('9223372036854775807'),
      intValue('-9223372036854775808'),
    ]).toEqual(['9223372036854775807', '-9223372036854775808'])
    for (const text of ['9223372036854775808', '99999999999999999999'])
      expect(() => intValue(text)).toThrow(`not a 64-bit integer: "${text}"`)
  })

  it('keeps both values of a key sent twice, or of two keys that decode alike, numbered', () => {
    const field = (number: number, bytes: Uint8Array | string) => {
      const body = Buffer.from(bytes)
      return Buffer.concat([
        Buffer.from([(number << 3) | 2, body.length]),
        body,
      ])
    }
    const attribute = (key: Uint8Array | string, value: string) =>
      field(6, Buffer.concat([field(1, key), field(2, field(1, value))]))
    const record = Buffer.concat([
      attribute('a', 'first'),
      attribute('a', 'second'),
      // Bad UTF-8, each one byte: both become U+FFFD.
      attribute(Uint8Array.from([0xc3]), 'c3'),
      attribute(Uint8Array.from([0xe9]), 'e9'),
    ])
    const protobuf = field(1, field(2, field(2, record)))
    expect(decodeOtlpProtobuf(protobuf)[0]?.attributes).toEqual({
      a: 'first',
      'a (2)': 'second',
      '\ufffd': 'c3',
      '\ufffd (2)': 'e9',
    })
    const json = `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"attributes":[${['first', 'second', 'third'].map((value) => `{"key":"a","value":{"stringValue":"${value}"}}`).join(',')}]}]}]}]}`
    expect(decodeOtlpJson(json)[0]?.attributes).toEqual({
      a: 'first',
      'a (2)': 'second',
      'a (3)': 'third',
    })
  })

  it('bounds the nesting of values', () => {
    let value = '{"stringValue":"x"}'
    for (let i = 0; i < 40; i++) value = `{"arrayValue":{"values":[${value}]}}`
    const request = `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":${value}}]}]}]}`
    expect(() => decodeOtlpJson(request)).toThrow('nested deeper than 32')
  })

  it('accepts an empty request', () => {
    expect(decodeOtlpProtobuf(new Uint8Array())).toEqual([])
    expect(decodeOtlpJson('{}')).toEqual([])
  })
})

describe('OTLP keys from the wire', () => {
  // JSON.parse keeps "__proto__" as an own key, as a sender's map has it.
  const withProtoKey = (): AnyValueMap =>
    JSON.parse(
      '{"__proto__": {"ml_dash.prefix": "x/y/z"}, "a": 1}',
    ) as AnyValueMap

  it.each(formats)(
    'keeps a __proto__ attribute or kvlist key as data, and routes nothing through it (%s)',
    async (_name, decode) => {
      const [record] = await captureRecords((provider) =>
        provider.getLogger('scope').emit({ body: withProtoKey() }),
      )
      // The SDK's own setAttribute would assign __proto__; the wire can carry it.
      Object.assign(record!, { attributes: withProtoKey() })
      const [decoded] = decode([record!])
      for (const value of [decoded?.attributes, decoded?.body]) {
        expect(Object.getPrototypeOf(value)).toBe(Object.prototype)
        expect(Object.keys(value as object)).toEqual(['__proto__', 'a'])
      }
      const [{ entry, prefix }] = stored([decoded!]) as [
        { entry: { metadata: unknown }; prefix: unknown },
      ]
      expect(prefix).toBeUndefined()
      expect(JSON.stringify(entry.metadata)).toContain(
        '{"__proto__":{"ml_dash.prefix":"x/y/z"},"a":1,"body":{"__proto__":{"ml_dash.prefix":"x/y/z"},"a":1}',
      )
    },
  )
})
