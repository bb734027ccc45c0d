import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { encodeEntry, toStoreLine } from '../../src/core/entry.js'
import { parsePrefix } from '../../src/core/prefix.js'
import type { LocalStore } from '../../src/store/local-store.js'
import {
  experimentDirectory,
  openLocalStore,
} from '../../src/store/local-store.js'
import { readLines, tempDir } from '../helpers.js'

const PREFIX = parsePrefix('alice/project/f1/run-1')
const entries = (n: number, tag = 'm') =>
  Array.from({ length: n }, (_, i) =>
    encodeEntry({ level: 'info', message: `${tag} ${i}` }),
  )

describe('local store', () => {
  let temp: ReturnType<typeof tempDir>
  let store: LocalStore | undefined
  let dir: string
  let logs: string
  beforeEach(() => {
    temp = tempDir()
    dir = join(temp.dir, 'alice/project/f1/run-1')
    logs = join(dir, 'logs')
  })
  afterEach(() => {
    store?.close()
    store = undefined
    temp.remove()
  })

  it("creates the SDK's layout and experiment.json", async () => {
    store = await openLocalStore(temp.dir, PREFIX, {
      description: 'd',
      tags: ['t'],
    })
    for (const name of [
      'logs',
      'metrics',
      'files',
      '.experiment.lock',
      'logs/.log_sequence.lock',
    ]) {
      expect(existsSync(join(dir, name)), name).toBe(true)
    }
    const experiment = JSON.parse(
      readFileSync(join(dir, 'experiment.json'), 'utf8'),
    ) as Record<string, unknown>
    expect(experiment).toEqual({
      name: 'run-1',
      project: 'project',
      description: 'd',
      tags: ['t'],
      bindrs: [],
      prefix: 'alice/project/f1/run-1',
      metadata: null,
      created_at: expect.stringMatching(
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/,
      ) as unknown,
      write_protected: false,
    })
  })

  it('merges experiment.json on reopen, adding updated_at and keeping unset fields', async () => {
    ;(
      await openLocalStore(temp.dir, PREFIX, {
        description: 'first',
        tags: ['a'],
      })
    ).close()
    store = await openLocalStore(temp.dir, PREFIX, { tags: ['b'] })
    const experiment = JSON.parse(
      readFileSync(join(dir, 'experiment.json'), 'utf8'),
    ) as Record<string, unknown>
    expect(experiment).toMatchObject({ description: 'first', tags: ['b'] })
    expect(experiment.updated_at).toMatch(/Z$/)
    expect(experiment.created_at).toMatch(/Z$/)
  })

  it('stores experiment metadata JSON-safe', async () => {
    store = await openLocalStore(temp.dir, PREFIX, {
      metadata: { seed: 7n, lr: NaN },
    })
    const experiment = JSON.parse(
      readFileSync(join(dir, 'experiment.json'), 'utf8'),
    ) as Record<string, unknown>
    expect(experiment.metadata).toEqual({ seed: '7', lr: 'NaN' })
  })

  it('keeps a corrupt experiment.json aside and writes a valid one', async () => {
    mkdirSync(dir, { recursive: true })
    writeFileSync(join(dir, 'experiment.json'), '{"name": "tr')
    store = await openLocalStore(temp.dir, PREFIX)
    expect(
      JSON.parse(readFileSync(join(dir, 'experiment.json'), 'utf8')),
    ).toMatchObject({ name: 'run-1' })
  })

  it('numbers batches contiguously from 0 and keeps the counter equal to the line count', async () => {
    store = await openLocalStore(temp.dir, PREFIX)
    expect((await store.append(entries(3))).status).toBe('success')
    expect(store.appendSync(entries(2, 'sync')).status).toBe('success')
    const lines = readLines(join(logs, 'logs.jsonl'))
    expect(lines.map((l) => l.sequenceNumber)).toEqual([0, 1, 2, 3, 4])
    expect(lines.map((l) => l.message)).toEqual([
      'm 0',
      'm 1',
      'm 2',
      'sync 0',
      'sync 1',
    ])
    expect(readFileSync(join(logs, '.log_sequence'), 'utf8')).toBe('5')
  })

  it('writes each entry byte for byte after its number, whatever its characters, batch after batch', async () => {
    store = await openLocalStore(temp.dir, PREFIX)
    const texts = [
      'plain',
      'é and … and \u{1F600}',
      '"quoted" \\ \n',
      '\u2028\u2029',
      'x'.repeat(70_000),
    ]
    const batch = texts.map((message) =>
      encodeEntry({ level: 'warn', message, metadata: { message } }),
    )
    // The second batch is smaller than the first: a reused buffer's old bytes must not show.
    expect((await store.append(batch)).status).toBe('success')
    expect((await store.append(batch.slice(0, 2))).status).toBe('success')
    expect(store.appendSync(batch.slice(1, 3)).status).toBe('success')
    const expected = [
      ...batch.map((entry, i) => toStoreLine(entry, i)),
      ...batch.slice(0, 2).map((entry, i) => toStoreLine(entry, 5 + i)),
      ...batch.slice(1, 3).map((entry, i) => toStoreLine(entry, 7 + i)),
    ].join('')
    expect(readFileSync(join(logs, 'logs.jsonl'), 'utf8')).toBe(expected)
  })

  it('cuts a torn last line aside and reuses no number that is in the file', async () => {
    mkdirSync(logs, { recursive: true })
    const whole =
      '{"sequenceNumber":0,"timestamp":"2025-01-01T00:00:00Z","level":"info","message":"a"}\n'
    writeFileSync(
      join(logs, 'logs.jsonl'),
      `${whole}{"sequenceNumber":1,"timest`,
    )
    writeFileSync(join(logs, '.log_sequence'), '1')
    store = await openLocalStore(temp.dir, PREFIX)
    await store.append(entries(1))
    expect(
      readLines(join(logs, 'logs.jsonl')).map((l) => l.sequenceNumber),
    ).toEqual([0, 1])
    expect(readFileSync(join(logs, 'logs.jsonl.torn'), 'utf8')).toBe(
      '{"sequenceNumber":1,"timest\n',
    )
  })

  it('completes a whole last line that lacks its newline', async () => {
    mkdirSync(logs, { recursive: true })
    writeFileSync(
      join(logs, 'logs.jsonl'),
      '{"sequenceNumber":0,"timestamp":"2025-01-01T00:00:00Z","level":"info","message":"a"}',
    )
    store = await openLocalStore(temp.dir, PREFIX)
    await store.append(entries(1))
    expect(
      readLines(join(logs, 'logs.jsonl')).map((l) => l.sequenceNumber),
    ).toEqual([0, 1])
    expect(existsSync(join(logs, 'logs.jsonl.torn'))).toBe(false)
  })

  it('moves a counter that lags the file past its last number, and keeps one ahead', async () => {
    mkdirSync(logs, { recursive: true })
    const line = (n: number) =>
      `{"sequenceNumber":${n},"timestamp":"2025-01-01T00:00:00Z","level":"info","message":"x"}\n`
    writeFileSync(join(logs, 'logs.jsonl'), line(0) + line(1) + line(2))
    writeFileSync(join(logs, '.log_sequence'), '1')
    store = await openLocalStore(temp.dir, PREFIX)
    expect(readFileSync(join(logs, '.log_sequence'), 'utf8')).toBe('3')
    writeFileSync(join(logs, '.log_sequence'), '10')
    await store.append(entries(1))
    expect(readLines(join(logs, 'logs.jsonl')).at(-1)?.sequenceNumber).toBe(10)
    writeFileSync(join(logs, '.log_sequence'), 'garbage')
    await store.append(entries(1))
    expect(readLines(join(logs, 'logs.jsonl')).at(-1)?.sequenceNumber).toBe(11)
  })

  it('refuses to open under a path that cannot be a folder, naming it', async () => {
    const blocker = join(temp.dir, 'file')
    writeFileSync(blocker, '')
    await expect(openLocalStore(blocker, PREFIX)).rejects.toThrow(
      `cannot open the experiment folder "${experimentDirectory(blocker, PREFIX)}": ENOTDIR`,
    )
  })

  it('reports a write failure as a result naming the path, and keeps working after', async () => {
    store = await openLocalStore(temp.dir, PREFIX)
    mkdirSync(join(logs, 'logs.jsonl'))
    const result = await store.append(entries(1))
    expect(result).toMatchObject({ status: 'failure' })
    expect(result.status !== 'success' && result.error.message).toContain(
      `"${join(logs, 'logs.jsonl')}"`,
    )
  })
})

