/**
 * The OTLP/HTTP logs receiver: `POST /v1/logs` on plain `node:http`, so
 * OpenTelemetry Collector pipelines (otlphttp exporter) and any OTLP sender
 * can write into ml-dash experiments.
 *
 * Answers as OTLP/HTTP says, in the request's content type:
 * - 200 with an empty `ExportLogsServiceResponse`, or `partial_success`
 *   counting the records it could not take (no experiment named);
 * - 400 for a body that does not decode, 413 over a size limit (the body,
 *   the body after gzip decompression, which is bounded so a bomb cannot
 *   grow memory, the records or values in one request), 415 for other
 *   content types or encodings, 401 for a missing or wrong bearer token
 *   (the scheme in any case, the token compared in constant time),
 *   404/405 elsewhere;
 * - 429 with `Retry-After` when the request would take what the receiver
 *   holds for delivery past its bounds (`maxPendingBytes`,
 *   `maxPendingRecords`, or a store's own queue bound), and 503 with
 *   `Retry-After` while shutting down, so a Collector keeps the data queued
 *   and retries. Never a bare 500 for a passing fault.
 *
 * A request is taken whole or not at all: every record is decoded, routed
 * and encoded first, and queued only when all of them fit; so a 200 is
 * never given for a record the receiver then drops for want of room.
 * Bytes are counted as they arrive: bodies being read, decompressed (chunk
 * by chunk) and decoded, the entries of requests not queued yet, and
 * entries waiting for delivery, in total across experiments, stay within
 * `maxPendingBytes`; records likewise within `maxPendingRecords`. Requests
 * are decoded side by side, each in slices that hand the event loop back
 * every few milliseconds, so one large request does not hold up a small
 * one.
 *
 * Slow clients: a header deadline (`headersTimeoutMs`) apart from the
 * whole request's (`receiveTimeoutMs`), and a connection bound that makes
 * room for a new client by closing the oldest connection with no request
 * in progress (./connections.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { isIP } from 'node:net'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import { createGunzip } from 'node:zlib'
import type { MlDashOptions } from '../core/options.js'
import type { OwnNames } from '../core/options.js'
import type { OptionSpec } from '../core/option-table.js'
import { RECEIVER_OPTIONS } from '../core/option-table.js'
import type { ResolvedTable } from '../core/options.js'
import { configError, resolveOptions, resolveTable } from '../core/options.js'
import type { Channel, ChannelReport } from '../delivery/channel.js'
import { entryCost } from '../delivery/sink.js'
import type { Routed, RouterStats } from '../delivery/router.js'
import { createRouter, routeRecord } from '../delivery/router.js'
import { mapOtelLogRecord } from '../otel/map.js'
import { flatEntry } from '../otel/flat-entry.js'
import type { ConnectionStats } from './connections.js'
import { boundConnections } from './connections.js'
import {
  DecodeBudget,
  OtlpDecodeError,
  OtlpTooLargeError,
  protobufRecords,
} from './decode-otlp.js'
import { jsonRecords } from './decode-otlp-json.js'
import type { OtlpEncoding } from './otlp-response.js'
import {
  CONTENT_TYPES,
  exportResponse,
  statusResponse,
} from './otlp-response.js'
import { processContext } from '../process-context.js'

/** Options of the receiver: the shared ones plus the server's. */
export interface ReceiverOptions extends MlDashOptions {
  /** Port to listen on; 0 picks a free one. @default 4318 */
  port?: number
  /** Address to listen on. @default "127.0.0.1" */
  host?: string
  /**
   * When set, requests must carry `Authorization: Bearer <authToken>` (the
   * scheme in any case). The command line also takes it from
   * `ML_DASH_RECEIVER_TOKEN` or `--auth-token-file`. @default undefined
   */
  authToken?: string
  /** Largest request body as received, in bytes. @default 4194304 (4 MiB) */
  maxBodyBytes?: number
  /** Largest body after gzip decompression, in bytes. @default 16777216 (16 MiB) */
  maxDecompressedBytes?: number
  /** Most log records in one request (413 past it). @default 50000 */
  maxRecordsPerRequest?: number
  /**
   * Most bytes the receiver holds: bodies being read and decoded, and
   * entries waiting for delivery (their JSON text plus 48 bytes each), in
   * total across experiments. A request that would go past it gets 429.
   * @default 134217728 (128 MiB)
   */
  maxPendingBytes?: number
  /** Most records waiting for delivery, in total across experiments (429 past it). @default 1000000 */
  maxPendingRecords?: number
  /** Most open connections; past it, the oldest idle one makes room. @default 256 */
  maxConnections?: number
  /**
   * Time limit for receiving one request (slow clients get 408). Not the
   * shared `requestTimeoutMs`, which bounds requests to the ml-dash server.
   * @default 30000
   */
  receiveTimeoutMs?: number
  /** Time limit for receiving a request's headers. @default 10000 */
  headersTimeoutMs?: number
}

