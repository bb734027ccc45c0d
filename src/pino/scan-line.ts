/**
 * Recognizes a flat pino line and checks it is JSON, without building its
 * objects.
 *
 * pino writes `{"level":N,"time":T,<other members>,"<messageKey>":"…"}`
 * (the message last, or absent). For the common record whose other members
 * are all strings, numbers, booleans or null, one regular expression checks
 * that shape and the JSON grammar of every token (RFC 8259: string
 * characters and escapes, number syntax) and captures the parts, so the
 * entry can be spliced from pino's own text.
 *
 * It is deliberately narrower than `JSON.parse`, never wider: a nested
 * object or array, whitespace between tokens, a `\u` or `\/` escape in a
 * top-level key, a number with an exponent or equal to `-0`, a raw lone
 * surrogate, an escaped surrogate in the message, or a top-level `level`,
 * `time`, message key or `ml_dash.prefix` out of its place all make it
 * decline (undefined), and the caller parses the line with `JSON.parse`
 * instead. So an accepted line is one `JSON.parse` accepts, with the
 * members reported; the property tests check that against `JSON.parse` on
 * generated, mutated and near-miss lines.
 *
 * The grammar is unambiguous (every member starts with `,"`, the excluded
 * keys cannot start a member), so a failing match backtracks in linear time.
 */
import { PREFIX_ATTRIBUTE } from '../core/prefix.js'

/** The parts of an accepted line. */
export interface PinoLineParts {
  /** The number after `{"level":`. */
  level: number
  /** The number after `"time":`, epoch milliseconds as pino writes them. */
  time: number
  /** The other members' text (`"a":1,"b":"x"`); empty when there are none. */
  members: string
  /** The message's JSON string, quotes included; undefined when the line has no message. */
  message: string | undefined
}

/** A code unit of a JSON string: not a quote, backslash, control character or surrogate. */
const PLAIN = String.raw`[^"\\\x00-\x1f\ud800-\udfff]`
/** A surrogate pair (a character outside the BMP, as UTF-8 decoding gives it). */
const PAIR = String.raw`[\ud800-\udbff][\udc00-\udfff]`
/** An escape. */
const ESCAPE = String.raw`\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})`
/**
 * An escape in the message, where `\u` of a surrogate is declined: the
 * general path makes a message well-formed (a lone surrogate becomes
 * U+FFFD), while metadata keeps the escape as it is.
 */
const MESSAGE_ESCAPE = String.raw`\\(?:["\\/bfnrt]|u(?![dD][89a-fA-F])[0-9a-fA-F]{4})`
/**
 * An escape in a top-level key: `\u` and `\/` are declined, so that a key
 * can be compared with the reserved ones as written (the others produce
 * characters no reserved key has).
 */
const KEY_ESCAPE = String.raw`\\["\\bfnrt]`
const STRING = `"(?:${PLAIN}|${PAIR}|${ESCAPE})*"`
const MESSAGE = `"(?:${PLAIN}|${PAIR}|${MESSAGE_ESCAPE})*"`
/**
 * A JSON number without exponent; a negative one above -1 must not be zero
 * (JSON.parse keeps the sign of `-0`, the store does not). Written without
 * ambiguity (`0*` then a non-zero digit), so it never backtracks far.
 */
const NUMBER = String.raw`(?:(?:0|-?[1-9]\d*)(?:\.\d+)?|-0\.0*[1-9]\d*)`
const VALUE = `(?:${STRING}|${NUMBER}|true|false|null)`

/** `\`, `^`, `$`, `.`, `|`, `?`, `*`, `+`, `(`, `)`, `[`, `]`, `{`, `}` and `-` escaped. */
function regexLiteral(text: string): string {
  return text.replace(/[\\^$.|?*+()[\]{}-]/g, '\\$&')
}

/**
 * The expression for lines whose message key is `messageKey`; undefined
 * when that key would need escaping in JSON or is one of the fixed keys
 * (then every line takes the general path).
 */
function lineExpression(messageKey: string): RegExp | undefined {
  if (JSON.stringify(messageKey) !== `"${messageKey}"`) return undefined
  const fixed = ['level', 'time', PREFIX_ATTRIBUTE]
  if (fixed.includes(messageKey)) return undefined
  const reserved = [...fixed, messageKey].map(regexLiteral).join('|')
  const key = `"(?!(?:${reserved})")(?:${PLAIN}|${PAIR}|${KEY_ESCAPE})*"`
  return new RegExp(
    String.raw`^\{"level":(0|-?[1-9]\d{0,14}),"time":([1-9]\d{0,14})` +
      `((?:,${key}:${VALUE})*)` +
      `(?:,"${regexLiteral(messageKey)}":(${MESSAGE}))?\\}$`,
  )
}

/** Recognizes flat pino lines for one message key. */
export class PinoLineScanner {
  readonly #expression: RegExp | undefined

  constructor(messageKey: string) {
    this.#expression = lineExpression(messageKey)
  }

  /** The parts of a flat pino line; undefined when `JSON.parse` should decide. */
  scan(line: string): PinoLineParts | undefined {
    const match = this.#expression?.exec(line)
    if (match == null) return undefined
    const members = match[3]!
    return {
      level: Number(match[1]),
      time: Number(match[2]),
      members: members.length === 0 ? '' : members.slice(1),
      message: match[4],
    }
  }
}
