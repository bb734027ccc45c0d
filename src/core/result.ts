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

/**
 * Wraps an asynchronous open so that callers share one attempt at a time,
 * a success is remembered (later calls resolve at once), and a failure or
 * a throw leaves the next call to try again. Never rejects.
 */
export function openUntilSuccess(
  open: () => Promise<StoreResult>,
): () => Promise<StoreResult> {
  let opened = false
  let attempt: Promise<StoreResult> | undefined
  const settle = (result: StoreResult): StoreResult => {
    attempt = undefined
    opened = result.status === 'success'
    return result
  }
  return () => {
    if (opened) return Promise.resolve(SUCCESS)
    attempt ??= open().then(settle, (error: unknown) =>
      settle({
        status: 'failure',
        error: error instanceof Error ? error : new Error(String(error)),
      }),
    )
    return attempt
  }
}
