/**
 * Property-based tests (fast-check) over every mapping and the encoder:
 * nothing throws out of a logging path, every stored line is strict JSON
 * with one of the five levels, and what goes in comes out.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_ENTRY_LIMITS,
  encodeEntry,
  toStoreLine,
} from '../../src/core/entry.js'
import { LEVELS } from '../../src/core/levels.js'
import { toJsonValue } from '../../src/core/serialize.js'
import { mapOtelLogRecord } from '../../src/otel/map.js'
import { PinoLineEncoder } from '../../src/pino/encode-line.js'
import { mapWinstonInfo } from '../../src/winston/map.js'
import { recordingRouter } from '../helpers.js'

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300)

/** A stored line as a strict JSON reader sees it: parses, has the shape, one of the five levels. */
function assertStoredLine(entry: string): void {
  const line = toStoreLine(entry, 7)
  expect(line.endsWith('\n')).toBe(true)
  expect(line.slice(0, -1)).not.toContain('\n')
  const parsed = JSON.parse(line) as Record<string, unknown>
  expect(Object.keys(parsed).slice(0, 4)).toEqual([
    'sequenceNumber',
    'timestamp',
    'level',
    'message',
  ])
  expect(LEVELS).toContain(parsed.level)
  expect(typeof parsed.message).toBe('string')
  expect(Number.isNaN(Date.parse(String(parsed.timestamp)))).toBe(false)
  if ('metadata' in parsed) expect(typeof parsed.metadata).toBe('object')
  // JSON.parse above is the strictness check: it refuses bare NaN, Infinity and undefined.
}

/** Any JavaScript value, including the awkward ones. */
const anyValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.anything({
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withSparseArray: true,
      withNullPrototype: true,
      withObjectString: true,
      withBoxedValues: true,
    }),
    fc.constantFrom(
      NaN,
      Infinity,
      -Infinity,
      -0,
      undefined,
      null,
      Symbol('s'),
      () => 1,
      new Error('e', { cause: new TypeError('c') }),
    ),
    fc.string({ unit: 'binary' }),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string(), tie('value'), { maxKeys: 4 }),
  ),
})).value

describe('properties', () => {
  it('serializes any value to JSON that parses, never throwing', () => {
    fc.assert(
      fc.property(anyValue, (value) => {
        const converted = toJsonValue(value)
        if (converted !== undefined)
          expect(JSON.parse(JSON.stringify(converted))).toEqual(converted)
      }),
      { numRuns: RUNS },
    )
  })

  it('encodes any message, metadata and time into a valid store line', () => {
    fc.assert(
      fc.property(
        anyValue,
        anyValue,
        fc.oneof(
          fc.date({ noInvalidDate: false }),
          fc.double(),
          fc.string(),
          fc.constant(undefined),
        ),
        fc.constantFrom(...LEVELS),
        (message, metadata, time, level) => {
          assertStoredLine(
            encodeEntry({
              level,
              message,
              metadata,
              time: time,
            }),
          )
        },
      ),
      { numRuns: RUNS },
    )
  })

  it('maps any pino line, JSON or not, into a valid store line', () => {
    const pinoObject = fc.record(
      {
        level: fc.oneof(
          fc.integer({ min: -10, max: 200 }),
          fc.constantFrom('info', 'warn', 'nope'),
          fc.anything(),
        ),
        time: fc.oneof(fc.integer(), fc.double(), fc.string(), fc.anything()),
        msg: fc.oneof(fc.string({ unit: 'binary' }), fc.anything()),
        'ml_dash.prefix': fc.oneof(fc.string(), fc.anything()),
        extra: fc.jsonValue(),
      },
      { requiredKeys: [] },
    )
    const line = fc.oneof(
      pinoObject.map((o) => JSON.stringify(o) ?? 'null'),
      fc.string({ unit: 'binary' }),
    )
    fc.assert(
      fc.property(line, (text) => {
        const { router, queued } = recordingRouter()
        new PinoLineEncoder(router, { limits: DEFAULT_ENTRY_LIMITS }).enqueue(
          text,
        )
        // An empty line holds nothing; any other line is kept.
        expect(queued).toHaveLength(text === '' ? 0 : 1)
        for (const { text: entry } of queued) assertStoredLine(entry)
      }),
      { numRuns: RUNS },
    )
  })

  it('maps any winston info into a valid store line', () => {
    const info = fc
      .dictionary(fc.string(), anyValue, { maxKeys: 6 })
      .chain((fields) =>
        fc
          .record(
            {
              level: fc.oneof(
                fc.string(),
                fc.constantFrom(
                  'info',
                  'silly',
                  'emerg',
                  '\u001b[31merror\u001b[39m',
                ),
              ),
              message: anyValue,
              timestamp: anyValue,
            },
            { requiredKeys: ['level'] },
          )
          .map((base) => {
            const value: Record<string | symbol, unknown> = {
              ...fields,
              ...base,
            }
            value[Symbol.for('level')] = base.level
            return value
          }),
      )
    fc.assert(
      fc.property(
        info,
        fc.dictionary(fc.string(), fc.nat(10)),
        (value, levels) => {
          const { input } = mapWinstonInfo(value, levels)
          assertStoredLine(encodeEntry(input))
        },
      ),
      { numRuns: RUNS },
    )
  })

  it('maps any OpenTelemetry record into a valid store line', () => {
    const hrTime = fc.tuple(fc.nat(4_000_000_000), fc.nat(999_999_999))
    const record = fc.record(
      {
        hrTime,
        hrTimeObserved: hrTime,
        severityNumber: fc.oneof(fc.integer({ min: -5, max: 30 }), fc.double()),
        severityText: fc.string(),
        body: anyValue,
        eventName: fc.string(),
        attributes: fc.dictionary(fc.string(), anyValue, { maxKeys: 5 }),
        spanContext: fc.record({
          traceId: fc.string(),
          spanId: fc.string(),
          traceFlags: fc.nat(255),
        }),
        resource: fc.record({
          attributes: fc.dictionary(fc.string(), anyValue, { maxKeys: 3 }),
        }),
        instrumentationScope: fc.record(
          { name: fc.string(), version: fc.string() },
          { requiredKeys: ['name'] },
        ),
      },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(record, (value) => {
        const { input } = mapOtelLogRecord(value)
        assertStoredLine(encodeEntry(input))
      }),
      { numRuns: RUNS },
    )
  })
})
