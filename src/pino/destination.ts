/**
 * pino in the main thread, without a worker: `pino(opts, createPinoDestination({ prefix }))`.
 *
 * pino writes each line with `write()`; the line is parsed and queued at
 * once (no I/O in the call), delivery happens in the router's sinks. pino
 * announces its configuration with a `'message'` event on the destination,
 * which is listened to here. `flush(cb)` (reached by `logger.flush(cb)`)
 * and `end()` deliver what was queued; entries still queued at
 * `process.exit()` are written synchronously to the local store.
 */
import { EventEmitter } from 'node:events'
import type { MlDashOptions } from '../core/options.js'
import { resolveOptions } from '../core/options.js'
import type { Router, RouterStats } from '../delivery/router.js'
import { createRouter } from '../delivery/router.js'
import type { PinoConfig } from './map.js'
import { mapPinoRecord } from './map.js'

/** A pino destination stream that writes into ml-dash experiments. */
export interface PinoDestination extends EventEmitter {
  write(line: string): boolean
  /** Delivers everything written so far; calls back when done. */
  flush(callback?: (error?: Error) => void): void
  /** Delivers everything and closes; emits `'close'`. */
  end(): void
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
  const resolved = resolveOptions(options, process.env)
  return new Destination(createRouter(resolved), resolved.levelMap)
}

class Destination extends EventEmitter implements PinoDestination {
  readonly #router: Router
  readonly #levelMap: MlDashOptions['levelMap']
  readonly #config: PinoConfig = {}

  constructor(router: Router, levelMap: MlDashOptions['levelMap']) {
    super()
    this.#router = router
    this.#levelMap = levelMap
    this.on('message', (message: { code?: string; config?: PinoConfig }) => {
      if (message?.code === 'PINO_CONFIG')
        Object.assign(this.#config, message.config)
    })
  }

  get stats(): RouterStats {
    return this.#router.stats
  }

  write(chunk: string): boolean {
    for (const line of String(chunk).split('\n')) {
      if (line === '') continue
      const { input, prefix } = mapPinoRecord(
        parseRecord(line),
        this.#config,
        this.#levelMap,
      )
      this.#router.enqueue(input, prefix)
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
    void this.#router.close().then(() => this.emit('close'))
  }
}

/** A JSON object line as is; anything else as an info record with the line as message. */
export function parseRecord(line: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(line)
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>
    }
  } catch {
    // kept below as text
  }
  return { level: 30, time: Date.now(), msg: line }
}
