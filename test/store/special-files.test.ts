/**
 * Something other than a regular file at one of the store's own names: a
 * FIFO would block the open forever (a read open waits for a writer), and
 * the exit drain with it. Each is refused with a sentence naming the path.
 * Run in a child process, so that a blocked open shows as a timeout rather
 * than hanging the suite.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { FIXTURES, useTempDir } from '../helpers.js'

const temp = useTempDir()

it.each([
  'experiment.json',
  '.experiment.lock',
  'logs/.log_sequence.lock',
  'logs/logs.jsonl',
  'logs/.log_sequence',
])('refuses a FIFO at %s, naming it, without blocking', (name) => {
  const folder = join(temp.dir, 'alice', 'special', 'run')
  mkdirSync(join(folder, 'logs'), { recursive: true })
  execFileSync('mkfifo', [join(folder, name)])
  const result = spawnSync(
    process.execPath,
    [join(FIXTURES, 'start-experiment.mjs'), temp.dir, 'alice/special/run'],
    { encoding: 'utf8', timeout: 15_000 },
  )
  expect(result.signal).toBeNull()
  expect(result.stdout).toContain(
    `refusing to open "${join(folder, name)}": it is not a regular file`,
  )
  expect(result.stdout).toContain('[ML_DASH_STORE_IO]')
})

it('refuses a folder at logs/logs.jsonl, naming it', () => {
  const folder = join(temp.dir, 'alice', 'special', 'dir')
  mkdirSync(join(folder, 'logs', 'logs.jsonl'), { recursive: true })
  const result = spawnSync(
    process.execPath,
    [join(FIXTURES, 'start-experiment.mjs'), temp.dir, 'alice/special/dir'],
    { encoding: 'utf8', timeout: 15_000 },
  )
  expect(result.stdout).toMatch(/ERROR .*logs\.jsonl/)
})
