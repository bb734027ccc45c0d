/** The receiver against clients that try to hold it: slow ones, and too many. */
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { afterEach, expect, it } from 'vitest'
import type { Receiver } from '../../src/receiver/server.js'
import { startReceiver } from '../../src/receiver/server.js'
import { useTempDir } from '../helpers.js'

// Registered first, so the folder is removed after the receiver closes.
const temp = useTempDir()
let receiver: Receiver | undefined
const sockets: Socket[] = []
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy()
  await receiver?.close(1000)
})

/** Opens a raw connection and collects what the server sends until it closes. */
function rawClient(
  port: number,
  send: string,
): { socket: Socket; closed: Promise<string> } {
  const socket = connect(port, '127.0.0.1')
  sockets.push(socket)
  let received = ''
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()))
  socket.on('error', () => {})
  socket.write(send)
  return {
    socket,
    closed: new Promise((resolve) =>
      socket.on('close', () => resolve(received)),
    ),
  }
}

it('cuts off a client that sends its body too slowly (408) and keeps serving others', async () => {
  receiver = await startReceiver({
    port: 0,
    dashRoot: temp.dir,
    prefix: 'alice/hostile/run',
    receiveTimeoutMs: 500,
  })
  const slow = rawClient(
    receiver.port,
    'POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"resour',
  )
  const answer = await slow.closed
  expect(answer).toMatch(/^HTTP\/1\.1 408/)
  const ok = await fetch(`${receiver.url}/v1/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  })
  expect(ok.status).toBe(200)
})

it('makes room past maxConnections by closing the oldest connection with no request, and refuses only when all are busy', async () => {
  receiver = await startReceiver({
    port: 0,
    dashRoot: temp.dir,
    prefix: 'alice/hostile/run',
    maxConnections: 3,
  })
  const connected = (h: { socket: Socket }) =>
    new Promise((resolve) => h.socket.once('connect', resolve))
  // Three connections still sending their headers: none has a request yet.
  const holders = Array.from({ length: 3 }, () =>
    rawClient(receiver!.port, 'POST /v1/logs HTTP/1.1\r\nHost: x\r\n'),
  )
  await Promise.all(holders.map(connected))
  await new Promise((resolve) => setTimeout(resolve, 100))
  const extra = rawClient(
    receiver.port,
    'POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}',
  )
  expect(await extra.closed).toMatch(/^HTTP\/1\.1 200/)
  expect(await holders[0]!.closed).toBe('')
  expect(receiver.stats.connections.evicted).toBe(1)
  for (const holder of holders) holder.socket.destroy()
  await Promise.all(holders.map((h) => h.closed))
  await new Promise((resolve) => setTimeout(resolve, 50))
  // Three requests whose bodies are still coming: all busy, so a fourth is refused.
  const busy = Array.from({ length: 3 }, () =>
    rawClient(
      receiver!.port,
      'POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{',
    ),
  )
  await Promise.all(busy.map(connected))
  await new Promise((resolve) => setTimeout(resolve, 100))
  const refused = rawClient(
    receiver.port,
    'POST /v1/logs HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}',
  )
  expect(await refused.closed).toBe('')
  expect(receiver.stats.connections.refused).toBe(1)
  for (const one of busy) one.socket.destroy()
  await Promise.all(busy.map((h) => h.closed))
  await new Promise((resolve) => setTimeout(resolve, 50))
  const ok = await fetch(`${receiver.url}/v1/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  })
  expect(ok.status).toBe(200)
})
