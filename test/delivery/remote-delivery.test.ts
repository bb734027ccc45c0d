/**
 * Experiment → ml-dash server over real HTTP: the SDK's request sequence,
 * delivery through faults, permanent errors that never hang, hybrid mode,
 * and processes that exit on their own.
 */
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { ExperimentOptions } from '../../src/experiment.js'
import { Experiment } from '../../src/experiment.js'
import type { TestServer } from '../../src/testing/ml-dash-server.js'
import {
  signTestToken,
  startTestServer,
} from '../../src/testing/ml-dash-server.js'
import { FIXTURES, run, useTempDir } from '../helpers.js'

// Registered first, so the folder is removed after the server closes.
const temp = useTempDir()
let server: TestServer
let token: string
beforeEach(async () => {
  server = await startTestServer()
  token = signTestToken({ username: 'alice' })
})
afterEach(async () => {
  await server.close()
})

const remote = (prefix: string, options: ExperimentOptions = {}) =>
  new Experiment({
    prefix,
    dashUrl: server.url,
    token,
    dashRoot: false,
    ...options,
  })
const messages = (prefix: string) =>
  server.experiment(prefix)?.logs.map((l) => l.message)

/**
 * Picks the log POSTs a rate-limited server refuses: the first `first` of
 * them, and any that comes back before the Retry-After it was given (less
 * 100 ms, so that timer rounding cannot make an honest client look early).
 * The test server's faults are counted, not timed, so it is given as the
 * fault's `match`, which the server asks once per request.
 */
class RateLimitedLogs extends RegExp {
  refused = 0
  #lastRefusal = -Infinity
  readonly #first: number
  readonly #retryAfterMs: number

  constructor(first: number, retryAfterMs: number) {
    super('logs$')
    this.#first = first
    this.#retryAfterMs = retryAfterMs
  }

