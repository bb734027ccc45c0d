import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { redirectFailureLines } from '../src/delivery/failure-log.js'
import { Experiment } from '../src/experiment.js'
import { readLines, run, useTempDir } from './helpers.js'

/** The variables a prefix template reads, saved to be put back. */
function saveEnv(): { restore: () => void } {
  const names = ['ML_DASH_PREFIX', 'ML_DASH_USER', 'USER'] as const
  const values = names.map((name) => process.env[name])
  return {
    restore: () =>
      names.forEach((name, i) => {
        if (values[i] === undefined) delete process.env[name]
        else process.env[name] = values[i]
      }),
  }
}

describe('Experiment', () => {
  const temp = useTempDir()
  const file = (prefix: string) => join(temp.dir, prefix, 'logs', 'logs.jsonl')

  it('says once per name that log() ignores an option it does not take, and stores the entry', async () => {
    const said: string[] = []
    const restore = redirectFailureLines((line) => said.push(line))
    try {
      const prefix = 'alice/project/log-options'
      await new Experiment({ prefix, dashRoot: temp.dir }).run((exp) => {
        for (let step = 0; step < 3; step++)
          exp.log('loss', { step, metadata: { loss: 1 / (step + 1) } } as never)
        exp.log('typo', { levle: 'warn' } as never)
        exp.log('plain', { level: 'warn', metadata: { ok: true } })
        exp.logs.info('shortcut', { fine: 1 })
        const hostile = new Proxy(
          {},
          {
            ownKeys() {
              throw new Error('no keys')
            },
          },
        )
        exp.log('proxy', hostile)
      })
      expect(said).toEqual([
        'ml-dash-logs: warning: log() takes level, metadata and timestamp; "step" is ignored (put it in metadata: { metadata: { "step": … } })',
        'ml-dash-logs: warning: log() takes level, metadata and timestamp; "levle" is ignored (did you mean "level"?)',
      ])
      expect(readLines(file(prefix)).map((l) => l.message)).toEqual([
        'loss',
        'loss',
        'loss',
        'typo',
        'plain',
        'shortcut',
        'proxy',
      ])
    } finally {
      restore()
    }
  })

  it('logs with the seed API and stores what the SDK would', async () => {
    const prefix = 'alice/project/my-experiment'
    await new Experiment({ prefix, dashRoot: temp.dir }).run((exp) => {
      exp.log('Training started')
      exp.log('GPU memory low', { level: 'WARN' })
      exp.log('Epoch completed', {
        level: 'info',
        metadata: { epoch: 5, train_loss: 0.234 },
      })
      exp.logs.error('Failed to load checkpoint', { path: '/ckpt' })
      exp.logs.fatal('Out of memory - aborting')
    })
    const lines = readLines(file(prefix))
    expect(
      lines.map(({ sequenceNumber, level, message, metadata }) => ({
        sequenceNumber,
        level,
        message,
        metadata,
      })),
    ).toEqual([
      {
        sequenceNumber: 0,
        level: 'info',
        message: 'Training started',
        metadata: undefined,
      },
      {
        sequenceNumber: 1,
        level: 'warn',
        message: 'GPU memory low',
        metadata: undefined,
      },
      {
        sequenceNumber: 2,
        level: 'info',
        message: 'Epoch completed',
        metadata: { epoch: 5, train_loss: 0.234 },
      },
      {
        sequenceNumber: 3,
        level: 'error',
        message: 'Failed to load checkpoint',
        metadata: { path: '/ckpt' },
      },
      {
        sequenceNumber: 4,
        level: 'fatal',
        message: 'Out of memory - aborting',
        metadata: undefined,
      },
    ])
    for (const line of lines)
      expect(line.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  })

  it('keeps the time of the call, not the time of the write', async () => {
    const exp = await new Experiment({
      prefix: 'a/b/time',
      dashRoot: temp.dir,
    }).start()
    const before = Date.now()
    exp.log('now')
    exp.log('then', { timestamp: new Date('2020-01-01T00:00:00Z') })
    await new Promise((resolve) => setTimeout(resolve, 30))
    await exp.close()
    const [now, then] = readLines(file('a/b/time'))
    expect(Date.parse(now!.timestamp)).toBeGreaterThanOrEqual(before)
    expect(Date.parse(now!.timestamp)).toBeLessThanOrEqual(before + 25)
    expect(then!.timestamp).toBe('2020-01-01T00:00:00.000Z')
  })

  it('throws synchronously for an invalid level, before start and after close, storing nothing', async () => {
    const exp = new Experiment({ prefix: 'a/b/errors', dashRoot: temp.dir })
    expect(() => exp.log('early')).toThrow(
      'it is created (call start() or run() first)',
    )
    await exp.start()
    expect(() => exp.log('x', { level: 'verbose' })).toThrow(
      "Invalid log level: 'verbose'. Must be one of: info, warn, error, debug, fatal",
    )
    exp.log('kept')
    await exp.close()
    expect(() => exp.log('late')).toThrow('it is closed')
    expect(readLines(file('a/b/errors')).map((l) => l.message)).toEqual([
      'kept',
    ])
    expect(exp.stats.local).toMatchObject({
      accepted: 1,
      delivered: 1,
      dropped: 0,
      failed: 0,
      pending: 0,
    })
  })

  it('closes as failed and rethrows when run() throws, after writing what was logged', async () => {
    const exp = new Experiment({ prefix: 'a/b/fails', dashRoot: temp.dir })
    await expect(
      exp.run((e) => {
        e.log('before the error')
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect(exp.state).toBe('closed')
    expect(readLines(file('a/b/fails')).map((l) => l.message)).toEqual([
      'before the error',
    ])
  })

  it('refuses bad configuration at construction, naming it', () => {
    expect(() => new Experiment({ prefix: 'a/../b' })).toThrow(
      'invalid prefix "a/../b"',
    )
    expect(() => new Experiment({ prefix: 'a/b/c', batchSize: -1 })).toThrow(
      'batchSize must be an integer >= 1',
    )
    const saved = saveEnv()
    delete process.env.ML_DASH_PREFIX
    delete process.env.ML_DASH_USER
    delete process.env.USER
    try {
      // No prefix: the SDK's default, which needs a user.
      expect(() => new Experiment()).toThrow(
        /cannot expand the SDK default prefix .*\{user\} needs env ML_DASH_USER or USER/,
      )
    } finally {
      saved.restore()
    }
  })

  it("takes the SDK's default prefix without one, and expands ML_DASH_PREFIX as the SDK does", async () => {
    const saved = saveEnv()
    try {
      delete process.env.ML_DASH_PREFIX
      delete process.env.ML_DASH_USER
      process.env.USER = 'tester'
      const first = new Experiment({ dashRoot: temp.dir })
      expect(first.prefix).toMatch(
        /^tester\/scratch\/\d{4}\/\d{2}-\d{2}\/.+\/\d{2}\.\d{2}\.\d{2}\/\d{3}$/,
      )
      process.env.ML_DASH_USER = 'alice'
      process.env.ML_DASH_PREFIX = '{user}/proj/{now:%Y}/{now:%m-%d}/run'
      const templated = new Experiment({ dashRoot: temp.dir })
      // What the SDK's rules give: str.format over datetime.now(), in python3.
      const python = await run('python3', [
        '-c',
        'import datetime; n = datetime.datetime.now(); print("alice/proj/{0:%Y}/{0:%m-%d}/run".format(n))',
      ])
      expect(templated.prefix).toBe(python.stdout.trim())
    } finally {
      saved.restore()
    }
  })

  it('rejects start() with the path when the store cannot be created', async () => {
    writeFileSync(join(temp.dir, 'not-a-folder'), '')
    const exp = new Experiment({
      prefix: 'a/b/c',
      dashRoot: join(temp.dir, 'not-a-folder'),
    })
    await expect(exp.start()).rejects.toThrow(
      /cannot open the experiment folder ".*not-a-folder\/a\/b\/c": ENOTDIR/,
    )
    expect(exp.state).toBe('created')
  })

  it('closes after a start that fails while the close waits for it', async () => {
    writeFileSync(join(temp.dir, 'not-a-folder'), '')
    const exp = new Experiment({
      prefix: 'a/b/c',
      dashRoot: join(temp.dir, 'not-a-folder'),
    })
    const starting = exp.start()
    const closing = exp.close()
    await expect(starting).rejects.toThrow(/ENOTDIR/)
    expect(await closing).toEqual({})
    expect(exp.state).toBe('closed')
    expect(() => exp.log('late')).toThrow('it is closed')
    await expect(exp.start()).rejects.toThrow('cannot start: it is closed')
  })

  it('reports write failures out of band and never throws from log()', async () => {
    const failures: [string, number][] = []
    const exp = await new Experiment({
      prefix: 'a/b/broken',
      dashRoot: temp.dir,
      onError: (error, count) => failures.push([error.message, count]),
    }).start()
    mkdirSync(file('a/b/broken'))
    exp.log('lost')
    const report = await exp.close()
    expect(report.local).toMatchObject({
      accepted: 1,
      delivered: 0,
      failed: 1,
      timedOut: false,
    })
    expect(failures).toEqual([
      [expect.stringContaining(`cannot write "${file('a/b/broken')}"`), 1],
    ])
    expect(existsSync(join(temp.dir, 'a/b/broken/experiment.json'))).toBe(true)
  })

  it('adds one exit listener while running and removes it on close', async () => {
    const before = process.listenerCount('exit')
    const a = await new Experiment({
      prefix: 'a/b/one',
      dashRoot: temp.dir,
    }).start()
    const b = await new Experiment({
      prefix: 'a/b/two',
      dashRoot: temp.dir,
    }).start()
    expect(process.listenerCount('exit')).toBe(before + 1)
    await a.close()
    expect(process.listenerCount('exit')).toBe(before + 1)
    await b.close()
    expect(process.listenerCount('exit')).toBe(before)
  })

  it('drops and counts beyond maxQueueSize, keeping what it accepted', async () => {
    const exp = await new Experiment({
      prefix: 'a/b/full',
      dashRoot: temp.dir,
      maxQueueSize: 10,
    }).start()
    for (let i = 0; i < 25; i++) exp.log(`m${i}`)
    const report = await exp.close()
    expect(report.local).toMatchObject({
      accepted: 10,
      dropped: 15,
      delivered: 10,
    })
    expect(readLines(file('a/b/full')).map((l) => l.message)).toEqual(
      Array.from({ length: 10 }, (_, i) => `m${i}`),
    )
  })
})
