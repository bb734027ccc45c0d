/**
 * The CLI's `serve` and `logs` commands, over the library.
 *
 * `serve` runs the OTLP/HTTP receiver until SIGTERM or SIGINT, then stops
 * accepting, delivers what it accepted and resolves (exit code 0).
 * `sync` sends what the outboxes of processes that are gone hold.
 * `logs <prefix>` prints an experiment's entries, from the local store or
 * with `--dash-url` from the server: `time level message metadata` (the
 * level coloured on a terminal), or the stored lines with `--json`;
 * `--level` filters (comma list); `--follow` keeps printing new entries
 * until SIGINT or SIGTERM.
 */
import { statSync } from 'node:fs'
import type { MlDashOptions, ResolvedOptions } from '../core/options.js'
import { parsePrefix } from '../core/prefix.js'
import { resolveOptions } from '../core/options.js'
import { adopt, spoolRoot } from '../delivery/spool.js'
import { remoteBatching } from '../delivery/channel.js'
import { processContext } from '../process-context.js'
import { startReceiver } from '../receiver/server.js'
import { serverDirectory } from '../store/outbox.js'
import { displayUrl } from '../store/remote/http-client.js'
import { createRemoteStore } from '../store/remote/remote-store.js'
import type { FoundToken } from '../store/remote/token.js'
import { requireToken } from '../store/remote/token.js'
import { logFile, readLinesFrom } from '../store/log-reader.js'

/** What the commands need from their environment (injected in tests). */
export interface CommandIo {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  /** Where SIGTERM and SIGINT arrive (the process, in the real CLI). */
  signals: NodeJS.EventEmitter
}

/** Options of `serve`. */
export interface ServeOptions extends MlDashOptions {
  port?: number
  host?: string
  authToken?: string
}

/** Runs the receiver until a signal; resolves to the exit code. */
export async function serve(
  options: ServeOptions,
  io: CommandIo,
): Promise<number> {
  const receiver = await startReceiver(options)
  io.stderr.write(
    `ml-dash-logs: receiving OTLP/HTTP logs at ${receiver.url}/v1/logs\n`,
  )
  const signal = await untilSignal(io.signals)
  io.stderr.write(
    `ml-dash-logs: ${signal}: delivering what was accepted, then exiting\n`,
  )
  await receiver.close()
  return 0
}

/** Options of `logs`. */
export interface LogsOptions {
  prefix: string
  dashRoot: string
  /** Read from this server instead of the local store (`--dash-url`). */
  dashUrl?: string
  levels?: readonly string[]
  json?: boolean
  follow?: boolean
  /** Levels in colour (a terminal, and no NO_COLOR). @default false */
  color?: boolean
  /** For the server's token sources. @default process.env */
  env?: Readonly<Record<string, string | undefined>>
}

/** How often `--follow` looks for new entries, in the file and on the server. */
const FOLLOW_POLL_MS = 250
const FOLLOW_SERVER_POLL_MS = 1000
/** Entries per `GET …/logs` page. */
const SERVER_PAGE = 1000

/** Prints an experiment's entries; with `follow`, keeps going until a signal. */
export async function printLogs(
  options: LogsOptions,
  io: CommandIo,
): Promise<number> {
  const prefix = parsePrefix(options.prefix)
  if (options.dashUrl !== undefined) return printServerLogs(options, io)
  const file = logFile(options.dashRoot, prefix)
  const skipped = { said: false }
  const present = (): boolean => {
    try {
      return statSync(file, { throwIfNoEntry: false }) !== undefined
    } catch {
      // A file where a folder of the path should be (ENOTDIR): no logs there.
      return false
    }
  }
  const following = options.follow ? follow(io) : undefined
  if (!present()) {
    if (following === undefined) {
      io.stderr.write(`ml-dash-logs: no logs at ${file}\n`)
      return 1
    }
    // As `tail -F`: an experiment that has not started yet is waited for.
    io.stderr.write(`ml-dash-logs: no logs at ${file} yet; waiting for them\n`)
    do if (!(await following.next(FOLLOW_POLL_MS))) return 0
    while (!present())
  }
  let offset = printFrom(file, 0, options, io, skipped)
  if (following === undefined) return 0
  while (await following.next(FOLLOW_POLL_MS)) {
    const size = statSync(file, { throwIfNoEntry: false })?.size ?? 0
    if (size > offset) offset = printFrom(file, offset, options, io, skipped)
  }
  return 0
}

