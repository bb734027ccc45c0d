import { writeFileSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  bypassesProxy,
  parseHeaders,
  proxyFor,
  resolveNetwork,
} from '../../../src/store/remote/network.js'
import { createHttpClient } from '../../../src/store/remote/http-client.js'
import type { TestCertificates } from './network-servers.js'
import { makeCertificates } from './network-servers.js'

let certs: TestCertificates
beforeAll(() => (certs = makeCertificates()))
afterAll(() => certs.remove())

/** The thrown error, for assertions on its code and sentence. */
function thrown(run: () => unknown): Error & { code?: string } {
  try {
    run()
  } catch (error) {
    return error as Error & { code?: string }
  }
  throw new Error('expected a throw')
}

describe('parseHeaders (the OTEL_EXPORTER_OTLP_HEADERS format)', () => {
  it('splits at commas and the first "=", trims, URL-decodes and lower-cases names', () => {
    expect(
      parseHeaders(
        ' X-Api-Key = a%2Cb%3Dc ,,x-empty-ok=%20, X-Eq=a=b ',
        'ML_DASH_HEADERS',
      ),
    ).toEqual({ 'x-api-key': 'a,b=c', 'x-empty-ok': ' ', 'x-eq': 'a=b' })
    expect(parseHeaders('', 'ML_DASH_HEADERS')).toEqual({})
  })

  it('names a malformed entry by position and key, never showing a value', () => {
    const noEquals = thrown(() =>
      parseHeaders('a=1,sekrit-token', 'ML_DASH_HEADERS'),
    )
    expect(noEquals.code).toBe('ML_DASH_CONFIG')
    expect(noEquals.message).toMatch(/ML_DASH_HEADERS entry 2 is not key=value/)
    expect(noEquals.message).not.toContain('sekrit')
    const badEscape = thrown(() =>
      parseHeaders('x-key=sekrit%zz', 'ML_DASH_HEADERS'),
    )
    expect(badEscape.message).toMatch(
      /entry 1 \(key "x-key"\) has a malformed %-escape/,
    )
    expect(badEscape.message).not.toContain('sekrit')
    const semicolon = thrown(() =>
      parseHeaders('x-key=sek;rit', 'ML_DASH_HEADERS'),
    )
    expect(semicolon.message).toMatch(/%3B/)
    expect(semicolon.message).not.toContain('sek')
    const badName = thrown(() => parseHeaders('bad name=1', 'ML_DASH_HEADERS'))
    expect(badName.message).toMatch(/is not a header name/)
    const newline = thrown(() =>
      parseHeaders('x-a=1%0D%0Ax-b: 2', 'ML_DASH_HEADERS'),
    )
    expect(newline.message).toMatch(/"x-a" is not one that HTTP can carry/)
  })

  it('refuses headers the library sets itself', () => {
    const auth = thrown(() =>
      parseHeaders('Authorization=Bearer%20x', 'ML_DASH_HEADERS'),
    )
    expect(auth.message).toMatch(/sets "authorization".*token option/)
    expect(auth.message).not.toContain('Bearer')
    expect(
      thrown(() => resolveNetwork({ headers: { 'Content-Length': '1' } }, {}))
        .message,
    ).toMatch(/the headers option sets "content-length"/)
  })
})

