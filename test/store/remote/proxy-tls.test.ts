/**
 * The network settings end to end: the remote store writes to an HTTPS
 * front (a certificate openssl made for this run) of the HTTP test server,
 * through a real CONNECT proxy on 127.0.0.1, with the settings resolved by
 * resolveNetwork from options and an environment.
 */
import {
  afterAll,
  afterEach,
  beforeAll,
  beforeEach,
  describe,
  expect,
  it,
} from 'vitest'
import { encodeEntry } from '../../../src/core/entry.js'
import { parsePrefix } from '../../../src/core/prefix.js'
import type { StoreResult } from '../../../src/core/result.js'
import type { NetworkSettings } from '../../../src/store/remote/network.js'
import { resolveNetwork } from '../../../src/store/remote/network.js'
import type { RemoteStore } from '../../../src/store/remote/remote-store.js'
import { createRemoteStore } from '../../../src/store/remote/remote-store.js'
import { Experiment } from '../../../src/experiment.js'
import type { TestServer } from '../../../src/testing/ml-dash-server.js'
import {
  signTestToken,
  startTestServer,
} from '../../../src/testing/ml-dash-server.js'
import type {
  HttpsFront,
  TestCertificates,
  TestProxy,
} from './network-servers.js'
import {
  makeCertificates,
  startHttpsFront,
  startTestProxy,
} from './network-servers.js'

let certs: TestCertificates
let server: TestServer
let proxy: TestProxy
let front: HttpsFront | undefined
const stores: RemoteStore[] = []

beforeAll(() => (certs = makeCertificates()))
afterAll(() => certs.remove())
beforeEach(async () => {
  server = await startTestServer()
  proxy = await startTestProxy()
})
afterEach(async () => {
  for (const store of stores.splice(0)) store.close()
  await front?.close()
  front = undefined
  await proxy.close()
  await server.close()
})

async function https(requireClientCert = false): Promise<string> {
  front = await startHttpsFront(server.url, certs, requireClientCert)
  return front.url
}

function open(
  url: string,
  settings: NetworkSettings,
  env: Record<string, string>,
): RemoteStore {
  const store = createRemoteStore({
    url,
    token: signTestToken({ username: 'alice' }),
    tokenSource: 'the token option',
    prefix: parsePrefix('alice/proj/run-1'),
    requestTimeoutMs: 5000,
    network: resolveNetwork(settings, env),
  })
  stores.push(store)
  return store
}

const entries = (...messages: string[]) =>
  messages.map((message) => encodeEntry({ level: 'info', message }))

const stored = () =>
  server.experiment('alice/proj/run-1')?.logs.map((log) => log.message)

const errorOf = (result: StoreResult) =>
  result.status === 'success' ? undefined : result.error

describe('network settings against a real proxy and an HTTPS server', () => {
  it('reaches the HTTPS server through the CONNECT proxy of HTTPS_PROXY, trusting the CA of caFile', async () => {
    const url = await https()
    const store = open(
      url,
      { caFile: certs.caFile },
      { HTTPS_PROXY: proxy.url },
    )
    expect(await store.write(entries('a', 'b'))).toEqual({ status: 'success' })
    expect(stored()).toEqual(['a', 'b'])
    expect(proxy.tunnels.length).toBeGreaterThan(0)
    expect(new Set(proxy.tunnels)).toEqual(new Set([new URL(url).host]))
  })

  it('reports an untrusted certificate as a failure naming the problem and the fix', async () => {
    const url = await https()
    const store = open(url, {}, { HTTPS_PROXY: proxy.url })
    const result = await store.write(entries('a'))
    expect(result.status).toBe('failure')
    const error = errorOf(result) as Error & { code?: string }
    expect(error.code).toBe('ML_DASH_NETWORK')
    // The front sends the CA in its chain, so OpenSSL says SELF_SIGNED_CERT_IN_CHAIN.
    expect((error.cause as { code?: string }).code).toMatch(
      /^(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE)$/,
    )
    expect(error.message).toMatch(/TLS certificate is not trusted/)
    expect(error.message).toMatch(/caFile/)
    expect(error.message).toContain(
      `through the proxy ${proxy.url} (from HTTPS_PROXY)`,
    )
    expect(stored()).toBeUndefined()
  })

  it('connects directly to a host NO_PROXY lists', async () => {
    const url = await https()
    const store = open(
      url,
      { caFile: certs.caFile },
      {
        HTTPS_PROXY: proxy.url,
        NO_PROXY: 'example.com, 127.0.0.1',
      },
    )
    expect(await store.write(entries('a'))).toEqual({ status: 'success' })
    expect(stored()).toEqual(['a'])
    expect(proxy.tunnels).toEqual([])
  })

  it('sends the headers of the option and of ML_DASH_HEADERS on every request', async () => {
    const url = await https()
    const store = open(
      url,
      {
        caFile: certs.caFile,
        headers: { 'X-Team': 'vision', 'x-both': 'option' },
      },
      {
        HTTPS_PROXY: proxy.url,
        ML_DASH_HEADERS: 'x-api-key=s%3Dcr%20t , x-both=env',
      },
    )
    expect(await store.write(entries('a'))).toEqual({ status: 'success' })
    expect(await store.setStatus('COMPLETED')).toEqual({ status: 'success' })
    const seen = front!.requests
    expect(seen.map((r) => `${r.method} ${r.path}`)).toEqual(
      server.requests.map((r) => `${r.method} ${r.path}`),
    )
    expect(seen.length).toBeGreaterThanOrEqual(4)
    for (const request of seen) {
      expect(request.headers).toMatchObject({
        'x-team': 'vision',
        'x-both': 'option',
        'x-api-key': 's=cr t',
      })
      expect(request.headers.authorization).toMatch(/^Bearer /)
    }
  })

  it('presents the client certificate of certFile/keyFile to a server that requires one', async () => {
    const url = await https(true)
    const without = open(
      url,
      { caFile: certs.caFile },
      { HTTPS_PROXY: proxy.url },
    )
    const refused = await without.write(entries('a'))
    expect(refused.status).toBe('failure')
    expect(errorOf(refused)?.message).toMatch(/certFile and keyFile/)
    const withCert = open(
      url,
      {
        caFile: certs.caFile,
        certFile: certs.clientCertFile,
        keyFile: certs.clientKeyFile,
      },
      { HTTPS_PROXY: proxy.url },
    )
    expect(await withCert.write(entries('b'))).toEqual({ status: 'success' })
    expect(stored()).toEqual(['b'])
    expect(proxy.tunnels.length).toBeGreaterThan(0)
  })

  it('sends plain-HTTP requests in absolute form to the proxy of HTTP_PROXY', async () => {
    const store = open(
      server.url,
      {},
      {
        HTTP_PROXY: proxy.url.replace('http://', 'http://user:p%40ss@'),
      },
    )
    expect(await store.write(entries('a'))).toEqual({ status: 'success' })
    expect(stored()).toEqual(['a'])
    expect(proxy.tunnels).toEqual([])
    expect(proxy.forwards[0]).toBe(`${server.url}/graphql`)
    expect(proxy.authorizations[0]).toBe(
      `Basic ${Buffer.from('user:p@ss').toString('base64')}`,
    )
  })
})

