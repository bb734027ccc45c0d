import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { StoreResult } from '../../src/core/result.js'
import type { BatchStore, SinkOptions } from '../../src/delivery/sink.js'
import { createSink, entryCost } from '../../src/delivery/sink.js'

/** A store that answers each write with the next scripted result (then success) and records batches. */
function scriptedStore(
  script: StoreResult[],
): BatchStore & { batches: string[][] } {
  const batches: string[][] = []
  return {
    batches,
    write: (entries) => {
      batches.push([...entries])
      return Promise.resolve(script.shift() ?? { status: 'success' })
    },
    close: () => {},
  }
}

const retryable = (retryAfterMs?: number): StoreResult => ({
  status: 'retryable',
  error: new Error('busy'),
  retryAfterMs,
})
const options = (
  store: BatchStore,
  extra: Partial<SinkOptions> = {},
): SinkOptions => ({
  name: 'test',
  store,
  maxBatchSize: 2,
  flushIntervalMs: 1000,
  maxQueueSize: 100,
  maxQueueBytes: 1 << 20,
  maxRetries: 3,
  retryBaseDelayMs: 100,
  retryMaxDelayMs: 1000,
  ...extra,
})

describe('sink', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('keeps up only once a batch was written, and not while one waits for a retry', async () => {
    const store = scriptedStore([{ status: 'success' }, retryable(5000)])
    const sink = createSink(options(store, { flushIntervalMs: 0 }))
    expect(sink.keepsUp(100)).toBe(false)
    sink.enqueue('a')
    await vi.advanceTimersByTimeAsync(1)
    expect(sink.keepsUp(100)).toBe(true)
    // The next write fails (a full disk, say): no more "keeps up" until it is written.
    sink.enqueue('b')
    await vi.advanceTimersByTimeAsync(200)
    expect(store.batches).toEqual([['a'], ['b']])
    expect(sink.retrying).toBe(true)
    expect(sink.keepsUp(100)).toBe(false)
    await vi.runAllTimersAsync()
    expect(sink.keepsUp(100)).toBe(true)
    expect(sink.stats).toMatchObject({ delivered: 2 })
  })

  it('retries a failed batch before newer ones, keeping order', async () => {
    const store = scriptedStore([retryable(), retryable()])
    const sink = createSink(options(store))
    for (const e of ['a', 'b', 'c', 'd']) sink.enqueue(e)
    await vi.runAllTimersAsync()
    expect(store.batches).toEqual([
      ['a', 'b'],
      ['a', 'b'],
      ['a', 'b'],
      ['c', 'd'],
    ])
    expect(sink.stats).toMatchObject({ delivered: 4, retried: 4, failed: 0 })
  })

  it('bounds a batch by bytes too, a larger entry going alone, in order', async () => {
    const store = scriptedStore([])
    const big = 'b'.repeat(300)
    const sink = createSink(
      options(store, {
        maxBatchSize: 10,
        flushIntervalMs: 0,
        // Two small entries fit (each 10 characters + the 48-byte allowance); a big one never does.
        maxBatchBytes: 2 * entryCost('s'.repeat(10)),
      }),
    )
    for (const e of [
      's'.repeat(10),
      's'.repeat(10),
      's'.repeat(10),
      big,
      't'.repeat(10),
    ])
      sink.enqueue(e)
    await vi.runAllTimersAsync()
    expect(store.batches.map((batch) => batch.map((e) => e[0]))).toEqual([
      ['s', 's'],
      ['s'],
      ['b'],
      ['t'],
    ])
    expect(sink.stats).toMatchObject({ delivered: 5, pending: 0 })
  })

  it('sends a batch full by bytes at once, as one full by count', async () => {
    const store = scriptedStore([])
    const sink = createSink(
      options(store, {
        maxBatchSize: 100,
        flushIntervalMs: 1000,
        maxBatchBytes: 2 * entryCost('s'.repeat(10)),
      }),
    )
    for (let i = 0; i < 5; i++) sink.enqueue('s'.repeat(10))
    await vi.advanceTimersByTimeAsync(10)
    expect(store.batches.map((batch) => batch.length)).toEqual([2, 2])
    await vi.advanceTimersByTimeAsync(1000)
    expect(store.batches.map((batch) => batch.length)).toEqual([2, 2, 1])
  })

  it('waits exactly what Retry-After says before retrying', async () => {
    const store = scriptedStore([retryable(5000)])
    const sink = createSink(
      options(store, { maxBatchSize: 1, retryMaxDelayMs: 10_000 }),
    )
    sink.enqueue('a')
    await vi.advanceTimersByTimeAsync(0)
    expect(store.batches).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(4999)
    expect(store.batches).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(store.batches).toHaveLength(2)
  })

  it('caps Retry-After at retryMaxDelayMs', async () => {
    const store = scriptedStore([retryable(60_000)])
    const sink = createSink(
      options(store, { maxBatchSize: 1, retryMaxDelayMs: 1000 }),
    )
    sink.enqueue('a')
    await vi.advanceTimersByTimeAsync(999)
    expect(store.batches).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(store.batches).toHaveLength(2)
  })

  it('never lets a flush cut a retry wait short', async () => {
    const store = scriptedStore([retryable(5000)])
    const sink = createSink(
      options(store, { maxBatchSize: 1, retryMaxDelayMs: 10_000 }),
    )
    sink.enqueue('a')
    await vi.advanceTimersByTimeAsync(0)
    for (let i = 0; i < 5; i++) {
      const flushed = sink.flush(50)
      await vi.advanceTimersByTimeAsync(50)
      expect(await flushed).toMatchObject({ timedOut: true, pending: 1 })
    }
    expect(store.batches).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(5000 - 250)
    expect(store.batches).toHaveLength(2)
    expect(sink.stats).toMatchObject({ delivered: 1, retried: 1, failed: 0 })
  })

  it('lets a close wait out a retry that comes before its deadline', async () => {
    const store = scriptedStore([retryable(500)])
    const sink = createSink(options(store, { maxBatchSize: 1 }))
    sink.enqueue('a')
    await vi.advanceTimersByTimeAsync(0)
    const closing = sink.close(1000)
    await vi.advanceTimersByTimeAsync(499)
    expect(store.batches).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(store.batches).toHaveLength(2)
    expect(await closing).toMatchObject({
      delivered: 1,
      retried: 1,
      failed: 0,
      timedOut: false,
    })
  })

  it('ends at once, without spending a retry, when the wait would outlast the close deadline', async () => {
    const errors: string[] = []
    const store = scriptedStore([retryable(60_000)])
    const sink = createSink(
      options(store, {
        retryMaxDelayMs: 60_000,
        onError: (e) => errors.push(e.message),
      }),
    )
    sink.enqueue('a')
    const flushed = sink.flush(10)
    await vi.advanceTimersByTimeAsync(10)
    await flushed
    let closed = false
    const closing = sink.close(1000).finally(() => (closed = true))
    await vi.advanceTimersByTimeAsync(0)
    expect(closed).toBe(true)
    expect(await closing).toMatchObject({
      delivered: 0,
      failed: 1,
      retried: 0,
      pending: 0,
      timedOut: true,
    })
    expect(store.batches).toHaveLength(1)
    expect(errors).toEqual([
      expect.stringContaining('not delivered before the close deadline'),
    ])
    expect(vi.getTimerCount()).toBe(0)
  })

  it('names the failure that left a batch waiting when the close deadline ends the wait', async () => {
    const errors: string[] = []
    const store = scriptedStore([retryable(60_000)])
    const sink = createSink(
      options(store, {
        retryMaxDelayMs: 60_000,
        onError: (e) => errors.push(e.message),
      }),
    )
    sink.enqueue('a')
    await vi.advanceTimersByTimeAsync(1000)
    const closing = sink.close(1000)
    await vi.advanceTimersByTimeAsync(0)
    await closing
    expect(errors).toEqual([
      expect.stringMatching(
        /not delivered before the close deadline .*; the last attempt failed: busy$/,
      ),
    ])
  })

  it('makes no retry that would come after the close deadline', async () => {
    const store = scriptedStore([retryable(500), retryable(500)])
    const sink = createSink(options(store))
    sink.enqueue('a')
    let closed = false
    const closing = sink.close(700).finally(() => (closed = true))
    await vi.advanceTimersByTimeAsync(500)
    // The first retry fits (at 500 ms); the second (at 1000 ms) would not.
    expect(store.batches).toHaveLength(2)
    expect(closed).toBe(true)
    expect(await closing).toMatchObject({
      failed: 1,
      retried: 1,
      timedOut: true,
    })
  })

  it('draws the backoff jitter from the injected source', async () => {
    const store = scriptedStore([retryable(), retryable()])
    const sink = createSink(
      options(store, { maxBatchSize: 1, random: () => 0 }),
    )
    sink.enqueue('a')
    const writesAt: number[] = []
    // At the bottom of the jitter, each delay is half its ceiling: 50, then 100.
    for (const step of [0, 49, 1, 99, 1]) {
      await vi.advanceTimersByTimeAsync(step)
      writesAt.push(store.batches.length)
    }
    expect(writesAt).toEqual([1, 1, 2, 2, 3])
  })

  it('backs off exponentially within the bounds when no Retry-After is given', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(1)
    const store = scriptedStore([retryable(), retryable(), retryable()])
    const sink = createSink(
      options(store, {
        maxBatchSize: 1,
        retryBaseDelayMs: 100,
        retryMaxDelayMs: 300,
      }),
    )
    sink.enqueue('a')
    const writesAt: number[] = []
    for (const step of [0, 100, 200, 300]) {
      await vi.advanceTimersByTimeAsync(step)
      writesAt.push(store.batches.length)
    }
    // With jitter at its top, the delays are 100, 200, then 300 (capped).
    expect(writesAt).toEqual([1, 2, 3, 4])
    vi.restoreAllMocks()
  })

  it('gives up after maxRetries, reports the batch once, and goes on', async () => {
    const errors: [string, number][] = []
    const store = scriptedStore([
      retryable(),
      retryable(),
      retryable(),
      retryable(),
    ])
    const sink = createSink(
      options(store, { onError: (e, n) => errors.push([e.message, n]) }),
    )
    for (const e of ['a', 'b', 'c']) sink.enqueue(e)
    await vi.runAllTimersAsync()
    expect(errors).toEqual([['busy', 2]])
    expect(sink.stats).toMatchObject({
      accepted: 3,
      delivered: 1,
      failed: 2,
      retried: 6,
      pending: 0,
    })
  })

  it('drops the newest entries when the queue is full and counts them', async () => {
    const store = scriptedStore([])
    const sink = createSink(options(store, { maxQueueSize: 3 }))
    expect(['a', 'b', 'c', 'd', 'e'].map((e) => sink.enqueue(e))).toEqual([
      true,
      true,
      true,
      false,
      false,
    ])
    const report = await sink.flush(1000)
    expect(report).toMatchObject({
      accepted: 3,
      dropped: 2,
      delivered: 3,
      timedOut: false,
    })
    expect(store.batches.flat()).toEqual(['a', 'b', 'c'])
  })

  it('bounds what waits and is in flight by bytes, returning them as batches settle', async () => {
    const entry = 'x'.repeat(1000)
    const cost = entryCost(entry)
    const store = scriptedStore([])
    const sink = createSink(
      options(store, { maxQueueBytes: cost * 3, maxBatchSize: 10 }),
    )
    const taken = [1, 2, 3, 4, 5].map(() => sink.enqueue(entry))
    expect(taken).toEqual([true, true, true, false, false])
    expect(sink.stats).toMatchObject({ accepted: 3, dropped: 2 })
    await vi.runAllTimersAsync()
    // Delivered entries no longer count against the bound.
    expect([1, 2, 3].map(() => sink.enqueue(entry))).toEqual([true, true, true])
    expect(sink.enqueue(entry)).toBe(false)
    await vi.runAllTimersAsync()
    expect(sink.stats).toMatchObject({
      accepted: 6,
      delivered: 6,
      dropped: 3,
      pending: 0,
    })
  })

  it('sends a partial batch only at the interval, or at once when flushed', async () => {
    const store = scriptedStore([])
    const sink = createSink(options(store, { maxBatchSize: 10 }))
    sink.enqueue('a')
    await vi.advanceTimersByTimeAsync(999)
    expect(store.batches).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(store.batches).toEqual([['a']])
    sink.enqueue('b')
    await sink.flush(10)
    expect(store.batches).toEqual([['a'], ['b']])
  })

  it('keeps no timer alive after close', async () => {
    const store = scriptedStore([retryable(60_000)])
    const sink = createSink(options(store))
    sink.enqueue('a')
    const closing = sink.close(100)
    await vi.advanceTimersByTimeAsync(100)
    expect(await closing).toMatchObject({
      failed: 1,
      timedOut: true,
      pending: 0,
    })
    expect(vi.getTimerCount()).toBe(0)
  })
})
