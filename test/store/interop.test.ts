/**
 * A real python3 process appends through the SDK's flock protocol while this
 * library writes the same experiment: every number must appear once, in
 * file order, and both writers' entries must all be there.
 */
import { existsSync, writeFileSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { Experiment } from '../../src/experiment.js'
import { FIXTURES, readLines, useTempDir } from '../helpers.js'

const temp = useTempDir()

const COUNT = 400

it('shares one experiment with a Python SDK writer without a duplicate or a gap', async () => {
  const prefix = 'alice/shared/run-1'
  const directory = join(temp.dir, prefix)
  const go = join(temp.dir, 'go')
  const exp = await new Experiment({ prefix, dashRoot: temp.dir }).start()

  const python = spawn(
    'python3',
    [join(FIXTURES, 'sdk-writer.py'), directory, String(COUNT), go],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const exited = new Promise<number | null>((resolve) =>
    python.on('close', resolve),
  )
  await new Promise<void>((resolve) =>
    python.stdout.once('data', () => resolve()),
  )

  // Start together: the Python writer waits for this file.
  writeFileSync(go, '')
  for (let burst = 0; burst < COUNT / 10; burst++) {
    for (let i = 0; i < 10; i++)
      exp.log(`node ${burst * 10 + i}`, { metadata: { source: 'node' } })
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
  expect(await exited).toBe(0)
  const report = await exp.close()
  expect(report.local).toMatchObject({
    delivered: COUNT,
    failed: 0,
    dropped: 0,
  })

  const lines = readLines(join(directory, 'logs', 'logs.jsonl'))
  expect(lines.map((l) => l.sequenceNumber)).toEqual(
    Array.from({ length: 2 * COUNT }, (_, i) => i),
  )
  const sources = lines.map((l) => l.metadata?.source)
  expect(sources.filter((s) => s === 'python')).toHaveLength(COUNT)
  expect(sources.filter((s) => s === 'node')).toHaveLength(COUNT)
  // Each writer's own entries stay in their call order.
  const own = (source: string) =>
    lines.filter((l) => l.metadata?.source === source).map((l) => l.message)
  expect(own('node')).toEqual(
    Array.from({ length: COUNT }, (_, i) => `node ${i}`),
  )
  expect(own('python')).toEqual(
    Array.from({ length: COUNT }, (_, i) => `python ${i}`),
  )
  // The writers really overlapped: the file switches between them more than once.
  const switches = sources.filter(
    (s, i) => i > 0 && s !== sources[i - 1],
  ).length
  expect(switches).toBeGreaterThan(2)
  expect(existsSync(join(directory, 'logs', 'logs.jsonl.torn'))).toBe(false)
})