describe('resolveNetwork', () => {
  it('lets the option win over ML_DASH_HEADERS per header, case-insensitively', () => {
    const network = resolveNetwork(
      { headers: { 'X-Both': 'option' } },
      { ML_DASH_HEADERS: 'x-both=env,x-env=1' },
    )
    expect(network.headers).toEqual({ 'x-both': 'option', 'x-env': '1' })
  })

  it('reads the PEM files, and names the option and the file it cannot use', () => {
    const network = resolveNetwork(
      {
        caFile: certs.caFile,
        certFile: certs.clientCertFile,
        keyFile: certs.clientKeyFile,
      },
      {},
    )
    expect(network.tls.ca?.toString()).toContain('BEGIN CERTIFICATE')
    expect(network.tls.key?.toString()).toContain('PRIVATE KEY')
    const missing = join(certs.dir, 'nope.pem')
    const error = thrown(() => resolveNetwork({ caFile: missing }, {}))
    expect(error.code).toBe('ML_DASH_CONFIG')
    expect(error.message).toBe(
      `ml-dash-logs: caFile "${missing}" cannot be read (ENOENT)`,
    )
    expect(
      thrown(() => resolveNetwork({ caFile: certs.dir }, {})).message,
    ).toMatch(/caFile ".*" cannot be read \(EISDIR\)/)
    const notPem = join(certs.dir, 'not.pem')
    writeFileSync(notPem, 'hello\n')
    expect(
      thrown(() =>
        resolveNetwork({ certFile: notPem, keyFile: certs.clientKeyFile }, {}),
      ).message,
    ).toMatch(/certFile ".*not\.pem" holds no PEM certificate/)
    expect(
      thrown(() =>
        resolveNetwork(
          { certFile: certs.clientCertFile, keyFile: certs.caFile },
          {},
        ),
      ).message,
    ).toMatch(/keyFile ".*ca\.pem" holds no PEM private key/)
    expect(
      thrown(() => resolveNetwork({ certFile: certs.clientCertFile }, {}))
        .message,
    ).toMatch(/certFile is given without keyFile/)
  })

  it('reads the proxy variables: lower case first, a scheme optional, http(s) only', () => {
    const both = resolveNetwork(
      {},
      { https_proxy: 'http://lower:1', HTTPS_PROXY: 'http://upper:2' },
    )
    expect(both.httpsProxy?.url.host).toBe('lower:1')
    expect(both.httpsProxy?.source).toBe('https_proxy')
    const bare = resolveNetwork(
      {},
      { https_proxy: '  ', HTTPS_PROXY: 'proxy.corp:3128' },
    )
    expect(bare.httpsProxy?.url.href).toBe('http://proxy.corp:3128/')
    expect(bare.httpsProxy?.source).toBe('HTTPS_PROXY')
    // An https server does not fall back to HTTP_PROXY (curl, Go, requests).
    expect(
      resolveNetwork({}, { HTTP_PROXY: 'http://p:1' }).httpsProxy,
    ).toBeUndefined()
    expect(
      thrown(() => resolveNetwork({}, { HTTP_PROXY: 'socks5://u:pw@p:1' }))
        .message,
    ).toBe(
      'ml-dash-logs: HTTP_PROXY names a socks5 proxy; only http:// and https:// proxies are supported',
    )
    const unparsable = thrown(() =>
      resolveNetwork({}, { HTTPS_PROXY: 'http://u:sekrit@[bad' }),
    )
    expect(unparsable.message).not.toContain('sekrit')
  })
})

describe('resolveNetwork for a known server', () => {
  it("reads only the proxy variable of the server's scheme, and none that NO_PROXY exempts", () => {
    const socks = {
      https_proxy: 'socks5h://p:1080',
      http_proxy: 'socks5h://p:1080',
    }
    expect(() =>
      resolveNetwork(
        {},
        { https_proxy: socks.https_proxy },
        'http://localhost:3000',
      ),
    ).not.toThrow()
    expect(() =>
      resolveNetwork({}, { ...socks, NO_PROXY: '*' }, 'http://localhost:3000'),
    ).not.toThrow()
    expect(() => resolveNetwork({}, socks, 'http://localhost:3000')).toThrow(
      expect.objectContaining({ code: 'ML_DASH_CONFIG' }) as Error,
    )
  })

  it('refuses at construction a proxy password that is not valid %-encoding, without showing it', () => {
    let error: (Error & { code?: string }) | undefined
    try {
      resolveNetwork(
        {},
        { http_proxy: 'http://u:p%zzsecret@127.0.0.1:3128' },
        'http://example.com',
      )
    } catch (thrown) {
      error = thrown as Error & { code?: string }
    }
    expect(error?.code).toBe('ML_DASH_CONFIG')
    expect(error?.message).not.toContain('secret')
  })

  it('refuses a PEM path that is not a string, and headers that are not an object', () => {
    for (const settings of [
      { caFile: 0 },
      { certFile: '', keyFile: 'k' },
      { headers: 'x-a=1' },
      { headers: ['x'] },
    ])
      expect(() => resolveNetwork(settings as never, {})).toThrow(
        expect.objectContaining({ code: 'ML_DASH_CONFIG' }) as Error,
      )
  })

  it('refuses headers that would change how a request is carried, and values HTTP cannot carry', () => {
    for (const name of ['proxy-authorization', 'expect', 'upgrade'])
      expect(() => resolveNetwork({ headers: { [name]: 'x' } }, {})).toThrow(
        expect.objectContaining({ code: 'ML_DASH_CONFIG' }) as Error,
      )
    expect(() =>
      resolveNetwork({}, { ML_DASH_HEADERS: 'x-team=%E2%9C%93' }),
    ).toThrow(expect.objectContaining({ code: 'ML_DASH_CONFIG' }) as Error)
  })
})

