import { describe, expect, it } from 'vitest'
import {
  DEFAULT_ENTRY_LIMITS,
  longestParsedLine,
} from '../../src/core/entry.js'
import { PREFIX_REFUSED_KEY } from '../../src/core/prefix.js'
import type { PinoConfig } from '../../src/pino/map.js'
import { PinoLineEncoder } from '../../src/pino/encode-line.js'
import { PinoLineScanner } from '../../src/pino/scan-line.js'
import type { Queued } from '../helpers.js'
import { nesting, pinoGeneralPathEntry, recordingRouter } from '../helpers.js'

const CONFIG: PinoConfig = { levels: { labels: { 30: 'info', 50: 'error' } } }

function encode(
  line: string,
  config: PinoConfig = CONFIG,
  limits = DEFAULT_ENTRY_LIMITS,
): Queued {
  const { router, queued } = recordingRouter(limits)
  new PinoLineEncoder(router, { limits }, config).enqueue(line)
  expect(queued).toHaveLength(1)
  return queued[0]!
}

/** The general path alone. */
const general = (line: string, config: PinoConfig = CONFIG) =>
  pinoGeneralPathEntry(line, config)

describe('PinoLineEncoder', () => {
  it.each([
    '{"level":30,"time":1700000000123,"pid":1,"hostname":"h","msg":"hello"}',
    '{"level":50,"time":1700000000123,"code":"E1","msg":"quote \\" and \\\\ and \\n and \\u001b"}',
    '{"level":30,"time":1700000000123,"s":"a,\\"msg\\":\\"fake\\"}","msg":"real"}',
    '{"level":30,"time":1700000000123,"u":"\\ud83d\\ude00 é 😀","n":-1.5,"z":0,"t":true,"f":false,"x":null,"msg":"ünïcode 😀"}',
    '{"level":30,"time":1700000000123,"msg":"no other fields"}',
    '{"level":30,"time":1700000000123,"a":1}',
    '{"level":30,"time":1700000000123}',
    '{"level":35,"time":1700000000123,"a":1,"msg":"custom number"}',
  ])('splices %s into exactly what the general path stores', (line) => {
    const queued = encode(line)
    expect(queued.path).toBe('spliced')
    expect(queued.entry).toEqual(general(line))
  })

  it('uses pino’s messageKey and custom level labels', () => {
    const config: PinoConfig = {
      messageKey: 'message',
      levels: { labels: { 35: 'notice' } },
    }
    const line =
      '{"level":35,"time":1700000000123,"msg":"a field","message":"the message"}'
    const queued = encode(line, config)
    expect(queued.path).toBe('spliced')
    expect(queued.entry).toEqual(general(line, config))
    expect(queued.entry).toMatchObject({
      message: 'the message',
      metadata: { msg: 'a field', source_level: 'notice' },
    })
  })

  it.each([
    [
      'a nested value',
      '{"level":50,"time":1700000000123,"err":{"type":"Error","message":"x","stack":"s"},"msg":"m"}',
    ],
    ['an array', '{"level":30,"time":1700000000123,"list":[1,2],"msg":"m"}'],
    [
      'a message that is not last',
      '{"level":30,"time":1700000000123,"msg":"m","after":1}',
    ],
    ['time in seconds', '{"level":30,"time":1700000000,"a":1,"msg":"m"}'],
    ['time as text', '{"level":30,"time":"2024-01-01T00:00:00Z","msg":"m"}'],
    ['a level label', '{"level":"info","time":1700000000123,"a":1,"msg":"m"}'],
    [
      'an escaped surrogate pair in the message',
      '{"level":30,"time":1700000000123,"msg":"\\ud83d\\ude00"}',
    ],
    ['an exponent', '{"level":30,"time":1700000000123,"big":1e400,"msg":"m"}'],
    ['negative zero', '{"level":30,"time":1700000000123,"z":-0,"msg":"m"}'],
    [
      'an escaped lone surrogate in the message',
      '{"level":30,"time":1700000000123,"msg":"a\\ud800b"}',
    ],
    [
      'a raw lone surrogate',
      '{"level":30,"time":1700000000123,"msg":"a\ud800"}',
    ],
    ['whitespace', '{"level":30, "time":1700000000123,"a":1,"msg":"m"}'],
    [
      'a second level',
      '{"level":30,"time":1700000000123,"level":50,"msg":"m"}',
    ],
    [
      'a routed record',
      '{"level":30,"time":1700000000123,"ml_dash.prefix":"a/b/c","msg":"m"}',
    ],
    [
      'an escaped key',
      '{"level":30,"time":1700000000123,"ml_dash\\u002eprefix":"a/b/c","msg":"m"}',
    ],
    [
      'a non-string message',
      '{"level":30,"time":1700000000123,"a":1,"msg":{"x":1}}',
    ],
  ])('takes the general path for %s, with the same result', (_name, line) => {
    const queued = encode(line)
    expect(queued.path).toBe('general')
    // (A routed record is routed by the real router, see its tests.)
    expect(queued.entry).toEqual(general(line))
  })

  it('skips an empty line (between two newlines there is nothing to keep)', () => {
    const { router, queued } = recordingRouter()
    expect(
      new PinoLineEncoder(router, { limits: DEFAULT_ENTRY_LIMITS }).enqueue(''),
    ).toBe(true)
    expect(queued).toEqual([])
  })

  it('keeps a line that is not JSON as an info message', () => {
    const queued = encode('plain text {not json')
    expect(queued.path).toBe('general')
    expect(queued.entry).toMatchObject({
      level: 'info',
      message: 'plain text {not json',
    })
  })

  it('takes the general path, with its limits, for a line longer than the limits allow unexamined', () => {
    const line = `{"level":30,"time":1700000000123,"a":1,"msg":"${'x'.repeat(200)}"}`
    const queued = encode(line, CONFIG, {
      ...DEFAULT_ENTRY_LIMITS,
      maxMessageLength: 100,
    })
    expect(queued.path).toBe('general')
    expect(String(queued.entry.message)).toMatch(/^x{100}/)
    expect(String(queued.entry.message).length).toBeLessThan(200)
  })

  it('reads a new configuration (the destination gets it after the first line)', () => {
    const { router, queued } = recordingRouter()
    const encoder = new PinoLineEncoder(router, {
      limits: DEFAULT_ENTRY_LIMITS,
    })
    const line = '{"level":35,"time":1700000000123,"a":1,"msg":"m"}'
    encoder.enqueue(line)
    encoder.configure({ levels: { labels: { 35: 'notice' } } })
    encoder.enqueue(line)
    expect(queued.map((q) => q.entry.metadata)).toEqual([
      { a: 1, source_level: 35 },
      { a: 1, source_level: 'notice' },
    ])
  })

  it('never lets a refused prefix through the fast path', () => {
    // The refusal itself is the router's; here only that the line is not spliced.
    const queued = encode(
      '{"level":30,"time":1700000000123,"ml_dash.prefix":"../x","msg":"m"}',
    )
    expect(queued.path).toBe('general')
    expect(queued.entry.metadata).not.toHaveProperty(PREFIX_REFUSED_KEY)
  })
})

