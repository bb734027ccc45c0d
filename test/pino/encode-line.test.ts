import { describe, expect, it } from 'vitest'
import { encodeEntry } from '../../src/core/entry.js'
import { encodePinoLine } from '../../src/pino/encode-line.js'
import { mapPinoRecord, resolveLevel } from '../../src/pino/map.js'

const CONFIG = { levels: { labels: { 30: 'info', 50: 'error' } } }

/** The fast path's result, or undefined when it declines. */
function fast(line: string): string | undefined {
  const record = JSON.parse(line) as Record<string, unknown>
  const { level, source } = resolveLevel(record.level, CONFIG, undefined)
  return encodePinoLine(line, record, 'msg', level, source!)
}

/** The general path: map, then encode. */
function general(line: string): unknown {
  const { input } = mapPinoRecord(
    JSON.parse(line) as Record<string, unknown>,
    CONFIG,
  )
  return JSON.parse(encodeEntry(input))
}

describe('encodePinoLine', () => {
  it.each([
    '{"level":30,"time":1700000000123,"pid":1,"hostname":"h","msg":"hello"}',
    '{"level":50,"time":1700000000123,"err":{"type":"Error","message":"x","stack":"s"},"msg":"quote \\" and \\\\ and \\n"}',
    '{"level":30,"time":1700000000123,"obj":{"msg":"nested"},"list":[1,{"msg":"x"}],"msg":"top"}',
    '{"level":30,"time":1700000000123,"s":"a,\\"msg\\":\\"fake\\"}","msg":"real"}',
    '{"level":30,"time":1700000000123,"u":"\\ud83d\\ude00 é","msg":"ünïcode"}',
  ])('produces exactly what the general path produces: %s', (line) => {
    const spliced = fast(line)
    expect(spliced).toBeDefined()
    expect(JSON.parse(spliced!)).toEqual(general(line))
  })

  it.each([
    ['no message', '{"level":30,"time":1700000000123,"obj":{"a":1,"msg":"x"}}'],
    [
      'a message that is not last',
      '{"level":30,"time":1700000000123,"msg":"m","after":1}',
    ],
    ['time in seconds', '{"level":30,"time":1700000000,"a":1,"msg":"m"}'],
    [
      'a routed record',
      '{"level":30,"time":1700000000123,"ml_dash.prefix":"a/b/c","msg":"m"}',
    ],
    ['no other fields', '{"level":30,"time":1700000000123,"msg":"m"}'],
    ['a level label', '{"level":"info","time":1700000000123,"a":1,"msg":"m"}'],
  ])('declines %s, leaving it to the general path', (_name, line) => {
    const record = JSON.parse(line) as Record<string, unknown>
    const { level, source } = resolveLevel(record.level, CONFIG, undefined)
    expect(
      encodePinoLine(line, record, 'msg', level, source ?? 'x'),
    ).toBeUndefined()
  })
})