  override test(target: string): boolean {
    if (!super.test(target)) return false
    const now = Date.now()
    const early = now - this.#lastRefusal < this.#retryAfterMs - 100
    if (this.refused >= this.#first && !early) return false
    this.refused++
    this.#lastRefusal = now
    return true
  }
}

describe('an Experiment on the server', () => {
  it("makes the SDK's requests and ends with every entry in call order and the status recorded", async () => {
    const prefix = 'alice/proj/f1/run'
    await remote(prefix).run(async (exp) => {
      for (let i = 0; i < 7; i++) {
        exp.log(`m${i}`, { level: i % 2 ? 'warn' : 'info', metadata: { i } })
        // Three requests: what waits at each flush.
        if (i === 2 || i === 4) await exp.flush()
      }
    })
    const calls = server.requests.map(
      (r) => `${r.method} ${r.path.replace(/-\d+/g, '')}`,
    )
    expect(calls).toEqual([
      'POST /graphql',
      'POST /api/namespaces/alice/nodes',
      'POST /api/namespaces/alice/nodes',
      'POST /api/namespaces/alice/nodes',
      'POST /api/experiments/exp/logs',
      'POST /api/experiments/exp/logs',
      'POST /api/experiments/exp/logs',
      'PATCH /api/nodes/node',
    ])
    expect(messages(prefix)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6'])
    expect(server.experiment(prefix)?.logs[1]).toMatchObject({
      level: 'warn',
      metadata: { i: 1 },
    })
    expect(server.experiment(prefix)?.status).toBe('COMPLETED')
  })

  it('sends a backlog in requests carrying everything waiting, up to 10 000 entries and maxBatchBytes, in call order', async () => {
    const byCount = 'alice/proj/backlog-count'
    await remote(byCount, { maxBatchBytes: 64 * 1024 * 1024 }).run((exp) => {
      for (let i = 0; i < 25_000; i++) exp.log(`m${i}`)
    })
    const logBodies = () =>
      server.requests
        .filter((r) => r.method === 'POST' && r.path.endsWith('/logs'))
        .map((r) => (r.body as { logs: unknown[] }).logs)
    expect(logBodies().map((logs) => logs.length)).toEqual([
      10_000, 10_000, 5_000,
    ])
    expect(messages(byCount)).toEqual(
      Array.from({ length: 25_000 }, (_, i) => `m${i}`),
    )

    const byBytes = 'alice/proj/backlog-bytes'
    server.requests.length = 0
    await remote(byBytes, { maxBatchBytes: 4096 }).run((exp) => {
      for (let i = 0; i < 500; i++)
        exp.log(`b${i}`, { metadata: { pad: 'x'.repeat(100) } })
    })
    const bodies = logBodies()
    for (const logs of bodies) {
      const text = logs.map((entry) => JSON.stringify(entry)).join('')
      expect(text.length).toBeLessThanOrEqual(4096)
    }
    // Each request as full as the bound allows: 500 entries of about 190 bytes.
    expect(bodies.length).toBeLessThanOrEqual(Math.ceil((500 * 200) / 4096) + 1)
    expect(messages(byBytes)).toEqual(
      Array.from({ length: 500 }, (_, i) => `b${i}`),
    )
  })

  it('takes a burst of 200 000 entries with default options and delivers it whole, in call order', async () => {
    const prefix = 'alice/proj/burst'
    const exp = await remote(prefix).start()
    for (let i = 0; i < 200_000; i++)
      exp.log('request handled', { metadata: { i, route: '/api/items' } })
    const report = await exp.close()
    expect(report.remote).toMatchObject({
      accepted: 200_000,
      delivered: 200_000,
      dropped: 0,
    })
    const logs = server.experiment(prefix)!.logs
    expect(logs.every((entry, i) => entry.metadata?.i === i)).toBe(true)
    expect(logs).toHaveLength(200_000)
  })

  it('records FAILED when run() throws', async () => {
    await expect(
      remote('alice/proj/fails').run(() => {
        throw new Error('boom')
      }),
    ).rejects.toThrow('boom')
    expect(server.experiment('alice/proj/fails')?.status).toBe('FAILED')
  })

  it('waits for a start still under way when closed, then closes what it opened', async () => {
    const prefix = 'alice/proj/closed-while-starting'
    const listeners = () =>
      ['exit', 'beforeExit'].map((event) => process.listenerCount(event))
    const before = listeners()
    // Hybrid, so that the start registers both exit listeners.
    const exp = new Experiment({
      prefix,
      dashUrl: server.url,
      token,
      dashRoot: temp.dir,
    })
    void exp.start()
    const report = await exp.close()
    expect(report).toMatchObject({
      local: { pending: 0 },
      remote: { pending: 0 },
    })
    expect(server.experiment(prefix)?.status).toBe('COMPLETED')
    expect(exp.state).toBe('closed')
    expect(() => exp.log('late')).toThrow('it is closed')
    expect(listeners()).toEqual(before)
  })

  it('keeps its deadline when closed during a start that outlasts it, and the start then closes what it opened', async () => {
    const prefix = 'alice/proj/slow-start'
    // The project lookup answers only after the close's deadline.
    server.inject({ kind: 'delay', ms: 1500, count: 1, match: /graphql/ })
    const exp = remote(prefix)
    let started = false
    const starting = exp.start().finally(() => (started = true))
    expect(await exp.close('COMPLETED', 200)).toEqual({})
    expect(started).toBe(false)
    expect(exp.state).toBe('closed')
    await starting
    expect(() => exp.log('late')).toThrow('it is closed')
    // The start's own close records the status the close asked for.
    for (
      let i = 0;
      i < 100 && server.experiment(prefix)?.status !== 'COMPLETED';
      i++
    )
      await new Promise((resolve) => setTimeout(resolve, 20))
    expect(server.experiment(prefix)?.status).toBe('COMPLETED')
  })

  it('refuses to start with one clear error when the token is refused, or missing', async () => {
    const bad = signTestToken({ username: 'alice' }, 'wrong-secret')
    await expect(
      remote('alice/proj/run', { token: bad }).start(),
    ).rejects.toThrow(
      /refused the token from the token option \(401\); run `ml-dash login`/,
    )
    const saved = { token: process.env.ML_DASH_TOKEN, home: process.env.HOME }
    delete process.env.ML_DASH_TOKEN
    process.env.HOME = temp.dir
    try {
      expect(
        () => new Experiment({ prefix: 'alice/p/r', dashUrl: server.url }),
      ).toThrow(
        `no token for the ml-dash server at ${server.url}: run \`ml-dash login\``,
      )
    } finally {
      process.env.HOME = saved.home
      if (saved.token !== undefined) process.env.ML_DASH_TOKEN = saved.token
    }
  })
})

describe('delivery through faults', () => {
  it('delivers 50 000 entries exactly once and in order through 503s, 429s, drops and 10 s down', async () => {
    const prefix = 'alice/proj/storm'
    const failures: string[] = []
    const exp = await remote(prefix, {
      batchSize: 500,
      flushIntervalMs: 50,
      maxRetries: 30,
      retryBaseDelayMs: 50,
      retryMaxDelayMs: 1000,
      onError: (error) => failures.push(error.message),
    }).start()
    const TOTAL = 50_000
    let peakPending = 0
    const faults = (async () => {
      server.inject({ kind: 'status', status: 503, count: 5, match: /logs$/ })
      await new Promise((resolve) => setTimeout(resolve, 200))
      server.inject({
        kind: 'status',
        status: 429,
        count: 2,
        retryAfter: '1',
        match: /logs$/,
      })
      await new Promise((resolve) => setTimeout(resolve, 200))
      server.inject({ kind: 'drop', count: 5, match: /logs$/ })
      await new Promise((resolve) => setTimeout(resolve, 200))
      await server.down(10_000)
    })()
    for (let i = 0; i < TOTAL; i++) {
      exp.log(`entry ${i}`, { metadata: { i } })
      if (i % 1000 === 999) {
        peakPending = Math.max(peakPending, exp.stats.remote!.pending)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    }
    await faults
    const report = await exp.close('COMPLETED', 60_000)
    console.log(
      'fault storm counters:',
      JSON.stringify(report.remote),
      'peak pending:',
      peakPending,
    )
    expect(failures).toEqual([])
    expect(report.remote).toMatchObject({
      accepted: TOTAL,
      delivered: TOTAL,
      failed: 0,
      dropped: 0,
      pending: 0,
    })
    expect(report.remote!.retried).toBeGreaterThan(0)
    expect(peakPending).toBeLessThanOrEqual(100_000)
    const stored = server.experiment(prefix)!.logs
    expect(stored.map((l) => l.message)).toEqual(
      Array.from({ length: TOTAL }, (_, i) => `entry ${i}`),
    )
    expect(server.experiment(prefix)?.status).toBe('COMPLETED')
  }, 60_000)

  it('waits out Retry-After through ten flushes, so three 429s cost three retries and nothing is lost', async () => {
    const prefix = 'alice/proj/flush-during-retry-after'
    const exp = await remote(prefix).start()
    const limiter = new RateLimitedLogs(3, 2000)
    server.inject({
      kind: 'status',
      status: 429,
      retryAfter: '2',
      count: Infinity,
      match: limiter,
    })
    for (let i = 0; i < 5; i++) exp.log(`m${i}`)
    // Each flush gives up at its own deadline; none may cut the wait short.
    for (let i = 0; i < 10; i++) await exp.flush(50)
    const report = await exp.close()
    expect(report.remote).toMatchObject({
      accepted: 5,
      delivered: 5,
      failed: 0,
      pending: 0,
    })
    expect(messages(prefix)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'])
    expect(limiter.refused).toBe(3)
  })

  it('counts and reports a batch refused with 400, and goes on delivering', async () => {
    const prefix = 'alice/proj/bad-batch'
    const failures: [string, number][] = []
    const exp = await remote(prefix, {
      batchSize: 2,
      onError: (e, n) => failures.push([e.message, n]),
    }).start()
    server.inject({ kind: 'status', status: 400, count: 1, match: /logs$/ })
    // The first request carries m0 and m1 (what waits at the flush).
    for (let i = 0; i < 6; i++) {
      exp.log(`m${i}`)
      if (i === 1) await exp.flush()
    }
    const report = await exp.close()
    expect(report.remote).toMatchObject({ delivered: 4, failed: 2, pending: 0 })
    expect(failures).toEqual([
      [expect.stringContaining('answered 400') as unknown, 2],
    ])
    expect(messages(prefix)).toEqual(['m2', 'm3', 'm4', 'm5'])
  })

  it('never hangs close() on a token refused mid-run, and keeps the entry in the outbox for a process whose token works', async () => {
    const exp = await remote('alice/proj/revoked', {
      closeTimeoutMs: 2000,
    }).start()
    server.inject({ kind: 'status', status: 401, count: 1000 })
    exp.log('kept')
    const report = await exp.close()
    // A refused token is not the entry's fault: kept, not thrown away.
    expect(report.remote).toMatchObject({
      accepted: 1,
      delivered: 0,
      failed: 0,
      pending: 1,
      timedOut: true,
    })
    expect(report.statusError?.message).toContain('(401)')
    server.clearFaults()
    await remote('alice/proj/revoked')
      .start()
      .then((next) => next.close())
    expect(messages('alice/proj/revoked')).toEqual(['kept'])
  })

  it('keeps in the outbox what a silent server did not take by the close deadline, and the next process sends it first', async () => {
    const failures: number[] = []
    const exp = await remote('alice/proj/slow', {
      requestTimeoutMs: 60_000,
      onError: (_e, n) => failures.push(n),
    }).start()
    server.inject({ kind: 'delay', ms: 30_000, count: 10 })
    exp.log('a')
    exp.log('b')
    const report = await exp.close('COMPLETED', 300)
    // Not lost, so not failed: kept, and no onError.
    expect(report.remote).toMatchObject({
      accepted: 2,
      failed: 0,
      pending: 2,
      timedOut: true,
    })
    expect(failures).toEqual([])
    server.clearFaults()
    const next = await remote('alice/proj/slow').start()
    next.log('c')
    await next.close()
    expect(messages('alice/proj/slow')).toEqual(['a', 'b', 'c'])
  })
})

describe('hybrid mode', () => {
  it('keeps writing locally while the server is down', async () => {
    const prefix = 'alice/proj/hybrid'
    await server.close()
    const exp = await new Experiment({
      prefix,
      dashUrl: server.url,
      token,
      dashRoot: temp.dir,
      closeTimeoutMs: 500,
    }).start()
    for (let i = 0; i < 100; i++) exp.log(`m${i}`)
    const local = await exp.flush(2000)
    expect(local.local).toMatchObject({ delivered: 100, pending: 0 })
    const report = await exp.close()
    // Kept in the outbox beside the store, for the next process.
    expect(report.remote).toMatchObject({
      delivered: 0,
      failed: 0,
      pending: 100,
    })
    expect(temp.lines(prefix)).toHaveLength(100)
  })

  it('keeps delivering to the server when the local store fails', async () => {
    const prefix = 'alice/proj/hybrid-local-broken'
    const exp = await new Experiment({
      prefix,
      dashUrl: server.url,
      token,
      dashRoot: temp.dir,
    }).start()
    mkdirSync(join(temp.dir, prefix, 'logs', 'logs.jsonl'))
    for (let i = 0; i < 10; i++) exp.log(`m${i}`)
    const report = await exp.close()
    expect(report.local).toMatchObject({ failed: 10 })
    expect(report.remote).toMatchObject({ delivered: 10 })
    expect(messages(prefix)).toHaveLength(10)
  })
})

describe('a vanished local root in hybrid mode', () => {
  it('reports the missing path and keeps delivering to the server', async () => {
    const prefix = 'alice/proj/vanished'
    const root = join(temp.dir, 'root')
    const failures: string[] = []
    const exp = await new Experiment({
      prefix,
      dashUrl: server.url,
      token,
      dashRoot: root,
      onError: (e) => failures.push(e.message),
    }).start()
    rmSync(root, { recursive: true, force: true })
    for (let i = 0; i < 10; i++) exp.log(`m${i}`)
    const report = await exp.close()
    expect(report.local).toMatchObject({ failed: 10 })
    expect(failures).toContainEqual(
      expect.stringMatching(
        /cannot write ".*root\/alice\/proj\/vanished\/logs\/logs\.jsonl": ENOENT/,
      ),
    )
    // The outbox beside the store vanished too: said, and entries wait in memory.
    expect(failures).toContainEqual(
      expect.stringMatching(/cannot write the outbox .*ENOENT.*wait in memory/),
    )
    expect(report.remote).toMatchObject({ delivered: 10 })
    expect(messages(prefix)).toHaveLength(10)
  })
})

describe('process exit', () => {
  it('exits on its own after close(), with everything delivered', async () => {
    const prefix = 'alice/proj/exit-close'
    const result = await run(process.execPath, [
      join(FIXTURES, 'remote-then-exit.mjs'),
      server.url,
      token,
      prefix,
      'close',
    ])
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({
      delivered: 10,
      pending: 0,
    })
    expect(server.experiment(prefix)?.status).toBe('COMPLETED')
  })

  it('delivers the last partial batch when the program just ends (beforeExit flush)', async () => {
    const prefix = 'alice/proj/exit-natural'
    const result = await run(process.execPath, [
      join(FIXTURES, 'remote-then-exit.mjs'),
      server.url,
      token,
      prefix,
      'end',
    ])
    expect(result.code).toBe(0)
    expect(messages(prefix)).toEqual(
      Array.from({ length: 10 }, (_, i) => `entry ${i}`),
    )
  })
})
