/**
 * Text chunks into lines, for pino's worker transport (thread-stream's
 * chunks) and the CLI's stdin pipe.
 */
import { StringDecoder } from 'node:string_decoder'

/**
 * Splits text chunks into lines in one pass per chunk, handing each
 * non-empty line on; only a chunk's unfinished last line is kept (joined
 * with the next chunk). Bytes are decoded as UTF-8 across chunk ends. A
 * line longer than `maxLineLength` characters is handed on cut to that
 * length, the rest of it skipped, so that input without newlines costs
 * bounded memory.
 */
export class LineSplitter {
  readonly #take: (line: string) => void
  readonly #max: number
  #partial = ''
  /** The held line reached `#max`: the rest of it is skipped. */
  #cut = false
  #decoder: StringDecoder | undefined

  constructor(take: (line: string) => void, maxLineLength = Infinity) {
    this.#take = take
    this.#max = maxLineLength
  }

  write(chunk: string | Uint8Array): void {
    const text =
      typeof chunk === 'string'
        ? // Bytes held from a cut character come first (replaced, as cut).
          (this.#decoder?.end() ?? '') + chunk
        : (this.#decoder ??= new StringDecoder('utf8')).write(chunk)
    let start = 0
    let end = text.indexOf('\n')
    if (end < 0) {
      this.#hold(text)
      return
    }
    if (this.#partial !== '' || this.#cut) {
      this.#hold(text.slice(0, end))
      const first = this.#partial
      this.#partial = ''
      this.#cut = false
      this.#line(first)
      start = end + 1
      end = text.indexOf('\n', start)
    }
    for (; end >= 0; start = end + 1, end = text.indexOf('\n', start)) {
      if (end > start) this.#line(text.slice(start, end))
    }
    if (start < text.length) this.#hold(text.slice(start))
  }

  /** The last line, when the text did not end with a newline. */
  end(): void {
    this.#hold(this.#decoder?.end() ?? '')
    const rest = this.#partial
    this.#partial = ''
    this.#cut = false
    if (rest !== '') this.#line(rest)
  }

  /** Keeps `text` as part of the unfinished line, up to `#max` characters. */
  #hold(text: string): void {
    if (this.#cut) return
    const room = this.#max - this.#partial.length
    if (text.length <= room) {
      this.#partial += text
      return
    }
    this.#partial += text.slice(0, room)
    this.#cut = true
  }

  #line(line: string): void {
    const whole = line.length > this.#max ? line.slice(0, this.#max) : line
    // A Windows line end, as split2 (pino-abstract-transport) drops it.
    const text = whole.endsWith('\r') ? whole.slice(0, -1) : whole
    if (text !== '') this.#take(text)
  }
}
