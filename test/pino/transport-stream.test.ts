/**
 * The pino transport's stream, in this thread (outside pino's worker, pino
 * sends no config): what it was given is stored whether the stream is
 * ended or destroyed (a pipeline stage before it failed).
 */
import { once } from 'node:events'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import pinoTransport from '../../src/pino/transport.js'
import { readLines, useTempDir } from '../helpers.js'

const temp = useTempDir()

describe('the pino transport stream', () => {
  it.each(['end', 'destroy'] as const)(
    'stores every line written before it is %sed, then closes',
    async (how) => {
      const prefix = `alice/pino/${how}`
      const stream = pinoTransport({ dashRoot: temp.dir, prefix })
      stream.write(
        '{"level":30,"time":1700000000000,"msg":"one"}\n{"level":40,',
      )
      stream.write(
        Buffer.from(
          '"time":1700000000001,"msg":"two é"}\n{"level":50,"msg":"three"}',
        ),
      )
      const closed = once(stream, 'close')
      if (how === 'end') stream.end()
      else stream.destroy(new Error('the stage before failed'))
      await closed.catch(() => undefined)
      const lines = readLines(join(temp.dir, prefix, 'logs/logs.jsonl'))
      expect(lines.map((l) => l.message)).toEqual(['one', 'two é', 'three'])
    },
  )
})
