import { expect, it } from 'vitest'
import type { StoreResult } from '../../src/core/result.js'
import { openUntilSuccess } from '../../src/core/result.js'

it('shares one attempt, remembers success, and tries again after a failure or a throw', async () => {
  const outcomes: (StoreResult | Error)[] = [
    new Error('disk gone'),
    { status: 'retryable', error: new Error('busy') },
    { status: 'success' },
  ]
  let calls = 0
  const open = openUntilSuccess(() => {
    calls++
    const next = outcomes.shift()!
    return next instanceof Error ? Promise.reject(next) : Promise.resolve(next)
  })
  const [a, b] = await Promise.all([open(), open()])
  expect(a).toBe(b)
  expect(a).toMatchObject({
    status: 'failure',
    error: { message: 'disk gone' },
  })
  expect(await open()).toMatchObject({ status: 'retryable' })
  expect(await open()).toEqual({ status: 'success' })
  expect(await open()).toEqual({ status: 'success' })
  expect(calls).toBe(3)
})
