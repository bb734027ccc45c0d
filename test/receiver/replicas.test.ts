/**
 * Past one machine: three `serve` replicas, each with its own outbox, all
 * forwarding to one ml-dash server, fed at once by three senders. Every
 * record answered 200 is on the server exactly once. A sender that sticks
 * to one replica gets its call order; one whose requests are spread over
 * the replicas gets every record, in an order the replicas interleave.
 */
import { join } from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import type { Receiver } from '../../src/receiver/server.js'
import { startReceiver } from '../../src/receiver/server.js'
import type { TestServer } from '../../src/testing/ml-dash-server.js'
import {
  signTestToken,
  startTestServer,
} from '../../src/testing/ml-dash-server.js'
import { useTempDir } from '../helpers.js'

const temp = useTempDir()
let server: TestServer
let replicas: Receiver[]
beforeEach(async () => {
  server = await startTestServer()
  const token = signTestToken({ username: 'alice' })
  replicas = await Promise.all(
    [0, 1, 2].map((i) =>
      startReceiver({
        port: 0,
        prefix: 'alice/replicas/default',
        dashRoot: false,
        dashUrl: server.url,
        token,
        spoolDir: join(temp.dir, `replica-${i}`),
        flushIntervalMs: 20,
        silenceErrors: true,
      }),
    ),
  )
})
afterEach(async () => {
  await server.close()
})

/** One OTLP/JSON request of `records` for the experiment `prefix`. */
function request(prefix: string, records: string[]): string {
  return JSON.stringify({
    resourceLogs: [
      {
        resource: {
          attributes: [
            { key: 'ml_dash.prefix', value: { stringValue: prefix } },
          ],
        },
        scopeLogs: [
          {
            logRecords: records.map((body) => ({
              body: { stringValue: body },
            })),
          },
        ],
      },
    ],
  })
}

/** Sends 30 requests of 10 records, `pick` choosing the replica of each; resolves with the records answered 200. */
async function send(
  name: string,
  pick: (request: number) => number,
): Promise<string[]> {
  const acknowledged: string[] = []
  for (let n = 0; n < 30; n++) {
    const records = Array.from(
      { length: 10 },
      (_, i) => `${name}-${n * 10 + i}`,
    )
    const answer = await fetch(`${replicas[pick(n)]!.url}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: request(`alice/replicas/${name}`, records),
    })
    expect(answer.status).toBe(200)
    acknowledged.push(...records)
  }
  return acknowledged
}

it('three replicas fed at once by three senders: every acknowledged record on the server once; a sticky sender in order', async () => {
  const [sticky, spread, other] = await Promise.all([
    send('sticky', () => 0),
    send('spread', (n) => n % 3),
    send('other', () => 2),
  ])
  await Promise.all(replicas.map((replica) => replica.close()))
  const stored = (name: string) =>
    server.experiment(`alice/replicas/${name}`)?.logs.map((l) => l.message) ??
    []
  expect(stored('sticky')).toEqual(sticky)
  expect(stored('other')).toEqual(other)
  // Spread over replicas: each once, in whatever order they interleave.
  expect([...stored('spread')].sort()).toEqual([...spread].sort())
  const inOrder = stored('spread').every((m, i) => m === spread[i])
  console.log(
    `spread over three replicas: ${spread.length} records once each, ${inOrder ? 'in call order this time' : 'not in call order'}`,
  )
})
