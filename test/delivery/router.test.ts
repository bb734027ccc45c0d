import { afterEach, expect, it } from 'vitest'
import { resolveOptions } from '../../src/core/options.js'
import type { Router } from '../../src/delivery/router.js'
import { PREFIX_REFUSED_KEY } from '../../src/core/prefix.js'
import {
  MAX_ROUTED_EXPERIMENTS,
  createRouter,
} from '../../src/delivery/router.js'
import { useTempDir } from '../helpers.js'

// Registered first, so the folder is removed after the router closes.
const temp = useTempDir()
const { lines } = temp
let router: Router | undefined
afterEach(async () => {
  await router?.close()
})

it('routes records to the experiment their ml_dash.prefix names, else to its own', async () => {
  router = createRouter(
    resolveOptions({ prefix: 'alice/api/main', dashRoot: temp.dir }),
  )
  router.enqueue({ level: 'info', message: 'default' })
  router.enqueue({ level: 'warn', message: 'routed' }, 'alice/api/run-7')
  router.enqueue({ level: 'info', message: 'same' }, 'alice/api/main')
  await router.flush()
  expect(lines('alice/api/main').map((l) => l.message)).toEqual([
    'default',
    'same',
  ])
  expect(lines('alice/api/run-7').map((l) => [l.level, l.message])).toEqual([
    ['warn', 'routed'],
  ])
  expect(Object.keys(router.stats.experiments).sort()).toEqual([
    'alice/api/main',
    'alice/api/run-7',
  ])
})

it('keeps a record with an invalid routed prefix in its own experiment, with the refused value, and counts it', async () => {
  router = createRouter(
    resolveOptions({ prefix: 'alice/api/main', dashRoot: temp.dir }),
  )
  router.enqueue(
    { level: 'info', message: 'escape', metadata: { a: 1 } },
    '../../etc/x',
  )
  router.enqueue({ level: 'info', message: 'object' }, { not: 'a prefix' })
  await router.flush()
  expect(lines('alice/api/main').map((l) => l.metadata)).toEqual([
    { [PREFIX_REFUSED_KEY]: '../../etc/x', a: 1 },
    { [PREFIX_REFUSED_KEY]: '{"not":"a prefix"}' },
  ])
  expect(router.stats.refusedPrefixes).toBe(2)
})

it('keeps the refused value first, where the item limit, a member of its name or a getter that throws cannot take it away', async () => {
  router = createRouter(
    resolveOptions({ prefix: 'alice/api/main', dashRoot: temp.dir }),
  )
  const many = Object.fromEntries(
    Array.from({ length: 1500 }, (_, i) => [`k${i}`, i]),
  )
  router.enqueue({ level: 'info', message: 'many', metadata: many }, 'bad')
  router.enqueue(
    {
      level: 'info',
      message: 'named',
      metadata: { [PREFIX_REFUSED_KEY]: 'forged', a: 1 },
    },
    'bad',
  )
  const throwing = Object.defineProperty({ a: 1 }, 'b', {
    enumerable: true,
    get() {
      throw new Error('b')
    },
  })
  router.enqueue(
    { level: 'info', message: 'getter', metadata: throwing },
    'bad',
  )
  await router.flush()
  const [first, second, third] = lines('alice/api/main')
  expect(Object.keys(first!.metadata!)[0]).toBe(PREFIX_REFUSED_KEY)
  expect(first!.metadata![PREFIX_REFUSED_KEY]).toBe('bad')
  expect(second!.metadata).toEqual({ [PREFIX_REFUSED_KEY]: 'bad', a: 1 })
  expect(third).toMatchObject({
    message: 'getter',
    metadata: {
      [PREFIX_REFUSED_KEY]: 'bad',
      value: { a: 1, b: '[Throws: Error: b]' },
    },
  })
  expect(router.stats.refusedPrefixes).toBe(3)
})

it('counts and reports records that have nowhere to go, in routing-only mode', async () => {
  const reported: [string, number][] = []
  router = createRouter(
    resolveOptions({
      dashRoot: temp.dir,
      routingOnly: true,
      silenceErrors: true,
      onError: (error, count) => reported.push([error.message, count]),
    }),
  )
  router.enqueue({ level: 'info', message: 'lost' })
  router.enqueue({ level: 'info', message: 'kept' }, 'alice/api/x')
  await router.flush()
  expect(router.stats).toMatchObject({ unrouted: 1, refusedPrefixes: 0 })
  expect(lines('alice/api/x')).toHaveLength(1)
  // Reported out of band, after the logging call's turn.
  await new Promise((resolve) => setImmediate(resolve))
  expect(reported).toEqual([[expect.stringContaining('ml_dash.prefix'), 1]])
})

it('refuses to be made without a prefix unless routing-only is asked for', () => {
  expect(() => createRouter(resolveOptions({ dashRoot: temp.dir }))).toThrow(
    /prefix.*ML_DASH_PREFIX/,
  )
})

it(`opens at most ${MAX_ROUTED_EXPERIMENTS} routed experiments besides its own`, async () => {
  router = createRouter(
    resolveOptions({ prefix: 'alice/api/main', dashRoot: temp.dir }),
  )
  for (let i = 0; i <= MAX_ROUTED_EXPERIMENTS; i++)
    router.enqueue({ level: 'info', message: `m${i}` }, `alice/many/run-${i}`)
  await router.flush()
  // The routed ones, plus the router's own (which received the refused record).
  expect(Object.keys(router.stats.experiments)).toHaveLength(
    MAX_ROUTED_EXPERIMENTS + 1,
  )
  expect(router.stats.refusedPrefixes).toBe(1)
  expect(lines('alice/api/main').at(-1)?.metadata).toEqual({
    [PREFIX_REFUSED_KEY]: `alice/many/run-${MAX_ROUTED_EXPERIMENTS}`,
  })
})
