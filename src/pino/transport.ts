/**
 * The pino transport: `pino({ transport: { target: 'ml-dash-logs/pino', options } })`.
 *
 * Runs in pino's worker thread. The stream pino's worker writes to is a
 * plain `Writable` that takes thread-stream's text chunks as they come and
 * splits them into lines itself, in one pass per chunk: no line-splitting
 * transform, no Buffer round trip, no stream per line (pino-abstract-transport
 * costs about a quarter of the worker's time before a line is stored; see
 * the README's benchmarks). It keeps what pino's worker expects of a
 * destination: `write` answers at once, `flush(cb)` for `logger.flush`,
 * `end()` closes every store and then emits `'close'` (the worker exits on
 * it). Options
 * are plain data (they cross the thread boundary); a bad option rejects
 * the transport at start with the option's sentence.
 *
 * pino's configuration (custom levels, `messageKey`) arrives as a
 * `PINO_CONFIG` message when the logger is created. The transport is ready
 * without it, so the app may create its logger first or await `'ready'`
 * first (waiting for the config before being ready would deadlock the
 * second); the first record, which cannot exist before the logger, waits
 * for it.
 *
 * A line that is not JSON is kept as an `info` entry with the line as its
 * message. Out of band, on the main thread's transport stream: an
 * `'ml-dash-logs:error'` event ({ message, code, undelivered }) for each delivery
 * failure, and `'ml-dash-logs:stats'` with the final counters at close. `logger.flush(cb)` reaches the router's flush; on `process.exit()`
 * pino ends the stream and waits for `close`, which flushes every store.
 */
import { Writable } from 'node:stream'
import { parentPort, workerData } from 'node:worker_threads'
import { isMlDashError, mlDashError } from '../core/error-codes.js'
import type { MlDashOptions } from '../core/options.js'
import { resolveOptions } from '../core/options.js'
import { createRouter } from '../delivery/router.js'
import { debug } from '../debug.js'
import type { PinoConfig } from './map.js'
import { PinoLineEncoder } from './encode-line.js'
import { LineSplitter } from './line-splitter.js'
import { processContext } from '../process-context.js'

/** Options of the pino transport: the shared options, as plain data. */
export type PinoTransportOptions = Omit<MlDashOptions, 'onError'>

/** Longest wait for pino's configuration once records flow. */
const CONFIG_WAIT_MS = 5000

/**
 * pino's configuration, from the `PINO_CONFIG` message of the main thread:
 * resolves when it has come (empty at once when pino will not send one, or
 * after {@link CONFIG_WAIT_MS} without it).
 */
function pinoConfig(): Promise<PinoConfig> {
  const data = workerData as {
    workerData?: { pinoWillSendConfig?: boolean }
  } | null
  const port = parentPort
  if (data?.workerData?.pinoWillSendConfig !== true || port === null)
    return Promise.resolve({})
  return new Promise((resolve) => {
    const done = (config: PinoConfig = {}): void => {
      clearTimeout(timer)
      port.off('message', onMessage)
      resolve(config)
    }
    const onMessage = (message: {
      code?: string
      config?: PinoConfig
    }): void => {
      if (message?.code !== 'PINO_CONFIG') return
      done(message.config)
    }
    const timer = setTimeout(() => done(), CONFIG_WAIT_MS)
    timer.unref()
    port.on('message', onMessage)
  })
}

/**
 * Posts an event to the main thread, where thread-stream emits it on the
 * transport stream (`transport.on('ml-dash-logs:stats', …)`).
 */
function emitOnMainThread(name: string, payload: unknown): void {
  try {
    parentPort?.postMessage({ code: 'EVENT', name, args: [payload] })
  } catch {
    // out-of-band reporting never takes the transport down
  }
}

/**
 * pino's thread-stream gives `end()` 10 s before it reports an error (which
 * crashes an app without a listener), so closing must finish sooner.
 */
const PINO_CLOSE_LIMIT_MS = 9000

/**
 * Keys pino (`pinoWillSendConfig`) and thread-stream (`$context`) add to a
 * single target's options: known here, so they draw no unknown-option warning.
 */
