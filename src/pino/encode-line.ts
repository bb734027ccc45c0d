/**
 * From a pino line to a queued entry, without serializing again what pino
 * already serialized.
 *
 * A flat line of pino's own shape (`{"level":N,"time":T,<other members>,"msg":"…"}`
 * with no nested value, see {@link PinoLineScanner}) is recognized and
 * checked in one match, and its entry is spliced from its text: the other
 * members become the metadata as they are, the message's JSON string is
 * kept as it is. Any other line (another shape, a routed record, a time in
 * seconds or as text, a level label, a line longer than the limits allow
 * to store unexamined) is parsed with `JSON.parse`, mapped and encoded: the
 * general path. Both give the same entry; `test/pino/encode-line.test.ts`
 * and the property tests check that.
 */
import {
  formatTimestamp,
  flatLineWithinLimits,
  longestParsedLine,
  parsedLineWithinLimits,
} from '../core/entry.js'
import { SOURCE_LEVEL_KEY } from '../core/level-tables.js'
import type { ResolvedOptions } from '../core/options.js'
import type { Router } from '../delivery/router.js'
import type { PinoConfig } from './map.js'
import {
  SECONDS_BELOW,
  mapPinoRecord,
  parseRecord,
  resolveLevel,
} from './map.js'
import { PinoLineScanner } from './scan-line.js'

/** The options a line encoder reads. */
export type PinoLineOptions = Pick<ResolvedOptions, 'limits'> &
  Partial<Pick<ResolvedOptions, 'levelMap'>>

/** The entry's text around a pino level: `"level":"info",` and `"source_level":30`. */
interface LevelText {
  level: string
  source: string
}

/** Level numbers whose text is kept (pino has 6, custom levels add a few). */
const MAX_CACHED_LEVELS = 64

/**
 * Queues pino lines into a router: shared by the worker transport, the
 * main-thread destination and the CLI pipe. `enqueue` never throws.
 */
export class PinoLineEncoder {
  readonly #router: Router
  readonly #options: PinoLineOptions
  /** Longest line stored without examining its values against the limits. */
  readonly #longestParsedLine: number
  #config: PinoConfig = {}
  #scanner = new PinoLineScanner('msg')
  /** Per pino level number, the entry's level text (depends on the config). */
  readonly #levels = new Map<number, LevelText>()

  constructor(router: Router, options: PinoLineOptions, config?: PinoConfig) {
    this.#router = router
    this.#options = options
    this.#longestParsedLine = longestParsedLine(options.limits)
    if (config !== undefined) this.configure(config)
  }

  /** Takes pino's configuration (custom levels, `messageKey`). */
  configure(config: PinoConfig): void {
    this.#config = { ...this.#config, ...config }
    this.#scanner = new PinoLineScanner(this.#config.messageKey ?? 'msg')
    this.#levels.clear()
  }

  /** Queues one line (without its newline); false when it was not taken. An empty line holds nothing and is skipped. */
  enqueue(line: string): boolean {
    if (line === '') return true
    const short = line.length <= this.#longestParsedLine
    const parts = short ? this.#scanner.scan(line) : undefined
    if (
      parts !== undefined &&
      parts.time >= SECONDS_BELOW &&
      flatLineWithinLimits(line, this.#options.limits)
    ) {
      const text = this.#levelText(parts.level)
      const members = parts.members === '' ? '' : `${parts.members},`
      // Joined rather than concatenated: one flat string per queued entry
      // (not a tree of pieces), which is cheaper to keep and to write.
      return this.#router.enqueueEncoded(
        [
          '{"timestamp":"',
          formatTimestamp(parts.time),
          '",',
          text.level,
          '"message":',
          parts.message ?? '""',
          ',"metadata":{',
          members,
          text.source,
          '}}',
        ].join(''),
      )
    }
    const { input, prefix } = mapPinoRecord(
      parseRecord(line),
      this.#config,
      this.#options.levelMap,
    )
    input.parsedJson =
      short && parsedLineWithinLimits(line, this.#options.limits)
    return this.#router.enqueue(input, prefix)
  }

  #levelText(raw: number): LevelText {
    let text = this.#levels.get(raw)
    if (text === undefined) {
      const { level, source } = resolveLevel(
        raw,
        this.#config,
        this.#options.levelMap,
      )
      text = {
        level: `"level":${JSON.stringify(level)},`,
        source: `${JSON.stringify(SOURCE_LEVEL_KEY)}:${JSON.stringify(source)}`,
      }
      // Bounded: a stream of odd level numbers cannot grow it.
      if (this.#levels.size >= MAX_CACHED_LEVELS) this.#levels.clear()
      this.#levels.set(raw, text)
    }
    return text
  }
}
