/**
 * A small JSON-over-HTTP(S) client for the ml-dash server: keep-alive
 * connections through one agent per client, a deadline on every request
 * (connect, send and the whole response; `ERR_ML_DASH_TIMEOUT`), response
 * bodies capped in size, TLS verification left on (Node's default), and
 * `close()` that destroys the agent so no socket keeps the process alive.
 *
 * It never adds credentials to a message: errors carry the method, the path
 * and the status, not headers. Credentials in the URL (`user:password@`)
 * are neither sent (the bearer token is the authentication) nor shown:
 * {@link displayUrl} is the URL for messages.
 */
import type { Agent as HttpAgent, IncomingHttpHeaders } from 'node:http'
import http from 'node:http'
import https from 'node:https'

/** The largest response body read; beyond it the request fails. */
export const MAX_RESPONSE_BYTES = 4 * 1024 * 1024

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
    body?: string,
    headers?: Record<string, string>,
  ): Promise<HttpResponse>
  /** Destroys idle and open sockets. */
  close(): void
}

/** Creates a client for `baseUrl` (http or https). */
export function createHttpClient(
  baseUrl: string,
  timeoutMs: number,
): HttpClient {
  const base = new URL(baseUrl)
  const secure = base.protocol === 'https:'
  const transport = secure ? https : http
  const agent: HttpAgent = new transport.Agent({
    keepAlive: true,
    maxSockets: 4,
  })
  const prefix = base.pathname.replace(/\/+$/, '')

  const request = (
    method: string,
    path: string,
    body?: string,
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
      const payload = body === undefined ? undefined : Buffer.from(body)
      const req = transport.request(
        {
          protocol: base.protocol,
          hostname: base.hostname,
          port: base.port,
          method,
          path: prefix + path,
          agent,
          headers: {
            accept: 'application/json',
            ...(payload
              ? {
                  'content-type': 'application/json',
                  'content-length': String(payload.length),
                }
              : {}),
            ...headers,
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
      req.on('error', reject)
      req.end(payload)
    })

  return { request, close: () => agent.destroy() }
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
