/**
 * Properties of the OTLP decoders under random and corrupted bodies, and of
 * the delivery sink under random store failures.
 */
import {
  JsonLogsSerializer,
  ProtobufLogsSerializer,
} from '@opentelemetry/otlp-transformer'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import type { StoreResult } from '../../src/core/result.js'
import { createSink } from '../../src/delivery/sink.js'
import { captureRecords } from '../otel-records.js'
import { decodeOtlpJson } from '../../src/receiver/decode-otlp-json.js'
import {
  OtlpDecodeError,
  decodeOtlpProtobuf,
} from '../../src/receiver/decode-otlp.js'

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300)
let protobufBody: Uint8Array
let jsonBody: string

beforeAll(async () => {
  const records = await captureRecords((provider) => {
    const logger = provider.getLogger('fuzz', '1')
    for (let i = 0; i < 5; i++) {
      logger.emit({
        severityNumber: 9 + i,
        body: { i, text: `r${i}` },
        attributes: { n: i, list: [1, 'a'], nested: { k: true } },
      })
    }
  })
  protobufBody = ProtobufLogsSerializer.serializeRequest(records)!
  jsonBody = new TextDecoder().decode(
    JsonLogsSerializer.serializeRequest(records),
  )
})

/** Runs a decoder: it may return records or throw OtlpDecodeError, nothing else. */
function decodesOrRefuses(decode: () => unknown): void {
  try {
    const records = decode()
    expect(Array.isArray(records)).toBe(true)
  } catch (error) {
    expect(error).toBeInstanceOf(OtlpDecodeError)
  }
}

describe('OTLP decoders under hostile bodies', () => {
  it('refuse random bytes cleanly', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) =>
        decodesOrRefuses(() => decodeOtlpProtobuf(bytes)),
      ),
      { numRuns: RUNS },
    )
  })

  it('refuse corrupted and truncated protobuf requests cleanly', () => {
    const corruption = fc.record({
      cut: fc.nat(),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
        maxLength: 8,
      }),
    })
    fc.assert(
      fc.property(corruption, ({ cut, flips }) => {
        const bytes = Uint8Array.from(
          protobufBody.subarray(
            0,
            protobufBody.length - (cut % protobufBody.length),
          ),
        )
        for (const [at, value] of flips)
          if (bytes.length > 0) bytes[at % bytes.length] = value
        decodesOrRefuses(() => decodeOtlpProtobuf(bytes))
      }),
      { numRuns: RUNS },
    )
  })

  it('refuse random JSON and corrupted JSON requests cleanly', () => {
    fc.assert(
      fc.property(fc.json(), (text) =>
        decodesOrRefuses(() => decodeOtlpJson(text)),
      ),
      { numRuns: RUNS },
    )
    fc.assert(
      fc.property(fc.nat(), fc.string({ maxLength: 3 }), (at, insert) => {
        const position = at % jsonBody.length
        decodesOrRefuses(() =>
          decodeOtlpJson(
            jsonBody.slice(0, position) + insert + jsonBody.slice(position + 1),
          ),
        )
      }),
      { numRuns: RUNS },
    )
  })
})

