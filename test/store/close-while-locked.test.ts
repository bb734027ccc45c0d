/**
 * close() while an append waits for the flock a real Python writer holds:
 * the batch must still be written under the lock, never beside the Python
 * writer, and the store must follow the SDK's rules afterwards.
 */
import { spawn } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { expect, it } from 'vitest'
import { encodeEntry } from '../../src/core/entry.js'
import { parsePrefix } from '../../src/core/prefix.js'
import { openLocalStore } from '../../src/store/local-store.js'
import { FIXTURES, readLines, useTempDir } from '../helpers.js'

const temp = useTempDir()

/**
 * Entries in the batch: enough that numbering and writing them takes a
 * while, so a Python writer that took the lock meanwhile would see the file
 * change under its hold.
 */
const COUNT = 50_000

interface HolderReport {
  rounds: number
  changed: unknown[]
}

it('writes a batch closed while waiting for a Python writer’s lock only under the lock', async () => {
  const prefix = 'alice/close-wait/run'
  const directory = join(temp.dir, prefix)
  const closed = join(temp.dir, 'closed')
  const done = join(temp.dir, 'done')
  const store = await openLocalStore(temp.dir, parsePrefix(prefix))
  const batch = Array.from({ length: COUNT }, (_, i) =>
    encodeEntry({ level: 'info', message: `node ${i}`.padEnd(200, '.') }),
  )
  const python = spawn(
    'python3',
    [join(FIXTURES, 'lock-holder.py'), directory, closed, done],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  const exited = new Promise<number | null>((resolve) =>
    python.on('close', resolve),
  )
  const lines = createInterface({ input: python.stdout })[
    Symbol.asyncIterator
  ]()
  expect((await lines.next()).value).toBe('locked')

  // The append waits for the lock; close() arrives during the wait.
  const appended = store.append(batch)
  store.close()
  writeFileSync(closed, '')
  const result = await appended
  writeFileSync(done, '')
  const report = JSON.parse(
    (await lines.next()).value as string,
  ) as HolderReport
  expect(await exited).toBe(0)

  expect(result.status).toBe('success')
  // No hold of the Python writer saw the files change under it.
  expect(report.changed).toEqual([])
  const stored = readLines(join(directory, 'logs', 'logs.jsonl'))
  expect(stored.map((l) => l.sequenceNumber)).toEqual(stored.map((_, i) => i))
  expect(readFileSync(join(directory, 'logs', '.log_sequence'), 'utf8')).toBe(
    String(stored.length),
  )
  const node = stored.filter((l) => l.message.startsWith('node '))
  expect(node.map((l) => l.message)).toEqual(
    batch.map((_, i) => `node ${i}`.padEnd(200, '.')),
  )
  expect(stored.length - node.length).toBe(report.rounds)
}, 60_000)
