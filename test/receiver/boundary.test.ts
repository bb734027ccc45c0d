/**
 * The receiver as a hostile-input boundary (issue 12): what it holds is
 * bounded by bytes in total and a 200 is never given for a record it then
 * loses; one request cannot hold the event loop or the connection table.
 */
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer'
import { afterEach, expect, it, vi } from 'vitest'
import type { Receiver } from '../../src/receiver/server.js'
import { isLoopback, startReceiver } from '../../src/receiver/server.js'
import type { TestServer } from '../../src/testing/ml-dash-server.js'
import {
  signTestToken,
  startTestServer,
} from '../../src/testing/ml-dash-server.js'
import { FIXTURES, useTempDir } from '../helpers.js'
import { captureRecords } from '../otel-records.js'
import type { Answer } from './post.js'
import { post } from './post.js'

const temp = useTempDir()
let receiver: Receiver | undefined
let server: TestServer | undefined
let child: ChildProcess | undefined
const sockets: Socket[] = []
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy()
  child?.kill('SIGKILL')
  child = undefined
  await receiver?.close(1000)
  receiver = undefined
  await server?.close()
  server = undefined
})

const PROTO = { 'content-type': 'application/x-protobuf' }
const PROTO_GZIP = { ...PROTO, 'content-encoding': 'gzip' }

/** A protobuf request of `count` records, each with a unique id and `padBytes` of padding. */
async function request_(
  ids: readonly string[],
  padBytes: number,
): Promise<Uint8Array> {
  const pad = 'p'.repeat(padBytes)
  const records = await captureRecords((provider) => {
    for (const id of ids)
      provider
        .getLogger('t')
        .emit({ severityNumber: 9, body: id, attributes: { id, pad } })
  })
  return ProtobufLogsSerializer.serializeRequest(records)!
}

/** The resident set of a process, in bytes. */
function rss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024
}

/** Starts the receiver fixture; resolves to its URL. */
function startChild(options: object): Promise<string> {
  child = spawn(
    process.execPath,
    [join(FIXTURES, 'receiver-child.mjs'), JSON.stringify(options)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  return new Promise((resolve, reject) => {
    let text = ''
    child!.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString()
      const match = /url (\S+)\n/.exec(text)
      if (match) resolve(match[1]!)
    })
    child!.once('exit', () => reject(new Error(`receiver exited: ${text}`)))
  })
}

it('answers 429 before its byte bound behind a silent server, stays under its memory bound, and delivers every record it answered 200 for', async () => {
  server = await startTestServer()
  // Silent: every logs request is held unanswered until the faults are cleared.
  server.inject({ kind: 'hold', count: 1_000_000, match: /logs/ })
  const maxPendingBytes = 48 * 1024 * 1024
  const url = await startChild({
    dashRoot: false,
    dashUrl: server.url,
    token: signTestToken({ username: 'alice' }),
    prefix: 'alice/boundary/big',
    maxPendingBytes,
    maxBodyBytes: 1024 * 1024,
    maxDecompressedBytes: 16 * 1024 * 1024,
    requestTimeoutMs: 1000,
    retryBaseDelayMs: 100,
    retryMaxDelayMs: 500,
    flushIntervalMs: 50,
    // Entries of 200 KB, as sent: strings are otherwise cut at 16 384 characters.
    limits: { maxStringLength: 300_000 },
  })
  const baseline = rss(child!.pid!)
  let peak = baseline
  const sampler = setInterval(() => {
    peak = Math.max(peak, rss(child!.pid!))
  }, 20)
  const acknowledged: string[] = []
  const statuses: number[] = []
  try {
    // 60 records of 200 KB each per request (12 MB decompressed, a few KB on the wire).
    for (let n = 0; n < 40; n++) {
      const ids = Array.from({ length: 60 }, (_, i) => `r${n}-${i}`)
      const body = gzipSync(await request_(ids, 200_000))
      const answer = await post(url, body, PROTO_GZIP)
      statuses.push(answer.status)
      if (answer.status === 200) acknowledged.push(...ids)
      else {
        expect(answer.status).toBe(429)
        expect(answer.headers['retry-after']).toMatch(/^\d+$/)
      }
    }
  } finally {
    clearInterval(sampler)
  }
  expect(statuses).toContain(429)
  expect(acknowledged.length).toBeGreaterThan(0)
  // The documented bound: twice maxPendingBytes (text held in UTF-16 at worst) plus 200 MB for decoding and its garbage.
  expect(peak - baseline).toBeLessThan(2 * maxPendingBytes + 200 * 1024 * 1024)
  server.clearFaults()
  const exited = new Promise((resolve) => child!.once('exit', resolve))
  child!.kill('SIGTERM')
  await exited
  child = undefined
  const stored = new Set(
    (server.experiment('alice/boundary/big')?.logs ?? []).map(
      (log) => (log.metadata as { id?: string } | undefined)?.id,
    ),
  )
  const missing = acknowledged.filter((id) => !stored.has(id))
  expect(missing).toEqual([])
}, 120_000)

