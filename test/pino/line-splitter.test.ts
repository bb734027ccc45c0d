/**
 * The pino transport's line splitter: whatever the chunks thread-stream (or
 * a pipeline stage, with bytes) hands over, the lines are those of the
 * whole text, as split2 gives them (`\r\n` or `\n`, empty lines skipped).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LineSplitter } from '../../src/pino/line-splitter.js'

function split(chunks: (string | Uint8Array)[], max?: number): string[] {
  const lines: string[] = []
  const splitter = new LineSplitter((line) => lines.push(line), max)
  for (const chunk of chunks) splitter.write(chunk)
  splitter.end()
  return lines
}

const expected = (text: string) =>
  text.split(/\r?\n/).filter((line) => line !== '')

/** The text cut at the given positions (of its UTF-8 bytes when `bytes`). */
function cut(text: string, at: number[], bytes: boolean) {
  const whole = bytes ? Buffer.from(text) : text
  const points = [...new Set(at.map((n) => n % (whole.length + 1)))].sort(
    (a, b) => a - b,
  )
  const chunks: (string | Uint8Array)[] = []
  let start = 0
  for (const point of [...points, whole.length]) {
    chunks.push(whole.slice(start, point))
    start = point
  }
  return chunks
}

describe('LineSplitter', () => {
  it('joins a line cut across chunks and keeps the last line without a newline', () => {
    expect(split(['{"a":', '1}\n{"b"', ':2}\r\n\n', '{"c":3}'])).toEqual([
      '{"a":1}',
      '{"b":2}',
      '{"c":3}',
    ])
  })

  it('decodes a character whose UTF-8 bytes are cut across chunks', () => {
    const bytes = Buffer.from('{"msg":"é😀"}\n')
    expect(split([bytes.subarray(0, 10), bytes.subarray(10)])).toEqual([
      '{"msg":"é😀"}',
    ])
  })

  it('gives the lines of the whole text for any cut, as text or as bytes', () => {
    const line = fc.string({ unit: 'grapheme', maxLength: 20 })
    const text = fc
      .array(fc.tuple(line, fc.constantFrom('\n', '\r\n', '\n\n')), {
        maxLength: 8,
      })
      .map((parts) => parts.map(([l, end]) => l + end).join(''))
    fc.assert(
      fc.property(
        text,
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.boolean(),
        (whole, at, bytes) => {
          expect(split(cut(whole, at, bytes))).toEqual(expected(whole))
        },
      ),
    )
  })

  it('cuts a line longer than its bound to the bound, however the chunks fall, holding no more than the bound', () => {
    const line = fc.string({ unit: 'grapheme-ascii', maxLength: 30 })
    const text = fc
      .array(fc.tuple(line, fc.constantFrom('\n', '\r\n')), { maxLength: 8 })
      .map((parts) => parts.map(([l, end]) => l + end).join(''))
    fc.assert(
      fc.property(
        text,
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.integer({ min: 1, max: 12 }),
        (whole, at, max) => {
          // A cut line keeps its head; a kept "\r" at the cut is dropped as a line end.
          const want = whole
            .split('\n')
            .map((l) => l.slice(0, max))
            .map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l))
            .filter((l) => l !== '')
          expect(split(cut(whole, at, false), max)).toEqual(want)
        },
      ),
    )
  })

  it('takes 64 MiB without a newline holding only the bound', () => {
    const lines: string[] = []
    const splitter = new LineSplitter((l) => lines.push(l), 1000)
    const chunk = 'x'.repeat(1 << 20)
    const before = process.memoryUsage().heapUsed
    for (let i = 0; i < 64; i++) splitter.write(chunk)
    const held = process.memoryUsage().heapUsed - before
    splitter.write('\nnext\n')
    expect(lines).toEqual(['x'.repeat(1000), 'next'])
    expect(held).toBeLessThan(32 << 20)
  })
})
