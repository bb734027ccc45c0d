/**
 * Real pino, with this package's transport started by target name in
 * pino's worker thread, in child processes.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  signTestToken,
  startTestServer,
} from '../../src/testing/ml-dash-server.js'
import { FIXTURES, readLines, run, useTempDir } from '../helpers.js'

const temp = useTempDir()

describe('pino transport', () => {
  it.each(['create-logger-first', 'await-ready'])(
    'delivers all 10 000 records logged before process.exit(0) (%s)',
    async (mode) => {
      const prefix = 'alice/pino/exit'
      const before = Date.now()
      const result = await run(process.execPath, [
        join(FIXTURES, 'pino-exit.mjs'),
        temp.dir,
        prefix,
        '10000',
        mode,
      ])
      expect(result.code).toBe(0)
      const lines = temp.lines(prefix)
      expect(lines).toHaveLength(10_000)
      expect(lines.map((l) => l.sequenceNumber)).toEqual(lines.map((_, i) => i))
      expect(lines[0]).toMatchObject({
        level: 'info',
        message: 'record 0',
        metadata: { service: 'loader', i: 0, source_level: 'info' },
      })
      expect(lines[1]).toMatchObject({
        level: 'error',
        message: 'with error',
        metadata: { err: { type: 'Error' } },
      })
      expect(lines[9999]?.message).toBe('record 9999')
      for (const line of [lines[0]!, lines[9999]!])
        expect(Date.parse(line.timestamp)).toBeGreaterThanOrEqual(before - 1000)
    },
  )

  it('delivers all 10 000 records to the ml-dash server before process.exit(0) completes', async () => {
    const server = await startTestServer()
    try {
      const prefix = 'alice/pino/remote'
      const result = await run(process.execPath, [
        join(FIXTURES, 'pino-remote-exit.mjs'),
        server.url,
        signTestToken({ username: 'alice' }),
        prefix,
        '10000',
      ])
      expect(result.code).toBe(0)
      const logs = server.experiment(prefix)?.logs ?? []
      expect(logs.map((l) => l.message)).toEqual(
        Array.from({ length: 10_000 }, (_, i) => `record ${i}`),
      )
      expect(server.experiment(prefix)?.status).toBe('RUNNING')
    } finally {
      await server.close()
    }
  })

  it('handles custom levels, errors with cause, routing and several targets', async () => {
    const file = join(temp.dir, 'all.log')
    const result = await run(process.execPath, [
      join(FIXTURES, 'pino-features.mjs'),
      temp.dir,
      file,
    ])
    expect(result).toMatchObject({ code: 0, stderr: '' })
    const main = readLines(join(temp.dir, 'alice/pino/main/logs/logs.jsonl'))
    expect(
      main.map((l) => [l.level, l.message, l.metadata?.source_level]),
    ).toEqual([
      ['info', 'audit entry', 'audit'],
      ['fatal', 'critical entry', 'critical'],
      ['error', 'with error', 'error'],
      ['warn', 'refused route', 'warn'],
    ])
    expect(main[0]?.metadata).toMatchObject({ user: 'u1' })
    expect(main[2]?.metadata?.err).toMatchObject({
      type: 'Error',
      message: 'load failed',
      code: 'E_LOAD',
      cause: { type: 'TypeError', message: 'bad shard', code: 'E_SHARD' },
    })
    expect(main[3]?.metadata).toMatchObject({
      'ml_dash.prefix_refused': '../escape/x',
    })
    expect(
      readLines(join(temp.dir, 'alice/pino/run-7/logs/logs.jsonl')),
    ).toMatchObject([
      { level: 'warn', message: 'routed', metadata: { worker: 3 } },
    ])
    // The other target got everything, including the debug line below ml-dash's target level.
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(6)
  })

  it('lets logger.flush(cb) call back only after the entries are stored', async () => {
    const result = await run(process.execPath, [
      join(FIXTURES, 'pino-flush.mjs'),
      temp.dir,
      'alice/pino/flush',
    ])
    expect(result.stdout).toBe('stored before the callback: 500\n')
  })
})

describe('pino transport ended at once', () => {
  it('delivers all 300 records when transport.end() runs in the same tick as the logging, 20 times', async () => {
    const runOnce = async (n: number): Promise<number> => {
      const prefix = `alice/pino/end-${n}`
      const result = await run(process.execPath, [
        join(FIXTURES, 'pino-end-at-once.mjs'),
        temp.dir,
        prefix,
        '300',
      ])
      expect(result).toMatchObject({ code: 0, stderr: '' })
      // Nothing delivered may mean no store file at all.
      const file = join(temp.dir, prefix, 'logs', 'logs.jsonl')
      return existsSync(file) ? readLines(file).length : 0
    }
    const counts: number[] = []
    // Two at a time: the machine's two cores are shared.
    for (let n = 0; n < 20; n += 2)
      counts.push(...(await Promise.all([runOnce(n), runOnce(n + 1)])))
    expect(counts).toEqual(Array.from({ length: 20 }, () => 300))
  }, 120_000)
})

describe('pino transport flush', () => {
  it('waits idle for lines held for pino config, then calls back once they are stored', async () => {
    const result = await run(process.execPath, [
      join(FIXTURES, 'pino-flush-idle.mjs'),
      temp.dir,
      'alice/pino/flush-idle',
    ])
    expect(result).toMatchObject({ code: 0, stderr: '' })
    expect(result.stdout).toBe(
      'flushed while waiting for the config: false\n' +
        'worker loop busy while the flush waits: false\n' +
        'stored before the callback: 100\n',
    )
  })
})
