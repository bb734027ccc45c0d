import { EventEmitter } from 'node:events'
import { writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { PassThrough, Readable, Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import type { CliIo } from '../../src/cli/main.js'
import { USAGE, parseCliArgs, runCli } from '../../src/cli/main.js'
import { signTestToken } from '../../src/testing/ml-dash-server.js'
import { FIXTURES, readLines, run, useTempDir } from '../helpers.js'

async function call(
  argv: string[],
  stdin: string | Readable = '',
  stdout: NodeJS.WritableStream = new PassThrough(),
): Promise<{ code: number; out: string; err: string }> {
  const stderr = new PassThrough()
  const io: CliIo = {
    stdin: typeof stdin === 'string' ? Readable.from([stdin]) : stdin,
    stdout,
    stderr,
    env: {},
    version: '1.2.3',
    signals: new EventEmitter(),
  }
  const code = await runCli(argv, io)
  return {
    code,
    out: stdout instanceof PassThrough ? String(stdout.read() ?? '') : '',
    err: String(stderr.read() ?? ''),
  }
}

const temp = useTempDir()

describe('ml-dash-logs', () => {
  it('prints help and the version', async () => {
    expect(await call(['--help'])).toEqual({ code: 0, out: USAGE, err: '' })
    expect(await call(['-v'])).toEqual({ code: 0, out: '1.2.3\n', err: '' })
  })

  it('refuses an unknown flag, or a missing prefix, with exit code 2 and one sentence', async () => {
    const unknown = await call(['--bogus'])
    expect(unknown.code).toBe(2)
    expect(unknown.err).toBe(
      'ml-dash-logs: unknown option --bogus for the stdin pipe\nml-dash-logs --help shows every command and option\n',
    )
    expect((await call([])).err).toContain('--prefix is required')
    expect((await call(['--prefix', 'a/b'])).err).toContain(
      'invalid prefix "a/b"',
    )
  })

  it.each([
    [
      ['logs', '--port', '3'],
      '--port is not an option of `logs` (it is one of `serve`)',
    ],
    [
      ['logs', 'a/b/c', '--levle', 'warn'],
      'unknown option --levle (did you mean --level?)',
    ],
    [
      ['logs', 'a/b/c', '--level', 'warning'],
      '--level "warning" is not a level (did you mean warn?): give a comma list of debug, info, warn, error, fatal',
    ],
    [
      ['logs', 'a/b/c', '--level', 'warn,loud'],
      '--level "loud" is not a level',
    ],
    [
      ['logs'],
      "`logs` needs the experiment's prefix: ml-dash-logs logs <owner/project/name>",
    ],

    [
      ['--prefix', 'a/b/c', '--level', 'warn'],
      '--level is not an option of the stdin pipe (it is one of `logs`)',
    ],
    [
      ['serve', '--follow'],
      '--follow is not an option of `serve` (it is one of `logs`)',
    ],
    [
      ['sync', '--prefix', 'a/b/c'],
      '--prefix is not an option of `sync` (it is one of the stdin pipe and `serve`)',
    ],
    [['serve', '--prot', '3'], 'unknown option --prot (did you mean --port?)'],
    [
      ['serve', '--close-timeout', '1e3'],
      '--close-timeout takes milliseconds, 0 to 86400000 (got "1e3")',
    ],
    [['frobnicate'], 'unknown command "frobnicate"'],
    [['--prefix'], '--prefix needs a value'],
    [
      ['--prefix', '--no-stdout'],
      '--prefix needs a value, and what follows it is a flag',
    ],
    [['logs', 'a/b/c', '--follow=1'], '--follow takes no value'],
    [
      ['--prefix', 'a/b/c', '--prefix', 'a/b/d'],
      '--prefix is given twice: give it once',
    ],
    [
      ['sync', '--dash-root', 'x', '--spool-dir', 'y'],
      'give --dash-root or --spool-dir, not both',
    ],
    [
      ['--prot', '4318', 'serve'],
      'unknown option --prot (did you mean --port?)',
    ],
    [['serve', '--constructor'], 'unknown option --constructor for `serve`'],
    [['logs', '--prefix', 'a/b/c'], '`logs` takes the prefix as its argument'],
    [['logs', 'a/b/c', 'x'], '`logs` takes one prefix; "x" is one too many'],
  ])(
    'says what is wrong with %j in one sentence and exits 2',
    async (argv, sentence) => {
      const result = await call(argv)
      expect(result.code).toBe(2)
      expect(result.out).toBe('')
      expect(result.err).toContain(`ml-dash-logs: ${sentence}`)
      expect(result.err.trim().split('\n')).toHaveLength(2)
    },
  )

  it('maps its flags onto the library options', () => {
    expect(
      parseCliArgs([
        '--prefix',
        'a/b/c',
        '--dash-root',
        'x',
        '--dash-url',
        'http://h',
      ]),
    ).toEqual({
      command: 'pipe',
      options: {
        prefix: 'a/b/c',
        dashRoot: 'x',
        dashUrl: 'http://h',
        stdout: true,
      },
    })
    expect(
      parseCliArgs(['--no-local', '--no-stdout', '--close-timeout', '2500']),
    ).toEqual({
      command: 'pipe',
      options: { dashRoot: false, stdout: false, closeTimeoutMs: 2500 },
    })
    expect(
      parseCliArgs([
        'serve',
        '--port',
        '0',
        '--host',
        '::1',
        '--auth-token',
        't',
        '--prefix',
        'a/b/c',
      ]),
    ).toEqual({
      command: 'serve',
      options: { port: 0, host: '::1', authToken: 't', prefix: 'a/b/c' },
    })
    expect(
      parseCliArgs([
        'logs',
        'a/b/c',
        '--level',
        'WARN,error',
        '--json',
        '--level',
        'debug',
      ]),
    ).toEqual({
      command: 'logs',
      options: {
        prefix: 'a/b/c',
        dashRoot: '.dash',
        levels: ['warn', 'error', 'debug'],
        json: true,
        follow: false,
      },
    })
    expect(() => parseCliArgs(['serve', '--port', '99999'])).toThrow(
      '--port must be 0 to 65535',
    )
    expect(() => parseCliArgs(['frobnicate'])).toThrow(
      'unknown command "frobnicate"',
    )
  })

  it('takes the receiver token from a file or ML_DASH_RECEIVER_TOKEN, never needing it on the command line', () => {
    const file = join(temp.dir, 'token')
    writeFileSync(file, 'from-file\nignored\n')
    expect(parseCliArgs(['serve', '--auth-token-file', file])).toMatchObject({
      options: { authToken: 'from-file' },
    })
    expect(
      parseCliArgs(['serve'], { ML_DASH_RECEIVER_TOKEN: 'from-env' }),
    ).toMatchObject({ options: { authToken: 'from-env' } })
    expect(
      parseCliArgs(['serve', '--auth-token-file', file], {
        ML_DASH_RECEIVER_TOKEN: 'from-env',
      }),
    ).toMatchObject({ options: { authToken: 'from-file' } })
    expect(() =>
      parseCliArgs(['serve', '--auth-token-file', join(temp.dir, 'none')]),
    ).toThrow('cannot read --auth-token-file')
    writeFileSync(file, '\n')
    expect(() => parseCliArgs(['serve', '--auth-token-file', file])).toThrow(
      'holds no token on its first line',
    )
    expect(() =>
      parseCliArgs(['serve'], { ML_DASH_RECEIVER_TOKEN: ' ' }),
    ).toThrow('ML_DASH_RECEIVER_TOKEN is set but empty')
    expect(USAGE).toContain('--auth-token-file')
  })

  it('pipes pino NDJSON from stdin into the store, keeping lines that are not JSON', async () => {
    const input = [
      JSON.stringify({
        level: 30,
        time: 1_700_000_000_000,
        msg: 'hello',
        pid: 1,
        user: 'x',
      }),
      'plain text line',
      JSON.stringify({
        level: 50,
        time: 1_700_000_000_001,
        msg: 'bad',
        'ml_dash.prefix': 'alice/pipe/other',
      }),
      '',
    ].join('\n')
    const result = await call(
      ['--prefix', 'alice/pipe/run', '--dash-root', temp.dir],
      input,
    )
    // The input goes on to stdout as it came, as with pino-loki.
    expect(result).toEqual({ code: 0, out: input, err: '' })
    const lines = readLines(join(temp.dir, 'alice/pipe/run/logs/logs.jsonl'))
    expect(lines.map((l) => [l.level, l.message])).toEqual([
      ['info', 'hello'],
      ['info', 'plain text line'],
    ])
    expect(lines[0]).toMatchObject({
      timestamp: '2023-11-14T22:13:20.000Z',
      metadata: { pid: 1, user: 'x', source_level: 30 },
    })
    expect(
      readLines(join(temp.dir, 'alice/pipe/other/logs/logs.jsonl')),
    ).toMatchObject([{ level: 'error', message: 'bad' }])
  })

  it('refuses a sync folder that is not there, rather than sending nothing and exiting 0', async () => {
    const stderr = new PassThrough()
    const code = await runCli(
      [
        'sync',
        '--dash-url',
        'http://127.0.0.1:1',
        '--spool-dir',
        join(temp.dir, 'typo'),
      ],
      {
        stdin: Readable.from(['']),
        stdout: new PassThrough(),
        stderr,
        env: {
          ML_DASH_TOKEN: signTestToken({ username: 'alice' }),
          ML_DASH_NO_KEYCHAIN: '1',
        },
        version: '0',
        signals: new EventEmitter(),
      },
    )
    expect(code).toBe(2)
    expect(String(stderr.read())).toBe(
      `ml-dash-logs: sync: --spool-dir ${join(temp.dir, 'typo')} is not a folder\n`,
    )
  })

  it('says a configuration mistake of the pipe with its flags', async () => {
    const result = await call(['--prefix', 'a/b/c', '--no-local'])
    expect(result.code).toBe(2)
    expect(result.err).toMatch(
      /^ml-dash-logs: .*--no-local is given and no --dash-url is set.*\[ML_DASH_CONFIG\]\n$/,
    )
  })

  it('goes on storing, and says so once, when stdout fails with an error other than EPIPE', async () => {
    const stdout = new Writable({
      write(_chunk, _encoding, callback) {
        callback(Object.assign(new Error('i/o error'), { code: 'EIO' }))
      },
    })
    const input = Array.from(
      { length: 2000 },
      (_, i) => `{"level":30,"msg":"line ${i}"}\n`,
    )
    const { code, err } = await call(
      ['--prefix', 'alice/pipe/eio', '--dash-root', temp.dir],
      Readable.from(input),
      stdout,
    )
    expect({ code, err }).toEqual({
      code: 0,
      err: 'ml-dash-logs: cannot write to stdout (EIO): nothing more is printed there, and the input is still stored\n',
    })
    expect(
      readLines(join(temp.dir, 'alice/pipe/eio/logs/logs.jsonl')),
    ).toHaveLength(2000)
  })

  it('after Ctrl-C stores the app’s last lines, up to the end of its output, or to the close deadline', async () => {
    for (const ending of ['end', 'deadline', 'second signal'] as const) {
      const prefix = `alice/pipe/signal-${ending.replace(' ', '-')}`
      const stdin = new PassThrough()
      const signals = new EventEmitter()
      const stdout = new PassThrough()
      const stderr = new PassThrough()
      const done = runCli(
        ['--prefix', prefix, '--dash-root', temp.dir, '--close-timeout', '300'],
        { stdin, stdout, stderr, env: {}, version: '0', signals },
      )
      stdin.write('{"level":30,"msg":"working"}\n')
      await new Promise((resolve) => setTimeout(resolve, 50))
      signals.emit('SIGINT')
      // The app got the same Ctrl-C: it says goodbye, then its output ends.
      stdin.write('{"level":40,"msg":"got SIGINT, shutting down"}\n')
      await new Promise((resolve) => setTimeout(resolve, 50))
      stdin.write('{"level":30,"msg":"bye"}\n')
      if (ending === 'end') stdin.end()
      if (ending === 'second signal') {
        // What was read by then is kept; the input ends at once.
        await new Promise((resolve) => setTimeout(resolve, 50))
        signals.emit('SIGTERM')
      }
      expect(await done).toBe(0)
      expect(
        readLines(join(temp.dir, prefix, 'logs/logs.jsonl')).map(
          (l) => l.message,
        ),
      ).toEqual(['working', 'got SIGINT, shutting down', 'bye'])
      expect(signals.listenerCount('SIGINT')).toBe(0)
    }
  })

  it('stores without echoing with --no-stdout', async () => {
    const input = '{"level":30,"msg":"one"}\n{"level":40,"msg":"two"}\n'
    const quiet = await call(
      ['--prefix', 'alice/pipe/quiet', '--dash-root', temp.dir, '--no-stdout'],
      input,
    )
    expect(quiet).toEqual({ code: 0, out: '', err: '' })
    expect(
      readLines(join(temp.dir, 'alice/pipe/quiet/logs/logs.jsonl')).map(
        (l) => l.message,
      ),
    ).toEqual(['one', 'two'])
  })

  it('shows the app its lines and stores them all in `node app | ml-dash-logs … | head -1`, ending quietly', async () => {
    // The built command through a real shell (needs `npm run build`).
    const bin = join(FIXTURES, '..', '..', 'bin', 'ml-dash-logs.cjs')
    const app = `for (let i = 0; i < 20000; i++) console.log(JSON.stringify({ level: 30, time: 1700000000000, msg: 'line ' + i }))`
    const shell = `${JSON.stringify(process.execPath)} -e ${JSON.stringify(app)} | ${JSON.stringify(process.execPath)} ${JSON.stringify(bin)} --prefix alice/pipe/shell --dash-root ${JSON.stringify(temp.dir)} | head -1; echo "status \${PIPESTATUS[1]}" >&2`
    const result = await run('bash', ['-c', shell], {})
    expect(result.stdout).toBe(
      '{"level":30,"time":1700000000000,"msg":"line 0"}\n',
    )
    expect(result.stderr).toBe('status 0\n')
    const lines = readLines(join(temp.dir, 'alice/pipe/shell/logs/logs.jsonl'))
    expect(lines).toHaveLength(20_000)
    expect(lines[19_999]?.message).toBe('line 19999')
  })

  it('stores a line of 600 MiB (longer than V8 can hold as one string) cut, and the lines after it', async () => {
    const mib = 'a'.repeat(1 << 20)
    const input = Readable.from(
      (function* () {
        for (let i = 0; i < 600; i++) yield mib
        yield '\n{"level":40,"msg":"after"}\n'
      })(),
    )
    const { code, err } = await call(
      ['--prefix', 'alice/pipe/long', '--dash-root', temp.dir, '--no-stdout'],
      input,
    )
    expect({ code, err }).toEqual({ code: 0, err: '' })
    const lines = readLines(join(temp.dir, 'alice/pipe/long/logs/logs.jsonl'))
    expect(lines.map((l) => l.level)).toEqual(['info', 'warn'])
    // Cut to the entry's bound, with the entry's own marker.
    expect(String(lines[0]!.message)).toMatch(
      /^a{32768}\u2026\[truncated \d+ chars\]$/,
    )
    expect(lines[1]!.message).toBe('after')
  })

  it('says how many entries a silent server did not take and where they wait', async () => {
    const silent = createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`
      const input = Array.from(
        { length: 50 },
        (_, i) => `{"level":30,"msg":"${i}"}\n`,
      ).join('')
      const previous = process.env.ML_DASH_TOKEN
      process.env.ML_DASH_TOKEN = signTestToken({ username: 'alice' })
      try {
        const result = await call(
          [
            '--prefix',
            'alice/pipe/silent',
            '--no-local',
            '--dash-url',
            url,
            '--close-timeout',
            '300',
            '--no-stdout',
          ],
          input,
        )
        expect(result.code).toBe(1)
        expect(result.err).toContain(
          'not delivered: alice/pipe/silent (remote): 0 failed, 0 dropped of 50, 50 not sent yet (kept in the outbox, said above)',
        )
      } finally {
        if (previous === undefined) delete process.env.ML_DASH_TOKEN
        else process.env.ML_DASH_TOKEN = previous
      }
    } finally {
      silent.close()
    }
  })

  it('exits 1 and says what was not delivered', async () => {
    const blocked = join(temp.dir, 'file')
    await import('node:fs').then((fs) => fs.writeFileSync(blocked, ''))
    const result = await call(
      ['--prefix', 'alice/pipe/run', '--dash-root', blocked],
      '{"level":30,"msg":"x"}\n',
    )
    expect(result.code).toBe(1)
    expect(result.err).toContain(
      'not delivered: alice/pipe/run (local): 1 failed, 0 dropped of 1',
    )
  })
})
