/**
 * The fast paths of the OpenTelemetry and winston adapters
 * (src/otel/flat-entry.ts, src/winston/flat-entry.ts) against their
 * mappings and the encoder: whenever one makes an entry, it is the
 * mapping's entry, character for character, under any limits; and it does
 * make one for the ordinary flat record.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { EntryLimits } from '../../src/core/entry.js'
import { DEFAULT_ENTRY_LIMITS, encodeEntry } from '../../src/core/entry.js'
import { flatEntry } from '../../src/otel/flat-entry.js'
import type { OtelLogRecord } from '../../src/otel/map.js'
import { mapOtelLogRecord } from '../../src/otel/map.js'
import { flatWinstonEntry } from '../../src/winston/flat-entry.js'
import { mapWinstonInfo } from '../../src/winston/map.js'

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300) * 3

/** Strings that test the escaping, the limits and the markers. */
const awkwardString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom(
    '',
    'a"b',
    'back\\slash',
    'line\nbreak',
    '\u0000\u001f',
    '\ud83d\ude00',
    'lone \ud800',
    '\udc00 low',
    '…',
    'x'.repeat(40),
    '…'.repeat(150),
    'é'.repeat(150),
    '…'.repeat(400),
  ),
)

/** Mostly ordinary, sometimes awkward: so that most records reach the comparison. */
const text = fc.oneof(
  { weight: 5, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: awkwardString },
)

/** The keys the OpenTelemetry mapping writes into the metadata itself. */
const MAPPING_KEYS = [
  'source_level',
  'trace_id',
  'span_id',
  'trace_flags',
  'event_name',
  'otel.resource',
  'otel.scope',
]

/** Keys, including every one the mapping writes or moves. */
const key = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.constantFrom(
      'i',
      'route',
      'status',
      'ms',
      '0',
      '12',
      '4294967295',
      '4294967294',
      '-1',
      '01',
      '1e3',
    ),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      ...MAPPING_KEYS,
      '__proto__',
      'exception.type',
      'exception',
      'body',
      'ml_dash.prefix',
      'ml_dash.prefix_refused',
      'constructor',
    ),
  },
  { weight: 1, arbitrary: awkwardString },
)

const value = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 2, arbitrary: fc.oneof(fc.double(), fc.integer()) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      -0,
      0,
      NaN,
      Infinity,
      true,
      false,
      null,
      undefined,
      { nested: 1 },
      [1, 2],
      'a/b/c',
    ),
  },
)

const hrTime = fc.tuple(
  fc.integer({ min: 1, max: 4_000_000_000 }),
  fc.nat(999_999_999),
)

const sometimes = <T>(arbitrary: fc.Arbitrary<T>) =>
  fc.option(arbitrary, { nil: undefined, freq: 2 })

