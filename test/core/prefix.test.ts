import { describe, expect, it } from 'vitest'
import { parsePrefix } from '../../src/core/prefix.js'

describe('parsePrefix', () => {
  it('splits owner, project, folders and name', () => {
    expect(parsePrefix('alice/project/f1/f2/run-7')).toMatchObject({
      owner: 'alice',
      project: 'project',
      folders: ['f1', 'f2'],
      name: 'run-7',
    })
    expect(parsePrefix('alice/project/my-experiment').folders).toEqual([])
  })

  it.each([
    ['', 'it is empty'],
    ['alice/project', 'at least 3 segments'],
    ['/etc/passwd/x', 'relative'],
    ['alice/../../etc', '"." or ".."'],
    ['alice/./x', '"." or ".."'],
    ['alice//x', 'empty segment'],
    ['alice/project/x/', 'empty segment'],
    ['alice\\project\\x', 'backslash'],
    ['alice/pro\u0000ject/x', 'NUL or control'],
    ['alice/pro\nject/x', 'NUL or control'],
    ['alice/project/\uD800', 'valid Unicode'],
    [`alice/project/${'é'.repeat(128)}`, 'longer than 255 bytes'],
  ])('refuses %j, naming the prefix and the rule', (prefix, rule) => {
    expect(() => parsePrefix(prefix)).toThrow(
      `invalid prefix ${JSON.stringify(prefix)}`,
    )
    expect(() => parsePrefix(prefix)).toThrow(rule)
  })

  it('refuses non-strings', () => {
    expect(() => parsePrefix(42)).toThrow(
      'invalid prefix 42: it must be a string',
    )
  })
})
