/**
 * The sink that feeds an experiment's open local store: it writes as soon
 * as entries accumulate (`flushIntervalMs: 0`), up to LOCAL_MAX_BATCH per
 * lock hold, and offers the store's synchronous path to the exit drain.
 */
import type { ResolvedOptions } from '../core/options.js'
import type { LocalStore } from '../store/local-store.js'
import type { Sink } from './sink.js'
import { createSink } from './sink.js'

/** Local writes take what has accumulated, up to this many entries per lock hold. */
export const LOCAL_MAX_BATCH = 4096

/** A sink that writes to an open local store. */
export function createLocalSink(
  store: LocalStore,
  options: ResolvedOptions,
): Sink {
  return createSink({
    name: `local ${store.directory}`,
    store: {
      write: (entries, stillWanted) => store.append(entries, stillWanted),
      writeSync: (entries) => store.appendSync(entries),
      close: () => store.close(),
    },
    maxBatchSize: LOCAL_MAX_BATCH,
    flushIntervalMs: 0,
    maxQueueSize: options.maxQueueSize,
    maxRetries: options.maxRetries,
    retryBaseDelayMs: options.retryBaseDelayMs,
    retryMaxDelayMs: options.retryMaxDelayMs,
    onError: options.onError,
  })
}
