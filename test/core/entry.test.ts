import { serialize } from 'node:v8'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_ENTRY_LIMITS,
  createEntry,
  encodeEntry,
  formatTimestamp,
  longestParsedLine,
  toStoreLine,
} from '../../src/core/entry.js'
import { toJsonValue } from '../../src/core/serialize.js'

describe('longestParsedLine', () => {
  it('is the tightest of the string, message and metadata limits', () => {
    expect(longestParsedLine(DEFAULT_ENTRY_LIMITS)).toBe(16_384)
    expect(
      longestParsedLine({ ...DEFAULT_ENTRY_LIMITS, maxMessageLength: 100 }),
    ).toBe(100)
    // 3 UTF-8 bytes per UTF-16 unit at most.
    expect(
      longestParsedLine({ ...DEFAULT_ENTRY_LIMITS, maxMetadataBytes: 3000 }),
    ).toBe(1000)
  })
})

describe('formatTimestamp', () => {
  it('writes ISO-8601 UTC with Z, with microseconds when the source has them', () => {
    expect(formatTimestamp(Date.UTC(2025, 9, 29, 10, 30, 0, 123))).toBe(
      '2025-10-29T10:30:00.123Z',
    )
    expect(formatTimestamp(Date.UTC(2025, 9, 29, 10, 30, 0, 123) + 0.456)).toBe(
      '2025-10-29T10:30:00.123456Z',
    )
    expect(formatTimestamp(new Date('2025-10-29T10:30:00Z'))).toBe(
      '2025-10-29T10:30:00.000Z',
    )
    expect(formatTimestamp('2025-10-29T12:30:00+02:00')).toBe(
      '2025-10-29T10:30:00.000Z',
    )
  })

  it('falls back to now for unusable times', () => {
    const before = Date.now()
    const stamp = Date.parse(formatTimestamp('not a date'))
    expect(stamp).toBeGreaterThanOrEqual(before)
    expect(Date.parse(formatTimestamp(Number.NaN))).toBeGreaterThanOrEqual(
      before,
    )
  })
})

describe('encodeEntry', () => {
  it('writes the marker of a cut in a long entry as \\u2026, so the entry stays one byte a character in memory', () => {
    const text = encodeEntry({ level: 'info', message: 'x'.repeat(40_000) })
    expect([...text].every((c) => c.charCodeAt(0) <= 0xff)).toBe(true)
    // V8's serializer writes a one-byte string in one byte per character.
    expect(serialize(text).length).toBeLessThan(text.length + 16)
    expect((JSON.parse(text) as { message: string }).message).toMatch(
      /^x{32768}…\[truncated 7232 chars\]$/,
    )
    // Text of the caller's own outside Latin-1 is kept as it is.
    expect(encodeEntry({ level: 'info', message: 'é…€' })).toContain('é…€')
  })

  it('omits empty metadata and keeps given metadata as it was at the call', () => {
    const metadata = { epoch: 5 }
    const text = encodeEntry({
      level: 'info',
      message: 'Epoch',
      metadata,
      time: 0,
    })
    metadata.epoch = 6
    expect(JSON.parse(text)).toEqual({
      timestamp: '1970-01-01T00:00:00.000Z',
      level: 'info',
      message: 'Epoch',
      metadata: { epoch: 5 },
    })
    expect(
      createEntry({ level: 'warn', message: 'x', metadata: {} }),
    ).not.toHaveProperty('metadata')
    expect(
      createEntry({ level: 'warn', message: 'x', metadata: null }),
    ).not.toHaveProperty('metadata')
  })

  it('wraps non-object metadata and stringifies non-string messages', () => {
    expect(
      createEntry({ level: 'info', message: { a: 1 }, metadata: [1, 2] }),
    ).toMatchObject({
      message: '{"a":1}',
      metadata: { value: [1, 2] },
    })
  })

  it('marks truncated messages and oversized metadata', () => {
    const limits = {
      maxStringLength: 100,
      maxItems: 1000,
      maxDepth: 10,
      maxNodes: 1000,
      maxMessageLength: 4,
      maxMetadataBytes: 50,
    }
    const entry = createEntry(
      {
        level: 'info',
        message: 'abcdefg',
        metadata: { a: 'x'.repeat(60), b: 1 },
      },
      limits,
    )
    expect(entry.message).toBe('abcd…[truncated 3 chars]')
    expect(entry.metadata).toEqual({
      ml_dash_truncated: expect.stringContaining(
        'exceeds the limit of 50 bytes',
      ) as unknown,
      keys: ['a', 'b'],
    })
  })

  it("puts sequenceNumber first in the store line, as the SDK's key order", () => {
    const line = toStoreLine(
      encodeEntry({ level: 'info', message: 'm', time: 0 }),
      7,
    )
    expect(line).toBe(
      '{"sequenceNumber":7,"timestamp":"1970-01-01T00:00:00.000Z","level":"info","message":"m"}\n',
    )
  })
})

