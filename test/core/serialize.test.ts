import { describe, expect, it } from 'vitest'
import {
  DEFAULT_SERIALIZE_LIMITS,
  freeName,
  toJsonValue,
  truncateString,
} from '../../src/core/serialize.js'

/** Round-trips through strict JSON: what a reader of the store sees. */
function stored(value: unknown): unknown {
  return JSON.parse(JSON.stringify(toJsonValue(value)))
}

describe('freeName', () => {
  it('numbers 5 000 members of one name in a few looks each, not one per member before it', () => {
    let looks = 0
    const members: Record<string, number> = {}
    const counted = new Proxy(members, {
      getOwnPropertyDescriptor(target, key) {
        looks++
        return Reflect.getOwnPropertyDescriptor(target, key)
      },
    })
    for (let i = 0; i < 5000; i++) members[freeName(counted, 'a')] = i
    // Taken by hand too: the number after it is given.
    members['b (2)'] = -1
    members.b = -2
    expect([freeName(counted, 'b'), freeName(members, 'c')]).toEqual([
      'b (3)',
      'c',
    ])
    expect([members.a, members['a (2)'], members['a (5000)']]).toEqual([
      0, 1, 4999,
    ])
    expect(Object.keys(members)).toHaveLength(5002)
    // Numbered from 2 each time, it looks 12.5 million times.
    expect(looks).toBeLessThan(20_000)
  })
})