/** A running receiver. */
export interface Receiver {
  /** `http://host:port` */
  readonly url: string
  readonly port: number
  readonly stats: RouterStats & {
    connections: ConnectionStats
    /** Requests being decompressed, decoded and queued now. */
    decoding: number
  }
  /** Stops accepting (new requests get 503), delivers what was accepted, closes. */
  close(timeoutMs?: number): Promise<Record<string, ChannelReport>>
}

/** The receiver's own option names, beside the shared ones (the option table, checked complete by the compiler). */
const RECEIVER_NAMES = Object.keys(
  RECEIVER_OPTIONS satisfies Record<
    keyof OwnNames<ReceiverOptions>,
    OptionSpec
  >,
)

/** Work done between two hand-backs of the event loop while a request is decoded. */
const SLICE_MS = 4

/** Starts the receiver. @throws Error naming an invalid option; rejects if the port cannot be bound. */
export async function startReceiver(
  options: ReceiverOptions = {},
): Promise<Receiver> {
  // Retries are unlimited by default (the option table): what the receiver
  // answered 200 for waits in the outbox through an outage.
  const limits = resolveTable(
    RECEIVER_OPTIONS,
    options as Readonly<Record<string, unknown>>,
    process.env,
  )
  const resolved = resolveOptions(
    withStoreBounds(options, limits),
    process.env,
    RECEIVER_NAMES,
    processContext(),
  )
  const smallest = limits.maxBodyBytes + 2 * limits.maxDecompressedBytes
  if (limits.maxPendingBytes < smallest)
    throw configError(
      `maxPendingBytes (${limits.maxPendingBytes}) must be at least maxBodyBytes + 2 x maxDecompressedBytes (${smallest}): a request is held whole, as received, decompressed and encoded, while it is taken`,
    )
  const authDigest =
    limits.authToken === undefined ? undefined : digest(limits.authToken)
  const { host } = limits
  if (authDigest === undefined && !isLoopback(host) && !resolved.silenceErrors)
    process.stderr.write(
      `ml-dash-logs: warning: the receiver listens on ${host} without a token: anyone who can reach it can write into your experiments (set --auth-token-file, ML_DASH_RECEIVER_TOKEN or authToken)\n`,
    )
  // Every record it cannot route is answered for, in partial_success.
  const router = createRouter(resolved, { ownerReportsUnrouted: true })
  let closing = false
  /** Bytes of requests being read and decoded, not yet queued. */
  let inRequests = 0
  /** Records of requests decoded and not yet queued. */
  let inRecords = 0
  /** Requests being taken now (close waits for them). */
  const taking = new Set<Promise<Answer>>()
  const server = createServer(
    // Node checks request time limits on this interval: keep it within the limit.
    {
      requestTimeout: limits.receiveTimeoutMs,
      headersTimeout: Math.min(
        limits.headersTimeoutMs,
        limits.receiveTimeoutMs,
      ),
      connectionsCheckingInterval: Math.min(
        limits.headersTimeoutMs,
        limits.receiveTimeoutMs,
        1000,
      ),
    },
    (req, res) => {
      handle(req, res).catch((error: unknown) =>
        answerStatus(res, 'json', 503, `ml-dash-logs: ${String(error)}`, '1'),
      )
    },
  )
  const connections = boundConnections(server, limits.maxConnections)

  /** What is held for delivery now: bytes and records, across experiments. */
  function held(): { bytes: number; records: number } {
    let bytes = 0
    let records = 0
    for (const stores of Object.values(router.stats.experiments)) {
      // In hybrid mode both stores hold the one encoded text.
      bytes += Math.max(
        stores.local?.pendingBytes ?? 0,
        stores.remote?.pendingBytes ?? 0,
      )
      records += Math.max(
        stores.local?.pending ?? 0,
        stores.remote?.pending ?? 0,
      )
    }
    return { bytes, records }
  }

  /** Bytes that may still be taken before `maxPendingBytes`. */
  function roomLeft(): number {
    return limits.maxPendingBytes - held().bytes - inRequests
  }

  /** Why `bytes` more cannot be taken now (records being counted as they are decoded), or undefined. */
  function noRoom(bytes: number): string | undefined {
    const now = held()
    if (now.bytes + inRequests + bytes > limits.maxPendingBytes)
      return `the receiver holds ${now.bytes + inRequests} bytes for delivery (maxPendingBytes ${limits.maxPendingBytes})`
    if (now.records + inRecords > limits.maxPendingRecords)
      return `the receiver holds ${now.records + inRecords} records for delivery (maxPendingRecords ${limits.maxPendingRecords})`
    return undefined
  }

  async function handle(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const encoding = encodingOf(req.headers['content-type'])
    const answerAs = encoding ?? 'json'
    if (req.url?.split('?')[0] !== '/v1/logs')
      return answerStatus(res, answerAs, 404, 'only /v1/logs is served')
    if (req.method !== 'POST')
      return answerStatus(res, answerAs, 405, 'use POST', undefined, {
        allow: 'POST',
      })
    if (
      authDigest !== undefined &&
      !timingSafeEqual(
        digest(bearerToken(req.headers.authorization)),
        authDigest,
      )
    ) {
      return answerStatus(res, answerAs, 401, 'missing or wrong bearer token')
    }
    if (encoding === undefined)
      return answerStatus(
        res,
        'json',
        415,
        'use application/x-protobuf or application/json',
      )
    const contentEncoding = (
      req.headers['content-encoding'] ?? 'identity'
    ).toLowerCase()
    if (contentEncoding !== 'gzip' && contentEncoding !== 'identity') {
      return answerStatus(
        res,
        encoding,
        415,
        `unsupported content-encoding ${contentEncoding}`,
      )
    }
    if (closing) return answerStatus(res, encoding, 503, 'shutting down', '5')
    // Room for the body it declares, before it is read; then for each chunk as it comes.
    const declared = Number(req.headers['content-length'] ?? 0)
    const full =
      Number.isFinite(declared) && declared <= limits.maxBodyBytes
        ? noRoom(declared)
        : undefined
    if (full !== undefined)
      return answerStatus(res, encoding, 429, full, RETRY_AFTER_SECONDS, {
        connection: 'close',
      })
    let reserved = 0
    try {
      let refused: string | undefined
      const raw = await readBody(req, limits.maxBodyBytes, (size) => {
        refused = noRoom(size)
        if (refused !== undefined) return false
        inRequests += size
        reserved += size
        return true
      })
      if (raw === 'full')
        return answerStatus(
          res,
          encoding,
          429,
          refused ?? 'no room',
          RETRY_AFTER_SECONDS,
          { connection: 'close' },
        )
      if (raw === undefined)
        return answerStatus(
          res,
          encoding,
          413,
          `body over ${limits.maxBodyBytes} bytes`,
        )
      const turn = takeRequest(raw, encoding, contentEncoding === 'gzip')
      taking.add(turn)
      const answer = await turn.finally(() => taking.delete(turn))
      if (answer.status === 200)
        res
          .writeHead(200, { 'content-type': CONTENT_TYPES[encoding] })
          .end(exportResponse(encoding, answer.rejected, answer.message))
      else
        answerStatus(
          res,
          encoding,
          answer.status,
          answer.message,
          answer.status === 429 ? RETRY_AFTER_SECONDS : undefined,
        )
    } finally {
      inRequests -= reserved
    }
  }

  /** Decodes, routes and queues one request's records, all or none. */
  async function takeRequest(
    raw: Buffer,
    encoding: OtlpEncoding,
    gzipped: boolean,
  ): Promise<Answer> {
    if (!gzipped) return decodeAndQueue(raw, encoding)
    // Room for what it may decompress to, before any of it is made (a
    // request refused later would have made all that garbage for nothing):
    // while room is plenty, what OTLP batches usually expand to, counted
    // chunk by chunk past that; once room is short, the most it could
    // expand to, so a bomb is refused before it is inflated.
    const worst = Math.min(
      limits.maxDecompressedBytes,
      raw.length * DEFLATE_MAX_RATIO,
    )
    const expected =
      roomLeft() >= 4 * limits.maxDecompressedBytes
        ? Math.min(worst, raw.length * GZIP_EXPECTED_RATIO)
        : worst
    const full = noRoom(expected)
    if (full !== undefined) return { status: 429, message: full }
    inRequests += expected
    let decompressed = expected
    try {
      let made = 0
      let refused: string | undefined
      let body: Buffer | 'full'
      try {
        body = await gunzipCounted(raw, limits.maxDecompressedBytes, (size) => {
          made += size
          if (made <= decompressed) return true
          const more = made - decompressed
          refused = noRoom(more)
          if (refused !== undefined) return false
          inRequests += more
          decompressed += more
          return true
        })
      } catch (error) {
        const tooLarge =
          (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE'
        return tooLarge
          ? {
              status: 413,
              message: `decompressed body over ${limits.maxDecompressedBytes} bytes`,
            }
          : {
              status: 400,
              message: `bad gzip body: ${(error as Error).message}`,
            }
      }
      if (body === 'full') return { status: 429, message: refused ?? 'no room' }
      // Held now: what it decompressed to.
      inRequests -= decompressed - body.length
      decompressed = body.length
      return await decodeAndQueue(body, encoding)
    } finally {
      inRequests -= decompressed
    }
  }

  async function decodeAndQueue(
    body: Buffer,
    encoding: OtlpEncoding,
  ): Promise<Answer> {
    const budget = new DecodeBudget(limits.maxRecordsPerRequest)
    const records =
      encoding === 'protobuf'
        ? protobufRecords(body, budget)
        : jsonRecords(body, budget)
    const routed: Routed[] = []
    let unrouted = 0
    /** This request's entries not queued yet: their cost (in `inRequests`) and count (in `inRecords`). */
    let bytes = 0
    let count = 0
    const hold = (cost: number, n: number) => {
      bytes += cost
      inRequests += cost
      count += n
      inRecords += n
    }
    try {
      let sliceStart = performance.now()
      for (const record of records) {
        if (record !== null) {
          const one = routeRecord(
            router,
            flatEntry(record, resolved.limits, resolved.levelMap),
            () => mapOtelLogRecord(record, resolved.levelMap),
          )
          // The decoder's records are plain data: the mapping never gives up on one.
          if (one === undefined || one === 'unmapped') unrouted++
          else {
            routed.push(one)
            hold(entryCost(one.entry), 1)
          }
        }
        if (performance.now() - sliceStart > SLICE_MS) {
          const full = noRoom(0)
          if (full !== undefined) return { status: 429, message: full }
          await nextTurn()
          sliceStart = performance.now()
        }
      }
      if (closing) return { status: 503, message: 'shutting down' }
      const full = noRoom(0) ?? noStoreRoom(routed)
      if (full !== undefined) return { status: 429, message: full }
      // Queued a slice at a time too; each entry moves from this request's bytes to what is held.
      // Nothing is queued that would not be kept on disk (a sender's retry
      // of a request answered 503 after queueing would be a duplicate).
      const channels = new Set<Channel>()
      for (const one of routed) channels.add(one.channel)
      for (const channel of channels)
        if (!channel.canKeep())
          return {
            status: 503,
            message:
              'the receiver cannot keep records on disk now (its outbox cannot be written); they were not taken',
          }
      let rejected = unrouted
      sliceStart = performance.now()
      for (const one of routed) {
        if (!one.channel.enqueue(one.entry)) rejected++
        hold(-entryCost(one.entry), -1)
        if (performance.now() - sliceStart > SLICE_MS) {
          await nextTurn()
          sliceStart = performance.now()
        }
      }
      // Acknowledged only once on disk: in the local store or the outbox.
      const kept = await Promise.all(
        [...channels].map((channel) =>
          channel.persist(limits.receiveTimeoutMs),
        ),
      )
      if (kept.includes(false))
        return {
          status: 503,
          message:
            'the records could not be kept on disk (the local store and the outbox failed); they were not acknowledged',
        }
      const message =
        rejected === 0
          ? ''
          : `${rejected} records had no experiment (set --prefix or the ml_dash.prefix attribute) or found a store closed`
      return { status: 200, rejected, message }
    } catch (error) {
      if (error instanceof OtlpTooLargeError)
        return { status: 413, message: error.message }
      if (error instanceof OtlpDecodeError)
        return { status: 400, message: error.message }
      throw error
    } finally {
      inRequests -= bytes
      inRecords -= count
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      // The stores were made for it: let them go with it.
      void router.close(0)
      reject(
        configError(
          `cannot listen on ${host}:${limits.port}: ${error.code === 'EADDRINUSE' ? 'the port is in use' : error.message}`,
          error,
        ),
      )
    })
    server.listen(limits.port, host, () => resolve())
  })
  const { port, address } = server.address() as {
    port: number
    address: string
  }
  const urlHost = address.includes(':') ? `[${address}]` : address
  return {
    url: `http://${urlHost}:${port}`,
    port,
    get stats() {
      return {
        ...router.stats,
        connections: { ...connections },
        decoding: taking.size,
      }
    },
    close: async (timeoutMs = resolved.closeTimeoutMs) => {
      closing = true
      await closeServer(server, () => Promise.allSettled([...taking]))
      await Promise.allSettled([...taking])
      return router.close(timeoutMs)
    },
  }
}