/**
 * Until a signal, or stdout closes (the reader stopped, see main.ts):
 * `next(ms)` waits that long and says whether to go on.
 */
function follow(io: CommandIo): {
  next(ms: number): Promise<boolean>
  stopped(): boolean
} {
  let stopped = false
  let wake: (() => void) | undefined
  void untilSignal(io.signals).then(() => {
    stopped = true
    wake?.()
  })
  return {
    stopped: () => stopped || !io.stdout.writable,
    async next(ms) {
      if (stopped || !io.stdout.writable) return false
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms)
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      return !stopped && io.stdout.writable
    },
  }
}

/**
 * `GET /api/experiments/{id}/logs` a page at a time, in sequence order, the
 * levels filtered by the server; with `follow`, asks again for what came
 * after the last one. The experiment is looked up as the SDK opens it.
 */
async function printServerLogs(
  options: LogsOptions,
  io: CommandIo,
): Promise<number> {
  const env = options.env ?? process.env
  const { resolved, url, token } = theServer(
    { dashUrl: options.dashUrl!, dashRoot: false, prefix: options.prefix },
    env,
  )
  const store = createRemoteStore({
    url,
    token: token.token,
    tokenSource: token.source,
    prefix: parsePrefix(options.prefix),
    requestTimeoutMs: resolved.requestTimeoutMs,
    network: resolved.network,
  })
  try {
    let offset = 0
    const following = options.follow ? follow(io) : undefined
    let failing = false
    for (;;) {
      let page: Awaited<ReturnType<typeof store.readLogs>>
      try {
        page = await store.readLogs({
          limit: SERVER_PAGE,
          offset,
          orderBy: 'sequenceNumber',
          order: 'asc',
          ...(options.levels === undefined
            ? {}
            : { level: [...options.levels] }),
        })
      } catch (error) {
        // Following, a server that stops answering for a while is waited
        // for (said once); anything else, or not following, ends it.
        if (following === undefined || !passing(error)) throw error
        if (!failing)
          io.stderr.write(
            `ml-dash-logs: ${(error as Error).message.replace(/^ml-dash-logs: /, '')}; asking again every ${FOLLOW_SERVER_POLL_MS / 1000} s\n`,
          )
        failing = true
        if (!(await following.next(FOLLOW_SERVER_POLL_MS))) return 0
        continue
      }
      failing = false
      for (const entry of page.logs) {
        if (!io.stdout.writable) return 0
        printLine(JSON.stringify(entry) ?? '', options, io)
      }
      offset += page.logs.length
      if (following !== undefined && following.stopped()) return 0
      if (page.hasMore && page.logs.length > 0) continue
      if (following === undefined && offset === 0) {
        io.stderr.write(
          `ml-dash-logs: no logs${options.levels === undefined ? '' : ` at ${options.levels.join(', ')}`} for ${options.prefix} on ${store.url}\n`,
        )
        return 1
      }
      if (following === undefined) return 0
      if (!(await following.next(FOLLOW_SERVER_POLL_MS))) return 0
    }
  } finally {
    store.close()
  }
}

/**
 * Prints the whole lines from `start`; returns the offset after the last one
 * (a partial line waits). Stops early once stdout is no longer writable: a
 * write that failed (EPIPE from a reader that stopped) makes it so at once.
 */
function printFrom(
  file: string,
  start: number,
  options: LogsOptions,
  io: CommandIo,
  skipped: { said: boolean },
): number {
  return readLinesFrom(
    file,
    start,
    (line) => {
      if (printLine(line, options, io) || line === '' || skipped.said) return
      skipped.said = true
      io.stderr.write(
        `ml-dash-logs: ${file} holds lines that are not log entries (another writer, or a torn write); they are skipped\n`,
      )
    },
    () => io.stdout.writable,
  )
}

