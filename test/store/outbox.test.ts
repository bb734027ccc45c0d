/**
 * The outbox on its own (src/store/outbox.ts): entries on disk within the
 * turn, taken in order from memory or from the segments, acknowledged and
 * deleted; a writer killed with SIGKILL leaves an orphan that the next
 * process claims and reads from where the server stopped.
 */
import { spawn } from 'node:child_process'
import {
  appendFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { loadFlock } from '../../src/store/flock.js'
import {
  Outbox,
  OutboxWriter,
  claimOrphans,
  serverDirectory,
} from '../../src/store/outbox.js'
import { parsePrefix } from '../../src/core/prefix.js'
import { spoolRoot } from '../../src/delivery/spool.js'
import { openLocalStore } from '../../src/store/local-store.js'
import { FIXTURES, run, useTempDir } from '../helpers.js'

const temp = useTempDir()
const entry = (n: number, pad = 0) =>
  JSON.stringify({ message: `entry ${n}`, pad: 'x'.repeat(pad) })

/** Everything the outbox gives, in batches, acknowledging each. */
function drain(outbox: Outbox, batch = 100): string[] {
  const all: string[] = []
  for (;;) {
    const entries = outbox.take(batch, 1 << 20)
    if (entries.length === 0) return all
    all.push(...entries)
    outbox.done()
  }
}

it('is on disk at the end of the turn, gives the entries back in order, and deletes what was acknowledged', async () => {
  const flock = await loadFlock()
  const server = serverDirectory(temp.dir, 'https://api.example.test')
  const writer = OutboxWriter.create(server, flock)
  const outbox = writer.outbox('alice/p/run')
  for (let i = 0; i < 1000; i++) outbox.push(entry(i))
  expect(outbox.length).toBe(1000)
  await new Promise((resolve) => setImmediate(resolve))
  const segment = readdirSync(outbox.directory).find((f) => f.endsWith('.log'))!
  const lines = readFileSync(join(outbox.directory, segment), 'utf8')
  expect(lines.split('\n').filter(Boolean)).toHaveLength(1000)
  expect(drain(outbox)).toEqual(
    Array.from({ length: 1000 }, (_, i) => entry(i)),
  )
  expect(outbox.empty).toBe(true)
  writer.release(outbox)
  // Nothing left: the writer's folder is gone too.
  expect(readdirSync(server)).toEqual([])
})

it('reads back from the segments what memory does not hold (an outage), across segments, in order', async () => {
  const flock = await loadFlock()
  const writer = OutboxWriter.create(temp.dir, flock)
  const outbox = writer.outbox('alice/p/outage')
  // 40 MiB: past the memory window (8 MiB) and over three segments.
  const count = 40 * 1024
  for (let i = 0; i < count; i++) {
    outbox.push(entry(i, 1000))
    if (i % 1024 === 1023) outbox.persistSync()
  }
  const segments = () =>
    readdirSync(outbox.directory).filter((f) => f.endsWith('.log'))
  expect(segments().length).toBeGreaterThanOrEqual(3)
  const got = drain(outbox, 1000)
  expect(got).toHaveLength(count)
  expect(got.every((line, i) => line === entry(i, 1000))).toBe(true)
  // Acknowledged segments are gone but the one being written.
  expect(segments()).toHaveLength(1)
  // And it goes on taking new entries from memory.
  outbox.push(entry(-1))
  expect(drain(outbox)).toEqual([entry(-1)])
})

it('leaves an orphan when its writer is killed, which another process claims and reads from the acknowledged entry on', async () => {
  const server = join(temp.dir, 'server')
  const child = spawn(process.execPath, [
    join(FIXTURES, 'outbox-writer.mjs'),
    server,
  ])
  let out = ''
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
  await new Promise<void>((resolve) => {
    const check = () =>
      out.includes('ready') ? resolve() : setTimeout(check, 20)
    check()
  })
  const flock = await loadFlock()
  // Alive, it holds its lock: nothing to claim.
  expect(claimOrphans(server, flock)).toEqual([])
  child.kill('SIGKILL')
  await new Promise((resolve) => child.once('exit', resolve))
  const [claimed, ...others] = claimOrphans(server, flock)
  expect(others).toEqual([])
  expect(claimed!.outboxes).toHaveLength(1)
  // Claimed here, it cannot be claimed twice.
  expect(claimOrphans(server, flock)).toEqual([])
  const orphan = Outbox.adopt(claimed!.outboxes[0]!)
  expect(orphan.meta.prefix).toBe('alice/p/killed')
  // The writer acknowledged the first 10 of its 100 before it was killed.
  expect(orphan.length).toBe(90)
  expect(drain(orphan)).toEqual(
    Array.from({ length: 90 }, (_, i) => entry(i + 10)),
  )
  orphan.remove()
  claimed!.release()
  expect(existsSync(claimed!.directory)).toBe(false)
})

it("leaves the store as the SDK's tools see it: an outbox beside it is no experiment, and no prefix can name its folder", async () => {
  const root = join(temp.dir, 'store')
  const local = await openLocalStore(root, parsePrefix('alice/p/run'))
  local.close()
  const writer = OutboxWriter.create(
    serverDirectory(spoolRoot(undefined, root), 'https://api.example.test'),
    await loadFlock(),
  )
  const outbox = writer.outbox('alice/p/run')
  outbox.push(entry(1))
  outbox.persistSync()
  const validated = await run('python3', [
    join(FIXTURES, 'sdk_validate.py'),
    root,
  ])
  expect(validated.stderr).toBe('')
  expect(validated.code).toBe(0)
  expect(validated.stdout.trim().split('\n')).toEqual(['alice/p/run\tp/run'])
  expect(() => parsePrefix('.ML-Dash-Logs/outbox/run')).toThrow(
    /where the library keeps its outboxes/,
  )
})

it('skips a garbled line and a segment cut short by a power loss, sending the rest, and ends', async () => {
  const flock = await loadFlock()
  const server = join(temp.dir, 'server')
  const writer = OutboxWriter.create(server, flock)
  const outbox = writer.outbox('alice/p/garbled')
  for (let i = 0; i < 3; i++) outbox.push(entry(i))
  outbox.persistSync()
  const directory = outbox.directory
  outbox.close()
  const segments = readdirSync(directory).filter((f) => f.endsWith('.log'))
  const first = join(directory, segments[0]!)
  const size = statSync(first).size
  // A zero-filled stretch and a newline (a power loss), then a second
  // segment named past where the first one now ends.
  appendFileSync(first, `${'\0'.repeat(10)}\n`)
  const next = String(size + 100).padStart(16, '0')
  writeFileSync(join(directory, `${next}.log`), `${entry(3)}\n${entry(4)}\n`)
  const orphan = Outbox.adopt(directory)
  expect(drain(orphan)).toEqual([0, 1, 2, 3, 4].map((i) => entry(i)))
  expect(orphan.length).toBe(0)
  expect(orphan.torn).toBe(1)
  orphan.remove()
})

it('gives two channels of one process for the same experiment an outbox each', async () => {
  const writer = OutboxWriter.create(
    join(temp.dir, 'server'),
    await loadFlock(),
  )
  const one = writer.outbox('alice/p/same')
  const two = writer.outbox('alice/p/same')
  expect(one.directory).not.toBe(two.directory)
  one.push(entry(1))
  two.push(entry(2))
  expect(writer.release(one)).toBe(false)
  // The other goes on, its files open.
  two.push(entry(3))
  expect(drain(two)).toEqual([entry(2), entry(3)])
  expect(writer.release(two)).toBe(true)
})

it('goes on from memory when its folder is deleted under it, counting what only the disk held', async () => {
  const writer = OutboxWriter.create(
    join(temp.dir, 'server'),
    await loadFlock(),
  )
  const outbox = writer.outbox('alice/p/vanished')
  // Past the memory window: the first entries are then on disk only.
  for (let i = 0; i < 10_000; i++) outbox.push(entry(i, 1000))
  outbox.persistSync()
  rmSync(outbox.directory, { recursive: true, force: true })
  let taken: string[] = []
  expect(() => (taken = drain(outbox))).not.toThrow()
  expect(outbox.unreadable + taken.length).toBe(10_000)
  expect(outbox.length).toBe(0)
  expect(outbox.durable).toBeUndefined()
  // From then on, in memory.
  outbox.push(entry(-1))
  expect(drain(outbox)).toEqual([entry(-1)])
})

it('names one folder per server however its URL is written', () => {
  expect(serverDirectory(temp.dir, 'HTTP://Example.test:1')).toBe(
    serverDirectory(temp.dir, 'http://example.test:1/'),
  )
})
