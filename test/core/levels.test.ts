import { describe, expect, it } from 'vitest'
import { LEVELS, isLevel, normalizeLevel } from '../../src/core/levels.js'
import {
  WINSTON_CLI,
  WINSTON_NPM,
  WINSTON_SYSLOG,
  levelFromText,
  mapLevel,
  otelLevel,
  pinoLevel,
} from '../../src/core/level-tables.js'
import { EXPECTED_WINSTON_LEVELS } from '../expected-levels.js'

describe('normalizeLevel', () => {
  it('accepts the five levels in any case', () => {
    expect(normalizeLevel('WARN')).toBe('warn')
    expect(normalizeLevel('Fatal')).toBe('fatal')
    for (const level of LEVELS) expect(normalizeLevel(level)).toBe(level)
  })

  it("rejects anything else with the SDK's message", () => {
    expect(() => normalizeLevel('verbose')).toThrow(
      "Invalid log level: 'verbose'. Must be one of: info, warn, error, debug, fatal",
    )
    expect(() => normalizeLevel(3)).toThrow("Invalid log level: '3'")
    expect(isLevel('Info')).toBe(false)
    expect(isLevel('__proto__')).toBe(false)
  })
})

describe('pino table', () => {
  it.each([
    [10, 'debug'],
    [20, 'debug'],
    [30, 'info'],
    [40, 'warn'],
    [50, 'error'],
    [60, 'fatal'],
    [5, 'debug'],
    [35, 'info'],
    [45, 'warn'],
    [55, 'error'],
    [100, 'fatal'],
  ] as const)('%d is %s', (value, level) => {
    expect(pinoLevel(value)).toBe(level)
  })
})

describe('winston tables', () => {
  it('npm', () => {
    expect(WINSTON_NPM).toEqual(EXPECTED_WINSTON_LEVELS.npm)
  })

  it('syslog', () => {
    expect(WINSTON_SYSLOG).toEqual(EXPECTED_WINSTON_LEVELS.syslog)
  })

  it('cli covers every cli level name', () => {
    const names = Object.keys(EXPECTED_WINSTON_LEVELS.cli)
    expect(Object.keys(WINSTON_CLI).sort()).toEqual(names.sort())
    expect(WINSTON_CLI.help).toBe('info')
    expect(WINSTON_CLI.silly).toBe('debug')
    expect(WINSTON_CLI).toEqual(EXPECTED_WINSTON_LEVELS.cli)
  })
})

describe('OpenTelemetry SeverityNumber', () => {
  it('maps each range', () => {
    const ranges = [
      [1, 8, 'debug'],
      [9, 12, 'info'],
      [13, 16, 'warn'],
      [17, 20, 'error'],
      [21, 24, 'fatal'],
    ] as const
    for (const [from, to, level] of ranges) {
      for (let n = from; n <= to; n++) expect(otelLevel(n, 'fatal')).toBe(level)
    }
  })

  it('falls back to severityText for 0 or absent, else info', () => {
    expect(otelLevel(0, 'WARNING')).toBe('warn')
    expect(otelLevel(undefined, 'Error')).toBe('error')
    expect(otelLevel(0, 'something')).toBe('info')
    expect(otelLevel(undefined)).toBe('info')
    expect(otelLevel(99, 'fatal')).toBe('fatal')
    expect(levelFromText(' critical ')).toBe('error')
    expect(levelFromText('toString')).toBeUndefined()
  })
})

describe('mapLevel overrides', () => {
  it('prefers the user map, keyed by the source level as text', () => {
    expect(mapLevel(35, pinoLevel(35), { '35': 'warn' })).toBe('warn')
    expect(mapLevel('verbose', 'debug', { verbose: 'info' })).toBe('info')
    expect(mapLevel('verbose', 'debug', {})).toBe('debug')
    expect(mapLevel('verbose', 'debug')).toBe('debug')
  })
})

describe('level names that are Object.prototype members', () => {
  it('are never resolved through the prototype', async () => {
    const { mapWinstonInfo } = await import('../../src/winston/map.js')
    const { mapPinoRecord } = await import('../../src/pino/map.js')
    const { mapOtelLogRecord } = await import('../../src/otel/map.js')
    for (const name of [
      'constructor',
      'valueOf',
      'toString',
      '__proto__',
      'hasOwnProperty',
    ]) {
      expect(levelFromText(name)).toBeUndefined()
      expect(mapLevel(name, 'info', {})).toBe('info')
      expect(
        mapWinstonInfo(
          { level: name, [Symbol.for('level')]: name, message: 'x' },
          {},
        ).input.level,
      ).toBe('info')
      expect(mapPinoRecord({ level: name }, {}).input.level).toBe('info')
      expect(mapOtelLogRecord({ severityText: name }, {}).input.level).toBe(
        'info',
      )
    }
  })
})

describe('levelMap in every mapping', () => {
  it('overrides by any name of the source level, and ignores values that are not levels', async () => {
    const { mapWinstonInfo } = await import('../../src/winston/map.js')
    const { mapPinoRecord } = await import('../../src/pino/map.js')
    const { mapOtelLogRecord } = await import('../../src/otel/map.js')
    const bad = {
      verbose: 'loud',
      '9': 'loud',
      NOTICE: 'loud',
    } as unknown as Record<string, 'info'>
    expect(
      mapWinstonInfo({ [Symbol.for('level')]: 'verbose' }, {}, bad).input.level,
    ).toBe('debug')
    expect(
      mapOtelLogRecord({ severityNumber: 9, severityText: 'NOTICE' }, bad).input
        .level,
    ).toBe('info')
    expect(
      mapOtelLogRecord(
        { severityNumber: 9, severityText: 'NOTICE' },
        { '9': 'error' },
      ).input.level,
    ).toBe('error')
    expect(
      mapPinoRecord(
        { level: 35 },
        { levels: { labels: { 35: 'audit' } } },
        { '35': 'warn' },
      ).input.level,
    ).toBe('warn')
    expect(
      mapPinoRecord(
        { level: 35 },
        { levels: { labels: { 35: 'audit' } } },
        { audit: 'fatal' },
      ).input.level,
    ).toBe('fatal')
  })
})