/** What the decode stage answers. */
type Answer =
  | { status: 200; rejected: number; message: string }
  | { status: 400 | 413 | 429 | 503; message: string }

/** What a gzip body is taken to expand to while room is plenty: OTLP batches compress 5 to 20 times. */
const GZIP_EXPECTED_RATIO = 32

/** The most deflate can expand its input (about 1032:1). */
const DEFLATE_MAX_RATIO = 1032

/** Seconds a sender is asked to wait after a 429. */
const RETRY_AFTER_SECONDS = '2'

/**
 * The stores' own queue bounds, unless set: no lower than the receiver's,
 * so that what the receiver admits a store also takes.
 */
function withStoreBounds(
  options: ReceiverOptions,
  limits: ResolvedTable<typeof RECEIVER_OPTIONS>,
): ReceiverOptions {
  return {
    ...options,
    maxQueueBytes: options.maxQueueBytes ?? limits.maxPendingBytes,
    maxQueueSize: options.maxQueueSize ?? limits.maxPendingRecords,
  }
}

/** Whether a store of the routed entries would refuse its share now (its bounds were set lower). */
function noStoreRoom(routed: readonly Routed[]): string | undefined {
  const shares = new Map<Routed['channel'], { count: number; bytes: number }>()
  for (const { channel, entry } of routed) {
    const share = shares.get(channel) ?? { count: 0, bytes: 0 }
    share.count++
    share.bytes += entryCost(entry)
    shares.set(channel, share)
  }
  for (const [channel, share] of shares)
    if (!channel.canTake(share.count, share.bytes))
      return `the queue of ${channel.prefix} is full (maxQueueSize, maxQueueBytes)`
  return undefined
}