describe('sequence numbers past 2^53 - 1', () => {
  let temp: ReturnType<typeof tempDir>
  let store: LocalStore | undefined
  let logs: string
  beforeEach(() => {
    temp = tempDir()
    logs = join(temp.dir, 'alice/project/f1/run-1', 'logs')
  })
  afterEach(() => {
    store?.close()
    store = undefined
    temp.remove()
  })
  const line = (n: string) =>
    `{"sequenceNumber":${n},"timestamp":"2025-01-01T00:00:00Z","level":"info","message":"x"}`

  /**
   * Appends one entry; expects a failure naming `file`, and both files as
   * they were (a last line only completed with the newline it lacked).
   */
  async function expectRefused(file: string): Promise<void> {
    const log = readFileSync(join(logs, 'logs.jsonl'), 'utf8')
    const before = {
      log: log.endsWith('\n') ? log : `${log}\n`,
      counter: readFileSync(join(logs, '.log_sequence'), 'utf8'),
    }
    const result = await store!.append(entries(1))
    expect(result.status).toBe('failure')
    expect(result.status !== 'success' && result.error.message).toContain(
      `"${join(logs, file)}"`,
    )
    expect(readFileSync(join(logs, 'logs.jsonl'), 'utf8')).toBe(before.log)
    expect(readFileSync(join(logs, '.log_sequence'), 'utf8')).toBe(
      before.counter,
    )
    expect(existsSync(join(logs, 'logs.jsonl.torn'))).toBe(false)
  }

  it('reads the tail again when the log was replaced or rewritten between two appends, even at the same size', async () => {
    store = await openLocalStore(temp.dir, PREFIX)
    await store.append(entries(2))
    const file = join(logs, 'logs.jsonl')
    const before = readFileSync(file, 'utf8')
    // The same bytes, but the last line numbered 7 (one digit, same size):
    // written to a new file put in its place, then in place.
    const renumbered = before.replace(
      /^\{"sequenceNumber":1,/m,
      '{"sequenceNumber":7,',
    )
    expect(renumbered.length).toBe(before.length)
    writeFileSync(`${file}.new`, renumbered)
    renameSync(`${file}.new`, file)
    writeFileSync(join(logs, '.log_sequence'), '0')
    await store.append(entries(1, 'after replace'))
    const numbers = () =>
      readLines(file).map(
        (l) => (l as { sequenceNumber: number }).sequenceNumber,
      )
    expect(numbers()).toEqual([0, 7, 8])
    // Rewritten in place, same size: the last number is read again too.
    const now = readFileSync(file, 'utf8')
    await new Promise((resolve) => setTimeout(resolve, 20))
    writeFileSync(
      file,
      now.replace('"sequenceNumber":8,', '"sequenceNumber":9,'),
    )
    writeFileSync(join(logs, '.log_sequence'), '0')
    await store.append(entries(1, 'after rewrite'))
    expect(numbers()).toEqual([0, 7, 9, 10])
  })

  it('closes every descriptor it kept between appends when it closes', async () => {
    const open = () => readdirSync('/proc/self/fd').length
    const before = open()
    store = await openLocalStore(temp.dir, PREFIX)
    await store.append(entries(3))
    expect(open()).toBeGreaterThan(before)
    store.close()
    store = undefined
    expect(open()).toBe(before)
  })

  it('writes the files at their names, not the ones it held last, when they were replaced, removed or turned into links between two appends', async () => {
    store = await openLocalStore(temp.dir, PREFIX)
    const file = join(logs, 'logs.jsonl')
    const counter = join(logs, '.log_sequence')
    await store.append(entries(2))
    // A counter put in its place (as a writer that renames a new file over it would).
    writeFileSync(`${counter}.new`, '100')
    renameSync(`${counter}.new`, counter)
    await store.append(entries(1, 'after the counter moved'))
    expect(readLines(file).map((l) => l.sequenceNumber)).toEqual([0, 1, 100])
    expect(readFileSync(counter, 'utf8')).toBe('101')
    // The log removed (rotated away): a new one at the name.
    renameSync(file, `${file}.1`)
    await store.append(entries(1, 'after the log moved'))
    expect(readLines(file).map((l) => l.message)).toEqual([
      'after the log moved 0',
    ])
    expect(readLines(`${file}.1`)).toHaveLength(3)
    // A link at the log's name: refused, as the first open refuses it.
    const elsewhere = join(temp.dir, 'elsewhere.jsonl')
    writeFileSync(elsewhere, '')
    rmSync(file)
    symlinkSync(elsewhere, file)
    const refused = await store.append(entries(1, 'through a link'))
    expect(refused.status).toBe('failure')
    expect(readFileSync(elsewhere, 'utf8')).toBe('')
  })

  it.each(['9007199254740991', '999999999999999999999'])(
    'refuses a counter of %s, naming the counter file, and writes nothing',
    async (counter) => {
      store = await openLocalStore(temp.dir, PREFIX)
      await store.append(entries(1))
      writeFileSync(join(logs, '.log_sequence'), counter)
      await expectRefused('.log_sequence')
    },
  )

  it.each([
    ['9007199254740991', '\n'],
    ['9007199254740993', '\n'],
    ['999999999999999999999', ''],
  ])(
    'refuses a last entry numbered %s, naming the log, and neither cuts nor writes',
    async (last, end) => {
      store = await openLocalStore(temp.dir, PREFIX)
      writeFileSync(
        join(logs, 'logs.jsonl'),
        `${line('0')}\n${line(last)}${end}`,
      )
      writeFileSync(join(logs, '.log_sequence'), '2')
      await expectRefused('logs.jsonl')
    },
  )

  it('refuses to open an experiment whose counter is already past 2^53 - 1', async () => {
    mkdirSync(logs, { recursive: true })
    writeFileSync(join(logs, '.log_sequence'), '999999999999999999999')
    await expect(openLocalStore(temp.dir, PREFIX)).rejects.toThrow(
      `"${join(logs, '.log_sequence')}"`,
    )
  })
})