describe('toJsonValue', () => {
  it('keeps both of two keys a cut makes alike, numbering the second', () => {
    const limits = { ...DEFAULT_SERIALIZE_LIMITS, maxStringLength: 5 }
    expect(toJsonValue({ abcdefX: 1, abcdefY: 2, abcdefZ: 3 }, limits)).toEqual(
      {
        'abcde…[truncated 2 chars]': 1,
        'abcde…[truncated 2 chars] (2)': 2,
        'abcde…[truncated 2 chars] (3)': 3,
      },
    )
  })

  it('encodes non-finite numbers as strings', () => {
    expect(stored({ a: NaN, b: Infinity, c: -Infinity, d: 1.5 })).toEqual({
      a: 'NaN',
      b: 'Infinity',
      c: '-Infinity',
      d: 1.5,
    })
  })

  it('encodes BigInt as its decimal string', () => {
    expect(stored({ n: 12345678901234567890n })).toEqual({
      n: '12345678901234567890',
    })
  })

  it('marks circular references and keeps repeated ones', () => {
    const a: Record<string, unknown> = { name: 'a' }
    a.self = a
    const shared = { x: 1 }
    expect(stored({ a, left: shared, right: shared })).toEqual({
      a: { name: 'a', self: '[Circular]' },
      left: { x: 1 },
      right: { x: 1 },
    })
  })

  it('keeps name, message, stack, code and cause of Errors', () => {
    const root = Object.assign(new RangeError('disk'), { code: 'ENOSPC' })
    const error = Object.assign(new Error('save failed', { cause: root }), {
      code: 'E_SAVE',
      attempt: 3,
    })
    const out = stored({ error }) as { error: Record<string, unknown> }
    expect(out.error).toMatchObject({
      name: 'Error',
      message: 'save failed',
      code: 'E_SAVE',
      attempt: 3,
    })
    expect(out.error.stack).toContain('save failed')
    expect(out.error.cause).toMatchObject({
      name: 'RangeError',
      message: 'disk',
      code: 'ENOSPC',
    })
  })

  it('keeps AggregateError errors and survives an error whose cause is itself', () => {
    const error = new Error('loop') as Error & { cause?: unknown }
    error.cause = error
    const out = stored(
      new AggregateError([new Error('one'), error], 'many'),
    ) as Record<string, unknown>
    expect(out.name).toBe('AggregateError')
    expect(out.errors).toMatchObject([
      { message: 'one' },
      { message: 'loop', cause: '[Circular]' },
    ])
  })

  it('encodes Dates, Buffers, typed arrays, Maps and Sets', () => {
    expect(
      stored({
        date: new Date('2025-10-29T10:30:00.123Z'),
        bad: new Date(NaN),
        buffer: Buffer.from('hi'),
        bytes: new Uint8Array([1, 2]),
        floats: new Float64Array([0.5, NaN]),
        bigs: new BigInt64Array([1n]),
        map: new Map<unknown, unknown>([
          ['k', 1],
          [2, 'two'],
          [{ id: 1 }, 'obj'],
        ]),
        set: new Set([1, 'a']),
      }),
    ).toEqual({
      date: '2025-10-29T10:30:00.123Z',
      bad: 'Invalid Date',
      buffer: { type: 'Buffer', base64: 'aGk=' },
      bytes: { type: 'Uint8Array', base64: 'AQI=' },
      floats: [0.5, 'NaN'],
      bigs: ['1'],
      map: { k: 1, '2': 'two', '{"id":1}': 'obj' },
      set: [1, 'a'],
    })
  })

  it('leaves out undefined, functions and symbols as JSON would, but visibly', () => {
    function named(): void {}
    const sym = Symbol('s')
    expect(
      stored({
        u: undefined,
        list: [undefined, 1],
        f: named,
        s: Symbol('tag'),
        [sym]: 1,
      }),
    ).toEqual({
      list: [null, 1],
      f: '[Function: named]',
      s: 'Symbol(tag)',
    })
    expect(toJsonValue(undefined)).toBeUndefined()
  })

  it('survives getters and toJSON that throw, and revoked proxies', () => {
    const getter = {
      ok: 1,
      get boom(): never {
        throw new Error('nope')
      },
    }
    const badToJSON = {
      toJSON() {
        throw new Error('no json')
      },
    }
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    const out = stored({ getter, badToJSON, proxy }) as Record<string, unknown>
    expect(out.getter).toEqual({ ok: 1, boom: '[Throws: Error: nope]' })
    expect(out.badToJSON).toBe('[toJSON threw: Error: no json]')
    expect(String(out.proxy)).toMatch(/^\[Unserializable: TypeError/)
  })

  it('uses toJSON results, once', () => {
    const value = { toJSON: () => ({ kind: 'custom', toJSON: () => 'again' }) }
    // The result's own toJSON is data here (a function, so its marker), not called.
    expect(stored({ value })).toEqual({
      value: { kind: 'custom', toJSON: '[Function: toJSON]' },
    })
  })

  it('keeps a __proto__ key as data without touching prototypes', () => {
    const input = JSON.parse(
      '{"__proto__": {"polluted": true}, "a": 1}',
    ) as object
    const out = toJsonValue(input) as Record<string, unknown>
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(JSON.stringify(out)).toBe('{"__proto__":{"polluted":true},"a":1}')
  })

  it('replaces lone surrogates so every string is valid Unicode', () => {
    const out = stored({ s: 'a\uD800b', t: '\uDC00', ok: '😀' }) as Record<
      string,
      string
    >
    expect(out).toEqual({ s: 'a\uFFFDb', t: '\uFFFD', ok: '😀' })
    expect(out.s?.isWellFormed()).toBe(true)
  })

  it('marks what the limits cut', () => {
    const limits = {
      maxStringLength: 5,
      maxItems: 2,
      maxDepth: 2,
      maxNodes: 100,
    }
    expect(toJsonValue('abcdefgh', limits)).toBe('abcde…[truncated 3 chars]')
    expect(toJsonValue([1, 2, 3, 4], limits)).toEqual([
      1,
      2,
      '…[truncated 2 items]',
    ])
    expect(toJsonValue({ a: 1, b: 2, c: 3 }, limits)).toEqual({
      a: 1,
      b: 2,
      '[truncated]': '1 more keys',
    })
    expect(toJsonValue({ a: { b: { c: 1 } } }, limits)).toEqual({
      a: { b: '[Object]' },
    })
    const big = toJsonValue(Buffer.alloc(100), limits) as Record<
      string,
      unknown
    >
    expect(big.truncatedBytes).toBe(97)
  })

  it('never cuts a surrogate pair in half', () => {
    expect(truncateString('ab😀cd', 3)).toBe('ab…[truncated 4 chars]')
  })

  it('spends its byte budget during the walk: a shared reference is not expanded a billion times', () => {
    let dag: unknown = 'x'
    for (let i = 0; i < 3; i++) dag = new Array(1000).fill(dag)
    const text = JSON.stringify(toJsonValue({ dag }, undefined, 65_536))
    expect(text.length).toBeLessThanOrEqual(65_536)
    expect(text).toContain('items: size budget spent]')
    expect(text).toMatch(/^\{"dag":\[\[\["x","x",/)
  })

  it('spends its node budget on values that produce no bytes', () => {
    const wide: Record<string, undefined> = {}
    for (let i = 0; i < 1000; i++) wide[`k${i}`] = undefined
    let dag: unknown = wide
    for (let i = 0; i < 3; i++) dag = new Array(1000).fill(dag)
    const limits = { ...DEFAULT_SERIALIZE_LIMITS, maxNodes: 5000 }
    const out = toJsonValue(dag, limits) as unknown[][]
    expect(JSON.stringify(out)).toContain('size budget spent')
    // Each visit is counted, so the walk stopped after about maxNodes of them.
    const kept = JSON.stringify(out).match(/\{\}/g)?.length ?? 0
    expect(kept).toBeLessThanOrEqual(5)
  })
})
