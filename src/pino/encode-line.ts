/**
 * The fast path from a pino line to an encoded entry, without serializing
 * again what pino already serialized.
 *
 * pino writes `{"level":N,"time":T,<other members>,"msg":"..."}`. When a line
 * that `JSON.parse` accepted has exactly that head and tail, the text
 * between them is exactly the other top-level members, already strict JSON:
 * the head ends at a top-level comma, and the tail can only be the last
 * top-level member (inside a string a quote is escaped, and a nested object
 * would end in `}}`). The entry is then spliced from that text, the level
 * and the time. Any other shape returns undefined and takes the general
 * path (map, then encode).
 */
import type { EncodedEntry } from '../core/entry.js'
import { formatTimestamp } from '../core/entry.js'
import { SOURCE_LEVEL_KEY } from '../core/level-tables.js'
import type { Level } from '../core/levels.js'
import { PREFIX_ATTRIBUTE } from '../delivery/router.js'
import type { ResolvedOptions } from '../core/options.js'
import type { Router } from '../delivery/router.js'
import type { PinoConfig } from './map.js'
import { SECONDS_BELOW, mapPinoRecord, resolveLevel } from './map.js'

/** Encodes a parsed pino line by splicing its text; undefined when the line has another shape. */
export function encodePinoLine(
  line: string,
  record: Record<string, unknown>,
  messageKey: string,
  level: Level,
  sourceLevel: string | number,
): EncodedEntry | undefined {
  const { level: rawLevel, time, [messageKey]: message } = record
  if (typeof rawLevel !== 'number' || typeof message !== 'string')
    return undefined
  // Epoch seconds, a routed record and the rest take the general path.
  if (
    typeof time !== 'number' ||
    time < SECONDS_BELOW ||
    PREFIX_ATTRIBUTE in record
  )
    return undefined
  const head = `{"level":${rawLevel},"time":${time},`
  const messageJson = JSON.stringify(message)
  const tail = `,${JSON.stringify(messageKey)}:${messageJson}}`
  if (
    !line.startsWith(head) ||
    !line.endsWith(tail) ||
    line.length < head.length + tail.length
  )
    return undefined
  const middle = line.slice(head.length, line.length - tail.length)
  const source = `${JSON.stringify(SOURCE_LEVEL_KEY)}:${JSON.stringify(sourceLevel)}`
  return (
    `{"timestamp":"${formatTimestamp(time)}","level":"${level}","message":${messageJson},` +
    `"metadata":{${middle === '' ? source : `${middle},${source}`}}}`
  )
}

/**
 * Queues one parsed pino line: spliced from its text when it has pino's
 * shape and fits the string limit, else mapped and encoded. Shared by the
 * worker transport, the main-thread destination and the CLI pipe.
 */
export function enqueuePinoLine(
  router: Router,
  line: string,
  record: Record<string, unknown>,
  config: PinoConfig,
  options: Pick<ResolvedOptions, 'levelMap' | 'limits'>,
): boolean {
  const fits = line.length <= options.limits.maxStringLength
  if (fits) {
    const { level, source } = resolveLevel(
      record.level,
      config,
      options.levelMap,
    )
    const spliced =
      source === undefined
        ? undefined
        : encodePinoLine(
            line,
            record,
            config.messageKey ?? 'msg',
            level,
            source,
          )
    if (spliced !== undefined) return router.enqueueEncoded(spliced)
  }
  const { input, prefix } = mapPinoRecord(record, config, options.levelMap)
  input.parsedJson = fits
  return router.enqueue(input, prefix)
}
