/** A token never appears in stdout, stderr, errors, debug output or stored records. */
import { join } from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import type { TestServer } from '../../../src/testing/ml-dash-server.js'
import {
  signTestToken,
  startTestServer,
} from '../../../src/testing/ml-dash-server.js'
import { FIXTURES, run } from '../../helpers.js'

let server: TestServer
beforeEach(async () => (server = await startTestServer()))
afterEach(() => server.close())

it('keeps both tokens out of every output on refused, failing and retried requests', async () => {
  const bad = signTestToken({ username: 'alice' }, 'not-the-secret')
  const good = signTestToken({ username: 'alice' })
  server.inject({ kind: 'status', status: 503, count: 2, match: /logs$/ })
  server.inject({ kind: 'status', status: 400, count: 1, match: /logs$/ })
  const result = await run(
    process.execPath,
    [join(FIXTURES, 'remote-errors.mjs'), server.url, bad, good],
    {
      env: { ...process.env, NODE_DEBUG: 'ml-dash-logs' },
    },
  )
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