/** A protobuf request of `count` empty log records (2 bytes each). */
function emptyRecords(count: number): Buffer {
  const records = Buffer.alloc(count * 2)
  for (let i = 0; i < count; i++) records[i * 2] = 0x12 // field 2, length 0
  const wrap = (field: number, inner: Buffer): Buffer => {
    const length: number[] = []
    let n = inner.length
    while (n > 0x7f) {
      length.push((n & 0x7f) | 0x80)
      n = Math.floor(n / 128)
    }
    length.push(n)
    return Buffer.concat([Buffer.from([(field << 3) | 2, ...length]), inner])
  }
  // ExportLogsServiceRequest { resource_logs { scope_logs { log_records... } } }
  return wrap(1, wrap(2, records))
}

it('answers 413 to a small gzip body of 8 million empty records, naming the bound', async () => {
  receiver = await startReceiver({
    port: 0,
    dashRoot: temp.dir,
    prefix: 'alice/boundary/bomb',
  })
  const bomb = gzipSync(emptyRecords(8_000_000))
  expect(bomb.length).toBeLessThan(64 * 1024)
  const answer = await post(receiver.url, bomb, PROTO_GZIP)
  expect(answer.status).toBe(413)
  expect(answer.body.toString()).toContain('more than 50000 log records')
  expect(receiver.stats.experiments['alice/boundary/bomb']).toBeUndefined()
})

it('answers a small request while a large one is being decoded', async () => {
  receiver = await startReceiver({
    port: 0,
    dashRoot: temp.dir,
    prefix: 'alice/boundary/slices',
    maxRecordsPerRequest: 10_000_000,
  })
  const large = post(
    receiver.url,
    gzipSync(emptyRecords(2_000_000)),
    PROTO_GZIP,
  )
  let largeAnswered = false
  void large.then(() => (largeAnswered = true))
  await vi.waitFor(() => expect(receiver!.stats.decoding).toBe(1), {
    timeout: 30_000,
    interval: 1,
  })
  const small = await post(receiver.url, await request_(['one'], 10), PROTO)
  expect(small.status).toBe(200)
  expect(largeAnswered).toBe(false)
  // Taken whole, or refused whole at the byte bound: 2 million entries are more than 128 MiB.
  expect([200, 429]).toContain((await large).status)
}, 60_000)

it('accepts the bearer scheme in any case and refuses a wrong token', async () => {
  receiver = await startReceiver({
    port: 0,
    dashRoot: temp.dir,
    prefix: 'alice/boundary/auth',
    authToken: 's3cret',
  })
  const body = await request_(['a'], 1)
  for (const scheme of ['bearer', 'BEARER', 'Bearer'])
    expect(
      (
        await post(receiver.url, body, {
          ...PROTO,
          authorization: `${scheme} s3cret`,
        })
      ).status,
    ).toBe(200)
  expect(
    (
      await post(receiver.url, body, {
        ...PROTO,
        authorization: 'bearer wrong',
      })
    ).status,
  ).toBe(401)
  expect(
    (await post(receiver.url, body, { ...PROTO, authorization: 's3cret' }))
      .status,
  ).toBe(401)
})

it('warns when it listens beyond loopback without a token', async () => {
  const write = vi.spyOn(process.stderr, 'write').mockImplementation(() => true)
  let written: string
  try {
    receiver = await startReceiver({
      port: 0,
      host: '0.0.0.0',
      dashRoot: temp.dir,
      prefix: 'alice/boundary/open',
    })
    written = write.mock.calls.map(([text]) => String(text)).join('')
  } finally {
    write.mockRestore()
  }
  expect(written).toContain('listens on 0.0.0.0 without a token')
  expect(
    ['127.0.0.1', '127.5.6.7', '::1', '::ffff:127.0.0.1', 'localhost'].map(
      isLoopback,
    ),
  ).toEqual([true, true, true, true, true])
  expect(
    ['0.0.0.0', '::', '10.0.0.1', '::ffff:10.0.0.1'].map(isLoopback),
  ).toEqual([false, false, false, false])
})

