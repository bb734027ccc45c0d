/**
 * Issue 14's promise, with real processes: an app in remote-only mode
 * killed at a random moment (SIGKILL, or the default SIGTERM an app does
 * not handle) while it logs, and `ml-dash-logs serve` killed after it
 * answered 200: after `ml-dash-logs sync`, the server holds every entry
 * reported as logged (or acknowledged) before the kill, in order, with
 * duplicates only from the batch in flight at the kill (counted, shown).
 */
import type { ChildProcess } from 'node:child_process'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { TestServer } from '../../src/testing/ml-dash-server.js'
import {
  signTestToken,
  startTestServer,
} from '../../src/testing/ml-dash-server.js'
import { FIXTURES, run, useTempDir } from '../helpers.js'

const CLI = fileURLToPath(
  new URL('../../bin/ml-dash-logs.cjs', import.meta.url),
)
const temp = useTempDir()
let server: TestServer
const token = signTestToken({ username: 'alice' })
beforeEach(async () => {
  server = await startTestServer()
})
afterEach(async () => {
  await server.close()
})

/** The environment of the children: their outboxes in this test's folder. */
const env = () => {
  const clean = { ...process.env }
  for (const name of Object.keys(clean))
    if (name.startsWith('ML_DASH_')) delete clean[name]
  return { ...clean, XDG_CACHE_HOME: join(temp.dir, 'cache') }
}

/** Resolves with stdout so far once `until(stdout)` holds. */
function watch(child: ChildProcess, until: (out: string) => boolean) {
  let out = ''
  return new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString()
      if (until(out)) resolve(out)
    })
    child.once('exit', () => reject(new Error(`exited early: ${out}`)))
  })
}

/**
 * The server's messages checked against `expected` (in order): each at
 * least once, in order, no other; returns how many came twice.
 */
function checkArrived(messages: string[], expected: number): number {
  const seen = new Set<string>()
  const firsts: string[] = []
  for (const message of messages)
    if (!seen.has(message)) {
      seen.add(message)
      firsts.push(message)
    }
  expect(firsts.slice(0, expected)).toEqual(
    Array.from({ length: expected }, (_, i) => `e${i}`),
  )
  // Nothing out of order past them either.
  expect(firsts).toEqual(firsts.map((_, i) => `e${i}`))
  return messages.length - firsts.length
}

/**
 * The most entries one log request carried to the experiment: a request
 * takes what waits (up to 10 000 entries), so the batch in flight at a
 * kill, the only one that may arrive twice, is at most this large.
 */
function largestRequest(prefix: string): number {
  const id = server.experiment(prefix)?.id
  let largest = 0
  for (const request of server.requests)
    if (request.method === 'POST' && request.path.endsWith(`/${id}/logs`))
      largest = Math.max(
        largest,
        (request.body as { logs: unknown[] }).logs.length,
      )
  return largest
}

async function syncAll(): Promise<void> {
  const synced = await run(
    process.execPath,
    [CLI, 'sync', '--dash-url', server.url],
    { env: { ...env(), ML_DASH_TOKEN: token } },
  )
  expect(synced.stderr).toMatch(/0 failed, 0 left/)
  expect(synced.code).toBe(0)
}

describe.each(['experiment', 'winston', 'pino-destination', 'otel'])(
  'an app logging through %s',
  (entry) => {
    it.each(['SIGKILL', 'SIGTERM'] as const)(
      'killed with %s at a random moment loses nothing it reported as logged',
      async (signal) => {
        const prefix = `alice/kill/${entry}-${signal}`
        const child = spawn(
          process.execPath,
          [join(FIXTURES, 'kill-app.mjs'), entry, server.url, token, prefix],
          { env: env() },
        )
        const after = 300 + Math.floor(Math.random() * 3000)
        const out = await watch(child, (text) => {
          const last = /logged (\d+)\n$/.exec(text)
          return last !== null && Number(last[1]) >= after
        })
        child.kill(signal)
        await new Promise((resolve) => child.once('exit', resolve))
        const reported = Number([...out.matchAll(/logged (\d+)/g)].at(-1)![1])
        await syncAll()
        const messages =
          server.experiment(prefix)?.logs.map((l) => l.message) ?? []
        const twice = checkArrived(messages, reported)
        console.log(
          `${entry}, ${signal} after ${reported} logged: ${messages.length} stored, ${twice} twice`,
        )
        // At most the batch in flight came twice: one request's worth.
        expect(twice).toBeLessThanOrEqual(largestRequest(prefix))
      },
    )
  },
)

