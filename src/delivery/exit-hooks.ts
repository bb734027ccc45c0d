/**
 * One shared, lazy registry of exit work:
 * - `exit` hooks drain synchronously, so entries still queued when the
 *   program calls `process.exit()` reach the local store;
 * - `beforeExit` hooks flush asynchronously when the event loop runs dry
 *   (the remote sink's timers are unref'd, so without this a program that
 *   simply ends would leave its last partial batch behind). Each runs at
 *   most once at a time; when it finishes the loop empties again and the
 *   process exits.
 *
 * Listeners are installed with the first hook and removed with the last,
 * so an idle library leaves none behind. No signal handler is ever
 * installed: what a signal means is the application's decision.
 */
import { describeThrown } from '../core/serialize.js'
import { debug } from '../debug.js'

const hooks = new Set<() => void>()

function runHooks(): void {
  for (const hook of [...hooks]) {
    try {
      hook()
    } catch (error) {
      debug('exit drain failed: %s', describeThrown(error))
    }
  }
}

/** Runs `drain` synchronously on `exit`; returns the function that unregisters it. */
export function onExit(drain: () => void): () => void {
  if (hooks.size === 0) process.on('exit', runHooks)
  hooks.add(drain)
  return () => {
    if (hooks.delete(drain) && hooks.size === 0) process.off('exit', runHooks)
  }
}

const asyncHooks = new Map<() => Promise<unknown>, boolean>()

function runAsyncHooks(): void {
  for (const [flush, running] of asyncHooks) {
    if (running) continue
    asyncHooks.set(flush, true)
    flush()
      .catch((error: unknown) =>
        debug('exit flush failed: %s', describeThrown(error)),
      )
      .finally(() => {
        if (asyncHooks.has(flush)) asyncHooks.set(flush, false)
      })
  }
}

/**
 * Runs `flush` on `beforeExit` (when the event loop runs dry); it should
 * do nothing when there is nothing to send. Returns the unregister function.
 */
export function onBeforeExit(flush: () => Promise<unknown>): () => void {
  if (asyncHooks.size === 0) process.on('beforeExit', runAsyncHooks)
  asyncHooks.set(flush, false)
  return () => {
    if (asyncHooks.delete(flush) && asyncHooks.size === 0) {
      process.off('beforeExit', runAsyncHooks)
    }
  }
}
