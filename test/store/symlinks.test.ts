/**
 * Symbolic links inside the store (issue 12, item 4): the store opens its
 * own files with O_NOFOLLOW, so a link at one of their names (to a file
 * elsewhere, or to a name where nothing exists yet) is refused with an
 * error naming the path, and what the link points at stays byte for byte
 * as it was. A linked folder (the experiment folder, `logs/`) is followed:
 * a documented choice (src/store/local-store.ts).
 */
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { encodeEntry } from '../../src/core/entry.js'
import { parsePrefix } from '../../src/core/prefix.js'
import type { LocalStore } from '../../src/store/local-store.js'
import {
  openLocalStore,
  openLocalStoreSync,
} from '../../src/store/local-store.js'
import { readLines, useTempDir } from '../helpers.js'

const temp = useTempDir()
const PREFIX = parsePrefix('alice/project/f1/run-1')
const entries = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    encodeEntry({ level: 'info', message: `m ${i}` }),
  )
const line = (n: number) =>
  `{"sequenceNumber":${n},"timestamp":"2025-01-01T00:00:00Z","level":"info","message":"x"}\n`
/** A log whose last line is torn: the repair would move it to `.torn`. */
const TORN_LOG = `${line(0)}{"sequenceNumber":1,"timest`

let store: LocalStore | undefined
afterEach(() => {
  store?.close()
  store = undefined
})

const experiment = () => join(temp.dir, ...PREFIX.segments)
const logs = () => join(experiment(), 'logs')
const outside = () => join(temp.dir, 'outside')

/** Opens the store and logs one entry; the error it gave, thrown or returned. */
async function openAndLog(sync: boolean): Promise<unknown> {
  try {
    store = sync
      ? openLocalStoreSync(temp.dir, PREFIX)
      : await openLocalStore(temp.dir, PREFIX)
    const result = sync
      ? store.appendSync(entries(1))
      : await store.append(entries(1))
    return result.status === 'success' ? undefined : result.error
  } catch (error) {
    return error
  }
}

/** The refusal: code ML_DASH_STORE_IO for ELOOP, and a sentence naming the link. */
function expectRefused(error: unknown, link: string): void {
  expect(error).toBeInstanceOf(Error)
  expect((error as NodeJS.ErrnoException).code).toBe('ML_DASH_STORE_IO')
  expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe('ELOOP')
  expect((error as Error).message).toBe(
    `ml-dash-logs: refusing to open "${link}": it is a symbolic link (the store never follows links to its own files)`,
  )
  // The link itself is left where it was, not replaced by a file.
  expect(lstatSync(link).isSymbolicLink()).toBe(true)
}

interface LinkCase {
  /** Names the case in the test's title. */
  name: string
  /** The store's file, relative to the experiment folder. */
  file: string
  /** What the outside file holds. */
  content: string
  /** Files the experiment holds before the open, relative to its folder. */
  before?: Record<string, string>
}

const CASES: LinkCase[] = [
  { name: '.log_sequence', file: 'logs/.log_sequence', content: '41' },
  { name: 'logs.jsonl', file: 'logs/logs.jsonl', content: TORN_LOG },
  {
    name: 'logs.jsonl.torn (a torn line to move there)',
    file: 'logs/logs.jsonl.torn',
    content: 'outside\n',
    before: { 'logs/logs.jsonl': TORN_LOG },
  },
  {
    name: '.log_sequence.lock',
    file: 'logs/.log_sequence.lock',
    content: 'outside lock\n',
  },
  {
    name: '.experiment.lock',
    file: '.experiment.lock',
    content: 'outside lock\n',
  },
  {
    name: 'experiment.json',
    file: 'experiment.json',
    content: '{"name":"outside","prefix":"x/y/z"}',
  },
  // Corrupt: the refusal must come before it is moved aside as `.corrupt-*`.
  {
    name: 'experiment.json (corrupt)',
    file: 'experiment.json',
    content: '{"name": "tr',
  },
]

/** Writes `before`, the outside file (unless `dangling`) and the link to it. */
function linkIn(c: LinkCase, dangling: boolean): string {
  mkdirSync(logs(), { recursive: true })
  for (const [name, text] of Object.entries(c.before ?? {}))
    writeFileSync(join(experiment(), name), text)
  if (!dangling) writeFileSync(outside(), c.content)
  const link = join(experiment(), c.file)
  symlinkSync(outside(), link)
  return link
}

