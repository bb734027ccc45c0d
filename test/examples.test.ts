/** The README's demo: every seed example writes its experiment under ./.dash. */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { readLines, run, useTempDir } from './helpers.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const temp = useTempDir()

it('writes each seed example into .dash with no server', async () => {
  const tsx = join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs')
  const result = await run(
    process.execPath,
    [tsx, join(ROOT, 'examples', 'run-all.ts')],
    { cwd: temp.dir },
  )
  expect(result.code).toBe(0)
  const expected: Record<string, string[]> = {
    'alice/project/my-experiment': ['info', 'info', 'warn', 'error'],
    'alice/project/log-levels': ['debug', 'info', 'warn', 'error', 'fatal'],
    'alice/project/structured-metadata': ['info', 'info'],
    'alice/project/error-tracking': ['error'],
  }
  for (const [prefix, levels] of Object.entries(expected)) {
    const directory = join(temp.dir, '.dash', prefix)
    expect(existsSync(join(directory, 'experiment.json'))).toBe(true)
    expect(
      readLines(join(directory, 'logs', 'logs.jsonl')).map((l) => l.level),
    ).toEqual(levels)
  }
  const training = readLines(
    join(temp.dir, '.dash/alice/ml/mnist-training/logs/logs.jsonl'),
  )
  expect(training).toHaveLength(12)
  expect(training[10]?.metadata).toMatchObject({ epoch: 10 })
  const progress = readLines(
    join(temp.dir, '.dash/alice/etl/data-processing/logs/logs.jsonl'),
  )
  expect(progress.at(-2)?.metadata).toEqual({ processed: 10000, total: 10000 })
  const pinoRun = readLines(
    join(temp.dir, '.dash/alice/loader/run-7/logs/logs.jsonl'),
  )
  expect(pinoRun.map((l) => l.level)).toEqual(['info', 'warn', 'error'])
  expect(result.stdout).toContain(
    'pino → server: 3 entries in alice/loader/run-7',
  )
})
