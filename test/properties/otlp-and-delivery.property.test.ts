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
