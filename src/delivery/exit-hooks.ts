/**
 * One shared, lazy registry of synchronous drains run on the process (or
 * worker) `exit` event, so entries still queued when the program calls
 * `process.exit()` reach the local store.
 *
 * The `exit` listener is installed with the first hook and removed with the
 * last, so an idle library leaves no listener behind. No signal handler is
 * ever installed: what a signal means is the application's decision.
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
