/**
 * Test servers for the network settings: certificates made by openssl in a
 * temp folder, a small HTTP proxy on 127.0.0.1 (CONNECT tunnels and
 * absolute-form requests, each counted), and an HTTPS front for the HTTP
 * test server that records every request's headers and forwards it.
 */
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import type { IncomingHttpHeaders, IncomingMessage, Server } from 'node:http'
import http from 'node:http'
import https from 'node:https'
import type { Socket } from 'node:net'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** PEM files made for one test file; `remove()` deletes them. */
export interface TestCertificates {
  dir: string
  /** The CA that signed the server's and the client's certificates. */
  caFile: string
  serverCertFile: string
  serverKeyFile: string
  clientCertFile: string
  clientKeyFile: string
  remove(): void
}

/** Makes a CA, a server certificate for 127.0.0.1 and localhost, and a client certificate. */
export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'ml-dash-tls-'))
  const at = (name: string) => join(dir, name)
  const openssl = (...args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1']
  openssl(
    'req',
    '-x509',
    ...ec,
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=ml-dash test CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  )
  const sign = (name: string, subject: string, extensions: string) => {
    writeFileSync(at(`${name}.ext`), `${extensions}\n`)
    openssl(
      'req',
      ...ec,
      '-nodes',
      '-subj',
      subject,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
    )
    openssl(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    )
  }
  sign(
    'server',
    '/CN=localhost',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth',
  )
  sign('client', '/CN=ml-dash client', 'extendedKeyUsage=clientAuth')
  return {
    dir,
    caFile: at('ca.pem'),
    serverCertFile: at('server.pem'),
    serverKeyFile: at('server.key'),
    clientCertFile: at('client.pem'),
    clientKeyFile: at('client.key'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}

/** A running proxy: CONNECT tunnels and forwarded absolute-form requests. */
export interface TestProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  /** `host:port` of every CONNECT, in order. */
  readonly tunnels: string[]
  /** Absolute URLs of every forwarded plain-HTTP request. */
  readonly forwards: string[]
  /** `proxy-authorization` of every CONNECT or request (undefined when none). */
  readonly authorizations: (string | undefined)[]
  close(): Promise<void>
}

/**
 * Starts a proxy on 127.0.0.1. With `refuse`, every CONNECT and request is
 * answered with that status (a proxy wanting credentials answers 407).
 */
export async function startTestProxy(refuse?: number): Promise<TestProxy> {
  const tunnels: string[] = []
  const forwards: string[] = []
  const authorizations: (string | undefined)[] = []
  const server = http.createServer((req, res) => {
    authorizations.push(req.headers['proxy-authorization'])
    if (refuse !== undefined) return void res.writeHead(refuse).end()
    forwards.push(req.url ?? '')
    const { 'proxy-authorization': _, ...headers } = req.headers
    const upstream = http.request(
      req.url ?? '',
      { method: req.method, headers, agent: false },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      },
    )
    upstream.on('error', () => res.writeHead(502).end())
    req.pipe(upstream)
  })
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    authorizations.push(req.headers['proxy-authorization'])
    if (refuse !== undefined) {
      client.end(`HTTP/1.1 ${refuse} Refused\r\ncontent-length: 0\r\n\r\n`)
      return
    }
    tunnels.push(req.url ?? '')
    const [host, port] = splitHostPort(req.url ?? '')
    const upstream = connect(port, host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    upstream.on('error', () => client.destroy())
    client.on('error', () => upstream.destroy())
  })
  const url = await listen(server)
  return { url, tunnels, forwards, authorizations, close: () => stop(server) }
}

/** A request the HTTPS front received. */
export interface FrontRequest {
  method: string
  path: string
  headers: IncomingHttpHeaders
}

/** An HTTPS front for an HTTP server. */
export interface HttpsFront {
  /** `https://127.0.0.1:<port>` */
  readonly url: string
  readonly requests: FrontRequest[]
  close(): Promise<void>
}

/**
 * Serves HTTPS with the test certificate and forwards every request to
 * `target` (the HTTP test server). With `requireClientCert`, a client
 * without a certificate signed by the test CA is refused in the handshake.
 */
export async function startHttpsFront(
  target: string,
  certs: TestCertificates,
  requireClientCert = false,
): Promise<HttpsFront> {
  const requests: FrontRequest[] = []
  const server = https.createServer(
    {
      cert: readFileSync(certs.serverCertFile),
      key: readFileSync(certs.serverKeyFile),
      ca: readFileSync(certs.caFile),
      requestCert: requireClientCert,
      rejectUnauthorized: requireClientCert,
    },
    (req, res) => {
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
      })
      const upstream = http.request(
        new URL(req.url ?? '/', target),
        { method: req.method, headers: req.headers, agent: false },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers)
          answer.pipe(res)
        },
      )
      upstream.on('error', () => res.writeHead(502).end())
      req.pipe(upstream)
    },
  )
  const url = (await listen(server)).replace('http:', 'https:')
  return { url, requests, close: () => stop(server) }
}

function splitHostPort(target: string): [string, number] {
  const at = target.lastIndexOf(':')
  return [
    target.slice(0, at).replace(/^\[|\]$/g, ''),
    Number(target.slice(at + 1)),
  ]
}

const sockets = new WeakMap<Server, Set<Socket>>()

function listen(server: Server): Promise<string> {
  const open = new Set<Socket>()
  sockets.set(server, open)
  server.on('connection', (socket: Socket) => {
    open.add(socket)
    socket.on('close', () => open.delete(socket))
  })
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      resolve(`http://127.0.0.1:${port}`)
    })
  })
}

/** Closes the server and every socket it accepted (tunnels included). */
function stop(server: Server): Promise<void> {
  for (const socket of sockets.get(server) ?? []) socket.destroy()
  return new Promise((resolve) => server.close(() => resolve()))
}
