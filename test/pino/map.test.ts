import { describe, expect, it } from 'vitest'
import { mapPinoRecord } from '../../src/pino/map.js'

const CONFIG = {
  levels: {
    labels: {
      10: 'trace',
      20: 'debug',
      30: 'info',
      35: 'audit',
      40: 'warn',
      50: 'error',
      55: 'critical',
      60: 'fatal',
    },
    values: {
      trace: 10,
      debug: 20,
      info: 30,
      audit: 35,
      warn: 40,
      error: 50,
      critical: 55,
      fatal: 60,
    },
  },
}

describe('mapPinoRecord', () => {
  it('maps every default level and keeps the label as source_level', () => {
    const levels = [10, 20, 30, 40, 50, 60].map((level) => {
      const { input } = mapPinoRecord({ level, msg: 'm' }, CONFIG)
      return [
        input.level,
        (input.metadata as Record<string, unknown>).source_level,
      ]
    })
    expect(levels).toEqual([
      ['debug', 'trace'],
      ['debug', 'debug'],
      ['info', 'info'],
      ['warn', 'warn'],
      ['error', 'error'],
      ['fatal', 'fatal'],
    ])
  })

  it('buckets custom levels by number and lets levelMap override by label or number', () => {
    expect(mapPinoRecord({ level: 35 }, CONFIG).input.level).toBe('info')
    expect(mapPinoRecord({ level: 55 }, CONFIG).input.level).toBe('error')
    expect(
      mapPinoRecord({ level: 35 }, CONFIG, { audit: 'warn' }).input.level,
    ).toBe('warn')
    expect(
      mapPinoRecord({ level: 55 }, {}, { '55': 'fatal' }).input.level,
    ).toBe('fatal')
    expect(mapPinoRecord({ level: 'warn' }).input.level).toBe('warn')
    expect(mapPinoRecord({ level: 'audit' }, CONFIG).input.level).toBe('info')
    expect(mapPinoRecord({}).input.level).toBe('info')
  })

  it('reads the message from messageKey and everything else into metadata', () => {
    const record = {
      level: 30,
      time: 1_700_000_000_123,
      message: 'hello',
      pid: 7,
      hostname: 'h',
      service: 'loader',
      err: { type: 'Error', message: 'x', stack: 's' },
      trace_id: 'abc',
      span_id: 'def',
      trace_flags: '01',
    }
    const { input } = mapPinoRecord(record, { messageKey: 'message' })
    expect(input).toEqual({
      ownMetadata: true,
      level: 'info',
      message: 'hello',
      time: 1_700_000_000_123,
      metadata: {
        pid: 7,
        hostname: 'h',
        service: 'loader',
        err: { type: 'Error', message: 'x', stack: 's' },
        trace_id: 'abc',
        span_id: 'def',
        trace_flags: '01',
        source_level: 30,
      },
    })
  })

  it('reads time in milliseconds, seconds or as a string, and keeps an unreadable one', () => {
    expect(mapPinoRecord({ time: 1_700_000_000_123 }).input.time).toBe(
      1_700_000_000_123,
    )
    expect(mapPinoRecord({ time: 1_700_000_000 }).input.time).toBe(
      1_700_000_000_000,
    )
    expect(mapPinoRecord({ time: '2025-10-29T10:30:00.123Z' }).input.time).toBe(
      Date.parse('2025-10-29T10:30:00.123Z'),
    )
    const odd = mapPinoRecord({ time: 'yesterday' }).input
    expect(odd.time).toBeUndefined()
    expect(odd.metadata).toMatchObject({ time: 'yesterday' })
  })

  it('returns the routing prefix apart and leaves it out of metadata', () => {
    const mapped = mapPinoRecord({
      level: 30,
      msg: 'x',
      'ml_dash.prefix': 'alice/p/run-7',
      a: 1,
    })
    expect(mapped.prefix).toBe('alice/p/run-7')
    expect(mapped.input.metadata).toEqual({ a: 1, source_level: 30 })
  })
})