/** A failure `--follow` waits out: the network, a 5xx, a 429. */
function passing(error: unknown): boolean {
  const { code, status } = error as { code?: string; status?: number }
  return (
    code === 'ML_DASH_NETWORK' ||
    (code === 'ML_DASH_SERVER' &&
      status !== undefined &&
      (status >= 500 || status === 429))
  )
}

/** ANSI colours of the levels on a terminal, as pino-pretty shows them. */
const LEVEL_COLORS: Readonly<Record<string, string>> = {
  debug: '\x1b[34m',
  info: '\x1b[32m',
  warn: '\x1b[33m',
  error: '\x1b[31m',
  fatal: '\x1b[41m',
}

/**
 * Control characters of a stored value, shown escaped on a terminal: a log
 * line is written by whoever logs, and read by whoever views it (ESC, BEL,
 * CR could clear the screen, set the title, overwrite what is shown).
 */
// eslint-disable-next-line no-control-regex -- matching them is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g

function shown(value: unknown): string {
  return String(value).replace(CONTROL, (c) =>
    c === '\n'
      ? '\\n'
      : c === '\t'
        ? '\\t'
        : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

/** Prints one stored line; false when it is not an entry (not a JSON object). */
function printLine(line: string, options: LogsOptions, io: CommandIo): boolean {
  let entry: {
    timestamp?: unknown
    level?: unknown
    message?: unknown
    metadata?: unknown
  }
  try {
    entry = JSON.parse(line) as typeof entry
  } catch {
    return false
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry))
    return false
  if (
    options.levels !== undefined &&
    !options.levels.includes(String(entry.level))
  )
    return true
  if (options.json) {
    io.stdout.write(`${line}\n`)
    return true
  }
  const metadata =
    entry.metadata === undefined ? '' : ` ${JSON.stringify(entry.metadata)}`
  const level = shown(entry.level ?? '').padEnd(5)
  const color = options.color ? LEVEL_COLORS[String(entry.level)] : undefined
  io.stdout.write(
    `${shown(entry.timestamp ?? '')} ${color === undefined ? level : `${color}${level}\x1b[0m`} ${shown(entry.message ?? '')}${shown(metadata)}\n`,
  )
  return true
}

/**
 * Calls `handler` on each SIGINT and SIGTERM (as `signals` gives them: the
 * process in the real CLI); returns the function that stops listening.
 */
export function onStopSignals(
  signals: NodeJS.EventEmitter,
  handler: (signal: 'SIGINT' | 'SIGTERM') => void,
): () => void {
  const int = (): void => handler('SIGINT')
  const term = (): void => handler('SIGTERM')
  signals.on('SIGINT', int)
  signals.on('SIGTERM', term)
  return () => {
    signals.off('SIGINT', int)
    signals.off('SIGTERM', term)
  }
}

function untilSignal(signals: NodeJS.EventEmitter): Promise<string> {
  return new Promise((resolve) => {
    const off = onStopSignals(signals, (signal) => {
      off()
      resolve(signal)
    })
  })
}

/**
 * The options of a command that talks to the server (`logs --dash-url`,
 * `sync`), resolved as the library resolves them, with the server's URL and
 * its token from the same sources. @throws Error naming what is missing
 */
function theServer(
  options: MlDashOptions,
  env: Readonly<Record<string, string | undefined>>,
): { resolved: ResolvedOptions; url: string; token: FoundToken } {
  const resolved = resolveOptions(options, env, [], processContext(env))
  const url = resolved.dashUrl!
  return { resolved, url, token: requireToken(url, resolved.token, env) }
}

/** Options of `sync`. */
export interface SyncOptions {
  /** The server; undefined: as `dashUrl: true` (ML_DASH_API_URL, config.json, the default). */
  dashUrl?: string
  /** The store root whose outboxes are sent (beside it); with none, the user's cache folder. */
  dashRoot?: string
  spoolDir?: string
  env: Readonly<Record<string, string | undefined>>
  /** True when stderr is a terminal: progress on one line, redrawn. */
  tty: boolean
}

/**
 * Sends what outboxes of processes that are gone hold for one server, then
 * reports; exit code 0 when nothing is left, 1 when something is.
 */
export async function sync(
  options: SyncOptions,
  io: CommandIo,
): Promise<number> {
  const { resolved, url, token } = theServer(
    {
      dashUrl: options.dashUrl ?? true,
      dashRoot: options.dashRoot ?? false,
      ...(options.spoolDir === undefined ? {} : { spoolDir: options.spoolDir }),
    },
    options.env,
  )
  const root = spoolRoot(resolved.spoolDir, resolved.dashRoot, options.env)
  // A folder given by hand that is not there is a typo, not "nothing to send".
  const given = options.spoolDir ?? options.dashRoot
  if (given !== undefined && !isFolder(given)) {
    io.stderr.write(
      `ml-dash-logs: sync: ${options.spoolDir !== undefined ? '--spool-dir' : '--dash-root'} ${options.spoolDir ?? options.dashRoot} is not a folder\n`,
    )
    return 2
  }
  const started = Date.now()
  let shownAt = 0
  let sentSoFar = 0
  const show = (sent: number, total: number, last = false): void => {
    sentSoFar = sent
    const now = Date.now()
    if (!last && now - shownAt < (options.tty ? 200 : 2000)) return
    shownAt = now
    const seconds = Math.max(0.001, (now - started) / 1000)
    const line = `ml-dash-logs: sync: ${sent} of ${total} entries sent (${Math.round(sent / seconds)}/s), ${total - sent} left`
    io.stderr.write(
      options.tty ? `\r\x1b[2K${line}${last ? '\n' : ''}` : `${line}\n`,
    )
  }
  const adoption = adopt({
    root,
    url,
    token,
    network: resolved.network,
    requestTimeoutMs: resolved.requestTimeoutMs,
    sink: {
      ...remoteBatching(resolved),
      maxQueueSize: resolved.maxQueueSize,
      maxQueueBytes: resolved.maxQueueBytes,
      // An adoption never gives up a retryable batch: the watchdog below stops it.
      maxRetries: resolved.maxRetries,
      retryBaseDelayMs: resolved.retryBaseDelayMs,
      retryMaxDelayMs: resolved.retryMaxDelayMs,
    },
    onProgress: show,
  })
  const stop = (): void => void adoption.stop(resolved.closeTimeoutMs)
  // Once: a second Ctrl-C ends the command the usual way.
  const offSignals = onStopSignals(io.signals, () => {
    offSignals()
    stop()
  })
  // The adoption never holds a process open by itself (an app that ends,
  // ends); this command exists for it, so it holds it.
  // A server that takes nothing for SYNC_STALL_MS: stop, leaving the rest (exit 1).
  let progressAt = Date.now()
  let lastSent = -1
  const hold = setInterval(() => {
    if (sentSoFar !== lastSent) {
      lastSent = sentSoFar
      progressAt = Date.now()
    } else if (Date.now() - progressAt > SYNC_STALL_MS) stop()
  }, 1000)
  const report = await adoption.done.finally(() => clearInterval(hold))
  offSignals()
  show(report.delivered + report.failed, report.entries, true)
  io.stderr.write(
    `ml-dash-logs: sync: ${report.outboxes} ${report.outboxes === 1 ? 'outbox' : 'outboxes'} of ${displayUrl(url)} in ${serverDirectory(root, url)}: ${report.delivered} sent, ${report.failed} failed, ${report.left} left${report.torn > 0 ? `, ${report.torn} torn lines skipped` : ''}\n`,
  )
  if (report.unreadable > 0)
    io.stderr.write(
      `ml-dash-logs: sync: ${report.unreadable} outboxes could not be read and were left as they are (NODE_DEBUG=ml-dash-logs says why)\n`,
    )
  return report.left === 0 && report.failed === 0 && report.unreadable === 0
    ? 0
    : 1
}

function isFolder(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() === true
  } catch {
    return false
  }
}

/** How long `sync` waits for a server that takes nothing before it stops. */
const SYNC_STALL_MS = 5 * 60_000
