/** The remote store against servers that misbehave, and a host that does not exist. */
import type { RequestListener, Server } from 'node:http'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, expect, it } from 'vitest'
import { parsePrefix } from '../../../src/core/prefix.js'
import type { RemoteStore } from '../../../src/store/remote/remote-store.js'
import { createRemoteStore } from '../../../src/store/remote/remote-store.js'
import { signTestToken } from '../../../src/testing/ml-dash-server.js'

let server: Server | undefined
let store: RemoteStore | undefined
afterEach(async () => {
  store?.close()
  server?.closeAllConnections()
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(0)))
  server = undefined
})

/** A real HTTP server on 127.0.0.1 and a free port; resolves its URL. */
async function serve(listener: RequestListener): Promise<string> {
  server = createServer(listener)
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

function open(url: string, token = signTestToken({ username: 'alice' })) {
  store = createRemoteStore({
    url,
    token,
    tokenSource: 'the token option',
    prefix: parsePrefix('alice/proj/run'),
    requestTimeoutMs: 500,
  })
  return store
}

it('gives up on a server that trickles one byte every 100 ms, as a retryable timeout', async () => {
  const url = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' })
    const timer = setInterval(() => res.write(' '), 100)
    res.on('close', () => clearInterval(timer))
  })
  const result = await open(url).open()
  expect(result).toMatchObject({
    status: 'retryable',
    error: { code: 'ML_DASH_NETWORK', cause: { code: 'ERR_ML_DASH_TIMEOUT' } },
  })
}, 10_000)

it('masks a token the server echoes across the 200-character cut of its body', async () => {
  const token = signTestToken({ username: 'alice' })
  // "Bearer " ends at 187, so the cut at 200 falls inside the token.
  const url = await serve((req, res) =>
    res.writeHead(400).end('x'.repeat(180) + String(req.headers.authorization)),
  )
  const result = await open(url, token).open()
  expect(result.status).toBe('failure')
  const message = result.status !== 'success' ? result.error.message : ''
  expect(message).toContain('answered 400: xxx')
  for (let i = 0; i + 8 <= token.length; i++)
    expect(message).not.toContain(token.slice(i, i + 8))
})

it('sends the bearer token, not the user:password of the URL, as the authorization', async () => {
  const token = signTestToken({ username: 'alice' })
  const seen: (string | undefined)[] = []
  const url = await serve((req, res) => {
    seen.push(req.headers.authorization)
    res.writeHead(503).end()
  })
  await open(url.replace('//', '//alice:s3cret@'), token).open()
  expect(seen).toEqual([`Bearer ${token}`])
})

it('fails permanently, naming the host, when the host does not exist', async () => {
  const result = await open('http://no-such-host.invalid').open()
  expect(result.status).toBe('failure')
  expect(result.status !== 'success' && result.error.message).toContain(
    'DNS has no address for the host "no-such-host.invalid" (ENOTFOUND)',
  )
})
