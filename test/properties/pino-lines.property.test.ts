/**
 * Property-based tests (fast-check) of the pino fast path against
 * `JSON.parse`: the scanner never accepts a line `JSON.parse` refuses or
 * reads differently, it accepts the flat lines real pino writes, and the
 * entry spliced from a line is the entry the general path would store.
 */
import fc from 'fast-check'
import pino from 'pino'
import { describe, expect, it } from 'vitest'
import { PinoLineEncoder } from '../../src/pino/encode-line.js'
import { PinoLineScanner } from '../../src/pino/scan-line.js'
import { DEFAULT_ENTRY_LIMITS } from '../../src/core/entry.js'
import { pinoGeneralPathEntry, recordingRouter } from '../helpers.js'

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300)

const RESERVED = new Set(['level', 'time', 'msg', 'ml_dash.prefix'])

/** A flat JSON value, awkward ones included (lone surrogates, -0, huge and tiny numbers). */
const flatValue = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.constantFrom(-0, 1e21, 1e-7, 0.1, true, false, null),
)

/** Lines of pino's shape, sometimes with a nested value, built with JSON.stringify. */
const pinoShapedLine = fc
  .record({
    level: fc.oneof(fc.constantFrom(10, 20, 30, 40, 50, 60), fc.integer()),
    time: fc.oneof(
      fc.integer({ min: 1e11, max: 4e12 }),
      fc.integer({ min: 0, max: 2e9 }),
    ),
    members: fc.dictionary(
      fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom(...RESERVED)),
      fc.oneof(
        { weight: 5, arbitrary: flatValue },
        { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
      ),
      { maxKeys: 6 },
    ),
    msg: fc.option(fc.string({ unit: 'binary' }), { nil: undefined }),
  })
  .map(({ level, time, members, msg }) => {
    const body = JSON.stringify(members).slice(1, -1)
    return (
      `{"level":${level},"time":${time}` +
      (body === '' ? '' : `,${body}`) +
      (msg === undefined ? '' : `,"msg":${JSON.stringify(msg)}`) +
      '}'
    )
  })

/** A line with a few characters inserted, removed or replaced, JSON's own among them. */
const mutatedLine = fc
  .tuple(
    pinoShapedLine,
    fc.array(
      fc.record({
        at: fc.nat(),
        remove: fc.nat({ max: 2 }),
        insert: fc.constantFrom(
          '',
          '{',
          '}',
          '[',
          ']',
          '"',
          ':',
          ',',
          '\\',
          '\\u',
          '\\ud800',
          ' ',
          '-',
          '-0',
          '.',
          'e5',
          '0',
          '01',
          'tru',
          'null',
          '\u0000',
          '\ud800',
          '\n',
          '"msg":"x"',
          '"level":1,',
        ),
      }),
      { minLength: 1, maxLength: 3 },
    ),
  )
  .map(([line, edits]) => {
    let text = line
    for (const { at, remove, insert } of edits) {
      const i = at % (text.length + 1)
      text = text.slice(0, i) + insert + text.slice(i + remove)
    }
    return text
  })

/** One of these, mostly the first. */
const mostly = <T>(usual: T, ...others: T[]) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.constant(usual) },
    { weight: 1, arbitrary: fc.constantFrom(...others) },
  )

/**
 * pino's head and members made of near-miss tokens (numbers, strings and
 * escapes JSON allows next to ones it refuses, misplaced separators):
 * often invalid by one token.
 */
