/**
 * What a store says about one batch: a value, never an exception.
 * The delivery layer decides from it whether to retry, drop or go on.
 */

/** The outcome of writing one batch to a store. */
export type StoreResult =
  | { status: 'success' }
  | { status: 'retryable'; error: Error; retryAfterMs?: number }
  | { status: 'failure'; error: Error }

/** The success result (shared; it carries nothing). */
export const SUCCESS: StoreResult = Object.freeze({ status: 'success' })
