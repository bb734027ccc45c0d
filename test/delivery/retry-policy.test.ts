import { describe, expect, it } from 'vitest'
import type { StoreResult } from '../../src/core/result.js'
import type {
  RetryDecision,
  RetryQuestion,
} from '../../src/delivery/retry-policy.js'
import { decideRetry, passesDeadline } from '../../src/delivery/retry-policy.js'

const options = { maxRetries: 3, retryBaseDelayMs: 100, retryMaxDelayMs: 1000 }
const error = new Error('busy')
const busy = (retryAfterMs?: number): StoreResult => ({
  status: 'retryable',
  error,
  retryAfterMs,
})
const ask = (extra: Partial<RetryQuestion>): RetryQuestion => ({
  attempt: 0,
  result: busy(),
  options,
  random: () => 0.5,
  ...extra,
})

describe('decideRetry', () => {
  const table: [string, Partial<RetryQuestion>, RetryDecision][] = [
    [
      'settles a success',
      { result: { status: 'success' } },
      { action: 'settle' },
    ],
    [
      'settles a permanent failure',
      { result: { status: 'failure', error } },
      { action: 'settle' },
    ],
    [
      'settles when the retries are used up',
      { attempt: 3 },
      { action: 'settle' },
    ],
    [
      'settles when the retries are used up, even with time left',
      { attempt: 3, remainingMs: 60_000 },
      { action: 'settle' },
    ],
    [
      'settles a permanent failure near the deadline',
      { result: { status: 'failure', error }, remainingMs: 1 },
      { action: 'settle' },
    ],
    [
      'waits what Retry-After says',
      { result: busy(700) },
      { action: 'wait', delayMs: 700 },
    ],
    [
      'caps Retry-After at retryMaxDelayMs',
      { result: busy(30_000) },
      { action: 'wait', delayMs: 1000 },
    ],
    [
      'retries at once on Retry-After 0',
      { result: busy(0) },
      { action: 'wait', delayMs: 0 },
    ],
    [
      'backs off from half the base delay (jitter 0)',
      { random: () => 0 },
      { action: 'wait', delayMs: 50 },
    ],
    [
      'backs off up to the base delay (jitter at its top)',
      { random: () => 1 },
      { action: 'wait', delayMs: 100 },
    ],
    [
      'doubles the ceiling each attempt: 800 at the fourth, jitter 0.5',
      { attempt: 3, options: { ...options, maxRetries: 10 } },
      { action: 'wait', delayMs: 600 },
    ],
    [
      'caps the backoff ceiling at retryMaxDelayMs',
      { attempt: 9, options: { ...options, maxRetries: 10 } },
      { action: 'wait', delayMs: 750 },
    ],
    [
      'waits when the retry comes before the deadline',
      { result: busy(700), remainingMs: 701 },
      { action: 'wait', delayMs: 700 },
    ],
    [
      'stops when the retry would come after the deadline',
      { result: busy(700), remainingMs: 300 },
      { action: 'stop', delayMs: 700 },
    ],
    [
      'stops when the retry would come exactly at the deadline',
      { result: busy(700), remainingMs: 700 },
      { action: 'stop', delayMs: 700 },
    ],
    [
      'stops when the deadline has passed',
      { remainingMs: -5 },
      { action: 'stop', delayMs: 75 },
    ],
  ]
  it.each(table)('%s', (_name, question, expected) => {
    expect(decideRetry(ask(question))).toEqual(expected)
  })

  it('keeps jitter from Math.random between half and all of the ceiling', () => {
    for (let i = 0; i < 200; i++) {
      const decision = decideRetry(ask({ attempt: 2, random: undefined }))
      expect(decision.action).toBe('wait')
      const { delayMs } = decision as { delayMs: number }
      expect(delayMs).toBeGreaterThanOrEqual(200)
      expect(delayMs).toBeLessThanOrEqual(400)
    }
  })
})

describe('passesDeadline', () => {
  const table: [number, number | undefined, boolean][] = [
    [100, undefined, false],
    [100, 101, false],
    [100, 100, true],
    [100, 99, true],
    [0, 0, true],
    [0, 1, false],
  ]
  it.each(table)('a %d ms wait with %s ms left: %s', (wait, left, passes) => {
    expect(passesDeadline(wait, left)).toBe(passes)
  })
})
