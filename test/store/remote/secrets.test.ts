/**
 * A token, or a password in the server URL, never appears in stdout,
 * stderr, errors, debug output or stored records.
 */
import { join } from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { encodeEntry } from '../../../src/core/entry.js'
import { parsePrefix } from '../../../src/core/prefix.js'
import { createRemoteStore } from '../../../src/store/remote/remote-store.js'
import type { TestServer } from '../../../src/testing/ml-dash-server.js'
import {
  signTestToken,
  startTestServer,
} from '../../../src/testing/ml-dash-server.js'
import { FIXTURES, run } from '../../helpers.js'

let server: TestServer
beforeEach(async () => (server = await startTestServer()))
afterEach(() => server.close())

/**
 * Runs remote-errors.mjs against `url` under NODE_DEBUG with a refused and a
 * good token, through 503s and a 400 on the log requests.
 */
async function runFailingPaths(url: string) {
  const bad = signTestToken({ username: 'alice' }, 'not-the-secret')
  const good = signTestToken({ username: 'alice' })
  server.inject({ kind: 'status', status: 503, count: 2, match: /logs$/ })
  server.inject({ kind: 'status', status: 400, count: 1, match: /logs$/ })
  const result = await run(
    process.execPath,
    [join(FIXTURES, 'remote-errors.mjs'), url, bad, good],
    { env: { ...process.env, NODE_DEBUG: 'ml-dash-logs' } },
  )
  return { bad, good, result }
}

it('keeps both tokens out of every output on refused, failing and retried requests', async () => {
  const { bad, good, result } = await runFailingPaths(server.url)
  expect(result.code).toBe(0)
  // The paths really ran: the refusal, the retries and the permanent failure were all printed.
  expect(result.stdout).toContain(
    'refused the token from the token option (401)',
  )
  expect(result.stderr).toContain('ML-DASH-LOGS')
  expect(result.stderr).toContain('retrying')
  expect(result.stderr).toContain('answered 400')
  const output = result.stdout + result.stderr
  for (const token of [bad, good]) {
    expect(output).not.toContain(token)
    expect(output).not.toContain(token.split('.')[2])
  }
  const stored = JSON.stringify(
    [...server.experiments.values()].map((e) => e.logs),
  )
  expect(stored).not.toContain(good)
})

/** The server's URL with `alice:s3cret@` put before the host. */
const withPassword = (url: string) => url.replace('//', '//alice:s3cret@')

it('never shows the password of a server URL with user:password@ in any output', async () => {
  const { result } = await runFailingPaths(withPassword(server.url))
  expect(result.code).toBe(0)
  expect(result.stdout + result.stderr).not.toContain('s3cret')
  // The messages that name the server really were printed.
  expect(result.stdout).toContain(`the ml-dash server at ${server.url} refused`)
  expect(result.stderr).toContain(`${server.url}/api/experiments/`)
  expect(result.stderr).toContain('answered 400')
})

it('keeps the password of the server URL out of every error of the store', async () => {
  const open = (prefix: string) =>
    createRemoteStore({
      url: withPassword(server.url),
      token: signTestToken({ username: 'alice' }),
      tokenSource: 'the token option',
      prefix: parsePrefix(prefix),
      requestTimeoutMs: 5000,
    })
  const store = open('alice/proj/run')
  const nobody = open('nobody/proj/run')
  const write = () =>
    store.write([encodeEntry({ level: 'info', message: 'x' })])
  const results = [await nobody.open()]
  for (const fault of [
    { kind: 'status', status: 401, count: 1 },
    { kind: 'status', status: 503, count: 1 },
    { kind: 'drop', count: 1 },
  ] as const) {
    server.inject(fault)
    results.push(await write())
  }
  await server.close()
  results.push(await write())
  store.close()
  nobody.close()
  const messages = results.map((r) =>
    r.status !== 'success' ? r.error.message : r.status,
  )
  expect(messages.join('\n')).not.toContain('s3cret')
  expect(messages).toEqual([
    expect.stringContaining(`does not exist on ${server.url} `),
    expect.stringContaining(`the ml-dash server at ${server.url} refused`),
    expect.stringContaining(`POST ${server.url}/graphql answered 503`),
    expect.stringContaining(`POST ${server.url}/graphql failed`),
    expect.stringContaining(`POST ${server.url}/graphql failed`),
  ])
  expect(store.url).toBe(server.url)
})