const PINO_WORKER_NAMES = ['$context', 'pinoWillSendConfig'] as const

/**
 * `make()`, or its error with the code also at the end of the message
 * (`… [ML_DASH_CONFIG]`): thread-stream hands a worker's error to the main
 * thread by structured clone, which keeps the message but not `code`.
 */
function withCodeInMessage<T>(make: () => T): T {
  try {
    return make()
  } catch (error) {
    if (!isMlDashError(error)) throw error
    throw mlDashError(error.code, `${error.message} [${error.code}]`, error)
  }
}

/** The transport factory pino calls in its worker. */
export default function pinoTransport(options: PinoTransportOptions = {}) {
  const { resolved, router } = withCodeInMessage(() => {
    const made = resolveOptions(
      {
        ...options,
        onError: (error: Error, undelivered: number) =>
          emitOnMainThread('ml-dash-logs:error', {
            message: error.message,
            code: (error as { code?: unknown }).code,
            undelivered,
          }),
      },
      process.env,
      PINO_WORKER_NAMES,
      processContext(),
    )
    return { resolved: made, router: createRouter(made) }
  })
  const closeTimeoutMs = Math.min(resolved.closeTimeoutMs, PINO_CLOSE_LIMIT_MS)
  if (closeTimeoutMs < resolved.closeTimeoutMs) {
    debug(
      'closeTimeoutMs %d is over pino end() limit: closing within %d ms (use logger.flush() to wait longer)',
      resolved.closeTimeoutMs,
      closeTimeoutMs,
    )
  }
  // Lines held until pino's config arrives (see below).
  let encoder: PinoLineEncoder | undefined
  const pending: string[] = []
  const configured = pinoConfig().then((config) => {
    encoder = new PinoLineEncoder(router, resolved, config)
    for (const line of pending.splice(0)) encoder.enqueue(line)
  })
  /**
   * Resolves once every line received so far is in the router. Lines that
   * came before pino's config wait for it: the worker reads the first
   * lines before it handles the `PINO_CONFIG` message, so a `close` or
   * `flush` that did not wait would skip them (an `end()` in the logging
   * tick closed the router with every line still held, and lost them).
   * Without held lines there is nothing to wait for, and a transport that
   * never got a logger closes at once.
   */
  const linesQueued = (): Promise<void> =>
    pending.length > 0 ? configured : Promise.resolve()
  // A line means the logger exists, so its config is on the way: hold
  // lines until it comes, never before being ready (that would deadlock).
  const take = (line: string): void => {
    if (encoder === undefined) pending.push(line)
    else encoder.enqueue(line)
  }
  const lines = new LineSplitter(take)
  let closing: Promise<void> | undefined
  /** Ends the lines and closes every store, once (at the end, or at a destroy). */
  const closeOnce = (): Promise<void> =>
    (closing ??= (async () => {
      lines.end()
      const started = Date.now()
      await linesQueued()
      // thread-stream's end() limit counts the wait for the config too.
      const left = PINO_CLOSE_LIMIT_MS - (Date.now() - started)
      await router.close(Math.min(closeTimeoutMs, left))
      emitOnMainThread('ml-dash-logs:stats', router.stats)
    })())
  const stream = new Writable({
    // thread-stream writes text; a pipeline stage before this one may write bytes.
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, callback) {
      lines.write(chunk)
      callback()
    },
    final(callback) {
      closeOnce().then(
        () => callback(),
        (error: unknown) => callback(error as Error),
      )
    },
    // Destroyed without an end (a pipeline stage before this one failed):
    // what was taken is still delivered, as at the end.
    destroy(error, callback) {
      closeOnce().then(
        () => callback(error),
        () => callback(error),
      )
    },
  })
  /**
   * `logger.flush(cb)`: thread-stream has handed every byte over
   * (`destination.write` returned) before it sends the flush, and `write`
   * hands each whole line on within that call, so lines can only still
   * wait for pino's config: wait for it, then deliver.
   */
  const flush = async (): Promise<void> => {
    await linesQueued()
    await router.flush()
  }
  return Object.assign(stream, { flush })
}
