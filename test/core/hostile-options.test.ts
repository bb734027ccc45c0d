/**
 * Values an outside tester gave that used to pass unnoticed or crash
 * without a code: each is now refused at construction with ML_DASH_CONFIG
 * (or, where the value means "not given", taken as such), for the option
 * resolution every entry point shares and for the Experiment's own.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES } from '../../src/core/error-codes.js'
import { resolveOptions } from '../../src/core/options.js'
import { createRouter } from '../../src/delivery/router.js'
import { redirectFailureLines } from '../../src/delivery/failure-log.js'
import { Experiment } from '../../src/experiment.js'
import { parseCliArgs } from '../../src/cli/main.js'
import { startReceiver } from '../../src/receiver/server.js'
import {
  bypassesProxy,
  resolveNetwork,
} from '../../src/store/remote/network.js'
import { MlDashTransport } from '../../src/winston/transport.js'
import { useTempDir } from '../helpers.js'

const temp = useTempDir()

function codeOf(action: () => unknown): string | undefined {
  try {
    action()
  } catch (error) {
    return (error as { code?: string }).code
  }
  return undefined
}

describe('refused at construction with ML_DASH_CONFIG', () => {
  it.each([
    ['an empty caFile', { caFile: '' }],
    ['an empty spoolDir', { spoolDir: '  ' }],
    ['a string as the options', 'alice/proj/run' as never],
    ['limits that are not an object', { limits: 5 as never }],
    ['limits that are an array', { limits: [] as never }],
  ])('%s', (_, options) => {
    expect(codeOf(() => resolveOptions(options as never))).toBe(
      'ML_DASH_CONFIG',
    )
  })

  it.each([
    ['ML_DASH_LOG_BATCH_SIZE', '0x10'],
    ['ML_DASH_MAX_RETRIES', '1e3'],
    ['ML_DASH_FLUSH_INTERVAL', '0x10'],
  ])('%s=%s (Python would not read it either)', (variable, value) => {
    expect(codeOf(() => resolveOptions({}, { [variable]: value }))).toBe(
      'ML_DASH_CONFIG',
    )
  })

  it('shows NaN and Infinity as they are, not as null', () => {
    expect(() => resolveOptions({ batchSize: Number.NaN })).toThrow('(got NaN)')
    expect(() => resolveOptions({ flushIntervalMs: Infinity })).toThrow(
      '(got Infinity)',
    )
  })

  it.each([
    ['tags', { tags: 'baseline' }],
    ['tags', { tags: [1, 2] }],
    ['bindrs', { bindrs: 7 }],
    ['metadata', { metadata: 'lr=0.1' }],
    ['description', { description: 5 }],
  ])("the Experiment's %s of the wrong type", (_, fields) => {
    expect(
      codeOf(
        () =>
          new Experiment({
            prefix: 'alice/p/fields',
            dashRoot: temp.dir,
            ...(fields as object),
          }),
      ),
    ).toBe('ML_DASH_CONFIG')
  })

  it('a winston onError that is not a function', () => {
    expect(
      codeOf(
        () =>
          new MlDashTransport({
            prefix: 'alice/p/w',
            dashRoot: temp.dir,
            onError: 'not a function' as never,
          }),
      ),
    ).toBe('ML_DASH_CONFIG')
  })

  it('a receiver host that is empty, an authToken no header can carry, a busy port', async () => {
    await expect(startReceiver({ host: '', port: 0 })).rejects.toMatchObject({
      code: 'ML_DASH_CONFIG',
    })
    await expect(
      startReceiver({ authToken: '€uro', port: 0, dashRoot: temp.dir }),
    ).rejects.toMatchObject({ code: 'ML_DASH_CONFIG' })
    const busy = createServer()
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve))
    try {
      const { port } = busy.address() as AddressInfo
      await expect(
        startReceiver({ port, dashRoot: temp.dir, prefix: 'alice/p/r' }),
      ).rejects.toMatchObject({ code: 'ML_DASH_CONFIG' })
    } finally {
      busy.close()
    }
  })

  it('a CLI --port that is empty or not decimal', () => {
    for (const port of ['', '0x10', '1e3'])
      expect(() => parseCliArgs(['serve', '--port', port])).toThrow(
        /--port must be 0 to 65535/,
      )
  })

  it('close() with an unknown status, and a deadline that is not a number of ms', async () => {
    const exp = await new Experiment({
      prefix: 'alice/p/close',
      dashRoot: temp.dir,
    }).start()
    await expect(exp.flush(Number.NaN)).rejects.toMatchObject({
      code: 'ML_DASH_CONFIG',
    })
    await expect(exp.close('BOGUS' as never)).rejects.toMatchObject({
      code: 'ML_DASH_CONFIG',
    })
    await expect(exp.close('COMPLETED', 2 ** 40)).rejects.toMatchObject({
      code: 'ML_DASH_CONFIG',
    })
    expect((await exp.close()).local?.failed).toBe(0)
  })
})

describe('taken as not given, as the user meant', () => {
  it('a prefix of null, as pino options carry it, falls back to ML_DASH_PREFIX', () => {
    expect(
      resolveOptions(
        { prefix: null as never },
        { ML_DASH_PREFIX: 'alice/p/env' },
      ).prefix?.prefix,
    ).toBe('alice/p/env')
  })

  it('a NO_PROXY entry with an IPv6 zone is compared as written, not a crash', () => {
    const { noProxy } = resolveNetwork(
      {},
      { NO_PROXY: 'fe80::1%eth0' },
      'https://example.com',
    )
    expect(bypassesProxy(new URL('https://example.com'), noProxy)).toBe(false)
  })
})

it('counts and reports records logged after close, for every transport (the router)', async () => {
  const reported: [string | undefined, number][] = []
  const restore = redirectFailureLines(() => {})
  try {
    const router = createRouter(
      resolveOptions({
        prefix: 'alice/p/after',
        dashRoot: temp.dir,
        onError: (error, count) =>
          reported.push([(error as { code?: string }).code, count]),
      }),
    )
    await router.close()
    router.enqueue({ level: 'info', message: 'late' })
    router.enqueue({ level: 'info', message: 'later' })
    await new Promise((resolve) => setImmediate(resolve))
    expect(router.stats.afterClose).toBe(2)
    expect(reported).toEqual([['ML_DASH_CLOSED', 2]])
  } finally {
    restore()
  }
})

it('ERROR_CODES cannot be changed by a user', () => {
  expect(Object.isFrozen(ERROR_CODES)).toBe(true)
})
