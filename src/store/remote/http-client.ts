/**
 * A small JSON-over-HTTP(S) client for the ml-dash server: keep-alive
 * connections through one agent per client, a deadline on every request
 * (connect, send and the whole response; `ERR_ML_DASH_TIMEOUT`), response
 * bodies capped in size, TLS verification left on (Node's default), and
 * `close()` that destroys the agent so no socket keeps the process alive.
 *
 * The {@link ResolvedNetwork} settings apply here: the CA bundle and the
 * client certificate go to the TLS connections, the extra headers on every
 * request, and a proxy from the environment is used unless `no_proxy`
 * lists the host: an https server is reached through a CONNECT tunnel
 * (hpagent's `HttpsProxyAgent`, an `https.Agent`, so TLS and keep-alive
 * stay Node's own), a plain http one with absolute-form requests to the
 * proxy, as curl sends them. A proxy that refuses the tunnel is the error
 * `ERR_ML_DASH_PROXY` with the proxy's `status`.
 *
 * It never adds credentials to a message: errors carry the method, the path
 * and the status, not headers. Credentials in the URL (`user:password@`)
 * are neither sent (the bearer token is the authentication) nor shown:
 * {@link displayUrl} is the URL for messages. A proxy's credentials go to
 * the proxy only, as `proxy-authorization`.
 */
import type { Agent as HttpAgent, IncomingHttpHeaders } from 'node:http'
import http from 'node:http'
import https from 'node:https'
import { HttpsProxyAgent } from 'hpagent'
import type { ProxySetting, ResolvedNetwork } from './network.js'
import { DIRECT_NETWORK, proxyFor } from './network.js'

/** The largest response body read; beyond it the request fails. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024

/** One answer from the server. */
export interface HttpResponse {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** A client bound to one base URL. */
export interface HttpClient {
  request(
    method: string,
    path: string,
    body?: string | Buffer,
    headers?: Record<string, string>,
  ): Promise<HttpResponse>
  /** Destroys idle and open sockets. */
  close(): void
  /** `through the proxy URL (from VARIABLE)` when proxied, for messages. */
  readonly via: string | undefined
}

/**
 * Creates a client for `baseUrl` (http or https). `network` defaults to
 * direct connections with Node's CAs and no extra headers.
 */
export function createHttpClient(
  baseUrl: string,
  timeoutMs: number,
  network: ResolvedNetwork = DIRECT_NETWORK,
  /** Requests that never hold the process open (sending an earlier process's outboxes). */
  background = false,
): HttpClient {
  const base = new URL(baseUrl)
  const route = createRoute(base, network)
  const { agent } = route
  const prefix = base.pathname.replace(/\/+$/, '')

  const request = (
    method: string,
    path: string,
    body?: string | Buffer,
    headers: Record<string, string> = {},
  ): Promise<HttpResponse> =>
    new Promise((resolveOnce, rejectOnce) => {
      const resolve = (response: HttpResponse) => {
        clearTimeout(deadline)
        resolveOnce(response)
      }
      const reject = (error: Error) => {
        clearTimeout(deadline)
        rejectOnce(error)
      }
      const payload =
        body === undefined || Buffer.isBuffer(body) ? body : Buffer.from(body)
      const req = route.transport.request(
        {
          protocol: route.protocol,
          hostname: route.hostname,
          port: route.port,
          method,
          path: route.pathPrefix + prefix + path,
          agent,
          // Bounds a CONNECT the proxy never answers (hpagent reads it);
          // the deadline below still bounds the whole request.
          ...(route.via !== undefined ? { timeout: timeoutMs } : {}),
          headers: {
            accept: 'application/json',
            ...network.headers,
            ...(payload
              ? {
                  'content-type': 'application/json',
                  'content-length': String(payload.length),
                }
              : {}),
            ...headers,
            ...route.headers,
          },
        },
        (res) => {
          const chunks: Buffer[] = []
          let size = 0
          res.on('data', (chunk: Buffer) => {
            size += chunk.length
            if (size > MAX_RESPONSE_BYTES) {
              req.destroy(
                codedError(
                  `response to ${method} ${path} is larger than ${MAX_RESPONSE_BYTES} bytes`,
                  'ERR_ML_DASH_RESPONSE_TOO_LARGE',
                ),
              )
            } else chunks.push(chunk)
          })
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('utf8'),
            }),
          )
          res.on('error', reject)
        },
      )
      // A deadline, not an idle timeout (req.setTimeout): a server that
      // trickles a byte now and then would hold the request forever. The
      // promise is rejected here, not left to whichever error the destroyed
      // socket reports once a response has begun.
      const deadline = setTimeout(() => {
        const error = codedError(
          `${method} ${path} timed out after ${timeoutMs} ms`,
          'ERR_ML_DASH_TIMEOUT',
        )
        reject(error)
        req.destroy(error)
      }, timeoutMs)
      if (background) {
        deadline.unref()
        req.once('socket', (socket) => socket.unref())
      }
      req.on('error', (error) => reject(route.explain(error)))
      req.end(payload)
    })

  return { request, close: () => agent.destroy(), via: route.via }
}

