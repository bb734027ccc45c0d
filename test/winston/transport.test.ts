/** Real winston loggers with MlDashTransport, in process and in child processes. */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import winston from 'winston'
import { MlDashTransport } from '../../src/winston/transport.js'
import {
  signTestToken,
  startTestServer,
} from '../../src/testing/ml-dash-server.js'
import { EXPECTED_WINSTON_LEVELS } from '../expected-levels.js'
import { FIXTURES, run, useTempDir } from '../helpers.js'

const temp = useTempDir()

const { lines } = temp

/** Logs through `logger`, ends it, and resolves when winston says it finished. */
async function endLogger(logger: winston.Logger): Promise<void> {
  const finished = new Promise((resolve) => logger.once('finish', resolve))
  logger.end()
  await finished
}

describe('MlDashTransport', () => {
  it.each([
    ['npm', winston.config.npm.levels, EXPECTED_WINSTON_LEVELS.npm],
    ['syslog', winston.config.syslog.levels, EXPECTED_WINSTON_LEVELS.syslog],
    ['cli', winston.config.cli.levels, EXPECTED_WINSTON_LEVELS.cli],
  ])(
    'maps every %s level, keeping the source level',
    async (name, levels, expected) => {
      const prefix = `alice/winston/${name}`
      const logger = winston.createLogger({
        levels,
        level: 'silly',
        transports: [new MlDashTransport({ prefix, dashRoot: temp.dir })],
      })
      logger.level = Object.entries(levels).sort((a, b) => b[1] - a[1])[0]![0]
      for (const level of Object.keys(levels)) logger.log(level, `at ${level}`)
      await endLogger(logger)
      expect(
        Object.fromEntries(
          lines(prefix).map((l) => [l.metadata?.source_level, l.level]),
        ),
      ).toEqual(expected)
    },
  )

  it('maps custom levels by the logger ordering, and levelMap overrides', async () => {
    const prefix = 'alice/winston/custom'
    const levels = { critical: 0, high: 1, medium: 2, low: 3, trace: 4 }
    const logger = winston.createLogger({
      levels,
      level: 'trace',
      transports: [
        new MlDashTransport({
          prefix,
          dashRoot: temp.dir,
          levelMap: { critical: 'fatal' },
        }),
      ],
    })
    for (const level of Object.keys(levels)) logger.log(level, level)
    await endLogger(logger)
    expect(lines(prefix).map((l) => [l.message, l.level])).toEqual([
      ['critical', 'fatal'],
      ['high', 'warn'],
      ['medium', 'info'],
      ['low', 'debug'],
      ['trace', 'debug'],
    ])
  })

  it('reads the level as logged even after colorize, and respects splat, timestamp, defaultMeta and child metadata', async () => {
    const prefix = 'alice/winston/formats'
    const stamps: string[] = []
    const logger = winston.createLogger({
      format: winston.format.combine(
        winston.format.timestamp(),
        winston.format((info) => {
          stamps.push(String(info.timestamp))
          return info
        })(),
        winston.format.splat(),
        winston.format.colorize(),
      ),
      defaultMeta: { service: 'evaluator' },
      transports: [new MlDashTransport({ prefix, dashRoot: temp.dir })],
    })
    logger
      .child({ request: 'r-1' })
      .warn('scored %d items in %s', 42, 'eval-set', { model: 'resnet' })
    await endLogger(logger)
    const [line] = lines(prefix)
    expect(line).toMatchObject({
      level: 'warn',
      message: 'scored 42 items in eval-set',
      metadata: {
        service: 'evaluator',
        request: 'r-1',
        model: 'resnet',
        source_level: 'warn',
      },
    })
    expect(line!.metadata).not.toHaveProperty('timestamp')
    // The timestamp format's value became the entry's time, not metadata.
    expect(line!.timestamp).toBe(new Date(stamps[0]!).toISOString())
  })

  it('takes the event time from a custom timestamp format and keeps an unreadable one', async () => {
    const prefix = 'alice/winston/time'
    const logger = winston.createLogger({
      transports: [new MlDashTransport({ prefix, dashRoot: temp.dir })],
    })
    logger.info('then', { timestamp: '2020-01-02 03:04:05Z' })
    logger.info('odd', { timestamp: 'teatime' })
    await endLogger(logger)
    const [then, odd] = lines(prefix)
    expect(then!.timestamp).toBe('2020-01-02T03:04:05.000Z')
    expect(odd!.metadata).toMatchObject({ timestamp: 'teatime' })
  })

  it('keeps a numeric timestamp no Date can hold, or a false Date, in the metadata', async () => {
    const prefix = 'alice/winston/far-time'
    const logger = winston.createLogger({
      format: winston.format.timestamp(),
      transports: [new MlDashTransport({ prefix, dashRoot: temp.dir })],
    })
    logger.log({ level: 'info', message: 'far', timestamp: 1e20 })
    // Looks like a Date, is not one: getTime() throws.
    logger.log({
      level: 'info',
      message: 'not a date',
      timestamp: Object.create(Date.prototype) as Date,
    })
    await endLogger(logger)
    const [far, notADate] = lines(prefix)
    expect(far!.metadata).toMatchObject({ timestamp: 1e20 })
    expect(notADate!.message).toBe('not a date')
    expect(notADate!.metadata).toHaveProperty('timestamp')
  })

  it('stores an info whose getters or traps throw, with markers where they threw and every other field', async () => {
    const prefix = 'alice/winston/getters'
    const transport = new MlDashTransport({ prefix, dashRoot: temp.dir })
    const warned: unknown[] = []
    transport.on('warn', (error) => warned.push(error))
    const logger = winston.createLogger({
      format: winston.format.timestamp(),
      transports: [transport],
    })
    const bad = { level: 'info', message: 'field', ok: 1 }
    Object.defineProperty(bad, 'bad', {
      enumerable: true,
      get() {
        throw new Error('x')
      },
    })
    logger.log(bad)
    const badMessage = { level: 'warn', ok: 2 } as unknown as winston.LogEntry
    Object.defineProperty(badMessage, 'message', {
      enumerable: true,
      get() {
        throw new Error('no message')
      },
    })
    logger.log(badMessage)
    await endLogger(logger)
    const [field, message] = lines(prefix)
    expect(field).toMatchObject({
      message: 'field',
      metadata: { ok: 1, bad: '[Throws: Error: x]' },
    })
    expect(message).toMatchObject({
      level: 'warn',
      message: '[Throws: Error: no message]',
      metadata: { ok: 2 },
    })
    expect(warned).toEqual([])
  })

  it('keeps errors with name, message, stack, code and cause', async () => {
    const prefix = 'alice/winston/errors'
    const logger = winston.createLogger({
      format: winston.format.errors({ stack: true, cause: true }),
      transports: [new MlDashTransport({ prefix, dashRoot: temp.dir })],
    })
    const cause = Object.assign(new TypeError('bad shard'), { code: 'E_SHARD' })
    const error = Object.assign(new Error('load failed', { cause }), {
      code: 'E_LOAD',
    })
    logger.error(error)
    logger.error('in metadata', { err: new Error('inner', { cause }) })
    await endLogger(logger)
    const [direct, meta] = lines(prefix)
    expect(direct).toMatchObject({
      level: 'error',
      message: 'load failed',
      metadata: {
        code: 'E_LOAD',
        cause: { name: 'TypeError', message: 'bad shard', code: 'E_SHARD' },
      },
    })
    expect(String(direct!.metadata?.stack)).toContain('load failed')
    expect(meta!.metadata?.err).toMatchObject({
      name: 'Error',
      message: 'inner',
      cause: { message: 'bad shard' },
    })
  })

  it('keeps an Error logged without format.errors whole', async () => {
    const prefix = 'alice/winston/bare-error'
    const logger = winston.createLogger({
      transports: [new MlDashTransport({ prefix, dashRoot: temp.dir })],
    })
    logger.error(new Error('bare', { cause: new Error('root') }))
    await endLogger(logger)
    expect(lines(prefix)[0]).toMatchObject({
      message: 'bare',
      metadata: { error: { message: 'bare', cause: { message: 'root' } } },
    })
  })

  it('routes by ml_dash.prefix from child metadata', async () => {
    const logger = winston.createLogger({
      transports: [
        new MlDashTransport({
          prefix: 'alice/winston/main',
          dashRoot: temp.dir,
        }),
      ],
    })
    logger.child({ 'ml_dash.prefix': 'alice/winston/run-9' }).info('routed')
    logger.info('own')
    await endLogger(logger)
    expect(lines('alice/winston/run-9').map((l) => l.message)).toEqual([
      'routed',
    ])
    expect(lines('alice/winston/main').map((l) => l.message)).toEqual(['own'])
  })

  it('never breaks the other transports: failures are warn events, logging goes on', async () => {
    const blocked = join(temp.dir, 'not-a-folder')
    writeFileSync(blocked, '')
    const file = join(temp.dir, 'app.log')
    const broken = new MlDashTransport({
      prefix: 'alice/winston/broken',
      dashRoot: blocked,
    })
    const warnings: Error[] = []
    broken.on('warn', (error: Error) => warnings.push(error))
    const logged: unknown[] = []
    broken.on('logged', (info) => logged.push(info))
    const logger = winston.createLogger({
      transports: [broken, new winston.transports.File({ filename: file })],
    })
    for (let i = 0; i < 5; i++) logger.info(`m${i}`)
    await endLogger(logger)
    expect(logged).toHaveLength(5)
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(5)
    expect(warnings[0]?.message).toContain('cannot open the experiment folder')
    expect(
      broken.stats.experiments['alice/winston/broken']?.local,
    ).toMatchObject({ failed: 5 })
  })

  it('delivers to the server through faults; flush() and close() wait for it', async () => {
    const server = await startTestServer()
    try {
      const prefix = 'alice/winston/remote'
      const transport = new MlDashTransport({
        prefix,
        dashUrl: server.url,
        token: signTestToken({ username: 'alice' }),
        dashRoot: false,
        retryBaseDelayMs: 20,
      })
      const logger = winston.createLogger({ transports: [transport] })
      server.inject({ kind: 'status', status: 503, count: 2, match: /logs$/ })
      server.inject({ kind: 'drop', count: 1, match: /logs$/ })
      for (let i = 0; i < 300; i++) logger.info(`m${i}`)
      await transport.flush()
      expect(server.experiment(prefix)?.logs.map((l) => l.message)).toEqual(
        Array.from({ length: 300 }, (_, i) => `m${i}`),
      )
      await transport.close()
    } finally {
      await server.close()
    }
  })

  it('logger.end() then the process exits with everything in the store', async () => {
    const prefix = 'alice/winston/exit'
    const result = await run(process.execPath, [
      join(FIXTURES, 'winston-end.mjs'),
      temp.dir,
      prefix,
      '5000',
    ])
    expect(result).toMatchObject({ code: 0, stdout: 'finished\n' })
    expect(lines(prefix).map((l) => l.message)).toEqual(
      Array.from({ length: 5000 }, (_, i) => `entry ${i}`),
    )
  })
})