const nearMissLine = fc
  .array(
    fc.tuple(
      mostly(',', '', ',,', ' ,'),
      mostly('"a"', '"msg"', '"level"', '"k\\"q"', '"\\u0061"', 'a', '"\t"'),
      mostly(':', '', '::', ' :'),
      fc.constantFrom(
        ...[
          '0',
          '00',
          '01',
          '7',
          '-',
          '-0',
          '-0.0',
          '-0.5',
          '-00.5',
          '1.',
          '1.5',
        ],
        ...[
          '.5',
          '2e3',
          '1E5',
          '+1',
          '0x1',
          'true',
          'nul',
          'nulls',
          '{}',
          '[]',
        ],
        ...[
          '"s"',
          '"\\u00e9"',
          '"\\u00zz"',
          '"\\x"',
          '"\\/"',
          '"\t"',
          '"',
          '"\\"',
        ],
      ),
    ),
    { maxLength: 4 },
  )
  .chain((members) =>
    fc
      .constantFrom('', ',"msg":"m"', ',"msg":1', ',"msg":"m', '"msg":"m"')
      .map(
        (tail) =>
          `{"level":30,"time":1700000000000${members.map((m) => m.join('')).join('')}${tail}}`,
      ),
  )

/** What `JSON.parse` makes of a line, or undefined when it refuses it. */
function parse(line: string): unknown {
  try {
    return JSON.parse(line)
  } catch {
    return undefined
  }
}

describe('the pino fast path, against JSON.parse', () => {
  const scanner = new PinoLineScanner('msg')

  it('accepts only lines JSON.parse accepts, and reads them the same way', () => {
    fc.assert(
      fc.property(
        fc.oneof(pinoShapedLine, mutatedLine, {
          weight: 4,
          arbitrary: nearMissLine,
        }),
        (line) => {
          const parts = scanner.scan(line)
          if (parts === undefined) return
          const record = parse(line) as Record<string, unknown> | undefined
          expect(record).toBeTypeOf('object')
          const { level, time, msg, ...rest } = record!
          expect(parts.level).toBe(level)
          expect(parts.time).toBe(time)
          expect(JSON.parse(`{${parts.members}}`)).toEqual(rest)
          expect(Object.keys(rest)).not.toContain('ml_dash.prefix')
          if (parts.message === undefined) expect('msg' in record!).toBe(false)
          else expect(JSON.parse(parts.message)).toBe(msg)
        },
      ),
      { numRuns: RUNS * 10 },
    )
  })

  it('stores through the fast path exactly what the general path stores', () => {
    fc.assert(
      fc.property(fc.oneof(pinoShapedLine, mutatedLine), (line) => {
        const { router, queued } = recordingRouter()
        new PinoLineEncoder(router, { limits: DEFAULT_ENTRY_LIMITS }).enqueue(
          line,
        )
        expect(queued).toHaveLength(1)
        if (queued[0]!.path === 'spliced')
          expect(queued[0]!.entry).toEqual(pinoGeneralPathEntry(line))
      }),
      { numRuns: RUNS * 10 },
    )
  })

  it('takes the fast path for the flat records real pino writes', () => {
    const written: string[] = []
    const logger = pino(
      { base: { pid: 1, hostname: 'h' } },
      { write: (chunk: string) => written.push(chunk) },
    )
    const wellFormed = fc.oneof(
      fc.string(),
      fc.string({ unit: 'grapheme' }),
      fc.integer(),
      // Numbers JSON writes with an exponent (1e-7, 1e21) are declined, rightly.
      fc
        .double({ noNaN: true, noDefaultInfinity: true })
        .filter((n) => !String(n).includes('e')),
      fc.boolean(),
      fc.constant(null),
    )
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string().filter((key) => !RESERVED.has(key)),
          wellFormed,
          { maxKeys: 6 },
        ),
        fc.string(),
        (fields, message) => {
          written.length = 0
          logger.info(fields, message)
          const line = written.join('').trimEnd()
          const { router, queued } = recordingRouter()
          new PinoLineEncoder(router, {
            limits: DEFAULT_ENTRY_LIMITS,
          }).enqueue(line)
          expect(queued[0]!.path).toBe('spliced')
          expect(queued[0]!.entry).toEqual(pinoGeneralPathEntry(line))
        },
      ),
      { numRuns: RUNS },
    )
  })
})
