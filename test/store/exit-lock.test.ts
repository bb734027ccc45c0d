/**
 * The exit drain waits for a held lock only so long: a writer that keeps
 * the experiment's flock (here a real Python process) must not keep a
 * program from exiting; the entries are counted and reported instead.
 */
import { spawn } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { expect, it } from 'vitest'
import { EXIT_LOCK_WAIT_MS } from '../../src/store/local-store.js'
import { FIXTURES, run, useTempDir } from '../helpers.js'

const temp = useTempDir()

it('exits, saying why, when another writer holds the lock through the exit drain', async () => {
  const prefix = 'alice/exit-lock/run'
  const logs = join(temp.dir, prefix, 'logs')
  mkdirSync(logs, { recursive: true })
  // Holds the SDK's lock far longer than the drain may wait, then lets go.
  const python = spawn('python3', [
    '-c',
    `import fcntl, sys, time
lock = open(sys.argv[1], "a")
fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
print("locked", flush=True)
time.sleep(25)`,
    join(logs, '.log_sequence.lock'),
  ])
  try {
    const lines = createInterface({ input: python.stdout })
    for await (const line of lines) {
      expect(line).toBe('locked')
      break
    }
    const result = await run(process.execPath, [
      join(FIXTURES, 'winston-exit-at-once.mjs'),
      temp.dir,
      prefix,
      '10',
    ])
    expect(result.code).toBe(0)
    expect(result.stderr).toContain(
      `another writer held the lock for ${EXIT_LOCK_WAIT_MS} ms`,
    )
    expect(result.stderr).toMatch(/10 entries not delivered/)
  } finally {
    python.kill()
  }
})