describe('encodeEntry of a hostile object', () => {
  it('never throws for a revoked Proxy or a throwing prototype trap, as metadata or beside a tail', () => {
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    const trap = new Proxy(
      {},
      {
        getPrototypeOf() {
          throw new Error('no prototype')
        },
      },
    )
    for (const metadata of [proxy, trap]) {
      for (const metadataTail of [undefined, Object.freeze({ t: 1 })]) {
        const text = encodeEntry({
          level: 'info',
          message: 'm',
          metadata,
          metadataTail,
        })
        expect(() => JSON.parse(text) as unknown).not.toThrow()
      }
    }
  })
})

describe('encodeEntry with a metadata tail', () => {
  // Small limits, so the generated values reach every one of them.
  const limits = {
    ...DEFAULT_ENTRY_LIMITS,
    maxStringLength: 40,
    maxItems: 6,
    maxDepth: 3,
    maxMetadataBytes: 300,
  }
  const json = fc.jsonValue({ maxDepth: 4 })
  const key = fc.constantFrom('a', 'b', 'otel.resource', 'otel.scope', 'x')
  const record = (values: fc.Arbitrary<unknown>) =>
    fc.dictionary(key, values, { maxKeys: 8 })

  it('stores what merging the tail into the metadata stores, whatever the limits cut (but the walk budget, counted per part)', () => {
    fc.assert(
      fc.property(
        fc.option(record(json), { nil: undefined }),
        record(json),
        (metadata, tail) => {
          const input = { level: 'info' as const, message: 'm', time: 0 }
          const withTail = encodeEntry(
            { ...input, metadata, metadataTail: Object.freeze(tail) },
            limits,
          )
          const merged = encodeEntry(
            { ...input, metadata: { ...metadata, ...tail } },
            limits,
          )
          const budget = 'size budget spent'
          // Near the byte limit, the merged walk's budget (spent on both
          // parts) may cut, or its marker make the whole pass the limit.
          const nearLimit =
            merged.includes(budget) ||
            withTail.includes(budget) ||
            merged.includes('ml_dash_truncated')
          if (!nearLimit) {
            expect(JSON.parse(withTail)).toEqual(JSON.parse(merged))
            return
          }
          // The walk's size budget is counted per part: the tail, walked
          // once apart, may keep more before the byte limit, never past it.
          const stored = JSON.parse(withTail) as { metadata: object }
          expect(
            Buffer.byteLength(JSON.stringify(stored.metadata)),
          ).toBeLessThanOrEqual(limits.maxMetadataBytes)
        },
      ),
      { numRuns: 2000 },
    )
  })

  it("writes a tail key once, the tail's value, when the metadata has it too", () => {
    const text = encodeEntry({
      level: 'info',
      message: 'm',
      metadata: { 'otel.scope': 'mine', a: 1 },
      metadataTail: Object.freeze({ 'otel.scope': { name: 'lib' } }),
    })
    expect(text.match(/otel\.scope/g)).toHaveLength(1)
    expect((JSON.parse(text) as { metadata: unknown }).metadata).toEqual({
      'otel.scope': { name: 'lib' },
      a: 1,
    })
  })
})

describe('encodeEntry of flat metadata', () => {
  // Small, so that the items, the string length and the walk's budget
  // (maxMetadataBytes less a quarter) are each reached.
  const limits = {
    ...DEFAULT_ENTRY_LIMITS,
    maxStringLength: 12,
    maxItems: 9,
    maxMetadataBytes: 320,
  }
  // Text with lone surrogates among the characters.
  const text = fc.string({
    unit: fc.oneof(
      fc.constantFrom('a', 'é', '\ud800', '\udfff', '"'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    ),
    maxLength: 14,
  })
  const value = fc.oneof(
    text,
    fc.string({ minLength: 10, maxLength: 12 }),
    fc.double(),
    fc.integer(),
    fc.constantFrom(-0, 0, 1e21, true, false, null),
  )
  // Members near the string limit, to spend the walk's budget.
  const long = fc.string({ minLength: 10, maxLength: 12 })
  const key = fc.oneof(text, long, fc.constantFrom('__proto__', 'a', 'b'))

  it("stores what the walk stores, member for member, from any object or a mapping's own", () => {
    fc.assert(
      fc.property(
        fc.dictionary(key, value, { minKeys: 3, maxKeys: 12 }),
        (metadata) => {
          const text = encodeEntry(
            { level: 'info', message: 'm', time: 0, metadata },
            limits,
          )
          // What the walk makes of it, as metadataJson stored it before the fast path.
          const walked = JSON.stringify(
            toJsonValue(metadata, limits, limits.maxMetadataBytes),
          )
          // A mapping's own object (JSON.stringify once checked) stores the same.
          expect(
            encodeEntry(
              {
                level: 'info',
                message: 'm',
                time: 0,
                metadata,
                ownMetadata: true,
              },
              limits,
            ),
          ).toBe(text)
          if (walked === '{}') expect(text).not.toContain('"metadata"')
          else if (Buffer.byteLength(walked) > limits.maxMetadataBytes)
            expect(text).toContain('"metadata":{"ml_dash_truncated":')
          else expect(text).toContain(`"metadata":${walked}}`)
        },
      ),
      { numRuns: 5000 },
    )
  })
})
