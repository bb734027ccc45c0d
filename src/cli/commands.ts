/**
 * The CLI's `serve` and `logs` commands, over the library.
 *
 * `serve` runs the OTLP/HTTP receiver until SIGTERM or SIGINT, then stops
 * accepting, delivers what it accepted and resolves (exit code 0).
 * `logs <prefix>` prints a local experiment's entries: `time level message
 * metadata`, or the stored lines with `--json`; `--level` filters (comma
 * list); `--follow` keeps printing new entries until SIGINT or SIGTERM.
 */
import { statSync } from 'node:fs'
import type { MlDashOptions } from '../core/options.js'
import { parsePrefix } from '../core/prefix.js'
import { startReceiver } from '../receiver/server.js'
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
  levels?: readonly string[]
  json?: boolean
  follow?: boolean
}

/** Prints an experiment's entries; with `follow`, keeps going until a signal. */
export async function printLogs(
  options: LogsOptions,
  io: CommandIo,
): Promise<number> {
  const prefix = parsePrefix(options.prefix)
  const file = logFile(options.dashRoot, prefix)
  if (statSync(file, { throwIfNoEntry: false }) === undefined) {
    io.stderr.write(`ml-dash-logs: no logs at ${file}\n`)
    return 1
  }
  let offset = printFrom(file, 0, options, io)
  if (!options.follow) return 0
  let stopped = false
  void untilSignal(io.signals).then(() => (stopped = true))
  // A closed stdout (the reader stopped, see main.ts) ends following too.
  while (!stopped && io.stdout.writable) {
    await new Promise((resolve) => setTimeout(resolve, 250))
    const size = statSync(file, { throwIfNoEntry: false })?.size ?? 0
    if (size > offset) offset = printFrom(file, offset, options, io)
  }
  return 0
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
): number {
  return readLinesFrom(
    file,
    start,
    (line) => printLine(line, options, io),
    () => io.stdout.writable,
  )
}

function printLine(line: string, options: LogsOptions, io: CommandIo): void {
  let entry: {
    timestamp?: string
    level?: string
    message?: string
    metadata?: unknown
  }
  try {
    entry = JSON.parse(line) as typeof entry
  } catch {
    return
  }
  if (
    options.levels !== undefined &&
    !options.levels.includes(String(entry.level))
  )
    return
  if (options.json) io.stdout.write(`${line}\n`)
  else {
    const metadata =
      entry.metadata === undefined ? '' : ` ${JSON.stringify(entry.metadata)}`
    io.stdout.write(
      `${entry.timestamp} ${String(entry.level).padEnd(5)} ${entry.message}${metadata}\n`,
    )
  }
}

function untilSignal(signals: NodeJS.EventEmitter): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: string) => () => {
      signals.off('SIGTERM', term)
      signals.off('SIGINT', int)
      resolve(signal)
    }
    const term = on('SIGTERM')
    const int = on('SIGINT')
    signals.once('SIGTERM', term)
    signals.once('SIGINT', int)
  })
}