describe('PinoLineScanner', () => {
  it('reports the parts of a flat pino line', () => {
    const scanner = new PinoLineScanner('msg')
    expect(
      scanner.scan('{"level":30,"time":1700000000123,"a":1,"b":"x","msg":"m"}'),
    ).toEqual({
      level: 30,
      time: 1700000000123,
      members: '"a":1,"b":"x"',
      message: '"m"',
    })
    expect(scanner.scan('{"level":-5,"time":1700000000123}')).toEqual({
      level: -5,
      time: 1700000000123,
      members: '',
      message: undefined,
    })
  })

  it('declines every line when the message key would need escaping', () => {
    const scanner = new PinoLineScanner('a"b')
    expect(
      scanner.scan('{"level":30,"time":1700000000123,"a\\"b":"m"}'),
    ).toBeUndefined()
  })

  it('declines every line when the message key is one of the fixed keys', () => {
    expect(
      new PinoLineScanner('level').scan(
        '{"level":30,"time":1700000000123,"level":"m"}',
      ),
    ).toBeUndefined()
  })

  it('treats a message key with regular-expression characters literally', () => {
    const scanner = new PinoLineScanner('m.g')
    expect(
      scanner.scan('{"level":30,"time":1700000000123,"m.g":"m"}')?.message,
    ).toBe('"m"')
    // `.` must not match any character: "mxg" is an ordinary member, and the line has no message.
    expect(
      scanner.scan('{"level":30,"time":1700000000123,"mxg":"m"}'),
    ).toMatchObject({ members: '"mxg":"m"', message: undefined })
  })

  it.each([1100, 5000])(
    'keeps the nesting limit for a short line %i arrays deep (JSON.parse alone would not)',
    (depth) => {
      const line = `{"level":30,"time":1700000000123,"msg":"deep","x":${'['.repeat(depth)}${']'.repeat(depth)}}`
      expect(line.length).toBeLessThan(16_384)
      const { text } = encode(line)
      expect(nesting(JSON.parse(text))).toBeLessThanOrEqual(
        DEFAULT_ENTRY_LIMITS.maxDepth + 1,
      )
      expect(text).toContain('"[Array]"')
    },
  )

  it.each([
    [
      'a flat line',
      (n: number) => Array.from({ length: n }, (_, i) => `"k${i}":1`).join(','),
    ],
    [
      'a nested array',
      (n: number) => `"x":[${Array.from({ length: n }, () => '0').join(',')}]`,
    ],
  ])(
    'keeps the item limit for %s within the short-line length',
    (_, members) => {
      const limits = { ...DEFAULT_ENTRY_LIMITS, maxItems: 100 }
      const line = `{"level":30,"time":1700000000123,"msg":"wide",${members(150)}}`
      expect(line.length).toBeLessThan(longestParsedLine(limits))
      const { entry } = encode(line, CONFIG, limits)
      const metadata = entry.metadata as Record<string, unknown>
      const widest = Math.max(
        Object.keys(metadata).length,
        Array.isArray(metadata.x) ? metadata.x.length : 0,
      )
      expect(widest).toBeLessThanOrEqual(limits.maxItems + 1)
      expect(JSON.stringify(entry)).toContain('truncated')
    },
  )
})