/** The token of an `Authorization: Bearer <token>` header, the scheme in any case (RFC 7235). */
function bearerToken(header: string | undefined): string {
  const match = /^[ \t]*bearer[ \t]+(\S+)[ \t]*$/i.exec(header ?? '')
  return match?.[1] ?? ''
}

/** Whether `host` names this machine only (no warning without a token). */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true
  // An IPv4 address written in IPv6's mapped form is the same address.
  const address = host.toLowerCase().replace(/^::ffff:/, '')
  if (isIP(address) === 4) return address.startsWith('127.')
  return address === '::1'
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/** The encoding a Content-Type names, or undefined for any other type. */
function encodingOf(contentType: string | undefined): OtlpEncoding | undefined {
  const type = contentType?.split(';')[0]?.trim().toLowerCase()
  if (type === CONTENT_TYPES.protobuf) return 'protobuf'
  if (type === CONTENT_TYPES.json) return 'json'
  return undefined
}

function answerStatus(
  res: ServerResponse,
  encoding: OtlpEncoding,
  status: number,
  message: string,
  retryAfter?: string,
  extra: Record<string, string> = {},
): void {
  if (res.headersSent) return
  const headers: Record<string, string> = {
    'content-type': CONTENT_TYPES[encoding],
    ...extra,
  }
  if (retryAfter !== undefined) headers['retry-after'] = retryAfter
  res.writeHead(status, headers).end(statusResponse(encoding, status, message))
}

