/**
 * A disk that fills up between the log write and the counter write (a real
 * ENOSPC from a small tmpfs): the batch is retryable, and its retry must
 * not find it in the file already. Mounting needs root (CAP_SYS_ADMIN);
 * elsewhere the test is skipped.
 */
import { execFileSync } from 'node:child_process'
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { encodeEntry } from '../../src/core/entry.js'
import { parsePrefix } from '../../src/core/prefix.js'
import { openLocalStore } from '../../src/store/local-store.js'
import { readLines, useTempDir } from '../helpers.js'

const temp = useTempDir()

/** Mounts a 256 KiB tmpfs at `dir`; false when this process may not mount. */
function mountSmallTmpfs(dir: string): boolean {
  mkdirSync(dir)
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir], {
      stdio: 'ignore',
    })
    return true
  } catch {
    return false
  }
}

/** Writes `file` until the file system has no byte left. */
function fill(file: string): void {
  const fd = openSync(file, 'w')
  try {
    for (let chunk = 65536; chunk >= 1; chunk /= 2) {
      const bytes = Buffer.alloc(chunk)
      try {
        for (;;) writeSync(fd, bytes)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
      }
    }
  } finally {
    closeSync(fd)
  }
}

it('writes a batch whose counter write failed with ENOSPC once, when it is retried', async (context) => {
  const root = join(temp.dir, 'tmpfs')
  if (!mountSmallTmpfs(root)) context.skip('cannot mount a tmpfs here')
  try {
    const store = await openLocalStore(root, parsePrefix('alice/full/run'))
    const logs = join(root, 'alice/full/run/logs')
    const batch = ['a', 'b'].map((m) =>
      encodeEntry({ level: 'info', message: m }),
    )
    try {
      expect((await store.append([batch[0]!])).status).toBe('success')
      // The log's page has room for the batch; an empty counter file needs a new page.
      writeFileSync(join(logs, '.log_sequence'), '')
      fill(join(root, 'filler'))
      const before = readFileSync(join(logs, 'logs.jsonl'), 'utf8')
      const failed = await store.append(batch)
      expect(failed).toMatchObject({ status: 'retryable' })
      expect(failed.status !== 'success' && failed.error.message).toContain(
        `"${join(logs, '.log_sequence')}": ENOSPC`,
      )
      expect(readFileSync(join(logs, 'logs.jsonl'), 'utf8')).toBe(before)
      // Space again: the sink's retry writes the same batch.
      rmSync(join(root, 'filler'))
      expect((await store.append(batch)).status).toBe('success')
    } finally {
      store.close()
    }
    const lines = readLines(join(logs, 'logs.jsonl'))
    expect(lines.map((l) => [l.sequenceNumber, l.message])).toEqual([
      [0, 'a'],
      [1, 'a'],
      [2, 'b'],
    ])
    expect(readFileSync(join(logs, '.log_sequence'), 'utf8')).toBe('3')
  } finally {
    execFileSync('umount', ['-l', root])
  }
})
