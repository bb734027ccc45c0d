import { spawn } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { Readable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { printLogs } from '../../src/cli/commands.js'
import { runCli } from '../../src/cli/main.js'
import {
  signTestToken,
  startTestServer,
} from '../../src/testing/ml-dash-server.js'
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

/** A started remote-only experiment on `server`, and the env that reads it. */
async function remoteExperiment(
  server: { url: string },
  prefix: string,
): Promise<{ env: { ML_DASH_TOKEN: string }; exp: Experiment }> {
  const env = { ML_DASH_TOKEN: signTestToken({ username: 'alice' }) }
  const exp = await new Experiment({
    prefix,
    dashRoot: false,
    dashUrl: server.url,
    token: env.ML_DASH_TOKEN,
  }).start()
  return { env, exp }
}

describe('from the server (--dash-url)', () => {
  it('prints what the server holds, filters by level on the server, and follows what comes after', async () => {
    const server = await startTestServer()
    try {
      const prefix = 'alice/cli/remote'
      const { env, exp } = await remoteExperiment(server, prefix)
      exp.log('started')
      exp.log('careful', { level: 'warn', metadata: { n: 1 } })
      exp.logs.error('failed')
      await exp.flush()
      const all = io()
      expect(
        await printLogs(
          { prefix, dashRoot: temp.dir, dashUrl: server.url, env },
          all,
        ),
      ).toBe(0)
      expect(all.out().trim().split('\n')).toEqual([
        expect.stringMatching(/Z info {2}started$/),
        expect.stringMatching(/Z warn {2}careful \{"n":1\}$/),
        expect.stringMatching(/Z error failed$/),
      ])
      const filtered = io()
      const following = printLogs(
        {
          prefix,
          dashRoot: temp.dir,
          dashUrl: server.url,
          env,
          levels: ['warn', 'error'],
          follow: true,
          json: true,
        },
        filtered,
      )
      await new Promise((resolve) => setTimeout(resolve, 200))
      exp.log('later', { level: 'error' })
      exp.log('not shown', { level: 'info' })
      await exp.close()
      await new Promise((resolve) => setTimeout(resolve, 1500))
      filtered.signals.emit('SIGTERM')
      expect(await following).toBe(0)
      const printed = filtered
        .out()
        .trim()
        .split('\n')
        .map(
          (l) => JSON.parse(l) as { message: string; sequenceNumber: number },
        )
      expect(printed.map((l) => [l.message, l.sequenceNumber])).toEqual([
        ['careful', 1],
        ['failed', 2],
        ['later', 3],
      ])
      // The server was asked for the levels: it filtered them.
      expect(
        server.requests.some((r) =>
          /\/logs\?.*level=warn%2Cerror/.test(r.path),
        ),
      ).toBe(true)
    } finally {
      await server.close()
    }
  })
})

it('waits out a server that answers 503 while it follows, saying so once, then goes on', async () => {
  const server = await startTestServer()
  try {
    const prefix = 'alice/cli/flaky'
    const { env, exp } = await remoteExperiment(server, prefix)
    exp.log('before')
    await exp.flush()
    const streams = io()
    const following = printLogs(
      {
        prefix,
        dashRoot: temp.dir,
        dashUrl: server.url,
        env,
        follow: true,
        json: true,
      },
      streams,
    )
    await new Promise((resolve) => setTimeout(resolve, 300))
    server.inject({ kind: 'status', status: 503, count: 2, match: /\/logs\?/ })
    await new Promise((resolve) => setTimeout(resolve, 1200))
    exp.log('after')
    await exp.close()
    await new Promise((resolve) => setTimeout(resolve, 2500))
    streams.signals.emit('SIGINT')
    expect(await following).toBe(0)
    expect(
      streams
        .out()
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { message: string }).message),
    ).toEqual(['before', 'after'])
    const said = streams.err().trim().split('\n')
    expect(said).toHaveLength(1)
    expect(said[0]).toMatch(/503.*asking again every 1 s$/)
  } finally {
    await server.close()
  }
})

