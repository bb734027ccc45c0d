/** A local store root that cannot be written: a clear error, and the server still gets everything. */
import { chmodSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import {
  signTestToken,
  startTestServer,
} from '../../src/testing/ml-dash-server.js'
import type { TestServer } from '../../src/testing/ml-dash-server.js'
import { FIXTURES, run, tempDir } from '../helpers.js'

let temp: ReturnType<typeof tempDir>
let server: TestServer
beforeEach(async () => {
  temp = tempDir()
  server = await startTestServer()
})
afterEach(async () => {
  chmodSync(join(temp.dir, 'readonly'), 0o755)
  temp.remove()
  await server.close()
})

it('reports the read-only root by path and keeps delivering to the server (hybrid)', async () => {
  chmodSync(temp.dir, 0o755)
  const root = join(temp.dir, 'readonly')
  mkdirSync(root)
  chmodSync(root, 0o555)
  const prefix = 'alice/readonly/run'
  const result = await run(process.execPath, [
    join(FIXTURES, 'readonly-hybrid.mjs'),
    root,
    prefix,
    server.url,
    signTestToken({ username: 'alice' }),
  ])
  // The default failure line names the path and the reason, once; and
  // once that the outbox beside the store cannot be made either.
  const lines = result.stderr.trim().split('\n')
  expect(lines).toHaveLength(2)
  expect(lines).toContainEqual(
    expect.stringMatching(
      /^ml-dash-logs: local alice\/readonly\/run: \d+ entries not delivered: .*EACCES/,
    ),
  )
  expect(lines).toContainEqual(
    expect.stringMatching(
      /^ml-dash-logs: remote alice\/readonly\/run: no outbox .*EACCES.*\[ML_DASH_STORE_IO\]/,
    ),
  )
  const { stats, errors } = JSON.parse(result.stdout) as {
    stats: {
      experiments: Record<
        string,
        { local: { failed: number }; remote: { delivered: number } }
      >
    }
    errors: [string, number][]
  }
  expect(stats.experiments[prefix]).toMatchObject({
    local: { failed: 20 },
    remote: { delivered: 20 },
  })
  expect(errors.map(([message]) => message)).toContainEqual(
    expect.stringMatching(
      new RegExp(
        `cannot open the experiment folder ".*readonly/alice/readonly/run": EACCES`,
      ),
    ),
  )
  expect(server.experiment(prefix)?.logs.map((l) => l.message)).toEqual(
    Array.from({ length: 20 }, (_, i) => `m${i}`),
  )
})
