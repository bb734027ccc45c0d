/**
 * Crash behaviour with real child processes: a writer killed with SIGKILL
 * mid-stream leaves a store that the next open repairs, handing out no
 * number twice; a process that calls process.exit() right after logging
 * still has every entry written.
 */
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { Experiment } from '../../src/experiment.js'
import { FIXTURES, readLines, run, useTempDir } from '../helpers.js'

const temp = useTempDir()

/** Starts the endless writer and kills it with SIGKILL after `delayMs` of writing. */
async function killMidStream(prefix: string, delayMs: number): Promise<void> {
  const child = spawn(
    process.execPath,
    [join(FIXTURES, 'log-forever.mjs'), temp.dir, prefix],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const closed = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('close', (_code, signal) => resolve(signal)),
  )
  await new Promise<void>((resolve) =>
    child.stdout.once('data', () => resolve()),
  )
  await new Promise((resolve) => setTimeout(resolve, delayMs))
  child.kill('SIGKILL')
  expect(await closed).toBe('SIGKILL')
}

/** Random moments; CRASH_ROUNDS raises the count (50 were run by hand). */
const ROUNDS = Number(process.env.CRASH_ROUNDS ?? 8)

describe('a writer killed with SIGKILL', () => {
  it(
    'leaves a store the next open repairs, with no number handed out twice',
    async () => {
      const prefix = 'alice/crash/run'
      const logs = join(temp.dir, prefix, 'logs')
      for (let round = 0; round < ROUNDS; round++) {
        const delayMs = Math.floor(Math.random() * 150)
        await killMidStream(prefix, delayMs)
        const exp = await new Experiment({ prefix, dashRoot: temp.dir }).start()
        exp.log('after the crash')
        await exp.close()
        // Every line is valid JSON (readLines parses strictly) and numbers run 0..n-1 in file order.
        const lines = readLines(join(logs, 'logs.jsonl'))
        expect(lines.map((l) => l.sequenceNumber)).toEqual(
          lines.map((_, i) => i),
        )
        expect(lines.at(-1)?.message).toBe('after the crash')
        expect(readFileSync(join(logs, '.log_sequence'), 'utf8')).toBe(
          String(lines.length),
        )
      }
    },
    10_000 + ROUNDS * 2_000,
  )
})

describe('process.exit() right after logging', () => {
  it('still writes every entry (synchronous drain on exit)', async () => {
    const prefix = 'alice/exit/run'
    const result = await run(process.execPath, [
      join(FIXTURES, 'exit-after-logging.mjs'),
      temp.dir,
      prefix,
      '5000',
    ])
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const lines = temp.lines(prefix)
    expect(lines.map((l) => l.message)).toEqual(
      Array.from({ length: 5000 }, (_, i) => `entry ${i}`),
    )
    expect(lines.map((l) => l.sequenceNumber)).toEqual(lines.map((_, i) => i))
  })
})

describe('the CommonJS build', () => {
  it('loads with require() and writes', async () => {
    const prefix = 'alice/cjs/run'
    const result = await run(process.execPath, [
      join(FIXTURES, 'require-cjs.cjs'),
      temp.dir,
      prefix,
    ])
    expect(result.stdout).toBe('ok\n')
    expect(temp.lines(prefix)).toMatchObject([
      { level: 'debug', message: 'from require' },
    ])
  })
})
