import { serialize } from 'node:v8'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_ENTRY_LIMITS,
  createEntry,
  encodeEntry,
  formatTimestamp,
  longestParsedLine,
  toStoreLine,
} from '../../src/core/entry.js'

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
