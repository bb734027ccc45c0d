/**
 * One suite for every entry point: the Experiment, the pino worker
 * transport, the pino main-thread destination, the CLI pipe, the winston
 * transport, the OpenTelemetry exporter under the Batch and the Simple
 * processor, and the receiver fed by the official OTLP exporter. Each case
 * runs in a child process (driver.mjs) against the built package, as an
 * application would use it; a new entry point gets every case by being
 * added to ENTRY_GROUPS (here and in the driver). The test files beside
 * this one run a group each.
 */
import { writeFileSync, readFileSync, existsSync, readdirSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEFAULT_ENTRY_LIMITS, encodeEntry } from '../../src/core/entry.js'
import { parsePrefix } from '../../src/core/prefix.js'
import { openLocalStore } from '../../src/store/local-store.js'
import {
  signTestToken,
  startTestServer,
} from '../../src/testing/ml-dash-server.js'
import type { Finished, StoredLine } from '../helpers.js'
import { FIXTURES, nesting, readLines, run, useTempDir } from '../helpers.js'

const DRIVER = fileURLToPath(new URL('./driver.mjs', import.meta.url))
const CLI = fileURLToPath(
  new URL('../../bin/ml-dash-logs.cjs', import.meta.url),
)
const PREFIX = 'alice/conformance/run'
const LEVELS = ['debug', 'info', 'warn', 'error', 'fatal']

/**
 * The entry points, in groups of two: each group is one test file (so that
 * vitest runs them side by side), every group the same cases.
 */
export const ENTRY_GROUPS = [
  ['experiment', 'cli-pipe'],
  ['pino-transport', 'pino-destination'],
  ['winston', 'receiver'],
  ['otel-batch', 'otel-simple'],
] as const
type Entry = (typeof ENTRY_GROUPS)[number][number]

/** An environment without the SDK's variables, so only the case's options count. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env }
  for (const name of Object.keys(env))
    if (name.startsWith('ML_DASH_')) delete env[name]
  return env
}

/**
 * The times case's times, epoch milliseconds with a fraction: a hair below
 * the next millisecond (and below the next year), a half, a hair above,
 * microseconds, none.
 */
const GIVEN_TIMES = [
  Date.UTC(2025, 9, 29, 10, 30, 0, 123) + 0.9996,
  Date.UTC(2025, 9, 29, 10, 30, 0, 123) + 0.5,
  Date.UTC(2025, 9, 29, 10, 30, 0, 123) + 0.0004,
  Date.UTC(2025, 9, 29, 10, 30, 0, 123) + 0.123456,
  Date.UTC(2025, 11, 31, 23, 59, 59, 999) + 0.9996,
  Date.UTC(2025, 9, 29, 10, 30, 0, 123),
]

/** ISO-8601 UTC with Z and 3 or 6 fractional digits (section 3 of the spec). */
const STORED_TIMESTAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3})(\d{3})?Z$/

/** A stored timestamp in microseconds since the epoch; NaN when it is not one. */
function storedMicros(stamp: string): number {
  const match = STORED_TIMESTAMP.exec(stamp)
  if (match === null) return Number.NaN
  return Date.parse(`${match[1]}Z`) * 1000 + Number(match[2] ?? 0)
}

/** Runs one case; the CLI pipe is `node app | ml-dash-logs …` through a shell. */
function drive(
  entry: Entry,
  scenario: string,
  dashRoot: string,
  extraEnv: Record<string, string> = {},
): Promise<Finished> {
  const args = [DRIVER, entry, scenario, dashRoot, PREFIX]
  const silentAt = extraEnv.CONFORMANCE_SILENT_URL ?? silentUrl
  const env = {
    ...cleanEnv(),
    // The user every template and default prefix of the suite names.
    USER: 'conformance',
    CONFORMANCE_SILENT_URL: silentUrl,
    CONFORMANCE_INTO_VICTIM: JSON.stringify(INTO_VICTIM),
    CONFORMANCE_TEMPLATE: TEMPLATE,
    CONFORMANCE_TIMES: JSON.stringify(GIVEN_TIMES),
    ...extraEnv,
  }
  if (entry !== 'cli-pipe') return run(process.execPath, args, { env })
  // The same close deadline as the driver gives the other entry points.
  const deadline = ['--close-timeout', '3000']
  const flags =
    scenario === 'silent-end' || scenario === 'silent-exit'
      ? ['--prefix', PREFIX, '--no-local', '--dash-url', silentAt, ...deadline]
      : scenario === 'misspelled'
        ? ['--prefix', PREFIX, '--dash-rot', dashRoot]
        : scenario === 'server-down'
          ? [
              '--prefix',
              PREFIX,
              '--no-local',
              '--dash-url',
              'http://127.0.0.1:1',
              ...deadline,
            ]
          : scenario === 'no-prefix'
            ? ['--dash-root', dashRoot]
            : scenario === 'template'
              ? ['--prefix', TEMPLATE, '--dash-root', dashRoot]
              : ['--prefix', PREFIX, '--dash-root', dashRoot]
  const quote = (word: string) => `'${word.replaceAll("'", "'\\''")}'`
  const node = quote(process.execPath)
  const pipeline = `${node} ${args.map(quote).join(' ')} | ${node} ${quote(CLI)} ${flags.map(quote).join(' ')}`
  return run('sh', ['-c', pipeline], {
    env: {
      ...env,
      ML_DASH_TOKEN: extraEnv.CONFORMANCE_TOKEN ?? 'opaque-test-token',
    },
  })
}

