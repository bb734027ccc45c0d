import { describe, expect, it } from 'vitest'
import type { MlDashOptions } from '../../src/core/options.js'
import {
  SHARED_OPTION_NAMES,
  nearestName,
  resolveOptions,
} from '../../src/core/options.js'

describe('resolveOptions', () => {
  it('has the documented defaults', () => {
    expect(resolveOptions({})).toMatchObject({
      prefix: undefined,
      dashRoot: '.dash',
      dashUrl: undefined,
      batchSize: 100,
      flushIntervalMs: 5000,
      maxQueueSize: 1_000_000,
      maxQueueBytes: 128 * 1024 * 1024,
      // Unlimited: a batch waits in the outbox until the server takes it.
      maxRetries: Number.MAX_SAFE_INTEGER,
      spoolDir: undefined,
      maxSpoolBytes: 1024 * 1024 * 1024,
      retryBaseDelayMs: 1000,
      retryMaxDelayMs: 30_000,
      requestTimeoutMs: 30_000,
      closeTimeoutMs: 10_000,
      levelMap: {},
    })
  })

  it("reads the SDK's environment variables, seconds as seconds", () => {
    const env = {
      ML_DASH_PREFIX: 'alice/p/run',
      ML_DASH_API_URL: 'http://127.0.0.1:9/',
      ML_DASH_FLUSH_INTERVAL: '0.25',
      ML_DASH_LOG_BATCH_SIZE: '50',
      ML_DASH_MAX_RETRIES: '0',
      ML_DASH_RETRY_BASE_DELAY: '2',
      ML_DASH_RETRY_MAX_DELAY: '10',
    }
    expect(resolveOptions({ dashUrl: true }, env)).toMatchObject({
      prefix: { prefix: 'alice/p/run', name: 'run' },
      dashUrl: 'http://127.0.0.1:9',
      flushIntervalMs: 250,
      batchSize: 50,
      maxRetries: 0,
      retryBaseDelayMs: 2000,
      retryMaxDelayMs: 10_000,
    })
  })

  it('prefers the user option over the environment', () => {
    const env = { ML_DASH_PREFIX: 'a/b/env', ML_DASH_LOG_BATCH_SIZE: '50' }
    expect(
      resolveOptions({ prefix: 'a/b/user', batchSize: 7 }, env),
    ).toMatchObject({
      prefix: { prefix: 'a/b/user' },
      batchSize: 7,
    })
    expect(resolveOptions({ dashUrl: true }, {}).dashUrl).toBe(
      'https://api.dash.ml',
    )
  })

  it.each([
    [{ batchSize: 0 }, {}, 'batchSize must be an integer >= 1 (got 0)'],
    [{ batchSize: 1.5 }, {}, 'batchSize must be an integer >= 1 (got 1.5)'],
    [
      {},
      { ML_DASH_LOG_BATCH_SIZE: 'many' },
      'ML_DASH_LOG_BATCH_SIZE must be an integer >= 1 (got "many")',
    ],
    [
      {},
      { ML_DASH_FLUSH_INTERVAL: 'soon' },
      'ML_DASH_FLUSH_INTERVAL must be a number of seconds (got "soon")',
    ],
    [
      { flushIntervalMs: -1 },
      {},
      'flushIntervalMs must be a duration >= 1 ms (got -1)',
    ],
    [
      { retryBaseDelayMs: 5000, retryMaxDelayMs: 10 },
      {},
      'retryMaxDelayMs (10) must be >= retryBaseDelayMs (5000)',
    ],
    [
      { dashUrl: 'ftp://x' },
      {},
      'dashUrl must be an http(s) URL (got "ftp://x")',
    ],
    [
      { dashUrl: true },
      { ML_DASH_API_URL: 'nope' },
      'ML_DASH_API_URL must be an http(s) URL (got "nope")',
    ],
    [{ dashRoot: '' }, {}, 'dashRoot must be a non-empty path or false'],
    [
      { dashRoot: false },
      {},
      'dashRoot is false and no dashUrl is set: there is nowhere to write',
    ],
    [
      { levelMap: { verbose: 'loud' } },
      {},
      'levelMap["verbose"] must be one of info, warn, error, debug, fatal (got "loud")',
    ],
    [{ prefix: 'a/b' }, {}, 'invalid prefix "a/b"'],
    [{}, { ML_DASH_PREFIX: '../x/y' }, 'invalid prefix "../x/y"'],
    [
      { limits: { maxDepth: 0 } },
      {},
      'limits.maxDepth must be an integer >= 1 (got 0)',
    ],
  ])('refuses %j with env %j: %s', (options, env, message) => {
    expect(() => resolveOptions(options as never, env)).toThrow(
      expect.objectContaining({
        code: 'ML_DASH_CONFIG',
        message: expect.stringContaining(`ml-dash-logs: ${message}`) as string,
      }) as Error,
    )
  })

  it('lists unknown option names, limits too, with the nearest known one, and keeps none of them', () => {
    const resolved = resolveOptions(
      {
        prefx: 'a/b/c',
        silent: true,
        limits: { maxDeph: 3, maxDepth: 4 },
      } as MlDashOptions,
      {},
      ['silent'],
    )
    expect(resolved.unknownOptions).toEqual([
      { name: 'prefx', nearest: 'prefix' },
      { name: 'limits.maxDeph', nearest: 'limits.maxDepth' },
    ])
    expect(resolved.limits).not.toHaveProperty('maxDeph')
    expect(resolved.limits.maxDepth).toBe(4)
  })

  it('finds the nearest known name, or none when nothing is close', () => {
    expect(nearestName('dashroot', SHARED_OPTION_NAMES)).toBe('dashRoot')
    expect(nearestName('batchsize', SHARED_OPTION_NAMES)).toBe('batchSize')
    expect(nearestName('maxQueueByte', SHARED_OPTION_NAMES)).toBe(
      'maxQueueBytes',
    )
    expect(nearestName('zzzzzzzz', SHARED_OPTION_NAMES)).toBeUndefined()
  })

  it('takes silenceErrors and routingOnly as booleans only', () => {
    expect(resolveOptions({})).toMatchObject({
      silenceErrors: false,
      routingOnly: false,
    })
    expect(() =>
      resolveOptions({ silenceErrors: 'yes' } as unknown as MlDashOptions),
    ).toThrow('silenceErrors must be true or false (got "yes")')
  })
})