/**
 * The host to connect to: a URL writes an IPv6 address in brackets
 * (`[::1]`), which a socket would look up in DNS as a name.
 */
function connectHost(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1')
}

/** The proxy URL as hpagent reads it (its `hostname` is connected to as it is). */
function withConnectHost(url: URL): URL {
  const { protocol, port, username, password } = url
  return {
    protocol,
    port,
    username,
    password,
    hostname: connectHost(url),
  } as URL
}

/** Where requests go and how: directly, or through a proxy. */
interface Route {
  agent: HttpAgent
  transport: typeof http | typeof https
  protocol: string
  hostname: string
  port: string
  /** Absolute-form requests to an http proxy start with the origin. */
  pathPrefix: string
  headers: Record<string, string>
  via: string | undefined
  /** A proxy's refusal made a coded error; other errors unchanged. */
  explain(error: Error): Error
}

const POOL = { keepAlive: true, maxSockets: 4 }

function createRoute(base: URL, network: ResolvedNetwork): Route {
  const proxy = proxyFor(base, network)
  if (proxy === undefined) return directRoute(base, network)
  return base.protocol === 'https:'
    ? tunnelRoute(base, network, proxy)
    : forwardRoute(base, proxy)
}

function directRoute(base: URL, network: ResolvedNetwork): Route {
  const secure = base.protocol === 'https:'
  return {
    transport: secure ? https : http,
    agent: secure
      ? new https.Agent({ ...POOL, ...network.tls })
      : new http.Agent(POOL),
    protocol: base.protocol,
    hostname: connectHost(base),
    port: base.port,
    pathPrefix: '',
    headers: {},
    via: undefined,
    explain: (error) => error,
  }
}

/** An https server through a CONNECT tunnel; TLS runs end to end inside it. */
function tunnelRoute(
  base: URL,
  network: ResolvedNetwork,
  proxy: ProxySetting,
): Route {
  const named = `the proxy ${proxy.url.origin} (from ${proxy.source})`
  return {
    ...directRoute(base, network),
    // In brackets: hpagent writes it into `CONNECT host:port` as it is.
    hostname: base.hostname,
    agent: new HttpsProxyAgent({
      ...POOL,
      ...network.tls,
      proxy: withConnectHost(proxy.url),
    }),
    via: `through ${named}`,
    explain: (error) => {
      // hpagent's words for a CONNECT answered with another status.
      const refused = /^Bad response: (\d+)$/.exec(error.message)
      if (!refused) return error
      return Object.assign(
        new Error(`${named} answered ${refused[1]} to CONNECT ${base.host}`, {
          cause: error,
        }),
        { code: 'ERR_ML_DASH_PROXY', status: Number(refused[1]) },
      )
    },
  }
}

/** A plain http server: absolute-form requests to the proxy, as curl sends them. */
function forwardRoute(base: URL, proxy: ProxySetting): Route {
  const transport = proxy.url.protocol === 'https:' ? https : http
  const { username, password } = proxy.url
  const credentials = `${decodeURIComponent(username)}:${decodeURIComponent(password)}`
  return {
    transport,
    agent: new transport.Agent(POOL),
    protocol: proxy.url.protocol,
    hostname: connectHost(proxy.url),
    port: proxy.url.port,
    pathPrefix: `${base.protocol}//${base.host}`,
    headers: {
      host: base.host,
      ...(username !== '' || password !== ''
        ? {
            'proxy-authorization': `Basic ${Buffer.from(credentials).toString('base64')}`,
          }
        : {}),
    },
    via: `through the proxy ${proxy.url.origin} (from ${proxy.source})`,
    explain: (error) => error,
  }
}

/** `url` without its `user:password@`, for messages. */
export function displayUrl(url: string): string {
  const parsed = new URL(url)
  if (parsed.username === '' && parsed.password === '') return url
  parsed.username = ''
  parsed.password = ''
  // The options give URLs without a trailing slash; href adds one.
  return parsed.href.replace(/\/+$/, '')
}

function codedError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code })
}