it('keeps serving real clients while 300 connections send nothing', async () => {
  receiver = await startReceiver({
    port: 0,
    dashRoot: temp.dir,
    prefix: 'alice/boundary/slow',
  })
  const held = Array.from({ length: 300 }, () => {
    const socket = connect(receiver!.port, '127.0.0.1')
    socket.on('error', () => {})
    sockets.push(socket)
    socket.write('POST /v1/logs HTTP/1.1\r\nHost: x\r\n')
    return new Promise((resolve) => socket.once('connect', resolve))
  })
  await Promise.all(held)
  await new Promise((resolve) => setTimeout(resolve, 100))
  for (let i = 0; i < 5; i++) {
    const answer = await post(
      receiver.url,
      await request_([`ok${i}`], 1),
      PROTO,
    )
    expect(answer.status).toBe(200)
  }
  expect(receiver.stats.connections.evicted).toBeGreaterThan(0)
})

it('keeps room for real clients while 40 bodies of a declared 4 MiB trickle in', async () => {
  receiver = await startReceiver({
    port: 0,
    dashRoot: temp.dir,
    prefix: 'alice/boundary/trickle',
  })
  const trickling = Array.from({ length: 40 }, () => {
    const socket = connect(receiver!.port, '127.0.0.1')
    socket.on('error', () => {})
    sockets.push(socket)
    socket.write(
      `POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\nContent-Length: ${4 * 1024 * 1024}\r\n\r\n\n`,
    )
    return new Promise((resolve) => socket.once('connect', resolve))
  })
  await Promise.all(trickling)
  await new Promise((resolve) => setTimeout(resolve, 100))
  const answer = await post(receiver.url, await request_(['real'], 1), PROTO)
  expect(answer.status).toBe(200)
})

it('counts gzip output as it is decompressed: 24 concurrent bombs stay under the memory bound', async () => {
  const maxPendingBytes = 48 * 1024 * 1024
  const url = await startChild({
    dashRoot: temp.dir,
    prefix: 'alice/boundary/bombs',
    maxPendingBytes,
    maxBodyBytes: 1024 * 1024,
    maxDecompressedBytes: 16 * 1024 * 1024,
  })
  const baseline = rss(child!.pid!)
  let peak = baseline
  const sampler = setInterval(() => {
    peak = Math.max(peak, rss(child!.pid!))
  }, 5)
  // 16 MB of zeros each: a few KB on the wire, not a request once decompressed (400).
  const bomb = gzipSync(Buffer.alloc(16_000_000))
  let answers: Answer[]
  try {
    answers = await Promise.all(
      Array.from({ length: 24 }, () => post(url, bomb, PROTO_GZIP)),
    )
  } finally {
    clearInterval(sampler)
  }
  for (const answer of answers) expect([400, 429]).toContain(answer.status)
  expect(peak - baseline).toBeLessThan(2 * maxPendingBytes + 200 * 1024 * 1024)
}, 60_000)

it('closes though a client stopped halfway through its request', async () => {
  receiver = await startReceiver({
    port: 0,
    dashRoot: temp.dir,
    prefix: 'alice/boundary/close',
  })
  const socket = connect(receiver.port, '127.0.0.1')
  socket.on('error', () => {})
  sockets.push(socket)
  socket.write('POST /v1/logs HTTP/1.1\r\nHost: x\r\n')
  await new Promise((resolve) => socket.once('connect', resolve))
  await new Promise((resolve) => setTimeout(resolve, 100))
  const closed = receiver.close(2000)
  receiver = undefined
  expect(await closed).toEqual({})
})

it('answers 400, not a retryable status, for a value of a type OTLP does not allow', async () => {
  receiver = await startReceiver({
    port: 0,
    dashRoot: temp.dir,
    prefix: 'alice/boundary/types',
  })
  const answer = await post(
    receiver.url,
    '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":{"toString":1}}}]}]}]}',
    { 'content-type': 'application/json' },
  )
  expect(answer.status).toBe(400)
  expect(answer.body.toString()).toContain('stringValue must be a string')
})
