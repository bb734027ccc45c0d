/**
 * An experiment never opens inside another one's folder (issue 12, item 3):
 * `enclosingExperiment` finds the one on the way, and both opens of the
 * local store refuse, naming both prefixes, before creating anything.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { parsePrefix } from '../../src/core/prefix.js'
import { Experiment } from '../../src/experiment.js'
import {
  enclosedExperiment,
  enclosingExperiment,
} from '../../src/store/experiment-place.js'
import {
  NESTED_EXPERIMENT_CODE,
  openLocalStore,
  openLocalStoreSync,
} from '../../src/store/local-store.js'
import { useTempDir } from '../helpers.js'

const temp = useTempDir()
const split = (prefix: string) => prefix.split('/')

/** Makes `prefix` an experiment the way the SDK's discovery sees one. */
function experimentAt(prefix: string, entry: 'file' | 'folder' | 'link') {
  const folder = join(temp.dir, prefix)
  mkdirSync(folder, { recursive: true })
  const file = join(folder, 'experiment.json')
  if (entry === 'file') writeFileSync(file, '{"name":"x","project":"y"}')
  if (entry === 'folder') mkdirSync(file)
  if (entry === 'link') symlinkSync(join(temp.dir, 'nowhere'), file)
}

it('finds no experiment in an empty store, or beside the prefix', () => {
  expect(enclosingExperiment(temp.dir, split('a/b/c/d/e'))).toBeUndefined()
  experimentAt('a/b/other', 'file')
  expect(enclosingExperiment(temp.dir, split('a/b/c/d/e'))).toBeUndefined()
  // The prefix itself being an experiment is no nesting.
  expect(enclosingExperiment(temp.dir, split('a/b/other'))).toBeUndefined()
})

it('ignores owner/project folders, which hold no experiment of their own', () => {
  experimentAt('a/b', 'file')
  experimentAt('a', 'file')
  expect(enclosingExperiment(temp.dir, split('a/b/c/d'))).toBeUndefined()
})

it.each(['file', 'folder', 'link'] as const)(
  'finds the outermost experiment on the way, its experiment.json being a %s (not followed)',
  (entry) => {
    experimentAt('a/b/c', entry)
    experimentAt('a/b/c/d/e', 'file')
    expect(enclosingExperiment(temp.dir, split('a/b/c/d'))).toBe('a/b/c')
    expect(enclosingExperiment(temp.dir, split('a/b/c/d/e/f/g'))).toBe('a/b/c')
  },
)

it('never throws: a file in the way, a loop of links or a name too long is no experiment', () => {
  mkdirSync(join(temp.dir, 'a/b'), { recursive: true })
  writeFileSync(join(temp.dir, 'a/b/file'), '')
  expect(enclosingExperiment(temp.dir, split('a/b/file/x/y'))).toBeUndefined()
  symlinkSync('loop', join(temp.dir, 'a/b/loop'))
  expect(enclosingExperiment(temp.dir, split('a/b/loop/x/y'))).toBeUndefined()
  const long = 'n'.repeat(300)
  expect(enclosingExperiment(temp.dir, ['a', 'b', long, 'x'])).toBeUndefined()
})

it.each([
  ['openLocalStore', false],
  ['openLocalStoreSync', true],
])(
  '%s refuses a prefix that leads through an experiment, naming both, and creates nothing',
  async (_name, sync) => {
    experimentAt('alice/rt/victim', 'file')
    const before = readdirSync(join(temp.dir, 'alice/rt/victim'))
    const prefix = parsePrefix('alice/rt/victim/sub/x')
    const open = async () =>
      sync
        ? openLocalStoreSync(temp.dir, prefix)
        : await openLocalStore(temp.dir, prefix)
    const error = await open().then(
      () => undefined,
      (thrown: unknown) => thrown as NodeJS.ErrnoException,
    )
    expect(error?.code).toBe(NESTED_EXPERIMENT_CODE)
    expect(error?.message).toContain('"alice/rt/victim/sub/x"')
    expect(error?.message).toContain('the experiment "alice/rt/victim"')
    expect(readdirSync(join(temp.dir, 'alice/rt/victim'))).toEqual(before)
  },
)

it('fails the start of an Experiment inside another at once, as a permanent error', async () => {
  await new Experiment({ prefix: 'alice/rt/victim', dashRoot: temp.dir }).run(
    (exp) => exp.log('victim'),
  )
  const inside = new Experiment({
    prefix: 'alice/rt/victim/sub/x',
    dashRoot: temp.dir,
    silenceErrors: true,
  })
  await expect(inside.start()).rejects.toMatchObject({
    code: NESTED_EXPERIMENT_CODE,
  })
  expect(existsSync(join(temp.dir, 'alice/rt/victim/sub'))).toBe(false)
})

it('finds an experiment below a prefix that is not one yet, and refuses to open that prefix', async () => {
  experimentAt('alice/rt/later/sub', 'file')
  expect(enclosedExperiment(temp.dir, split('alice/rt/later'))).toBe(
    'alice/rt/later/sub',
  )
  // An experiment already there holds what it holds: reopening it is no nesting.
  experimentAt('alice/rt/kept', 'file')
  experimentAt('alice/rt/kept/inner', 'file')
  expect(enclosedExperiment(temp.dir, split('alice/rt/kept'))).toBeUndefined()
  expect(enclosedExperiment(temp.dir, split('alice/rt/new'))).toBeUndefined()
  await expect(
    new Experiment({ prefix: 'alice/rt/later', dashRoot: temp.dir }).start(),
  ).rejects.toMatchObject({
    code: NESTED_EXPERIMENT_CODE,
    message: expect.stringContaining(
      'would hold the experiment "alice/rt/later/sub" in its folder',
    ) as string,
  })
  expect(existsSync(join(temp.dir, 'alice/rt/later/experiment.json'))).toBe(
    false,
  )
})

it('finds an experiment below whose folder is a link, without looking through the link', () => {
  experimentAt('elsewhere/x/y/run1', 'file')
  mkdirSync(join(temp.dir, 'x/y/sweep'), { recursive: true })
  symlinkSync(
    join(temp.dir, 'elsewhere/x/y/run1'),
    join(temp.dir, 'x/y/sweep/run1'),
  )
  expect(enclosedExperiment(temp.dir, split('x/y/sweep'))).toBe(
    'x/y/sweep/run1',
  )
})
