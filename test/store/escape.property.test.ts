/** No prefix, in any spelling, leads outside the store root. */
import { isAbsolute, join, relative, resolve, sep } from 'node:path'
import fc from 'fast-check'
import { expect, it } from 'vitest'
import { parsePrefix, prefixProblem } from '../../src/core/prefix.js'
import { experimentDirectory } from '../../src/store/local-store.js'

const RUNS = Number(process.env.PROPERTY_RUNS ?? 300)
const ROOT = '/srv/store/.dash'

const inside = (directory: string) => {
  const rel = relative(resolve(ROOT), directory)
  return (
    rel !== '' &&
    rel !== '..' &&
    !rel.startsWith(`..${sep}`) &&
    !isAbsolute(rel)
  )
}

it('refuses known escape spellings', () => {
  const spellings = [
    '..',
    '../x/y',
    'a/../../b',
    'a/b/..',
    'a/./b',
    '/etc/x/y',
    'a\\..\\b\\c',
    'a/b/c/../../..',
    'a//b/c',
    'a/b/c\u0000',
    'a/b/\u202e..',
    './a/b',
    'a/b/c/',
  ]
  for (const prefix of spellings) {
    const problem = prefixProblem(prefix)
    if (problem === undefined)
      expect(
        inside(experimentDirectory(ROOT, parsePrefix(prefix))),
        prefix,
      ).toBe(true)
    else
      expect(() => parsePrefix(prefix)).toThrow(
        `invalid prefix ${JSON.stringify(prefix)}`,
      )
  }
  // Names that only look like traversal are plain folder names inside the root.
  for (const prefix of ['%2e%2e/x/y', '．．/x/y', '...a/b/c', 'a/b/..c']) {
    expect(
      experimentDirectory(ROOT, parsePrefix(prefix)).startsWith(join(ROOT, '')),
    ).toBe(true)
  }
})

it('either refuses a prefix or keeps it inside the root, for any string', () => {
  const segment = fc.oneof(
    fc.constantFrom('..', '.', '', '~', '\\', '/', '%2e', 'a', 'b'),
    fc.string({ unit: 'binary', maxLength: 6 }),
  )
  const prefix = fc.oneof(
    fc.array(segment, { maxLength: 6 }).map((s) => s.join('/')),
    fc.string({ unit: 'binary' }),
  )
  fc.assert(
    fc.property(prefix, (value) => {
      if (prefixProblem(value) !== undefined) {
        expect(() => parsePrefix(value)).toThrow('invalid prefix')
        return
      }
      expect(inside(experimentDirectory(ROOT, parsePrefix(value)))).toBe(true)
    }),
    { numRuns: RUNS * 10 },
  )
})
