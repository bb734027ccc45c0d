import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { encodeEntry } from '../../../src/core/entry.js'
import { parsePrefix } from '../../../src/core/prefix.js'
import type { RemoteStore } from '../../../src/store/remote/remote-store.js'
import { createRemoteStore } from '../../../src/store/remote/remote-store.js'
import type { TestServer } from '../../../src/testing/ml-dash-server.js'
import {
  signTestToken,
  startTestServer,
} from '../../../src/testing/ml-dash-server.js'

let server: TestServer
let store: RemoteStore | undefined
beforeEach(async () => (server = await startTestServer()))
afterEach(async () => {
  store?.close()
  await server.close()
})

function open(
  prefix: string,
  token = signTestToken({ username: 'alice' }),
): RemoteStore {
  store = createRemoteStore({
    url: server.url,
    token,
    tokenSource: 'the token option',
    prefix: parsePrefix(prefix),
    info: { description: 'd', tags: ['t'] },
    requestTimeoutMs: 5000,
  })
  return store
}

const entries = (...messages: string[]) =>
  messages.map((message) => encodeEntry({ level: 'info', message }))

describe('remote store', () => {
  it("creates a nested experiment with the SDK's requests, in order, then posts logs", async () => {
    const remote = open('alice/proj/f1/f2/run-1')
    expect(await remote.write(entries('a', 'b'))).toEqual({ status: 'success' })
    const calls = server.requests.map((r) =>
      `${r.method} ${r.path} ${(r.body as { type?: string }).type ?? ''}`.trim(),
    )
    expect(calls).toEqual([
      'POST /graphql',
      'POST /api/namespaces/alice/nodes PROJECT',
      'POST /api/namespaces/alice/nodes FOLDER',
      'POST /api/namespaces/alice/nodes FOLDER',
      'POST /api/namespaces/alice/nodes EXPERIMENT',
      expect.stringMatching(
        /^POST \/api\/experiments\/exp-\d+\/logs$/,
      ) as unknown,
    ])
    const [, project, f1, f2, experiment, logs] = server.requests.map(
      (r) => r.body as Record<string, unknown>,
    )
    expect(project).toEqual({ type: 'PROJECT', name: 'proj', slug: 'proj' })
    expect(f1).toMatchObject({ type: 'FOLDER', parentId: 'ROOT', name: 'f1' })
    expect(f2).toMatchObject({ type: 'FOLDER', name: 'f2' })
    expect(f2!.parentId).not.toBe('ROOT')
    expect(experiment).toMatchObject({
      type: 'EXPERIMENT',
      name: 'run-1',
      description: 'd',
      tags: ['t'],
    })
    expect(experiment!.projectId).toEqual(expect.any(String))
    expect((logs!.logs as object[])[0]).not.toHaveProperty('sequenceNumber')
    expect(
      server
        .experiment('alice/proj/f1/f2/run-1')
        ?.logs.map((l) => [l.sequenceNumber, l.message]),
    ).toEqual([
      [0, 'a'],
      [1, 'b'],
    ])
  })

  it('sends projectSlug for an unknown project when there are no folders', async () => {
    const remote = open('alice/fresh/run')
    await remote.open()
    expect(
      server.requests.map((r) => (r.body as { type?: string }).type),
    ).toEqual([undefined, 'EXPERIMENT'])
    expect(server.requests[1]?.body).toMatchObject({
      parentId: 'ROOT',
      projectSlug: 'fresh',
    })
  })

  it('opens once and records the status', async () => {
    const remote = open('alice/proj/run')
    await remote.write(entries('x'))
    await remote.write(entries('y'))
    expect(await remote.setStatus('FAILED')).toEqual({ status: 'success' })
    expect(server.requests.filter((r) => r.path === '/graphql')).toHaveLength(1)
    expect(server.experiment('alice/proj/run')?.status).toBe('FAILED')
  })

  it('reads logs back with filters', async () => {
    const remote = open('alice/proj/read')
    await remote.write([
      ...entries('one'),
      encodeEntry({ level: 'error', message: 'two' }),
    ])
    expect(await remote.readLogs({ level: ['error'] })).toEqual({
      logs: [
        expect.objectContaining({
          message: 'two',
          sequenceNumber: 1,
        }) as unknown,
      ],
      hasMore: false,
    })
    expect((await remote.readLogs({ limit: 1 })).hasMore).toBe(true)
  })

  it('fails permanently, naming the namespace, when it does not exist', async () => {
    const result = await open('nobody/proj/run').open()
    expect(result.status).toBe('failure')
    expect(result.status !== 'success' && result.error.message).toContain(
      'the namespace "nobody" does not exist',
    )
  })

  it('turns 401 into one clear error that never shows the token', async () => {
    const token = signTestToken({ username: 'alice' }, 'another-secret')
    const result = await open('alice/proj/run', token).write(entries('x'))
    expect(result.status).toBe('failure')
    const message = result.status !== 'success' ? result.error.message : ''
    expect(message).toContain(
      'refused the token from the token option (401); run `ml-dash login`',
    )
    expect(message).not.toContain(token)
  })

  it('classifies 503 with Retry-After as retryable and 400 as permanent', async () => {
    const remote = open('alice/proj/run')
    await remote.open()
    server.inject({ kind: 'status', status: 503, count: 1, retryAfter: '2' })
    expect(await remote.write(entries('x'))).toMatchObject({
      status: 'retryable',
      retryAfterMs: 2000,
    })
    server.inject({ kind: 'status', status: 400, count: 1 })
    expect(await remote.write(entries('x'))).toMatchObject({
      status: 'failure',
    })
  })

  it('treats a dropped connection and a refused port as retryable', async () => {
    const remote = open('alice/proj/run')
    await remote.open()
    server.inject({ kind: 'drop', count: 1 })
    expect((await remote.write(entries('x'))).status).toBe('retryable')
    await server.close()
    expect((await remote.write(entries('x'))).status).toBe('retryable')
  })
})
