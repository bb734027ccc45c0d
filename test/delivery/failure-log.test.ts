import { afterEach, beforeEach, expect, it, vi } from 'vitest'
import {
  REPEAT_INTERVAL_MS,
  redirectFailureLines,
  reportFailure,
  reportRetrying,
  warnUnknownOptions,
} from '../../src/delivery/failure-log.js'

let lines: string[]
let restore: () => void
beforeEach(() => {
  vi.useFakeTimers()
  lines = []
  restore = redirectFailureLines((line) => lines.push(line))
})
afterEach(() => {
  restore()
  vi.useRealTimers()
})

const refused = () =>
  Object.assign(new Error('ml-dash-logs: connect ECONNREFUSED 127.0.0.1:1'), {
    code: 'ECONNREFUSED',
  })

it('shows a loss even right after retries of the same kind were shown', () => {
  reportRetrying({}, 'remote a/b/c', refused())
  reportRetrying({}, 'remote a/b/c', refused())
  reportFailure({}, 'remote a/b/c', '3 entries not delivered', refused(), 3)
  expect(lines).toEqual([
    'ml-dash-logs: remote a/b/c: delivery failing, retrying: connect ECONNREFUSED 127.0.0.1:1',
    'ml-dash-logs: remote a/b/c: 3 entries not delivered: connect ECONNREFUSED 127.0.0.1:1',
  ])
})

it('shows one line per kind and place a minute, then says how many more there were', () => {
  for (let i = 0; i < 5; i++)
    reportFailure({}, 'local a/b/c', '1 entries not delivered', refused(), 1)
  reportFailure({}, 'local x/y/z', '1 entries not delivered', refused(), 1)
  vi.advanceTimersByTime(REPEAT_INTERVAL_MS)
  reportFailure({}, 'local a/b/c', '1 entries not delivered', refused(), 1)
  expect(lines).toHaveLength(3)
  expect(lines[2]).toMatch(/\(4 more of this kind since the last line\)$/)
})

it('stays silent with silenceErrors, but still calls onError', () => {
  const counts: number[] = []
  const targets = {
    silenceErrors: true,
    onError: (_: Error, count: number) => counts.push(count),
  }
  reportRetrying(targets, 'remote a/b/c', refused())
  reportFailure(
    targets,
    'remote a/b/c',
    '2 entries not delivered',
    refused(),
    2,
  )
  expect(lines).toEqual([])
  expect(counts).toEqual([2])
})

it('warns once per unknown option name, naming the nearest known one', () => {
  warnUnknownOptions([{ name: 'prefx', nearest: 'prefix' }, { name: 'zzz' }])
  warnUnknownOptions([{ name: 'prefx', nearest: 'prefix' }])
  expect(lines).toEqual([
    'ml-dash-logs: warning: unknown option "prefx" (did you mean "prefix"?); it is ignored',
    'ml-dash-logs: warning: unknown option "zzz"; it is ignored',
  ])
})
