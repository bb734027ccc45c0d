/**
 * The OTLP/HTTP logs receiver: `POST /v1/logs` on plain `node:http`, so
 * OpenTelemetry Collector pipelines (otlphttp exporter) and any OTLP sender
 * can write into ml-dash experiments.
 *
 * Answers as OTLP/HTTP says, in the request's content type:
 * - 200 with an empty `ExportLogsServiceResponse`, or `partial_success`
 *   counting the records it could not take (no experiment named, queue full);
 * - 400 for a body that does not decode, 413 over the size limit (also
 *   after gzip decompression, which is bounded so a bomb cannot grow
 *   memory), 415 for other content types or encodings, 401 for a missing or
 *   wrong bearer token (compared in constant time), 404/405 elsewhere;
 * - 429 with `Retry-After` while too many records wait for delivery, and 503
 *   with `Retry-After` while shutting down, so a Collector keeps the data
 *   queued and retries. Never a bare 500 for a passing fault.
 *
 * Limits (all options): body size, decompressed size, records waiting,
 * connections, and request time (slow clients are cut off).
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import { gunzip } from 'node:zlib'
import type { MlDashOptions } from '../core/options.js'
import type { OwnNames } from '../core/options.js'
import { integerOption, resolveOptions } from '../core/options.js'
import type { ChannelReport } from '../delivery/channel.js'
import type { RouterStats } from '../delivery/router.js'
import { createRouter } from '../delivery/router.js'
import type { OtelLogRecord } from '../otel/map.js'
import { mapOtelLogRecord } from '../otel/map.js'
import {
  OtlpDecodeError,
  decodeOtlpJson,
  decodeOtlpProtobuf,
} from './decode-otlp.js'
import type { OtlpEncoding } from './otlp-response.js'
import {
  CONTENT_TYPES,
  exportResponse,
  statusResponse,
} from './otlp-response.js'

/** Options of the receiver: the shared ones plus the server's. */
export interface ReceiverOptions extends MlDashOptions {
  /** Port to listen on; 0 picks a free one. @default 4318 */
  port?: number
  /** Address to listen on. @default "127.0.0.1" */
  host?: string
  /** When set, requests must carry `Authorization: Bearer <authToken>`. @default undefined */
  authToken?: string
  /** Largest request body as received, in bytes. @default 4194304 (4 MiB) */
  maxBodyBytes?: number
  /** Largest body after gzip decompression, in bytes. @default 16777216 (16 MiB) */
  maxDecompressedBytes?: number
  /** Records waiting for delivery beyond which requests get 429. @default 50000 */
  maxPendingRecords?: number
  /** Most open connections. @default 256 */
  maxConnections?: number
  /**
   * Time limit for receiving one request (slow clients get 408). Not the
   * shared `requestTimeoutMs`, which bounds requests to the ml-dash server.
   * @default 30000
   */
  receiveTimeoutMs?: number
}

/** A running receiver. */
export interface Receiver {
  /** `http://host:port` */
  readonly url: string
  readonly port: number
  readonly stats: RouterStats
  /** Stops accepting (new requests get 503), delivers what was accepted, closes. */
  close(timeoutMs?: number): Promise<Record<string, ChannelReport>>
}

/** The receiver's own option names, beside the shared ones. */
const RECEIVER_NAMES = Object.keys({
  port: true,
  host: true,
  authToken: true,
  maxBodyBytes: true,
  maxDecompressedBytes: true,
  maxPendingRecords: true,
  maxConnections: true,
  receiveTimeoutMs: true,
} satisfies OwnNames<ReceiverOptions>)

