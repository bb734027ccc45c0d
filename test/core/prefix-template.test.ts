/**
 * Prefix templates against Python itself: every expected value below is
 * computed by a real python3 (`datetime.strftime`, `str.format`,
 * `os.path.splitext`, `pathlib`) for the same instant in the same TZ (set
 * in the child's environment and in the expansion's), never written down
 * from this library's output. Without python3 these tests are skipped,
 * and say so, rather than passed.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { TemplateContext } from '../../src/core/prefix-template.js'
import {
  expandPrefix,
  findProjectRoot,
  SDK_DEFAULT_PREFIX_TEMPLATE,
  sdkDefaultPrefix,
  sdkPathStem,
  STRFTIME_CODES,
} from '../../src/core/prefix-template.js'
import { tempDir } from '../helpers.js'

const PYTHON = spawnSync('python3', ['--version']).status === 0
if (!PYTHON) {
  process.stderr.write(
    'prefix-template.test.ts: python3 not found, the comparisons with Python are skipped\n',
  )
}

/** Runs a Python snippet with `input` as JSON on stdin; returns its JSON output. */
function python<T>(
  script: string,
  input: unknown,
  env: Record<string, string | undefined> = {},
  cwd?: string,
): T {
  const result = spawnSync('python3', ['-c', script], {
    input: JSON.stringify(input),
    env: { ...process.env, ...env },
    encoding: 'utf8',
    cwd,
  })
  if (result.status !== 0) throw new Error(`python3 failed: ${result.stderr}`)
  return JSON.parse(result.stdout) as T
}

/**
 * For each instant (epoch ms), the naive local datetime the SDK's
 * `datetime.now()` would give then, formatted every way asked.
 */
const PY_FORMAT = `
import datetime, json, sys
req = json.load(sys.stdin)
out = []
for ms in req["instants"]:
    now = datetime.datetime.fromtimestamp(ms // 1000).replace(microsecond=ms % 1000 * 1000)
    out.append({
        "codes": [now.strftime(f) for f in req["formats"]],
        "templates": [t.format(now=now, job_counter=req["job_counter"]) for t in req["templates"]],
    })
print(json.dumps(out))
`

const instants = [
  Date.UTC(2024, 1, 29, 9, 5, 7, 4), // leap day: %j 060
  Date.UTC(2024, 11, 31, 23, 59, 59, 999), // %j 366, and the next year east of UTC
  Date.UTC(2025, 0, 5, 0, 0, 0, 0), // single digits, a Sunday, no fraction
  Date.UTC(2021, 0, 3, 12, 30, 45, 500), // ISO week 53 of 2020
  Date.UTC(2019, 11, 30, 12, 0, 0, 120), // ISO week 1 of 2020, noon
  Date.UTC(2023, 6, 4, 0, 7, 9, 120), // the midnight hour: %I 12
  Date.UTC(2024, 2, 10, 7, 30, 0, 0), // the day New York moves to summer time
]

const zones = [
  'UTC',
  'America/New_York',
  'Asia/Kolkata',
  'Australia/Lord_Howe',
  '',
  ':Europe/Paris',
]

const MINIMUM = [
  '%Y',
  '%m',
  '%d',
  '%H',
  '%M',
  '%S',
  '%y',
  '%j',
  '%b',
  '%B',
  '%a',
  '%A',
  '%p',
  '%f',
  '%z',
  '%Z',
  '%%',
]

/** Every supported code, alone and with each glibc flag, and path-like formats. */
const formats = [
  ...STRFTIME_CODES.flatMap((c) =>
    ['%f', '%z', '%Z', '%%'].includes(c)
      ? [c]
      : [c, `%-${c[1]}`, `%_${c[1]}`, `%0${c[1]}`, `%^${c[1]}`],
  ),
  '%Y/%m-%d',
  '%H.%M.%S',
  'run-%Y%m%d-%H%M%S.%f%z',
]

function context(
  now: number,
  tz: string,
  extra: Partial<TemplateContext> = {},
): TemplateContext {
  return { now: new Date(now), env: { TZ: tz, USER: 'bob' }, ...extra }
}

describe.skipIf(!PYTHON)(
  '{now:FORMAT} against Python datetime.strftime',
  () => {
    it('supports at least the codes a path needs', () => {
      expect(STRFTIME_CODES).toEqual(expect.arrayContaining(MINIMUM))
    })

    it.each(zones)('gives what Python gives in TZ=%j', (tz) => {
      const expected = python<{ codes: string[] }[]>(
        PY_FORMAT,
        { instants, formats, templates: [], job_counter: 0 },
        { TZ: tz },
      )
      instants.forEach((now, i) => {
        const got = formats.map((f) =>
          expandPrefix(`{now:${f}}`, context(now, tz)),
        )
        expect(got.map((g, j) => [formats[j], g])).toEqual(
          expected[i]!.codes.map((e, j) => [formats[j], e]),
        )
      })
    })

    it('gives str(now) for {now}, with the fraction only when there is one', () => {
      const templates = ['{now}', 'x/{now}/{now:%j}']
      const expected = python<{ templates: string[] }[]>(
        PY_FORMAT,
        { instants, formats: [], templates, job_counter: 0 },
        { TZ: 'Asia/Kolkata' },
      )
      instants.forEach((now, i) => {
        expect(
          templates.map((t) => expandPrefix(t, context(now, 'Asia/Kolkata'))),
        ).toEqual(expected[i]!.templates)
      })
    })
  },
)

