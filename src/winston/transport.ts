/**
 * `MlDashTransport`: a winston 3 transport (on winston-transport) that
 * writes into ml-dash experiments.
 *
 * The winston contract: `log(info, callback)` always calls back and emits
 * `'logged'`, never throws into the logger, and does no I/O (entries are
 * queued; the router's sinks deliver them). Delivery failures are `'warn'`
 * events on the transport (winston re-emits a transport's `'error'` on the
 * logger, which would crash an app without a listener) and go to `onError`.
 * `logger.end()` emits `'finish'` only after delivery: winston waits for
 * each transport's `'finish'`, and this one finishes after flushing every
 * store. `flush()` and `close()` are there for serverless handlers that
 * must deliver before they return.
 */
import TransportStream from 'winston-transport'
import type { EntryLimits } from '../core/entry.js'
import type { MlDashOptions, OwnNames } from '../core/options.js'
import { configError, resolveOptions } from '../core/options.js'
import { describeThrown } from '../core/serialize.js'
import type { ChannelReport } from '../delivery/channel.js'
import type { Router, RouterStats } from '../delivery/router.js'
import { createRouter, routeRecord } from '../delivery/router.js'
import type { WinstonLevels } from './map.js'
import { mapWinstonInfo } from './map.js'
import { flatWinstonEntry } from './flat-entry.js'
import { processContext } from '../process-context.js'

/** Options of {@link MlDashTransport}: the shared ones, plus winston's own. */
export interface MlDashTransportOptions
  extends MlDashOptions, TransportStream.TransportStreamOptions {}

/** winston-transport's own option names, beside the shared ones. */
const WINSTON_NAMES = Object.keys({
  level: true,
  silent: true,
  format: true,
  handleExceptions: true,
  handleRejections: true,
  log: true,
  logv: true,
  close: true,
} satisfies OwnNames<MlDashTransportOptions>)

/** A winston transport into ml-dash. */
export class MlDashTransport extends TransportStream {
  readonly #router: Router
  readonly #levelMap: MlDashOptions['levelMap']
  readonly #limits: EntryLimits
  #closing: Promise<Record<string, ChannelReport>> | undefined

  /** @throws Error naming the option, for an invalid option. */
  constructor(options: MlDashTransportOptions = {}) {
    super(options)
    const userOnError = options.onError
    // Checked before it is wrapped: the wrapper itself is always a function.
    if (userOnError !== undefined && typeof userOnError !== 'function')
      throw configError('onError must be a function')
    const resolved = resolveOptions(
      {
        ...options,
        onError: (error, count) => {
          userOnError?.(error, count)
          this.emit('warn', error)
        },
      },
      process.env,
      WINSTON_NAMES,
      processContext(),
    )
    this.#levelMap = resolved.levelMap
    this.#limits = resolved.limits
    this.#router = createRouter(resolved)
  }

  /** Delivery counters per experiment. */
  get stats(): RouterStats {
    return this.#router.stats
  }

  override log(
    info: Record<string | symbol, unknown>,
    callback: () => void,
  ): void {
    try {
      const levels = (this as { levels?: WinstonLevels }).levels
      this.#enqueue(info, levels)
    } catch (error) {
      this.#warn(error)
    }
    try {
      this.emit('logged', info)
    } catch (error) {
      this.#warn(error)
    }
    callback()
  }

  /** Queues one info: a flat one as its text, made in one pass; any other mapped. */
  #enqueue(
    info: Record<string | symbol, unknown>,
    levels: WinstonLevels | undefined,
  ): void {
    const routed = routeRecord(
      this.#router,
      flatWinstonEntry(info, this.#limits, levels, this.#levelMap),
      () => mapWinstonInfo(info, levels, this.#levelMap),
    )
    if (routed !== undefined && routed !== 'unmapped')
      routed.channel.enqueue(routed.entry)
  }

  /** Delivers everything logged so far (within `closeTimeoutMs`). */
  flush(): Promise<Record<string, ChannelReport>> {
    return this.#router.flush()
  }

  /** Delivers everything and closes; idempotent. winston calls it when the transport is removed. */
  // winston ignores what close() returns; the promise is for callers that await delivery.
  // eslint-disable-next-line @typescript-eslint/no-misused-promises
  override close(): Promise<Record<string, ChannelReport>> {
    this.#closing ??= this.#router.close()
    return this.#closing
  }

  /** Stream end (`logger.end()`): finish only once everything is delivered. */
  override _final(callback: (error?: Error | null) => void): void {
    this.close().then(
      () => callback(),
      () => callback(),
    )
  }

  #warn(error: unknown): void {
    try {
      this.emit(
        'warn',
        error instanceof Error ? error : new Error(describeThrown(error)),
      )
    } catch {
      // a throwing 'warn' listener must not reach the logger
    }
  }
}
