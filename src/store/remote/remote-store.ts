/**
 * The remote ml-dash store: the server's HTTP API (ml-dash-spec §5).
 *
 * Opening an experiment makes the SDK's requests in the SDK's order: the
 * GraphQL project lookup, then for nested prefixes the PROJECT node (when
 * the project is unknown) and one FOLDER node per folder, then the
 * EXPERIMENT node. Opening is lazy and remembered: the first `write` opens,
 * and a retryable failure leaves it to be tried again by the next write.
 *
 * Writing posts `{"logs": [entry, ...]}` with the entries' JSON texts
 * joined as they are (no sequenceNumber: the server numbers them). Every
 * outcome is a {@link StoreResult}; nothing throws. 401 and 403 are one
 * clear error that says how to fix it; the token never appears in any
 * message (server text quoted in errors has it masked), nor does the
 * `user:password@` of the URL.
 *
 * The network settings (CA bundle, client certificate, extra headers,
 * proxy; see network.ts) come resolved in `network`. A failure through a
 * proxy says which proxy and which variable named it; a certificate the
 * client does not trust, or a server that wants a client certificate, is a
 * sentence saying which setting fixes it.
 */
import type { EncodedEntry } from '../../core/entry.js'
import type { ExperimentStatus } from '../../core/experiment-status.js'
import type { ExperimentPrefix } from '../../core/prefix.js'
import type { StoreResult } from '../../core/result.js'
import { SUCCESS, openUntilSuccess } from '../../core/result.js'
import { mlDashError } from '../../core/error-codes.js'
import { debug } from '../../debug.js'
import type { ExperimentInfo } from '../experiment-file.js'
import type { HttpClient, HttpResponse } from './http-client.js'
import { createHttpClient, displayUrl } from './http-client.js'
import {
  isRetryableError,
  isRetryableStatus,
  parseRetryAfter,
} from './is-retryable.js'
import type { ResolvedNetwork } from './network.js'
import { TOKEN_HELP } from './token.js'
import { mostUtf8Bytes, scratchBuffer } from '../scratch-buffer.js'

/** How to reach the server and which experiment to write. */
export interface RemoteStoreOptions {
  url: string
  token: string
  /** Where the token came from, for error messages (never the token). */
  tokenSource: string
  prefix: ExperimentPrefix
  info?: ExperimentInfo
  requestTimeoutMs: number
  /**
   * CA bundle, client certificate, extra headers and proxies, from
   * `resolveNetwork`. @default direct connections, Node's CAs, no extra headers
   */
  network?: ResolvedNetwork
  /** Its requests never hold the process open (an adoption's). @default false */
  background?: boolean
}

/** Query options of `GET /api/experiments/{id}/logs`. */
export interface ReadLogsQuery {
  limit?: number
  offset?: number
  orderBy?: 'timestamp' | 'sequenceNumber'
  order?: 'asc' | 'desc'
  level?: string[]
  startTime?: string
  endTime?: string
  search?: string
}

/** An open (or opening) experiment on the server. */
export interface RemoteStore {
  /** The server's URL as messages show it (without `user:password@`). */
  readonly url: string
  /** Creates or finds the experiment; remembered once it succeeds. */
  open(): Promise<StoreResult>
  write(
    entries: readonly EncodedEntry[],
    stillWanted?: () => boolean,
  ): Promise<StoreResult>
  /** `PATCH /api/nodes/{id}` with the final status. */
  setStatus(status: ExperimentStatus): Promise<StoreResult>
  /** Reads stored logs; rejects with the failure's error. */
  readLogs(
    query?: ReadLogsQuery,
  ): Promise<{ logs: unknown[]; hasMore: boolean }>
  /** Destroys the connections. */
  close(): void
}

/** Creates the store; makes no request until `open` or `write`. */
export function createRemoteStore(options: RemoteStoreOptions): RemoteStore {
  return new HttpRemoteStore(options)
}

const GET_PROJECT =
  'query GetProject($namespace: String!) { namespace(slug: $namespace) { projects { id slug } } }'

type Call = { result: StoreResult; data?: unknown }

class HttpRemoteStore implements RemoteStore {
  readonly url: string
  readonly #options: RemoteStoreOptions
  readonly #http: HttpClient
  #ids: { experimentId: string; nodeId: string } | undefined
  /** Creates or finds the experiment; remembered once it succeeds. */
  readonly open: () => Promise<StoreResult> = openUntilSuccess(() =>
    this.#open(),
  )

