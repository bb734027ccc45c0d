import { expect, it } from 'vitest'
import {
  isRetryableError,
  isRetryableStatus,
  parseRetryAfter,
} from '../../../src/store/remote/is-retryable.js'

it('retries 408, 429, 500, 502, 503, 504 and nothing else', () => {
  const retryable = [408, 429, 500, 502, 503, 504]
  for (let status = 400; status < 600; status++) {
    expect(isRetryableStatus(status), String(status)).toBe(
      retryable.includes(status),
    )
  }
})

it('retries connection errors and timeouts, not programming errors', () => {
  expect(
    isRetryableError(Object.assign(new Error('x'), { code: 'ECONNRESET' })),
  ).toBe(true)
  expect(
    isRetryableError(
      Object.assign(new Error('x'), { code: 'ERR_ML_DASH_TIMEOUT' }),
    ),
  ).toBe(true)
  expect(isRetryableError(new TypeError('x'))).toBe(false)
  expect(isRetryableError(undefined)).toBe(false)
})

it('retries a temporary DNS failure but not a name DNS says does not exist', () => {
  const coded = (code: string) => Object.assign(new Error('x'), { code })
  expect(isRetryableError(coded('EAI_AGAIN'))).toBe(true)
  expect(isRetryableError(coded('ENOTFOUND'))).toBe(false)
})

it('reads Retry-After as seconds or as an HTTP date', () => {
  const now = Date.parse('2025-10-29T10:30:00Z')
  expect(parseRetryAfter('3', now)).toBe(3000)
  expect(parseRetryAfter(['2'], now)).toBe(2000)
  expect(parseRetryAfter('Wed, 29 Oct 2025 10:30:05 GMT', now)).toBe(5000)
  expect(parseRetryAfter('Wed, 29 Oct 2025 10:29:00 GMT', now)).toBe(0)
  expect(parseRetryAfter('soon', now)).toBeUndefined()
  expect(parseRetryAfter(undefined, now)).toBeUndefined()
  expect(parseRetryAfter('-1', now)).toBeUndefined()
})
