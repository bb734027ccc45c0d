/**
 * pino in the main thread, without a worker: `pino(createPinoDestination({ prefix }))`,
 * or `pino(opts, createPinoDestination({ prefix }))`.
 *
 * pino writes each line with `write()`; the line is parsed and queued at
 * once (no I/O in the call), delivery happens in the router's sinks. pino
 * announces its configuration with a `'message'` event on the destination,
 * which is listened to here. `flush(cb)` (reached by `logger.flush(cb)`)
 * and `end()` deliver what was queued; entries still queued at
 * `process.exit()` are written synchronously to the local store.
 */
import { EventEmitter } from 'node:events'
import type { MlDashOptions, ResolvedOptions } from '../core/options.js'
import { resolveOptions } from '../core/options.js'
import type { Router, RouterStats } from '../delivery/router.js'
import { createRouter } from '../delivery/router.js'
import type { PinoConfig } from './map.js'
import { PinoLineEncoder } from './encode-line.js'
import { processContext } from '../process-context.js'

/** A pino destination stream that writes into ml-dash experiments. */
export interface PinoDestination extends EventEmitter {
  write(line: string): boolean
  /** Delivers everything written so far; calls back when done. */
  flush(callback?: (error?: Error) => void): void
  /** Delivers everything and closes; emits `'close'`. */
  end(): void
  /**
   * True until `end()`: pino takes an object with a true `writable` as its
   * stream, so `pino(createPinoDestination(...))` works as
   * `pino({}, createPinoDestination(...))` does.
   */
  readonly writable: boolean
  readonly stats: RouterStats
}

/**
 * Creates a main-thread destination.
 *
 * @throws Error naming the option, for an invalid option.
 */
export function createPinoDestination(
  options: MlDashOptions = {},
): PinoDestination {
  const resolved = resolveOptions(options, process.env, [], processContext())
  return new Destination(createRouter(resolved), resolved)
}

class Destination extends EventEmitter implements PinoDestination {
  readonly #router: Router
  readonly #encoder: PinoLineEncoder
  #ended = false

  constructor(router: Router, options: ResolvedOptions) {
    super()
    this.#router = router
    this.#encoder = new PinoLineEncoder(router, options)
    this.on('message', (message: { code?: string; config?: PinoConfig }) => {
      if (message?.code === 'PINO_CONFIG' && message.config !== undefined)
        this.#encoder.configure(message.config)
    })
  }

  get stats(): RouterStats {
    return this.#router.stats
  }

  get writable(): boolean {
    return !this.#ended
  }

  write(chunk: string): boolean {
    for (const line of String(chunk).split('\n')) {
      this.#encoder.enqueue(line)
    }
    return true
  }

  flush(callback?: (error?: Error) => void): void {
    this.#router.flush().then(
      () => callback?.(),
      (error: Error) => callback?.(error),
    )
  }

  end(): void {
    this.#ended = true
    void this.#router.close().then(() => this.emit('close'))
  }
}