describe.skipIf(!PYTHON)('the SDK fields against Python str.format', () => {
  it.each([0, 7, 1234])(
    'formats {job_counter} as Python does (counter %i)',
    (n) => {
      const templates = [
        '{job_counter}',
        '{job_counter:03d}',
        '{job_counter:03}',
        '{job_counter:5}',
        '{job_counter:d}',
        '{job_counter:010d}',
      ]
      const [expected] = python<{ templates: string[] }[]>(PY_FORMAT, {
        instants: [instants[0]],
        formats: [],
        templates,
        job_counter: n,
      })
      expect(
        templates.map((t) =>
          expandPrefix(t, context(instants[0]!, 'UTC', { jobCounter: n })),
        ),
      ).toEqual(expected!.templates)
    },
  )

  /** The SDK's values, from the environment the way params-proto's EnvVar reads it. */
  const SDK_FIELDS = `
import datetime, json, os, sys
req = json.load(sys.stdin)
user = os.environ["ML_DASH_USER"] if "ML_DASH_USER" in os.environ else os.environ["USER"]
now = datetime.datetime.fromtimestamp(req["ms"] // 1000).replace(microsecond=req["ms"] % 1000 * 1000)
project = "{user}/scratch".format(user=user)
job_name = "{now:%H.%M.%S}/{job_counter:03d}".format(now=now, job_counter=req["job_counter"])
fields = dict(user=user, project=project, now=now, path_stem=req["path_stem"], job_name=job_name, job_counter=req["job_counter"])
print(json.dumps({"default": req["default"].format(**fields), "templates": [t.format(**fields) for t in req["templates"]]}))
`

  it.each([[{ ML_DASH_USER: 'alice', USER: 'bob' }], [{ USER: 'bob' }]])(
    'expands every field and the SDK default (env %j)',
    (users) => {
      for (const now of instants) {
        for (const tz of ['UTC', 'America/New_York']) {
          const templates = [
            '{user}/p/{now:%Y}/{now:%m-%d}',
            '{project}/run',
            'o/p/{path_stem}',
            'o/p/{job_name}',
            'o/p/{job_counter:03d}',
            '{user}/p/{now:%Y/%m-%d}/{now:%H.%M.%S.%f}',
          ]
          const expected = python<{ default: string; templates: string[] }>(
            SDK_FIELDS,
            {
              ms: now,
              job_counter: 3,
              path_stem: 'src/train',
              default: SDK_DEFAULT_PREFIX_TEMPLATE,
              templates,
            },
            { ML_DASH_USER: undefined, ...users, TZ: tz },
          )
          const ctx: TemplateContext = {
            now: new Date(now),
            env: { ...users, TZ: tz },
            entry: '/home/bob/proj/src/train.py',
            projectRoot: '/home/bob/proj',
            jobCounter: 3,
          }
          expect(sdkDefaultPrefix(ctx)).toBe(expected.default)
          expect(templates.map((t) => expandPrefix(t, ctx))).toEqual(
            expected.templates,
          )
        }
      }
    },
  )

  it('replaces {EXP.date} and {EXP.datetime_str} as the SDK properties do', () => {
    const expected = python<{ codes: string[] }[]>(
      PY_FORMAT,
      {
        instants,
        formats: ['%Y%m%d', '%Y%m%d.%H%M%S'],
        templates: [],
        job_counter: 0,
      },
      { TZ: 'Asia/Kolkata' },
    )
    instants.forEach((now, i) => {
      expect(
        expandPrefix(
          'a/{EXP.user}/{EXP.date}/{EXP.datetime_str}',
          context(now, 'Asia/Kolkata'),
        ),
      ).toBe(`a/bob/${expected[i]!.codes.join('/')}`)
    })
  })

  it('leaves text without a "{" alone, "}" included, as the SDK does', () => {
    const ctx = context(instants[0]!, 'UTC')
    expect(expandPrefix('alice/proj/run}}', ctx)).toBe('alice/proj/run}}')
    expect(expandPrefix('alice/{EXP.user}/run}', ctx)).toBe('alice/bob/run}')
    const [expected] = python<{ templates: string[] }[]>(
      PY_FORMAT,
      {
        instants: [instants[0]],
        formats: [],
        templates: ['a/{now:%Y}/b}}'],
        job_counter: 0,
      },
      { TZ: 'UTC' },
    )
    expect(expandPrefix('a/{now:%Y}/b}}', ctx)).toBe(expected!.templates[0])
  })
})