/**
 * The body; undefined once it grows past `max`, or `'full'` when `room`
 * refuses a chunk (the rest is drained, not kept). `room(size)` is asked
 * before each chunk is kept.
 */
function readBody(
  req: IncomingMessage,
  max: number,
  room: (size: number) => boolean,
): Promise<Buffer | undefined | 'full'> {
  const declared = Number(req.headers['content-length'])
  return new Promise((resolve, reject) => {
    if (Number.isFinite(declared) && declared > max) {
      req.resume()
      resolve(undefined)
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    let full = false
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > max || full) return
      if (room(chunk.length)) chunks.push(chunk)
      else {
        full = true
        chunks.length = 0
      }
    })
    req.on('end', () =>
      resolve(full ? 'full' : size <= max ? Buffer.concat(chunks) : undefined),
    )
    req.on('error', reject)
  })
}

/**
 * The decompressed body; `'full'` when `room` refuses a chunk. Past `max`
 * it rejects with `ERR_BUFFER_TOO_LARGE`, as zlib's own bound does.
 */
function gunzipCounted(
  body: Buffer,
  max: number,
  room: (size: number) => boolean,
): Promise<Buffer | 'full'> {
  return new Promise((resolve, reject) => {
    const gunzip = createGunzip()
    const chunks: Buffer[] = []
    let size = 0
    gunzip.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > max) {
        const error: NodeJS.ErrnoException = new Error(
          `decompressed body over ${max} bytes`,
        )
        error.code = 'ERR_BUFFER_TOO_LARGE'
        gunzip.destroy(error)
      } else if (!room(chunk.length)) {
        gunzip.destroy()
        resolve('full')
      } else chunks.push(chunk)
    })
    gunzip.on('end', () => resolve(Buffer.concat(chunks)))
    gunzip.on('error', reject)
    gunzip.end(body)
  })
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

/** Time a connection still sending a request (or silent) has to finish once the receiver closes. */
const CLOSE_GRACE_MS = 1000

/**
 * Stops accepting, lets requests being taken finish and answer, then cuts
 * what is left: once closing, Node no longer applies its header and request
 * deadlines, so a connection that stopped halfway through a request would
 * hold the close forever.
 */
async function closeServer(
  server: Server,
  taken: () => Promise<unknown>,
): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()))
  server.closeIdleConnections()
  await taken()
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    closed,
    new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_GRACE_MS))),
  ])
  clearTimeout(timer)
  server.closeAllConnections()
  await closed
}