  constructor(options: RemoteStoreOptions) {
    this.url = displayUrl(options.url)
    this.#options = options
    this.#http = createHttpClient(
      options.url,
      options.requestTimeoutMs,
      options.network,
      options.background === true,
    )
  }

  async write(
    entries: readonly EncodedEntry[],
    stillWanted?: () => boolean,
  ): Promise<StoreResult> {
    const opened = await this.open()
    if (opened.status !== 'success') return opened
    if (entries.length === 0 || (stillWanted !== undefined && !stillWanted()))
      return SUCCESS
    const body = logsBody(entries)
    return (
      await this.#call(
        'POST',
        `/api/experiments/${this.#ids!.experimentId}/logs`,
        body,
      )
    ).result
  }

  async setStatus(status: ExperimentStatus): Promise<StoreResult> {
    const opened = await this.open()
    if (opened.status !== 'success') return opened
    return (
      await this.#call(
        'PATCH',
        `/api/nodes/${this.#ids!.nodeId}`,
        JSON.stringify({ status }),
      )
    ).result
  }

  async readLogs(
    query: ReadLogsQuery = {},
  ): Promise<{ logs: unknown[]; hasMore: boolean }> {
    const opened = await this.open()
    if (opened.status !== 'success') throw opened.error
    const search = new URLSearchParams()
    for (const [key, value] of Object.entries(query)) {
      if (value !== undefined)
        search.set(key, Array.isArray(value) ? value.join(',') : String(value))
    }
    const suffix = search.size > 0 ? `?${search.toString()}` : ''
    const { result, data } = await this.#call(
      'GET',
      `/api/experiments/${this.#ids!.experimentId}/logs${suffix}`,
    )
    if (result.status !== 'success') throw result.error
    const answer = data as { logs?: unknown; hasMore?: unknown } | undefined
    return {
      logs: Array.isArray(answer?.logs) ? answer.logs : [],
      hasMore: answer?.hasMore === true,
    }
  }

  close(): void {
    this.#http.close()
  }

  async #open(): Promise<StoreResult> {
    const { owner, project, folders, name } = this.#options.prefix
    const lookup = await this.#call(
      'POST',
      '/graphql',
      JSON.stringify({ query: GET_PROJECT, variables: { namespace: owner } }),
    )
    if (lookup.result.status !== 'success') return lookup.result
    const namespace = (
      lookup.data as {
        namespace?: { projects?: { id: string; slug: string }[] } | null
      }
    ).namespace
    if (namespace === null || namespace === undefined) {
      return failure(
        `the namespace "${owner}" does not exist on ${this.url} (prefix "${this.#options.prefix.prefix}")`,
      )
    }
    let projectId = namespace.projects?.find((p) => p.slug === project)?.id
    let parentId = 'ROOT'
    if (folders.length > 0) {
      if (projectId === undefined) {
        const created = await this.#node(owner, {
          type: 'PROJECT',
          name: project,
          slug: project,
        })
        if (created.result.status !== 'success') return created.result
        projectId = idAt(created.data, 'project')
      }
      for (const folder of folders) {
        const created = await this.#node(owner, {
          type: 'FOLDER',
          projectId,
          parentId,
          name: folder,
        })
        if (created.result.status !== 'success') return created.result
        parentId = idAt(created.data, 'node') ?? parentId
      }
    }
    const info = this.#options.info ?? {}
    const experiment = await this.#node(owner, {
      type: 'EXPERIMENT',
      name,
      parentId,
      ...(projectId !== undefined ? { projectId } : { projectSlug: project }),
      ...(info.description != null ? { description: info.description } : {}),
      ...(info.tags !== undefined ? { tags: info.tags } : {}),
      ...(info.metadata != null ? { metadata: info.metadata } : {}),
    })
    if (experiment.result.status !== 'success') return experiment.result
    const experimentId = idAt(experiment.data, 'experiment')
    const nodeId = idAt(experiment.data, 'node')
    if (experimentId === undefined || nodeId === undefined) {
      return failure(
        `${this.url} answered the EXPERIMENT node request without experiment.id and node.id`,
      )
    }
    this.#ids = { experimentId, nodeId }
    debug(
      'remote experiment %s open: experiment %s, node %s',
      this.#options.prefix.prefix,
      experimentId,
      nodeId,
    )
    return SUCCESS
  }

  #node(owner: string, body: Record<string, unknown>): Promise<Call> {
    return this.#call(
      'POST',
      `/api/namespaces/${encodeURIComponent(owner)}/nodes`,
      JSON.stringify(body),
    )
  }

  /** One request, its answer classified. GraphQL `errors` count as a failure. */
  async #call(
    method: string,
    path: string,
    body?: string | Buffer,
  ): Promise<Call> {
    let response: HttpResponse
    try {
      response = await this.#http.request(method, path, body, {
        authorization: `Bearer ${this.#options.token}`,
      })
    } catch (error) {
      const via = this.#http.via === undefined ? '' : ` ${this.#http.via}`
      const message = `ml-dash-logs: ${method} ${this.url}${path} failed${via}: ${this.#reason(error)}`
      const wrapped = mlDashError('ML_DASH_NETWORK', message, error)
      return {
        result:
          isRetryableError(error) || isRetryableProxyRefusal(error)
            ? { status: 'retryable', error: wrapped }
            : { status: 'failure', error: wrapped },
      }
    }
    return this.#classify(method, path, response)
  }

  #classify(method: string, path: string, response: HttpResponse): Call {
    const { status } = response
    const where = `${method} ${this.url}${path}`
    if (status === 401 || status === 403) {
      const error = mlDashError(
        'ML_DASH_AUTH',
        `the ml-dash server at ${this.url} refused the token from ${this.#options.tokenSource} (${status}); ${TOKEN_HELP}`,
      )
      error.status = status
      return { result: { status: 'failure', error } }
    }
    if (status < 200 || status >= 300) {
      // Masked before it is cut: a cut through an echoed token would leave
      // a prefix the mask no longer recognises.
      const error = mlDashError(
        'ML_DASH_SERVER',
        `${where} answered ${status}: ${this.#mask(response.body).slice(0, 200)}`,
      )
      error.status = status
      if (isRetryableStatus(status)) {
        return {
          result: {
            status: 'retryable',
            error,
            retryAfterMs: parseRetryAfter(response.headers['retry-after']),
          },
        }
      }
      return { result: { status: 'failure', error } }
    }
    let data: unknown
    try {
      data = response.body === '' ? undefined : JSON.parse(response.body)
    } catch {
      return {
        result: failure(
          `${where} answered ${status} with a body that is not JSON`,
        ),
      }
    }
    if (path === '/graphql') {
      const answer = data as
        { data?: unknown; errors?: { message?: string }[] } | undefined
      if (Array.isArray(answer?.errors) && answer.errors.length > 0) {
        return {
          result: failure(
            `${where}: GraphQL errors: ${this.#mask(answer.errors.map((e) => e.message).join('; '))}`,
          ),
        }
      }
      data = answer?.data ?? {}
    }
    return { result: SUCCESS, data }
  }

  /** Why a request failed; a sentence where Node's message is cryptic. */
  #reason(error: unknown): string {
    if ((error as { code?: unknown }).code === 'ENOTFOUND') {
      const host = new URL(this.#options.url).hostname
      return `DNS has no address for the host "${host}" (ENOTFOUND); check the ml-dash server URL`
    }
    const tls = tlsAdvice(error)
    const message = this.#mask((error as Error).message)
    return tls === undefined ? message : `${tls} (${message})`
  }

  /** Hides the token, and the extra headers' values, should a server or a library ever echo them. */
  #mask(text: string): string {
    let masked = text.split(this.#options.token).join('[token]')
    for (const [name, value] of Object.entries(
      this.#options.network?.headers ?? {},
    ))
      if (value.length >= 4) masked = masked.split(value).join(`[${name}]`)
    return masked
  }
}