describe('a proxy that refuses the tunnel', () => {
  it('is a failure naming the proxy (without its password) and its status', async () => {
    const url = await https()
    const refusing = await startTestProxy(407)
    try {
      const proxyUrl = refusing.url.replace('http://', 'http://user:hunter2@')
      const store = open(
        url,
        { caFile: certs.caFile },
        { https_proxy: proxyUrl },
      )
      const result = await store.write(entries('a'))
      expect(result.status).toBe('failure')
      const error = errorOf(result) as Error & { code?: string }
      expect(error.code).toBe('ML_DASH_NETWORK')
      expect((error.cause as { code?: string }).code).toBe('ERR_ML_DASH_PROXY')
      expect(error.message).toContain(
        `answered 407 to CONNECT ${new URL(url).host}`,
      )
      expect(error.message).toContain('(from https_proxy)')
      expect(error.message).not.toContain('hunter2')
      expect(refusing.authorizations[0]).toBe(
        `Basic ${Buffer.from('user:hunter2').toString('base64')}`,
      )
    } finally {
      await refusing.close()
    }
  })

  it('is retryable when the proxy answers 503', async () => {
    const url = await https()
    const refusing = await startTestProxy(503)
    try {
      const store = open(
        url,
        { caFile: certs.caFile },
        { HTTPS_PROXY: refusing.url },
      )
      expect((await store.write(entries('a'))).status).toBe('retryable')
    } finally {
      await refusing.close()
    }
  })
})

describe('the options, through an Experiment', () => {
  it('sends every request through the proxy, trusting caFile, with the headers of the option and of ML_DASH_HEADERS', async () => {
    const url = await https()
    const saved = {
      HTTPS_PROXY: process.env.HTTPS_PROXY,
      ML_DASH_HEADERS: process.env.ML_DASH_HEADERS,
    }
    process.env.HTTPS_PROXY = proxy.url
    process.env.ML_DASH_HEADERS = 'x-from-env=yes'
    try {
      const exp = await new Experiment({
        prefix: 'alice/proj/run-1',
        dashUrl: url,
        dashRoot: false,
        token: signTestToken({ username: 'alice' }),
        caFile: certs.caFile,
        headers: { 'x-team': 'vision' },
      }).start()
      exp.log('through the proxy')
      await exp.close()
    } finally {
      for (const [name, value] of Object.entries(saved))
        if (value === undefined) delete process.env[name]
        else process.env[name] = value
    }
    expect(stored()).toEqual(['through the proxy'])
    expect(proxy.tunnels.length).toBeGreaterThan(0)
    expect(front!.requests.length).toBeGreaterThan(2)
    for (const request of front!.requests)
      expect(request.headers).toMatchObject({
        'x-team': 'vision',
        'x-from-env': 'yes',
      })
  })
})
