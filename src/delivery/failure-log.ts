/**
 * The stderr line a delivery failure gets by default, as users of
 * pino-loki (`silenceErrors: false`) and winston-loki expect: a server that
 * is down, a refused token or an unwritable folder must not pass unseen.
 *
 * One line per kind of failure (its error code, or the HTTP status in its
 * message) and place (experiment and store) when it first happens; after
 * that, at most one line a minute for that kind and place, saying how many
 * more there were. The reason is the error's own message, which names the
 * path or the URL and never holds a token (the stores mask it), followed
 * by the error's code in brackets (`[ML_DASH_NETWORK]`). Options:
 * `silenceErrors: true` turns the lines off; `onError` and
 * `NODE_DEBUG=ml-dash-logs` see every failure regardless.
 */

import { writeSync } from 'node:fs'
import { isMainThread } from 'node:worker_threads'
import { isMlDashError } from '../core/error-codes.js'
import type { UnknownOption } from '../core/options.js'
import { nearestName } from '../core/options.js'
import { describeThrown } from '../core/serialize.js'
import { debug } from '../debug.js'

/** Least time between two lines of one kind and place. */
export const REPEAT_INTERVAL_MS = 60_000

/** Most kinds and places remembered; beyond it the oldest is forgotten. */
const MAX_REMEMBERED = 1024

interface Seen {
  lastShownAt: number
  /** Failures of this kind since the last line. */
  since: number
}

const seen = new Map<string, Seen>()

/** The keys of the warnings already shown ({@link warnOnce}): each once per process. */
const shownWarnings = new Set<string>()

/** Where the lines go; tests may replace it. */
let writeLine = (line: string): void => {
  try {
    // In a worker thread (pino's transport) process.stderr is relayed
    // through the main thread, and what is still in the relay when the
    // program ends is lost: write to the process's stderr itself there.
    if (isMainThread) process.stderr.write(`${line}\n`)
    else writeSync(2, `${line}\n`)
  } catch {
    // stderr closed: nowhere left to say it.
  }
}

/** Replaces the output (for tests); returns the function that restores it. */
export function redirectFailureLines(to: (line: string) => void): () => void {
  const before = writeLine
  writeLine = to
  seen.clear()
  shownWarnings.clear()
  return () => {
    writeLine = before
    seen.clear()
    shownWarnings.clear()
  }
}

/**
 * Shows `error` for `place` (e.g. `remote alice/p/run`) unless a line of
 * the same phase, kind and place was shown within the last minute. The
 * phase keeps a loss from hiding behind the retries that came before it.
 */
function showFailure(
  place: string,
  phase: 'retrying' | 'lost',
  what: string,
  error: Error,
): void {
  const key = `${place}\u0000${phase}\u0000${failureKind(error)}`
  const now = Date.now()
  const before = seen.get(key)
  if (before !== undefined && now - before.lastShownAt < REPEAT_INTERVAL_MS) {
    before.since++
    return
  }
  const more =
    before === undefined || before.since === 0
      ? ''
      : ` (${before.since} more of this kind since the last line)`
  if (before === undefined && seen.size >= MAX_REMEMBERED)
    seen.delete(seen.keys().next().value!)
  seen.set(key, { lastShownAt: now, since: 0 })
  // The stable code, for a reader (or a log search) to go by.
  const code = isMlDashError(error) ? ` [${error.code}]` : ''
  writeLine(
    `ml-dash-logs: ${place}: ${what}: ${oneLine(error.message, place)}${code}${more}`,
  )
}

/**
 * The kind of a failure: its code with its HTTP status or its cause's code
 * (`ML_DASH_NETWORK ECONNREFUSED`, `ML_DASH_SERVER 503`), else an HTTP
 * status in its message, else its name.
 */
function failureKind(error: Error): string {
  const { code, status, cause } = error as Error & {
    code?: unknown
    status?: unknown
  }
  const detail =
    typeof status === 'number'
      ? String(status)
      : (cause as { code?: unknown } | undefined)?.code
  if (typeof code === 'string' && code !== '')
    return typeof detail === 'string' || typeof detail === 'number'
      ? `${code} ${detail}`
      : code
  const inMessage = /\((\d{3})\)|\banswered (\d{3})\b/.exec(error.message)
  if (inMessage !== null) return `HTTP ${inMessage[1] ?? inMessage[2]}`
  return error.name
}

