import { spawn } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { expect, it } from 'vitest'
import { printLogs } from '../../src/cli/commands.js'
import { Experiment } from '../../src/experiment.js'
import { FIXTURES, useTempDir } from '../helpers.js'

const temp = useTempDir()

function io() {
  const stdout = new PassThrough()
  const stderr = new PassThrough()
  return {
    stdout,
    stderr,
    signals: new EventEmitter(),
    out: () => String(stdout.read() ?? ''),
    err: () => String(stderr.read() ?? ''),
  }
}

async function experiment(prefix: string): Promise<void> {
  await new Experiment({ prefix, dashRoot: temp.dir }).run((exp) => {
    exp.log('started')
    exp.log('héllo wörld', { level: 'warn', metadata: { n: 1 } })
    exp.logs.error('failed')
  })
}

it('prints entries, filters by level, and prints the stored lines with --json', async () => {
  await experiment('alice/cli/run')
  const plain = io()
  expect(
    await printLogs({ prefix: 'alice/cli/run', dashRoot: temp.dir }, plain),
  ).toBe(0)
  expect(plain.out()).toMatch(
    /^\S+Z info {2}started\n\S+Z warn {2}héllo wörld {"n":1}\n\S+Z error failed\n$/,
  )
  const filtered = io()
  await printLogs(
    {
      prefix: 'alice/cli/run',
      dashRoot: temp.dir,
      levels: ['warn', 'error'],
      json: true,
    },
    filtered,
  )
  const lines = filtered
    .out()
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { sequenceNumber: number })
  expect(lines.map((l) => l.sequenceNumber)).toEqual([1, 2])
})

it('follows new entries, printing a line only once it is whole, until a signal', async () => {
  await experiment('alice/cli/follow')
  const file = join(temp.dir, 'alice/cli/follow/logs/logs.jsonl')
  const tty = io()
  const done = printLogs(
    {
      prefix: 'alice/cli/follow',
      dashRoot: temp.dir,
      follow: true,
      json: true,
    },
    tty,
  )
  await new Promise((resolve) => setTimeout(resolve, 50))
  appendFileSync(
    file,
    '{"sequenceNumber":3,"timestamp":"2025-01-01T00:00:00Z","level":"info","mess',
  )
  await new Promise((resolve) => setTimeout(resolve, 400))
  appendFileSync(file, 'age":"late"}\n')
  await new Promise((resolve) => setTimeout(resolve, 400))
  tty.signals.emit('SIGINT')
  expect(await done).toBe(0)
  const printed = tty
    .out()
    .trim()
    .split('\n')
    .map((l) => (JSON.parse(l) as { message: string }).message)
  expect(printed).toEqual(['started', 'héllo wörld', 'failed', 'late'])
})

it('says where it looked when there are no logs', async () => {
  const missing = io()
  expect(
    await printLogs({ prefix: 'alice/cli/none', dashRoot: temp.dir }, missing),
  ).toBe(1)
  expect(missing.err()).toContain(
    `no logs at ${join(temp.dir, 'alice/cli/none/logs/logs.jsonl')}`,
  )
})

it('ends quietly with exit code 0 when its standard output is closed early (| head -1)', async () => {
  const prefix = 'alice/cli/many'
  const logs = join(temp.dir, prefix, 'logs')
  mkdirSync(logs, { recursive: true })
  // Far more than a pipe holds, so the command is still writing when it closes.
  const line = (n: number) =>
    `{"sequenceNumber":${n},"timestamp":"2025-01-01T00:00:00.000Z","level":"info","message":"entry ${n}"}\n`
  writeFileSync(
    join(logs, 'logs.jsonl'),
    Array.from({ length: 50_000 }, (_, n) => line(n)).join(''),
  )
  // The built command, as `npx ml-dash-logs` runs it (needs `npm run build`).
  const bin = join(FIXTURES, '..', '..', 'bin', 'ml-dash-logs.cjs')
  const child = spawn(
    process.execPath,
    [bin, 'logs', prefix, '--dash-root', temp.dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  // What `head -1` does: read a little, then close the pipe.
  child.stdout.once('data', () => child.stdout.destroy())
  const [code, signal] = await new Promise<[number | null, string | null]>(
    (resolve) => child.on('close', (c, s) => resolve([c, s])),
  )
  expect({ code, signal, stderr }).toEqual({
    code: 0,
    signal: null,
    stderr: '',
  })
})