// Wrong types on purpose (an eventName of 7): the record as a hostile caller may build it.
const record = fc.record({
  hrTime: fc.oneof(hrTime, fc.constant([0, 0] as const)),
  hrTimeObserved: hrTime,
  severityNumber: sometimes(
    fc.oneof(fc.integer({ min: -5, max: 30 }), fc.double()),
  ),
  severityText: sometimes(fc.oneof(text, fc.constantFrom('WARN', 'error'))),
  body: fc.oneof(
    { weight: 6, arbitrary: text },
    { weight: 1, arbitrary: fc.constantFrom(undefined, { structured: true }) },
  ),
  eventName: sometimes(fc.oneof(text, fc.constant(7))),
  attributes: fc.oneof(
    { weight: 8, arbitrary: fc.dictionary(key, value, { maxKeys: 6 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        undefined,
        null,
        Object.create({ inherited: 'x', 'ml_dash.prefix': 'a/b/inherited' }),
        Object.defineProperty({ a: 1 }, 'ml_dash.prefix', {
          value: 'a/b/hidden',
          enumerable: false,
        }),
        Object.assign(Object.create(null), { b: 2, 'ml_dash.prefix': null }),
        ['x', 'y'],
      ),
    },
  ),
  spanContext: sometimes(
    fc.record({
      traceId: text,
      spanId: text,
      traceFlags: fc.oneof(fc.nat(255), fc.double()),
    }),
  ),
  resource: sometimes(
    fc.record({ attributes: fc.dictionary(key, value, { maxKeys: 3 }) }),
  ),
  instrumentationScope: sometimes(
    fc.record({ name: text, version: text }, { requiredKeys: ['name'] }),
  ),
}) as unknown as fc.Arbitrary<OtelLogRecord>

const limits: fc.Arbitrary<EntryLimits> = fc.oneof(
  fc.constant(DEFAULT_ENTRY_LIMITS),
  fc.record({
    maxStringLength: fc.integer({ min: 1, max: 300 }),
    maxItems: fc.integer({ min: 1, max: 12 }),
    maxDepth: fc.integer({ min: 0, max: 3 }),
    maxNodes: fc.integer({ min: 1, max: 30 }),
    maxMessageLength: fc.integer({ min: 1, max: 300 }),
    maxMetadataBytes: fc.integer({ min: 10, max: 3000 }),
  }),
)

const levelMap = fc.option(
  fc.dictionary(
    fc.constantFrom('WARN', '9', '13', 'x'),
    fc.constantFrom('debug', 'fatal', 'nope'),
  ),
  { nil: undefined },
)

describe('the OpenTelemetry fast path', () => {
  it('makes exactly the entry the mapping and the encoder make, or none', () => {
    let made = 0
    fc.assert(
      fc.property(record, limits, levelMap, (one, within, map) => {
        const flat = flatEntry(one, within, map as never)
        if (flat === undefined) return
        made++
        const mapped = mapOtelLogRecord(one, map as never)
        expect(flat.entry).toBe(encodeEntry(mapped.input, within))
        expect(flat.prefix).toBe(mapped.prefix)
      }),
      { numRuns: RUNS },
    )
    // The comparison ran on a good share of the records, not on none.
    expect(made).toBeGreaterThan(RUNS / 5)
  })

  it('makes the entry of an ordinary flat record', () => {
    const plainKey = fc.stringMatching(/^[a-z][a-z0-9_.]{0,15}$/)
    const plain = fc.record({
      hrTime,
      severityNumber: fc.integer({ min: 1, max: 24 }),
      body: fc.string({ maxLength: 200 }),
      attributes: fc.dictionary(
        plainKey.filter((k) => !k.startsWith('exception.')),
        fc.oneof(
          fc.string(),
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.boolean(),
        ),
        { maxKeys: 8 },
      ),
      resource: fc.constant({ attributes: { 'service.name': 'svc' } }),
      instrumentationScope: fc.constant({ name: 'scope', version: '1' }),
    })
    const reserved = new Set([...MAPPING_KEYS, 'ml_dash.prefix'])
    fc.assert(
      fc.property(plain, (one) => {
        fc.pre(Object.keys(one.attributes).every((k) => !reserved.has(k)))
        const flat = flatEntry(one, DEFAULT_ENTRY_LIMITS)
        expect(flat).toBeDefined()
        expect(flat!.entry).toBe(encodeEntry(mapOtelLogRecord(one).input))
      }),
      { numRuns: RUNS },
    )
  })
})

/** winston's level-as-logged symbol. */
const LEVEL = Symbol.for('level')

describe('the winston fast path', () => {
  const info = fc
    .record({
      level: fc.constantFrom(
        'info',
        'warn',
        'silly',
        'custom',
        '\u001b[31merror\u001b[39m',
      ),
      message: fc.oneof(
        { weight: 6, arbitrary: text },
        {
          weight: 1,
          arbitrary: fc.constantFrom(undefined, 42, { structured: true }),
        },
      ),
      timestamp: sometimes(
        fc.oneof(
          fc.constantFrom(
            '2026-12-01T10:00:00.123Z',
            'not a time',
            1764583200000,
          ),
          fc.constant(new Date(1764583200000)),
        ),
      ),
      prefix: sometimes(fc.constantFrom('a/b/c', 'bad', 7)),
      fields: fc.dictionary(key, value, { maxKeys: 6 }),
      asError: fc.oneof(
        { weight: 9, arbitrary: fc.constant(false) },
        { weight: 1, arbitrary: fc.constant(true) },
      ),
      symbolLevel: fc.boolean(),
    })
    .map(
      ({ level, message, timestamp, prefix, fields, asError, symbolLevel }) => {
        const made: Record<string | symbol, unknown> = asError
          ? (Object.assign(new Error('boom'), fields) as unknown as Record<
              string,
              unknown
            >)
          : { ...fields }
        made.level = level
        if (symbolLevel) made[LEVEL] = level
        if (message !== undefined) made.message = message
        if (timestamp !== undefined) made.timestamp = timestamp
        if (prefix !== undefined) made['ml_dash.prefix'] = prefix
        return made
      },
    )
  const levels = fc.option(
    fc.constant({ custom: 3, error: 0, warn: 1, info: 2, silly: 6 }),
    { nil: undefined },
  )

  it('makes exactly the entry the mapping and the encoder make, or none', () => {
    let made = 0
    fc.assert(
      fc.property(info, limits, levels, levelMap, (one, within, known, map) => {
        const flat = flatWinstonEntry(one, within, known, map as never)
        if (flat === undefined) return
        made++
        const mapped = mapWinstonInfo(one, known, map as never)
        // An info without a timestamp takes the time of the call: the same millisecond for both, or compare without it.
        const plain = (entry: string) =>
          one.timestamp === undefined
            ? entry.replace(/^\{"timestamp":"[^"]*"/, '{"timestamp":""')
            : entry
        expect(plain(flat.entry)).toBe(plain(encodeEntry(mapped.input, within)))
        expect(flat.prefix).toBe(mapped.prefix)
      }),
      { numRuns: RUNS },
    )
    expect(made).toBeGreaterThan(RUNS / 5)
  })

  it('makes the entry of an ordinary flat info', () => {
    const plain = fc.record({
      level: fc.constantFrom('info', 'warn', 'error', 'debug'),
      message: fc.string({ maxLength: 200 }),
      timestamp: fc.constant('2026-12-01T10:00:00.123Z'),
      fields: fc.dictionary(
        fc
          .stringMatching(/^[a-z][a-z0-9_.]{0,15}$/)
          .filter(
            (k) =>
              !['level', 'message', 'timestamp', 'source_level'].includes(k),
          ),
        fc.oneof(
          fc.string(),
          fc.double({ noNaN: true, noDefaultInfinity: true }),
          fc.boolean(),
        ),
        { maxKeys: 8 },
      ),
    })
    fc.assert(
      fc.property(plain, ({ fields, ...rest }) => {
        const one = { ...fields, ...rest, [LEVEL]: rest.level }
        const flat = flatWinstonEntry(one, DEFAULT_ENTRY_LIMITS)
        expect(flat).toBeDefined()
        expect(flat!.entry).toBe(encodeEntry(mapWinstonInfo(one).input))
      }),
      { numRuns: RUNS },
    )
  })
})