// pino's worker reads what the app logged from thread-stream's buffer: what
// the buffer holds at a kill never reached the worker's outbox, so only the
// order is promised there: what arrives is every entry up to some point.
it.each(['SIGKILL', 'SIGTERM'] as const)(
  'an app logging through the pino worker transport, killed with %s: what arrives is gapless and in order',
  async (signal) => {
    const prefix = `alice/kill/pino-transport-${signal}`
    const child = spawn(
      process.execPath,
      [
        join(FIXTURES, 'kill-app.mjs'),
        'pino-transport',
        server.url,
        token,
        prefix,
      ],
      { env: env() },
    )
    // Once the worker is up (it starts in a few hundred ms; what is logged
    // before waits in the buffer), at a random moment.
    const after = 300 + Math.floor(Math.random() * 3000)
    await watch(child, (text) => {
      const last = /logged (\d+)\n$/.exec(text)
      return last !== null && Number(last[1]) >= after
    })
    await new Promise((resolve) =>
      setTimeout(resolve, 1000 + Math.random() * 500),
    )
    child.kill(signal)
    await new Promise((resolve) => child.once('exit', resolve))
    await syncAll()
    const messages = server.experiment(prefix)?.logs.map((l) => l.message) ?? []
    const twice = checkArrived(messages, 0)
    console.log(
      `pino-transport, ${signal} after ${after}+ logged: ${messages.length} stored, ${twice} twice`,
    )
    expect(messages.length).toBeGreaterThan(0)
    expect(twice).toBeLessThanOrEqual(largestRequest(prefix))
  },
)

it('serve killed with SIGKILL loses no record it answered 200 for', async () => {
  const child = spawn(
    process.execPath,
    [
      CLI,
      'serve',
      '--port',
      '0',
      '--no-local',
      '--dash-url',
      server.url,
      '--prefix',
      'alice/kill/serve',
    ],
    { env: { ...env(), ML_DASH_TOKEN: token } },
  )
  let err = ''
  const url = await new Promise<string>((resolve) => {
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString()
      const found = /receiving OTLP\/HTTP logs at (\S+)\/v1\/logs/.exec(err)
      if (found) resolve(found[1]!)
    })
  })
  // The server is slow to take logs: the receiver holds what it acknowledged.
  server.inject({ kind: 'delay', ms: 5000, count: 1000, match: /logs$/ })
  let acknowledged = 0
  for (let request = 0; request < 20; request++) {
    const records = Array.from({ length: 10 }, (_, i) => ({
      body: { stringValue: `e${request * 10 + i}` },
    }))
    const answer = await fetch(`${url}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceLogs: [{ scopeLogs: [{ logRecords: records }] }],
      }),
    })
    expect(answer.status).toBe(200)
    acknowledged += 10
  }
  child.kill('SIGKILL')
  await new Promise((resolve) => child.once('exit', resolve))
  server.clearFaults()
  await syncAll()
  const messages =
    server.experiment('alice/kill/serve')?.logs.map((l) => l.message) ?? []
  const twice = checkArrived(messages, acknowledged)
  console.log(
    `serve, SIGKILL after ${acknowledged} acknowledged: ${twice} twice`,
  )
  expect(twice).toBeLessThanOrEqual(largestRequest('alice/kill/serve'))
})