function stored(dashRoot: string): StoredLine[] {
  const file = join(dashRoot, PREFIX, 'logs', 'logs.jsonl')
  return existsSync(file) ? readLines(file) : []
}

/** A prefix as the SDK's templates write it, and what python3 expands it to (the SDK's rule: str.format over datetime.now()). */
const TEMPLATE = '{user}/tpl/{now:%Y}/{now:%m-%d}/run'
function expandedByPython(): Promise<string> {
  return run(
    'python3',
    [
      '-c',
      'import datetime; print("conformance/tpl/{0:%Y}/{0:%m-%d}/run".format(datetime.datetime.now()))',
    ],
    {},
  ).then((result) => result.stdout.trim())
}

/** Spellings of a prefix leading into or through the experiment alice/rt/victim: the driver routes a record to each. */
const INTO_VICTIM = [
  'alice/rt/victim/experiment.json',
  'alice/rt/victim/Experiment.JSON',
  'alice/rt/victim/logs/logs.jsonl',
  'alice/rt/victim/logs/.log_sequence',
  'alice/rt/victim/logs',
  'alice/rt/victim/sub/x',
]

/** Every path under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  return (readdirSync(dir, { recursive: true }) as string[]).sort()
}

/** Opens an experiment with the real store and appends one line; resolves when closed. */
async function writeOne(dashRoot: string, prefix: string): Promise<void> {
  const store = await openLocalStore(dashRoot, parsePrefix(prefix))
  const result = await store.append([
    encodeEntry({ level: 'info', message: `in ${prefix}` }),
  ])
  store.close()
  expect(result.status).toBe('success')
}

/** The address of a server that takes connections and never answers (set by the suite). */
let silentUrl = ''

