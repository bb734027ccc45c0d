import { describe, expect, it } from 'vitest'
import {
  MAX_PREFIX_BYTES,
  MAX_PREFIX_SEGMENTS,
  parsePrefix,
  prefixProblem,
} from '../../src/core/prefix.js'

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

describe('prefixProblem: the names and bounds of the store (issue 12)', () => {
  const victim = 'alice/rt/victim'
  const own = "an experiment folder's own names"
  const logFile = "that folder's file names"
  // 1025 bytes in segments of at most 255, so only the total is too long.
  const longPrefix =
    `alice/proj/${Array.from({ length: 5 }, () => 'x'.repeat(200)).join('/')}`.padEnd(
      1025,
      'y',
    )

  it.each([
    [`${victim}/experiment.json`, own],
    [`${victim}/Experiment.JSON`, own],
    [`${victim}/EXPERIMENT.json/x`, own],
    [`${victim}/.experiment.lock`, own],
    [`${victim}/parameters.json`, own],
    [`${victim}/.parameters.lock`, own],
    [`${victim}/logs`, own],
    [`${victim}/LOGS`, own],
    [`${victim}/logs/logs.jsonl`, own],
    [`${victim}/logs/.log_sequence`, own],
    [`${victim}/metrics`, own],
    [`${victim}/files/x`, own],
    [`${victim}/tracks/a/b`, own],
    [`alice/rt/f1/f2/victim/files`, own],
    // Long s: lower case keeps it, APFS's case folding makes it "s".
    [`${victim}/file\u017F/x`, own],
    // The Kelvin sign lower-cases to k.
    [`${victim}/.experiment.loc\u212A`, own],
    [`${victim}/sub/logs.jsonl`, logFile],
    [`${victim}/sub/.log_sequence`, logFile],
    [`${victim}/sub/.log_sequence.lock`, logFile],
    [`${victim}/sub/Logs.JSONL.torn`, logFile],
    [`${victim}/experiment.json.4242.tmp`, 'temporary and corrupt copies'],
    [`${victim}/Experiment.json.corrupt-1/x`, 'temporary and corrupt copies'],
    [
      Array.from({ length: MAX_PREFIX_SEGMENTS + 1 }, (_, i) => `s${i}`).join(
        '/',
      ),
      `more than ${MAX_PREFIX_SEGMENTS} segments`,
    ],
    [longPrefix, `longer than ${MAX_PREFIX_BYTES} bytes`],
    // 1000 segments (Python's mkdir and rglob hit RecursionError): the byte bound comes first.
    [
      `alice/proj/${'/x'.repeat(1000).slice(1)}`,
      `longer than ${MAX_PREFIX_BYTES} bytes`,
    ],
  ])('refuses %j, naming the rule', (prefix, rule) => {
    expect(prefixProblem(prefix)).toContain(rule)
    expect(prefixProblem(prefix)).toMatch(/^it /)
    expect(() => parsePrefix(prefix)).toThrow(
      `invalid prefix ${JSON.stringify(prefix)}: it `,
    )
  })

  it('names the refused segment as written', () => {
    expect(prefixProblem(`${victim}/Experiment.JSON`)).toContain(
      '"Experiment.JSON"',
    )
  })

  it.each([
    // Index 2: owner/project is never an experiment, so these names are free there.
    'alice/proj/logs',
    'alice/proj/experiment.json',
    'alice/proj/experiment.json.4242.tmp',
    'alice/proj/files',
    'alice/proj/logs.jsonl',
    // logs/ file names only from index 4 (a child of logs/ is there or deeper).
    'alice/proj/run/logs.jsonl',
    'a/b/c/d',
    'alice/proj/run/logs-2',
    'alice/proj/run/my-files',
    'alice/proj/run/experiment-json',
    Array.from({ length: MAX_PREFIX_SEGMENTS }, (_, i) => `s${i}`).join('/'),
  ])('still accepts %j', (prefix) => {
    expect(prefixProblem(prefix)).toBeUndefined()
    expect(parsePrefix(prefix).prefix).toBe(prefix)
  })

  it('accepts exactly the byte bound, counting UTF-8 bytes', () => {
    const name = 'é'.repeat(100) // 200 bytes
    let prefix = 'alice/proj/'
    while (Buffer.byteLength(prefix) + 201 <= MAX_PREFIX_BYTES)
      prefix += `${name}/`
    prefix += 'x'.repeat(MAX_PREFIX_BYTES - Buffer.byteLength(prefix))
    expect(Buffer.byteLength(prefix)).toBe(MAX_PREFIX_BYTES)
    expect(prefixProblem(prefix)).toBeUndefined()
    expect(prefixProblem(`${prefix}é`)).toContain(
      `longer than ${MAX_PREFIX_BYTES} bytes`,
    )
  })
})
