/**
 * The retry policy: what to do after one write of a batch, decided from the
 * attempt, the store's result, the retry options and the time left before
 * the caller's deadline. Pure (the jitter source is a parameter), so the
 * sink owns the timers and only obeys.
 *
 * - A success, a permanent failure, or retries used up: settle the batch.
 * - Otherwise wait: the server's Retry-After when it gave one, capped at
 *   `retryMaxDelayMs` (a server asking for an hour must not stall a run for
 *   an hour); else exponential backoff with equal jitter, between half and
 *   all of `retryBaseDelayMs * 2^attempt`, capped at `retryMaxDelayMs`.
 * - A retry that would come at or after the deadline is not made: stop
 *   waiting, without spending an attempt, and leave the batch to the
 *   deadline's accounting. (A retry sent at the deadline could not finish
 *   before it.)
 */
import type { StoreResult } from '../core/result.js'

/** The options a decision reads. */
export interface RetryOptions {
  /** Retries of a batch after its first write. */
  maxRetries: number
  /** Ceiling of the first backoff, doubled at each retry. */
  retryBaseDelayMs: number
  /** Longest wait, whether from backoff or from Retry-After. */
  retryMaxDelayMs: number
}

/** What the policy is asked after one write. */
export interface RetryQuestion {
  /** Retries already made for this batch: 0 after its first write. */
  attempt: number
  result: StoreResult
  options: RetryOptions
  /** Time left before the caller's deadline; undefined when there is none. */
  remainingMs?: number | undefined
  /** The jitter source, returning a number in [0, 1]. @default Math.random */
  random?: (() => number) | undefined
}

/**
 * `settle`: the result is final. `wait`: write again after `delayMs`.
 * `stop`: the retry (due in `delayMs`) would pass the deadline; stop waiting.
 */
export type RetryDecision =
  | { action: 'settle' }
  | { action: 'wait'; delayMs: number }
  | { action: 'stop'; delayMs: number }

/** Decides what follows one write of a batch. */
export function decideRetry(question: RetryQuestion): RetryDecision {
  const { attempt, result, options } = question
  if (result.status !== 'retryable' || attempt >= options.maxRetries) {
    return { action: 'settle' }
  }
  const delayMs = retryDelay(
    attempt,
    result.retryAfterMs,
    options,
    question.random ?? Math.random,
  )
  return passesDeadline(delayMs, question.remainingMs)
    ? { action: 'stop', delayMs }
    : { action: 'wait', delayMs }
}

/**
 * True when something due in `waitMs` would come at or after a deadline
 * `remainingMs` away; never without a deadline.
 */
export function passesDeadline(
  waitMs: number,
  remainingMs: number | undefined,
): boolean {
  return remainingMs !== undefined && waitMs >= remainingMs
}

/** Retry-After capped, else backoff with equal jitter. */
function retryDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  options: RetryOptions,
  random: () => number,
): number {
  const { retryBaseDelayMs, retryMaxDelayMs } = options
  if (retryAfterMs !== undefined) {
    return Math.min(Math.max(0, retryAfterMs), retryMaxDelayMs)
  }
  const ceiling = Math.min(retryMaxDelayMs, retryBaseDelayMs * 2 ** attempt)
  return ceiling / 2 + (random() * ceiling) / 2
}