/** Every case of the suite, for `entries`; called by one test file per group. */
export function conformance(entries: readonly Entry[]): void {
  /** A server that takes connections and never answers. */
  const silent = createServer(() => {})
  beforeAll(async () => {
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    silentUrl = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`
  })
  afterAll(() => {
    silent.close()
  })

  describe.each(entries)('%s', (entry) => {
    const temp = useTempDir()
    const root = () => join(temp.dir, 'store')

    it('stores the same record as the same line, at each of the five levels', async () => {
      const result = await drive(entry, 'levels', root())
      expect(result.stderr).not.toMatch(/Error|ml-dash-logs:/)
      expect(
        stored(root()).map((line) => [
          line.level,
          line.message,
          line.metadata?.n,
          line.metadata?.tag,
        ]),
      ).toEqual(
        LEVELS.map((level, n) => [level, `record ${n}`, n, 'conformance']),
      )
    })

    it('stores a time given to a fraction of a millisecond as ISO-8601 with 3 or 6 digits, within a microsecond of it', async () => {
      const result = await drive(entry, 'times', root())
      expect(result.stderr).not.toMatch(/Error|ml-dash-logs:/)
      expect(
        stored(root()).map((line) => [
          line.message,
          line.timestamp,
          Math.abs(
            storedMicros(line.timestamp) -
              GIVEN_TIMES[line.metadata?.n as number]! * 1000,
          ) <= 1,
        ]),
      ).toEqual(
        GIVEN_TIMES.map((_, i) => [
          `time ${i}`,
          expect.stringMatching(STORED_TIMESTAMP) as unknown,
          true,
        ]),
      )
    })

    it.each([
      ['exit-first-tick', 100],
      ['exit-after-10000', 10_000],
    ])(
      'keeps every record when the program exits (%s)',
      async (scenario, count) => {
        const result = await drive(entry, scenario, root())
        const lines = stored(root())
        expect(lines.map((line) => line.message)).toEqual(
          Array.from({ length: count }, (_, i) => `record ${i}`),
        )
        expect(lines.map((line) => line.sequenceNumber)).toEqual(
          Array.from({ length: count }, (_, i) => i),
        )
        expect(result.stderr).not.toMatch(/not open yet|Error/)
      },
    )

    it('stores a shared-reference value and a 5000-deep one cut and marked, within the limits', async () => {
      const result = await drive(entry, 'hostile', root())
      expect(result.code).toBe(0)
      const lines = stored(root())
      expect(lines.length).toBeGreaterThan(0)
      const limits = DEFAULT_ENTRY_LIMITS
      for (const line of lines) {
        const text = JSON.stringify(line)
        expect(text.length).toBeLessThan(
          limits.maxMetadataBytes + 2 * limits.maxMessageLength + 1000,
        )
        expect(nesting(line.metadata)).toBeLessThanOrEqual(limits.maxDepth + 1)
        expect(text).toMatch(/size budget spent|\[Array\]|\[Object\]|truncated/)
      }
      const measure = `${root()}.measure`
      if (entry !== 'cli-pipe') {
        const { rssGrowth } = JSON.parse(readFileSync(measure, 'utf8')) as {
          rssGrowth: number
        }
        expect(rssGrowth).toBeLessThan(100 * 1024 * 1024)
      }
    })

    it('stores a field whose getter throws as a marker where this library reads it, and the record after it', async () => {
      const result = await drive(entry, 'getters', root())
      expect(result.code).toBe(0)
      const lines = stored(root())
      // (The pipe stores the driver's own stdout line too: found by message.)
      expect(lines.find((line) => line.message === 'after')).toMatchObject({
        metadata: { n: 1 },
      })
      const first = lines.find((line) => line.message === 'with getter')
      if (entry === 'experiment') {
        // The value reaches this library as it was given: the getter is read here.
        expect(result.stdout).toMatch(/THREW nothing/)
        expect(first?.metadata).toMatchObject({
          ok: 1,
          bad: '[Throws: Error: getter exploded]',
        })
      } else {
        // winston (copying the call's metadata into its info), pino and the
        // OpenTelemetry SDK read the value before this library sees an
        // object, text or a copy: whatever they did, nothing stored is wrong.
        // (An info given to winston whole reaches the transport with its
        // getter: test/winston/transport.test.ts.)
        expect(first?.metadata?.bad ?? '[Throws: Error: getter exploded]').toBe(
          '[Throws: Error: getter exploded]',
        )
      }
    })

    it('refuses to run without a prefix, with a sentence naming it (the Experiment: takes the SDK default)', async () => {
      const result = await drive(entry, 'no-prefix', root())
      const said = `${result.stdout}${result.stderr}`
      if (entry === 'experiment') {
        // As the SDK: {project}/{now:%Y/%m-%d}/{path_stem}/{job_name}, project {user}/scratch.
        expect(said).not.toMatch(/CONSTRUCTION/)
        const user = 'conformance'
        const files = readdirSync(join(root(), user, 'scratch'), {
          recursive: true,
          encoding: 'utf8',
        })
        expect(
          files.filter((file) => file.endsWith('logs.jsonl')),
        ).toHaveLength(1)
        return
      }
      if (entry === 'receiver') {
        // The receiver answers for each record it cannot route instead.
        expect(said).toMatch(/"unrouted":5/)
      } else {
        expect(said).toMatch(/prefix/)
        expect(said).toMatch(/ML_DASH_PREFIX|--prefix/)
        // The code, too: a program (or a log search) goes by it, not by the
        // text; a command line says it with its exit code (2, usage).
        if (entry === 'cli-pipe') expect(result.code).toBe(2)
        else expect(said).toMatch(/ML_DASH_CONFIG/)
      }
      expect(stored(root())).toEqual([])
    })

    it('expands a prefix written as an SDK template as the SDK does', async () => {
      const result = await drive(entry, 'template', root())
      expect(result.stderr).not.toMatch(/Error|ml-dash-logs:/)
      const file = join(root(), await expandedByPython(), 'logs', 'logs.jsonl')
      expect(existsSync(file)).toBe(true)
      expect(readLines(file).map((line) => line.message)).toEqual(
        LEVELS.map((_, n) => `record ${n}`),
      )
    })

    it('warns once about a misspelled option, naming the nearest known one', async () => {
      const result = await drive(entry, 'misspelled', root())
      if (entry === 'cli-pipe') {
        // A command line refuses an unknown flag (exit 2) rather than ignore it.
        expect(result.stderr).toMatch(
          /unknown option --dash-rot \(did you mean --dash-root\?\)/,
        )
        return
      }
      const warnings = result.stderr.match(/unknown option[^\n]*/g) ?? []
      expect(warnings).toEqual([
        'unknown option "batchsize" (did you mean "batchSize"?); it is ignored',
      ])
      expect(stored(root())).toHaveLength(5)
    })

    it('says on stderr, without crashing, that the store cannot be written', async () => {
      writeFileSync(root(), 'a file where the store root should be')
      const result = await drive(entry, 'unwritable', root())
      expect(result.signal).toBeNull()
      // The Experiment's start() rejects with the sentence (the driver prints it); the rest say it on stderr.
      const said = entry === 'experiment' ? result.stdout : result.stderr
      expect(said).toMatch(/ml-dash-logs: .*ENOTDIR.* \[ML_DASH_STORE_IO\]/)
      expect(result.stderr).not.toMatch(/\n\s+at /)
    })

    it.each(['silent-end', 'silent-exit'])(
      'ends within its deadline and says what a silent server never got (%s)',
      async (scenario) => {
        const result = await drive(entry, scenario, root())
        expect(result.signal).toBeNull()
        // Nothing is lost: kept in the outbox, and said.
        expect(result.stderr).toMatch(
          /ml-dash-logs: .*not sent yet, kept in the outbox .*`ml-dash-logs sync --dash-url \S+ --spool-dir \S+`/,
        )
        expect(result.stderr).not.toMatch(/\n\s+at /)
      },
    )

    // At process.exit(), the hardest of the two (the silent-end line above is said the same way).
    it.each(['silent-exit'])(
      'keeps what a server that went silent did not take, and `ml-dash-logs sync` sends it once the server answers (%s)',
      async (scenario) => {
        const server = await startTestServer()
        try {
          server.inject({ kind: 'hold', count: 1000, match: /logs$/ })
          const token = signTestToken({ username: 'alice' })
          const cache = join(temp.dir, 'cache')
          const result = await drive(entry, scenario, root(), {
            CONFORMANCE_SILENT_URL: server.url,
            CONFORMANCE_TOKEN: token,
            XDG_CACHE_HOME: cache,
          })
          expect(result.signal).toBeNull()
          expect(result.stderr).toMatch(/kept in the outbox/)
          expect(server.experiment(PREFIX)?.logs ?? []).toEqual([])
          server.clearFaults()
          // Exactly the command the message names, from another folder and
          // without the cache variable: its flags alone find the outbox.
          const command = /`ml-dash-logs (sync [^`]+)`/.exec(result.stderr)?.[1]
          expect(command).toBeDefined()
          const synced = await run(
            process.execPath,
            [CLI, ...command!.split(' ')],
            {
              cwd: temp.dir,
              env: { ...cleanEnv(), ML_DASH_TOKEN: token },
            },
          )
          expect(synced.stderr).toMatch(
            /sync: 1 outbox .*: 5 sent, 0 failed, 0 left/,
          )
          expect(synced.code).toBe(0)
          expect(server.experiment(PREFIX)?.logs.map((l) => l.message)).toEqual(
            Array.from({ length: 5 }, (_, i) => `record ${i}`),
          )
        } finally {
          await server.close()
        }
      },
    )

    it('keeps a record routed into or through another experiment in its own, marked, and leaves that experiment whole', async () => {
      const victim = join(root(), 'alice', 'rt', 'victim')
      await writeOne(root(), 'alice/rt/victim')
      const before = tree(victim)
      const result = await drive(entry, 'routed-into', root())
      if (entry === 'experiment') {
        expect(result.stdout).toMatch(
          /CONSTRUCTION .*leads through the experiment "alice\/rt\/victim"/,
        )
      } else {
        expect(
          stored(root()).map((line) => [
            line.message,
            line.metadata?.['ml_dash.prefix_refused'],
          ]),
        ).toEqual(INTO_VICTIM.map((into, i) => [`routed ${i}`, into]))
      }
      expect(tree(victim)).toEqual(before)
      // The other experiment still opens and takes writes, and the SDK's tools still read the store.
      await writeOne(root(), 'alice/rt/victim')
      const validated = await run('python3', [
        join(FIXTURES, 'sdk_validate.py'),
        root(),
      ])
      expect(validated.stderr).toBe('')
      expect(validated.code).toBe(0)
      expect(validated.stdout).toContain('rt/victim')
    })

    it('says on stderr, without crashing, that the server is down', async () => {
      const result = await drive(entry, 'server-down', root())
      expect(result.signal).toBeNull()
      expect(result.stderr).toMatch(
        /ml-dash-logs: .*ECONNREFUSED.* \[ML_DASH_NETWORK\]/,
      )
      expect(result.stderr).not.toMatch(/\n\s+at /)
    })
  })
}