/**
 * OpenSSL's verification codes (Node's `error.code` after a handshake) of
 * a server certificate the client does not trust.
 */
const UNTRUSTED_CERTIFICATE = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
])

/** A sentence for a TLS failure whose fix is a setting, else undefined. */
function tlsAdvice(error: unknown): string | undefined {
  const code = (error as { code?: unknown }).code
  if (typeof code !== 'string') return undefined
  if (UNTRUSTED_CERTIFICATE.has(code)) {
    return code === 'ERR_TLS_CERT_ALTNAME_INVALID'
      ? "the server's TLS certificate does not name the host of the ml-dash server URL"
      : `the server's TLS certificate is not trusted (${code}); give the CA that signed it as the caFile option, or in NODE_EXTRA_CA_CERTS`
  }
  // The server's TLS alert when it wants a client certificate, or refused one.
  if (
    /ALERT_(CERTIFICATE_REQUIRED|BAD_CERTIFICATE|UNKNOWN_CA|HANDSHAKE_FAILURE)$/.test(
      code,
    )
  )
    return `the server refused the TLS handshake (${code}): it may require a client certificate; give it as the certFile and keyFile options`
  return undefined
}

/** A proxy that refused the tunnel with a status worth waiting out (502, 503...). */
function isRetryableProxyRefusal(error: unknown): boolean {
  const { code, status } = error as { code?: unknown; status?: unknown }
  return (
    code === 'ERR_ML_DASH_PROXY' &&
    typeof status === 'number' &&
    isRetryableStatus(status)
  )
}

/** A permanent failure: the server's answer does not read, or names nothing to write into. */
function failure(sentence: string): StoreResult {
  return { status: 'failure', error: mlDashError('ML_DASH_SERVER', sentence) }
}

function idAt(data: unknown, key: string): string | undefined {
  const id = (
    data as Record<string, { id?: unknown } | undefined> | undefined
  )?.[key]?.id
  return typeof id === 'string' || typeof id === 'number'
    ? String(id)
    : undefined
}

/**
 * `{"logs":[…]}` of a batch, its entries written straight into the scratch
 * buffer, then copied out at its size: the request sends it later, and no
 * joined string is made and encoded again.
 */
function logsBody(entries: readonly EncodedEntry[]): Buffer {
  let most = LOGS_OPEN.length + LOGS_CLOSE.length
  for (const entry of entries) most += mostUtf8Bytes(entry.length) + 1
  const buffer = scratchBuffer(most)
  let at = buffer.write(LOGS_OPEN, 0, 'latin1')
  for (let i = 0; i < entries.length; i++) {
    if (i > 0) buffer[at++] = 0x2c
    at += buffer.write(entries[i]!, at, 'utf8')
  }
  at += buffer.write(LOGS_CLOSE, at, 'latin1')
  return Buffer.from(buffer.subarray(0, at))
}

const LOGS_OPEN = '{"logs":['
const LOGS_CLOSE = ']}'