describe.skipIf(!PYTHON)('path_stem against Python os.path and pathlib', () => {
  const PY_STEM = `
import json, os, sys
from pathlib import Path
req = json.load(sys.stdin)
def root(entry):
    start = Path(entry)
    if start.is_file():
        start = start.parent
    for parent in [start, *start.parents]:
        for name in ("pyproject.toml", "requirements.txt", "setup.py", "setup.cfg"):
            if (parent / name).exists():
                return str(parent)
    return str(Path.cwd())
out = []
for entry in req["entries"]:
    r = root(entry)
    cut = "/".join(os.path.abspath(entry).split("/")[len(r.split("/")):])
    out.append([r, os.path.splitext(cut)[0]])
print(json.dumps({"stems": out, "splitext": [os.path.splitext(p)[0] for p in req["names"]]}))
`
  const probe = (cwd: string) => ({
    cwd,
    exists: existsSync,
    isFile: (p: string) => existsSync(p) && statSync(p).isFile(),
  })

  it('finds the project root and cuts the entry below it', () => {
    const { dir, remove } = tempDir()
    try {
      const proj = join(dir, 'proj')
      const bare = join(dir, 'bare')
      for (const d of ['src/sub', 'a.b', 'lib/inner'])
        mkdirSync(join(proj, d), { recursive: true })
      mkdirSync(join(bare, 'tools'), { recursive: true })
      writeFileSync(join(proj, 'pyproject.toml'), '')
      writeFileSync(join(proj, 'lib', 'setup.cfg'), '')
      const entries = [
        join(proj, 'src/sub/train.py'),
        join(proj, 'a.b/run'),
        join(proj, 'lib/inner/job.mjs'),
        join(proj, 'src'),
        join(bare, 'tools/serve.ts'),
      ]
      for (const e of entries) if (!e.endsWith('src')) writeFileSync(e, '')
      const names = [
        'train.py',
        '.hidden',
        '..x',
        'a.tar.gz',
        'x.',
        'dir.d/file',
        'dir.d/.rc',
        'noext',
        'a..b',
        '.a.b',
      ]
      const expected = python<{
        stems: [string, string][]
        splitext: string[]
      }>(PY_STEM, { entries, names }, {}, bare)
      entries.forEach((entry, i) => {
        const root = findProjectRoot(entry, probe(bare))
        expect([root, sdkPathStem(entry, root)]).toEqual(expected.stems[i])
        expect(
          expandPrefix('o/p/{path_stem}', {
            now: new Date(),
            env: {},
            entry,
            cwd: bare,
            projectRoot: () => root,
          }),
        ).toBe(`o/p/${expected.stems[i]![1]}`)
      })
      expect(names.map((n) => sdkPathStem(`/r/${n}`, '/r'))).toEqual(
        expected.splitext,
      )
    } finally {
      remove()
    }
  })
})

describe('template errors name the field', () => {
  const ctx = context(instants[0]!, 'UTC', {
    entry: '/p/train.py',
    projectRoot: '/p',
  })
  it.each([
    ['a/b/{foo}', {}, '{foo}'],
    ['a/b/{now:%Q}', {}, '%Q'],
    ['a/b/{now:%c}', {}, '%c'],
    ['a/b/{now:%10d}', {}, '%1'],
    ['a/b/{now:%Y%}', {}, '{now:%Y%}'],
    ['a/b/{user:>8}', {}, '{user:>8}'],
    ['a/b/{user!r}', {}, '{user!r}'],
    ['a/b/{now.year}', {}, '{now.year}'],
    ['a/b/{0}', {}, '{0}'],
    ['a/b/{}', {}, '{}'],
    ['a/b/{{user}}', {}, '{{'],
    ['a/b/{user', {}, '"{"'],
    ['a/{user}/}', {}, '"}"'],
    ['a/b/{EXP.id}', {}, '{EXP.id}'],
    ['a/b/{job_counter:x}', {}, '{job_counter:x}'],
    ['{user}/p/x', { env: {} }, '{user}'],
    ['{project}/x', { env: { ML_DASH_USER: '', USER: 'bob' } }, 'ML_DASH_USER'],
    ['o/p/{path_stem}', { entry: undefined }, '{path_stem}'],
    ['o/p/{now:%Y}', { env: { TZ: 'Nowhere/Else' } }, 'TZ'],
    ['o/p/{user}', { env: { USER: 'a{b}' } }, '{user}'],
  ] as const)('%j', (template, extra, named) => {
    let error: unknown
    try {
      expandPrefix(template, { ...ctx, ...extra, source: 'ML_DASH_PREFIX' })
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(Error)
    expect((error as { code?: string }).code).toBe('ML_DASH_CONFIG')
    expect((error as Error).message).toContain(
      `ML_DASH_PREFIX ${JSON.stringify(template)}`,
    )
    expect((error as Error).message).toContain(named)
  })

  it('needs no field it does not use: a template without {path_stem} needs no entry', () => {
    expect(
      expandPrefix('alice/proj/{now:%Y}', { ...ctx, entry: undefined }),
    ).toMatch(/^alice\/proj\/\d{4}$/)
  })
})