describe('no_proxy', () => {
  const cases: [string, string, boolean][] = [
    ['https://api.corp.com', 'corp.com', true],
    ['https://corp.com', 'corp.com', true],
    ['https://notcorp.com', 'corp.com', false],
    ['https://api.corp.com', '.corp.com', true],
    ['https://api.corp.com', '*.corp.com', true],
    ['https://API.Corp.com.', 'corp.com', true],
    ['https://api.corp.com', 'corp.com:443', true],
    ['https://api.corp.com:8443', 'corp.com:443', false],
    ['http://api.corp.com', 'corp.com:80', true],
    ['https://10.1.2.3', '10.0.0.0/8', true],
    ['https://11.1.2.3', '10.0.0.0/8', false],
    ['https://10.1.2.3', '10.1.2.3', true],
    ['https://10.1.2.30', '10.1.2.3', false],
    ['https://[::1]:8443', '::1', true],
    ['https://[::1]:8443', '[::1]:8443', true],
    // An IPv6 address matches however it is written.
    ['https://[::1]:8443', '0:0:0:0:0:0:0:1', true],
    ['https://[0:0::1]', '[::1]', true],
    ['https://[FD00::5]', 'fd00:0::5', true],
    ['https://[fd00::6]', 'fd00::5', false],
    ['https://[fd00::5]', 'fd00::/8', true],
    ['https://anything', '*', true],
    ['https://localhost', '', false],
  ]
  it.each(cases)(
    '%s with no_proxy "%s" bypasses: %s',
    (url, entry, expected) => {
      const { noProxy } = resolveNetwork({}, { no_proxy: entry })
      expect(bypassesProxy(new URL(url), noProxy)).toBe(expected)
    },
  )

  it('reads entries separated by commas or spaces, no_proxy before NO_PROXY', () => {
    const network = resolveNetwork(
      {},
      {
        HTTPS_PROXY: 'http://p:1',
        no_proxy: 'a.com  b.com,c.com',
        NO_PROXY: 'd.com',
      },
    )
    expect(network.noProxy).toEqual(['a.com', 'b.com', 'c.com'])
    expect(proxyFor(new URL('https://x.b.com'), network)).toBeUndefined()
    expect(proxyFor(new URL('https://d.com'), network)?.source).toBe(
      'HTTPS_PROXY',
    )
    expect(proxyFor(new URL('http://d.com'), network)).toBeUndefined()
  })
})

describe('httpoxy', () => {
  it('reads no HTTP_PROXY under CGI, where a request header can set it; http_proxy still counts', () => {
    const server = 'http://example.test'
    const cgi = { REQUEST_METHOD: 'GET', HTTP_PROXY: 'http://evil.test:1' }
    expect(resolveNetwork({}, cgi, server).httpProxy).toBeUndefined()
    expect(
      resolveNetwork({}, { ...cgi, http_proxy: 'http://ok.test:3128' }, server)
        .httpProxy?.url.host,
    ).toBe('ok.test:3128')
    const { REQUEST_METHOD: _, ...notCgi } = cgi
    expect(resolveNetwork({}, notCgi, server).httpProxy?.url.host).toBe(
      'evil.test:1',
    )
  })
})

describe('an IPv6 address in the URL', () => {
  it('reaches a server at http://[::1]:port, directly and through an HTTP_PROXY at [::1]', async () => {
    const seen: string[] = []
    const server = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`)
      res.end('{}')
    })
    await new Promise<void>((resolve) => server.listen(0, '::1', resolve))
    const { port } = server.address() as AddressInfo
    const url = `http://[::1]:${port}`
    try {
      const direct = createHttpClient(url, 5000)
      expect((await direct.request('GET', '/direct')).status).toBe(200)
      direct.close()
      // The same server as a forward proxy: it sees the absolute-form request.
      const network = resolveNetwork(
        {},
        { HTTP_PROXY: url },
        'http://example.test',
      )
      const proxied = createHttpClient('http://example.test', 5000, network)
      expect((await proxied.request('GET', '/proxied')).status).toBe(200)
      proxied.close()
      expect(seen).toEqual(['GET /direct', 'GET http://example.test/proxied'])
    } finally {
      server.close()
    }
  })
})