describe('OTLP protobuf times', () => {
  /** A request of one record holding only its two times, as fixed64s. */
  function timedRequest(time: bigint, observed: bigint): Uint8Array {
    const record = Buffer.alloc(18)
    record[0] = 0x09 // time_unix_nano = 1, fixed64
    record.writeBigUInt64LE(time, 1)
    record[9] = 0x59 // observed_time_unix_nano = 11, fixed64
    record.writeBigUInt64LE(observed, 10)
    const scopeLogs = Buffer.concat([Buffer.from([0x12, 18]), record])
    const resourceLogs = Buffer.concat([Buffer.from([0x12, 20]), scopeLogs])
    return Buffer.concat([Buffer.from([0x0a, 22]), resourceLogs])
  }
  const split = (nanos: bigint) => [
    Number(nanos / 1_000_000_000n),
    Number(nanos % 1_000_000_000n),
  ]

  it('reads every 64-bit nanosecond time as exact seconds and nanoseconds', () => {
    const nanos = fc.oneof(
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      // Around today's times and the edges of the halves the reader splits.
      fc.bigInt({
        min: 1_700_000_000n * 10n ** 9n,
        max: 1_800_000_000n * 10n ** 9n,
      }),
      fc.constantFrom(
        0n,
        2n ** 32n - 1n,
        2n ** 32n,
        2n ** 48n - 1n,
        2n ** 48n,
        2n ** 64n - 1n,
        10n ** 9n - 1n,
        10n ** 9n,
      ),
    )
    fc.assert(
      fc.property(nanos, nanos, (time, observed) => {
        const [record] = decodeOtlpProtobuf(timedRequest(time, observed))
        expect([record!.hrTime, record!.hrTimeObserved]).toEqual([
          split(time),
          split(observed),
        ])
      }),
      { numRuns: RUNS * 10 },
    )
  })
})

describe('OTLP protobuf keys', () => {
  it('decodes every attribute key as it was sent, however keys repeat and collide', async () => {
    // Short keys that repeat (the decoder keeps those it saw), long ones, any characters.
    const key = fc.oneof(
      fc.constantFrom('a', 'b', 'route', 'status', 'ms', 'é', '键'),
      fc.string({ unit: 'binary', maxLength: 8 }),
      fc.string({ unit: 'binary', minLength: 60, maxLength: 70 }),
      // Around the longest key kept (64 bytes).
      fc.string({
        unit: fc.constantFrom('x', 'y'),
        minLength: 62,
        maxLength: 66,
      }),
    )
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uniqueArray(key, { minLength: 1, maxLength: 30 }), {
          minLength: 1,
          maxLength: 8,
        }),
        async (keySets) => {
          const records = await captureRecords((provider) => {
            const logger = provider.getLogger('keys')
            for (const keys of keySets)
              logger.emit({
                body: 'k',
                attributes: Object.fromEntries(keys.map((k, i) => [k, i])),
              })
          })
          const body = ProtobufLogsSerializer.serializeRequest(records)!
          const decoded = decodeOtlpProtobuf(body).map((record) =>
            Object.keys(record.attributes ?? {}).sort(),
          )
          expect(decoded).toEqual(
            records.map((record) => Object.keys(record.attributes).sort()),
          )
        },
      ),
      { numRuns: RUNS },
    )
  })
})

describe('delivery under random store failures', () => {
  it('delivers every accepted entry exactly once, in order, when failures are retryable', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ maxLength: 5 }), { minLength: 1, maxLength: 60 }),
        fc.array(fc.boolean(), { maxLength: 40 }),
        fc.integer({ min: 1, max: 7 }),
        async (entries, failures, batchSize) => {
          const stored: string[] = []
          const script = [...failures]
          const sink = createSink({
            name: 'property',
            store: {
              write: (batch): Promise<StoreResult> => {
                if (script.shift() === true)
                  return Promise.resolve({
                    status: 'retryable',
                    error: new Error('flaky'),
                  })
                stored.push(...batch)
                return Promise.resolve({ status: 'success' })
              },
              close: () => {},
            },
            maxBatchSize: batchSize,
            flushIntervalMs: 0,
            maxQueueSize: 1000,
            maxQueueBytes: 1 << 20,
            maxRetries: 1000,
            retryBaseDelayMs: 0,
            retryMaxDelayMs: 0,
          })
          for (const entry of entries) sink.enqueue(entry)
          const report = await sink.close(5000)
          expect(stored).toEqual(entries)
          expect(report).toMatchObject({
            accepted: entries.length,
            delivered: entries.length,
            failed: 0,
            dropped: 0,
            pending: 0,
          })
        },
      ),
      { numRuns: Math.min(RUNS, 200) },
    )
  })
})
