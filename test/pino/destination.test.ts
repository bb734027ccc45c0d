import { join } from 'node:path'
import pino from 'pino'
import { expect, it } from 'vitest'
import { createPinoDestination } from '../../src/pino/destination.js'
import { readLines, useTempDir } from '../helpers.js'

const temp = useTempDir()

it('is taken as the stream when it is pino’s only argument, as with pino(options, destination)', async () => {
  for (const [name, make] of [
    ['alone', (d: ReturnType<typeof createPinoDestination>) => pino(d)],
    [
      'after options',
      (d: ReturnType<typeof createPinoDestination>) => pino({}, d),
    ],
  ] as const) {
    const prefix = `alice/destination/${name.replace(' ', '-')}`
    const destination = createPinoDestination({ prefix, dashRoot: temp.dir })
    make(destination).warn({ n: 1 }, 'stored, not printed')
    expect(destination.writable).toBe(true)
    await new Promise((resolve) => {
      destination.once('close', resolve)
      destination.end()
    })
    expect(destination.writable).toBe(false)
    expect(
      readLines(join(temp.dir, prefix, 'logs/logs.jsonl')).map((l) => [
        l.level,
        l.message,
      ]),
    ).toEqual([['warn', 'stored, not printed']])
  }
})
