/** The OTLP/HTTP receiver over real HTTP on 127.0.0.1: answers, limits, auth, backpressure. */
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import {
  JsonLogsSerializer,
  ProtobufLogsSerializer,
} from '@opentelemetry/otlp-transformer'
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs'
import { afterEach, describe, expect, it } from 'vitest'
import type { Receiver, ReceiverOptions } from '../../src/receiver/server.js'
import { startReceiver } from '../../src/receiver/server.js'
import {
  signTestToken,
  startTestServer,
} from '../../src/testing/ml-dash-server.js'
import { readLines, useTempDir } from '../helpers.js'
import { captureRecords } from '../otel-records.js'
import { post } from './post.js'

// Registered first, so the folder is removed after the receiver closes.
const temp = useTempDir()
let receiver: Receiver | undefined
afterEach(async () => {
  await receiver?.close(1000)
  receiver = undefined
})

function records(
  count: number,
  attributes: Record<string, string> = {},
): Promise<ReadableLogRecord[]> {
  return captureRecords(
    (provider) => {
      for (let i = 0; i < count; i++)
        provider.getLogger('t').emit({ severityNumber: 9, body: `r${i}` })
    },
    { 'service.name': 'collector-test', ...attributes },
  )
}

async function start(options: ReceiverOptions = {}): Promise<Receiver> {
  receiver = await startReceiver({
    port: 0,
    dashRoot: temp.dir,
    prefix: 'alice/otlp/default',
    ...options,
  })
  return receiver
}

const PROTO = { 'content-type': 'application/x-protobuf' }
const JSON_TYPE = { 'content-type': 'application/json' }

describe('OTLP/HTTP receiver', () => {
  it('accepts protobuf, JSON and gzip, answering in the request content type', async () => {
    const { url } = await start()
    const proto = await post(
      url,
      ProtobufLogsSerializer.serializeRequest(await records(2))!,
      PROTO,
    )
    expect(proto).toMatchObject({
      status: 200,
      headers: { 'content-type': 'application/x-protobuf' },
    })
    expect(proto.body.length).toBe(0)
    const json = await post(
      url,
      JsonLogsSerializer.serializeRequest(await records(1))!,
      JSON_TYPE,
    )
    expect([
      json.status,
      json.headers['content-type'],
      json.body.toString(),
    ]).toEqual([200, 'application/json', '{}'])
    const gz = await post(
      url,
      gzipSync(ProtobufLogsSerializer.serializeRequest(await records(3))!),
      { ...PROTO, 'content-encoding': 'gzip' },
    )
    expect(gz.status).toBe(200)
    await receiver!.close()
    receiver = undefined
    expect(
      readLines(join(temp.dir, 'alice/otlp/default/logs/logs.jsonl')).map(
        (l) => l.message,
      ),
    ).toEqual(['r0', 'r1', 'r0', 'r0', 'r1', 'r2'])
  })

  it('routes by the resource ml_dash.prefix attribute', async () => {
    const { url } = await start()
    await post(
      url,
      ProtobufLogsSerializer.serializeRequest(
        await records(1, { 'ml_dash.prefix': 'alice/otlp/routed' }),
      )!,
      PROTO,
    )
    await receiver!.close()
    receiver = undefined
    expect(
      readLines(join(temp.dir, 'alice/otlp/routed/logs/logs.jsonl')),
    ).toHaveLength(1)
  })

  it('answers partial_success for records with no experiment', async () => {
    const { url } = await start({ prefix: undefined })
    const json = await post(
      url,
      JsonLogsSerializer.serializeRequest(await records(2))!,
      JSON_TYPE,
    )
    expect(json.status).toBe(200)
    expect(JSON.parse(json.body.toString())).toMatchObject({
      partialSuccess: { rejectedLogRecords: '2' },
    })
    const proto = await post(
      url,
      ProtobufLogsSerializer.serializeRequest(await records(1))!,
      PROTO,
    )
    expect(proto.status).toBe(200)
    expect(proto.body.length).toBeGreaterThan(0)
  })

  it('refuses what it cannot take, with the OTLP status codes', async () => {
    const { url } = await start({
      maxBodyBytes: 2000,
      maxDecompressedBytes: 5000,
    })
    expect(
      (await post(url, 'x', { 'content-type': 'text/plain' })).status,
    ).toBe(415)
    expect(
      (await post(url, 'x', { ...PROTO, 'content-encoding': 'br' })).status,
    ).toBe(415)
    expect(
      (await post(url, Uint8Array.from([0x0a, 0x09, 0x01]), PROTO)).status,
    ).toBe(400)
    const badJson = await post(url, '{"resourceLogs":', JSON_TYPE)
    const status = JSON.parse(badJson.body.toString()) as { code: number }
    expect([badJson.status, status.code]).toEqual([400, 400])
    expect(
      (
        await post(url, gzipSync('not gzip at all').subarray(0, 10), {
          ...JSON_TYPE,
          'content-encoding': 'gzip',
        })
      ).status,
    ).toBe(400)
    expect((await post(url, Buffer.alloc(3000), PROTO)).status).toBe(413)
    const bomb = gzipSync(Buffer.alloc(1_000_000))
    expect(bomb.length).toBeLessThan(2000)
    expect(
      (await post(url, bomb, { ...PROTO, 'content-encoding': 'gzip' })).status,
    ).toBe(413)
    expect((await post(url, '', PROTO, '/v1/traces')).status).toBe(404)
    expect((await post(url, '', PROTO, '/v1/logs', 'PUT')).headers.allow).toBe(
      'POST',
    )
  })

  it('requires the bearer token when one is set', async () => {
    const { url } = await start({ authToken: 's3cret' })
    const body = ProtobufLogsSerializer.serializeRequest(await records(1))!
    expect((await post(url, body, PROTO)).status).toBe(401)
    expect(
      (await post(url, body, { ...PROTO, authorization: 'Bearer wrong' }))
        .status,
    ).toBe(401)
    expect(
      (await post(url, body, { ...PROTO, authorization: 'Bearer s3cret' }))
        .status,
    ).toBe(200)
  })

  it('answers 429 with Retry-After while too much waits for delivery, and delivers what it accepted on close', async () => {
    const server = await startTestServer()
    try {
      const { url } = await start({
        dashRoot: false,
        dashUrl: server.url,
        token: signTestToken({ username: 'alice' }),
        maxPendingRecords: 2,
        flushIntervalMs: 60_000,
      })
      const body = ProtobufLogsSerializer.serializeRequest(await records(2))!
      expect((await post(url, body, PROTO)).status).toBe(200)
      const busy = await post(url, body, PROTO)
      expect([busy.status, busy.headers['retry-after']]).toEqual([429, '2'])
      const closing = receiver!.close(5000)
      receiver = undefined
      await closing
      expect(server.experiment('alice/otlp/default')?.logs).toHaveLength(2)
    } finally {
      await server.close()
    }
  })
})