describe.each([
  ['openLocalStore', false],
  ['openLocalStoreSync', true],
])('%s', (_name, sync) => {
  it.each(CASES)(
    'refuses a link at $name and leaves its target unchanged',
    async (c) => {
      const link = linkIn(c, false)
      const before = readFileSync(outside())
      const logBefore = c.before?.['logs/logs.jsonl']
      const error = await openAndLog(sync)
      expect(readFileSync(outside()).equals(before)).toBe(true)
      if (logBefore !== undefined)
        expect(readFileSync(join(logs(), 'logs.jsonl'), 'utf8')).toBe(logBefore)
      expectRefused(error, link)
    },
  )

  // A dangling link has no content: the corrupt variant would repeat its case.
  it.each(CASES.filter((c) => !c.name.includes('corrupt')))(
    'refuses a dangling link at $name and creates nothing at its target',
    async (c) => {
      const link = linkIn(c, true)
      const error = await openAndLog(sync)
      expect(existsSync(outside())).toBe(false)
      expectRefused(error, link)
    },
  )
})

describe('a link placed after the store was opened', () => {
  it.each([
    { file: '.log_sequence', content: '41' },
    { file: 'logs.jsonl', content: TORN_LOG },
    { file: 'logs.jsonl.torn', content: 'outside\n' },
  ])(
    'fails the append at $file, naming it, and leaves its target unchanged',
    async ({ file, content }) => {
      store = await openLocalStore(temp.dir, PREFIX)
      expect((await store.append(entries(2))).status).toBe('success')
      if (file === 'logs.jsonl.torn')
        writeFileSync(join(logs(), 'logs.jsonl'), TORN_LOG)
      writeFileSync(outside(), content)
      const link = join(logs(), file)
      rmSync(link, { force: true })
      symlinkSync(outside(), link)
      for (const sync of [false, true]) {
        const result = sync
          ? store.appendSync(entries(1))
          : await store.append(entries(1))
        expect(readFileSync(outside(), 'utf8')).toBe(content)
        expect(result.status).toBe('failure')
        expectRefused(result.status !== 'success' && result.error, link)
      }
      // The torn line stays in the log: it is cut only once kept aside.
      if (file === 'logs.jsonl.torn')
        expect(readFileSync(join(logs(), 'logs.jsonl'), 'utf8')).toBe(TORN_LOG)
    },
  )
})

describe("experiment.json's temporary file", () => {
  const temporary = () =>
    join(experiment(), `experiment.json.${process.pid}.tmp`)

  it('is never written through a link left at its name', async () => {
    mkdirSync(experiment(), { recursive: true })
    writeFileSync(outside(), 'outside\n')
    symlinkSync(outside(), temporary())
    store = await openLocalStore(temp.dir, PREFIX)
    expect(readFileSync(outside(), 'utf8')).toBe('outside\n')
    const file = join(experiment(), 'experiment.json')
    expect(lstatSync(file).isFile()).toBe(true)
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({
      name: 'run-1',
    })
    expect(existsSync(temporary())).toBe(false)
  })

  it('replaces a leftover of a crashed run with the same pid', () => {
    mkdirSync(experiment(), { recursive: true })
    writeFileSync(temporary(), '{"half": ')
    store = openLocalStoreSync(temp.dir, PREFIX)
    expect(
      JSON.parse(readFileSync(join(experiment(), 'experiment.json'), 'utf8')),
    ).toMatchObject({ name: 'run-1' })
    expect(existsSync(temporary())).toBe(false)
  })
})

describe('linked folders are followed (a documented choice)', () => {
  it.each([
    ['the experiment folder', ''],
    ['logs/', 'logs'],
  ])('writes through a link at %s', async (_name, sub) => {
    const target = join(temp.dir, 'other-disk')
    mkdirSync(target)
    const linked = join(experiment(), sub)
    mkdirSync(join(linked, '..'), { recursive: true })
    symlinkSync(target, linked)
    store = await openLocalStore(temp.dir, PREFIX)
    expect((await store.append(entries(2))).status).toBe('success')
    expect(store.appendSync(entries(1)).status).toBe('success')
    const log = join(target, sub === '' ? 'logs' : '', 'logs.jsonl')
    expect(readLines(log).map((l) => l.sequenceNumber)).toEqual([0, 1, 2])
    expect(lstatSync(linked).isSymbolicLink()).toBe(true)
  })
})