function oneLine(text: string, place: string): string {
  // The line names the place already; a message that starts with it too is not repeated.
  let line = text.replace(/^ml-dash-logs: /, '').replace(/\s+/g, ' ')
  if (line.startsWith(`${place}: `)) line = line.slice(place.length + 2)
  return line.length > 500 ? `${line.slice(0, 500)}…` : line
}

/** Where a failure goes: `onError`, the debug log, and the stderr line unless silenced. */
export interface FailureTargets {
  onError?: ((error: Error, undelivered: number) => void) | undefined
  silenceErrors?: boolean
}

/**
 * Reports `count` entries given up on at `place`: to the debug log, to
 * `onError` (an exception it throws is caught), and as the stderr line.
 */
export function reportFailure(
  targets: FailureTargets,
  place: string,
  what: string,
  error: Error,
  count: number,
): void {
  debug('%s: %s: %s', place, what, error.message)
  if (targets.silenceErrors !== true) showFailure(place, 'lost', what, error)
  try {
    targets.onError?.(error, count)
  } catch (callbackError) {
    debug('%s: onError threw: %s', place, describeThrown(callbackError))
  }
}

/**
 * Shows that delivery at `place` is failing and being retried: a server
 * that is down is seen at its first failure, not only once retries run out.
 */
export function reportRetrying(
  targets: FailureTargets,
  place: string,
  error: Error,
): void {
  if (targets.silenceErrors !== true)
    showFailure(place, 'retrying', 'delivery failing, retrying', error)
}

/**
 * Says, on stderr unless silenced, that entries not sent yet are kept in
 * the outbox for a later process: not a failure (nothing is lost, onError
 * is not called), but worth knowing at exit or at a close's deadline.
 */
export function reportKept(
  targets: FailureTargets,
  place: string,
  what: string,
): void {
  debug('%s: %s', place, what)
  if (targets.silenceErrors !== true)
    writeLine(`ml-dash-logs: ${place}: ${what}`)
}

/**
 * One stderr line for each option name no entry point knows, naming the
 * nearest known one. Written at once (not through `process.emitWarning`,
 * delivered a tick later): a program that exits in this tick still shows it.
 */
export function warnUnknownOptions(unknown: readonly UnknownOption[]): void {
  for (const { name, nearest } of unknown) {
    const hint = nearest === undefined ? '' : ` (did you mean "${nearest}"?)`
    warnOnce(
      `option: ${name}`,
      `unknown option "${name}"${hint}; it is ignored`,
    )
  }
}

/** One stderr warning line, once per `key` (`<kind>: <name>`) and process. */
export function warnOnce(key: string, what: string): void {
  if (shownWarnings.has(key)) return
  shownWarnings.add(key)
  writeLine(`ml-dash-logs: warning: ${what}`)
}

/** What `exp.log(message, options)` takes. */
const LOG_OPTION_NAMES: readonly string[] = ['level', 'metadata', 'timestamp']

/**
 * `exp.log('loss', { step: 3 })`: an option `log` does not take would drop
 * the value without a word. Says so once per name and process, pointing at
 * `metadata`. Never throws (the options may be a hostile Proxy).
 */
export function warnUnknownLogOptions(options: object): void {
  try {
    for (const name in options) {
      if (LOG_OPTION_NAMES.includes(name)) continue
      const key = `log(): ${name}`
      if (shownWarnings.has(key)) continue
      const nearest = nearestName(name, LOG_OPTION_NAMES)
      const hint =
        nearest === undefined
          ? `put it in metadata: { metadata: { ${JSON.stringify(name)}: … } }`
          : `did you mean "${nearest}"?`
      warnOnce(
        key,
        `log() takes level, metadata and timestamp; "${name}" is ignored (${hint})`,
      )
    }
  } catch {
    // Options that cannot be enumerated: nothing to say about their names.
  }
}