/** Starts the receiver. @throws Error naming an invalid option; rejects if the port cannot be bound. */
export async function startReceiver(
  options: ReceiverOptions = {},
): Promise<Receiver> {
  const resolved = resolveOptions(options, process.env, RECEIVER_NAMES)
  const limits = {
    maxBodyBytes: integerOption(
      'maxBodyBytes',
      options.maxBodyBytes,
      4 * 1024 * 1024,
    ),
    maxDecompressedBytes: integerOption(
      'maxDecompressedBytes',
      options.maxDecompressedBytes,
      16 * 1024 * 1024,
    ),
    maxPendingRecords: integerOption(
      'maxPendingRecords',
      options.maxPendingRecords,
      50_000,
    ),
  }
  const authDigest =
    options.authToken === undefined
      ? undefined
      : digest(`Bearer ${options.authToken}`)
  // Every record it cannot route is answered for, in partial_success.
  const router = createRouter(resolved, { ownerReportsUnrouted: true })
  let closing = false
  const receiveTimeout = integerOption(
    'receiveTimeoutMs',
    options.receiveTimeoutMs,
    30_000,
  )
  const server = createServer(
    // Node checks request time limits on this interval: keep it within the limit.
    {
      requestTimeout: receiveTimeout,
      headersTimeout: Math.min(receiveTimeout, 60_000),
      connectionsCheckingInterval: Math.min(receiveTimeout, 1000),
    },
    (req, res) => {
      handle(req, res).catch((error: unknown) =>
        answerStatus(res, 'json', 503, `ml-dash-logs: ${String(error)}`, '1'),
      )
    },
  )
  server.maxConnections = integerOption(
    'maxConnections',
    options.maxConnections,
    256,
  )

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
      !timingSafeEqual(digest(req.headers.authorization ?? ''), authDigest)
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
    if (pendingRecords(router.stats) > limits.maxPendingRecords) {
      return answerStatus(
        res,
        encoding,
        429,
        'too many records waiting for delivery',
        '1',
      )
    }
    const raw = await readBody(req, limits.maxBodyBytes)
    if (raw === undefined)
      return answerStatus(
        res,
        encoding,
        413,
        `body over ${limits.maxBodyBytes} bytes`,
      )
    let body: Buffer
    try {
      body =
        contentEncoding === 'gzip'
          ? await gunzipBounded(raw, limits.maxDecompressedBytes)
          : raw
    } catch (error) {
      const tooLarge =
        (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE'
      if (tooLarge)
        return answerStatus(
          res,
          encoding,
          413,
          `decompressed body over ${limits.maxDecompressedBytes} bytes`,
        )
      return answerStatus(
        res,
        encoding,
        400,
        `bad gzip body: ${(error as Error).message}`,
      )
    }
    let records: OtelLogRecord[]
    try {
      records =
        encoding === 'protobuf'
          ? decodeOtlpProtobuf(body)
          : decodeOtlpJson(body.toString('utf8'))
    } catch (error) {
      if (error instanceof OtlpDecodeError)
        return answerStatus(res, encoding, 400, error.message)
      throw error
    }
    let rejected = 0
    for (const record of records) {
      const { input, prefix } = mapOtelLogRecord(record, resolved.levelMap)
      if (!router.enqueue(input, prefix)) rejected++
    }
    const message =
      rejected === 0
        ? ''
        : `${rejected} records had no experiment (set --prefix or the ml_dash.prefix attribute) or found a full queue`
    res
      .writeHead(200, { 'content-type': CONTENT_TYPES[encoding] })
      .end(exportResponse(encoding, rejected, message))
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 4318, options.host ?? '127.0.0.1', () =>
      resolve(),
    )
  })
  const { port, address } = server.address() as {
    port: number
    address: string
  }
  const host = address.includes(':') ? `[${address}]` : address
  return {
    url: `http://${host}:${port}`,
    port,
    get stats() {
      return router.stats
    },
    close: async (timeoutMs = resolved.closeTimeoutMs) => {
      closing = true
      await closeServer(server)
      return router.close(timeoutMs)
    },
  }
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

/** The body, or undefined once it grows past `max` (the rest is drained, not kept). */
function readBody(
  req: IncomingMessage,
  max: number,
): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length'])
  return new Promise((resolve, reject) => {
    if (Number.isFinite(declared) && declared > max) {
      req.resume()
      resolve(undefined)
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= max) chunks.push(chunk)
    })
    req.on('end', () =>
      resolve(size <= max ? Buffer.concat(chunks) : undefined),
    )
    req.on('error', reject)
  })
}

function gunzipBounded(body: Buffer, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    gunzip(body, { maxOutputLength: max }, (error, result) =>
      error ? reject(error) : resolve(result),
    )
  })
}

function pendingRecords(stats: RouterStats): number {
  let pending = 0
  for (const stores of Object.values(stats.experiments)) {
    pending = Math.max(
      pending,
      stores.local?.pending ?? 0,
      stores.remote?.pending ?? 0,
    )
  }
  return pending
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest()
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    server.closeIdleConnections()
  })
}