it('shows control characters escaped, skips lines that are not entries (said once), and waits with --follow for an experiment not started yet', async () => {
  const prefix = 'alice/cli/hostile'
  const logs = join(temp.dir, prefix, 'logs')
  const streams = io()
  const waiting = printLogs(
    { prefix, dashRoot: temp.dir, follow: true },
    streams,
  )
  await new Promise((resolve) => setTimeout(resolve, 300))
  mkdirSync(logs, { recursive: true })
  writeFileSync(
    join(logs, 'logs.jsonl'),
    [
      'null',
      'garbage',
      JSON.stringify({
        sequenceNumber: 0,
        timestamp: 't',
        level: 'info',
        message: '\u001b[2J\u001b]0;pwned\u0007fake\rOK\nnext',
      }),
      '[1]',
      '',
    ].join('\n'),
  )
  await new Promise((resolve) => setTimeout(resolve, 600))
  streams.signals.emit('SIGINT')
  expect(await waiting).toBe(0)
  expect(streams.out()).toBe(
    't info  \\u001b[2J\\u001b]0;pwned\\u0007fake\\u000dOK\\nnext\n',
  )
  const said = streams.err().trim().split('\n')
  expect(said).toEqual([
    expect.stringContaining('yet; waiting for them'),
    expect.stringContaining('holds lines that are not log entries'),
  ])
})

it('colours the levels on a terminal, and not with NO_COLOR or when piped', async () => {
  await experiment('alice/cli/colour')
  const options = { prefix: 'alice/cli/colour', dashRoot: temp.dir }
  const coloured = io()
  await printLogs({ ...options, color: true }, coloured)
  expect(coloured.out()).toContain('\x1b[33mwarn \x1b[0m héllo wörld')
  const plain = io()
  await printLogs(options, plain)
  expect(plain.out()).not.toContain('\x1b[')
  // What runCli decides from the terminal and NO_COLOR.
  for (const [isTTY, env, expected] of [
    [true, {}, true],
    [true, { NO_COLOR: '1' }, false],
    [true, { TERM: 'dumb' }, false],
    [false, {}, false],
  ] as const) {
    const streams = io()
    Object.assign(streams.stdout, { isTTY })
    const code = await runCli(
      ['logs', 'alice/cli/colour', '--dash-root', temp.dir],
      {
        ...streams,
        stdin: Readable.from([]),
        env,
        version: '0',
      },
    )
    expect(code).toBe(0)
    expect(streams.out().includes('\x1b[33m')).toBe(expected)
  }
})

it('says in one sentence, with its flag, that the server is out of reach or refused the token', async () => {
  const server = await startTestServer()
  try {
    const said = async (url: string, token: string) => {
      const streams = io()
      const code = await runCli(['logs', 'alice/cli/x', '--dash-url', url], {
        ...streams,
        stdin: Readable.from([]),
        env: { ML_DASH_TOKEN: token, ML_DASH_NO_KEYCHAIN: '1' },
        version: '0',
      })
      return { code, err: streams.err() }
    }
    const good = signTestToken({ username: 'alice' })
    const refused = await said(
      server.url,
      signTestToken({ username: 'alice' }, 'other'),
    )
    expect(refused.code).not.toBe(0)
    expect(refused.err).toBe(
      `ml-dash-logs: the ml-dash server at ${server.url} refused the token from ML_DASH_TOKEN (401); run \`ml-dash login\`, or set ML_DASH_TOKEN [ML_DASH_AUTH]\n`,
    )
    const closed = await startTestServer()
    const url = closed.url
    await closed.close()
    const unreachable = await said(url, good)
    expect(unreachable.code).not.toBe(0)
    expect(unreachable.err).toBe(
      `ml-dash-logs: cannot reach the ml-dash server at ${url} (--dash-url): nothing listens there (connection refused) [ML_DASH_NETWORK]\n`,
    )
  } finally {
    await server.close()
  }
})
