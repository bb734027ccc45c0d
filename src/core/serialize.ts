/**
 * Safe conversion of arbitrary JavaScript values into strict JSON.
 *
 * `toJsonValue` walks a value once and returns a tree of plain objects,
 * arrays, finite numbers, strings, booleans and null, which `JSON.stringify`
 * always accepts and which every RFC 8259 parser reads back. It never throws:
 * a getter or `toJSON` that throws, a revoked Proxy or a cycle each become a
 * marker string in place of the value, and the rest of the record survives.
 *
 * Encodings (documented in the README, "Serialization"):
 * - `NaN`, `Infinity`, `-Infinity` become the strings `"NaN"`, `"Infinity"`,
 *   `"-Infinity"` (never bare tokens, never silently `null`);
 * - BigInt becomes its decimal string;
 * - Error becomes `{ name, message, stack, code?, cause?, errors?, ...own fields }`;
 * - Date becomes its ISO string (`"Invalid Date"` when invalid);
 * - Buffer, typed arrays, ArrayBuffer and DataView become
 *   `{ type, base64 }` (byte views) or an array of numbers (other typed arrays);
 * - Map becomes an object keyed by `String(key)`, Set becomes an array;
 * - `undefined` is left out of objects and is `null` in arrays, as in JSON;
 *   functions and symbols become `"[Function: name]"` and `"Symbol(desc)"`;
 * - lone UTF-16 surrogates become U+FFFD, so every string is valid Unicode;
 * - a cycle becomes `"[Circular]"`; a key named `__proto__` is kept as data.
 *
 * Limits (marked, never silent): strings longer than `maxStringLength`,
 * collections larger than `maxItems` and nesting deeper than `maxDepth`
 * are cut with a marker saying how much was left out.
 *
 * Budgets, spent during the walk: the walk counts the JSON bytes it has
 * produced and the values it has visited, and once either budget is spent
 * every collection still open ends with a marker. So the cost of any value
 * is bounded by the limits whatever its shape: a value that shares one
 * reference a million times (a DAG, not a cycle) is not expanded a million
 * times.
 */

/** Bounds applied while converting a value. */
export interface SerializeLimits {
  /** Longest string kept whole, in UTF-16 code units. @default 16384 */
  maxStringLength: number
  /** Most entries kept of one array, object, Map or Set. @default 1000 */
  maxItems: number
  /** Deepest nesting kept; deeper values become a marker. @default 10 */
  maxDepth: number
  /** Most values visited in one walk; past it the rest is cut and marked. @default 100000 */
  maxNodes: number
}

/** The limits used unless a caller passes its own. */
export const DEFAULT_SERIALIZE_LIMITS: Readonly<SerializeLimits> = {
  maxStringLength: 16_384,
  maxItems: 1_000,
  maxDepth: 10,
  maxNodes: 100_000,
}

/** The JSON bytes one walk produces unless the caller gives its own budget. */
const DEFAULT_BUDGET_BYTES = 262_144

/** A value that `JSON.stringify` accepts and that round-trips through JSON. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/** Key under which a truncated object records how many keys it left out. */
export const TRUNCATED_KEYS_MARKER = '[truncated]'

/**
 * Converts any value into a strict-JSON-safe tree. Never throws.
 * `undefined` (and a top-level function-free `undefined`) yields `undefined`.
 * About `budgetBytes` bytes of JSON at most are produced (counted in UTF-16
 * code units, so text outside ASCII can take more bytes): past it, the walk
 * stops and marks.
 */
export function toJsonValue(
  value: unknown,
  limits: SerializeLimits = DEFAULT_SERIALIZE_LIMITS,
  budgetBytes: number = DEFAULT_BUDGET_BYTES,
): JsonValue | undefined {
  return new Walker(limits, budgetBytes).walk(value, 0)
}

/** Truncates `text` to `max` code units, marking how many were dropped. */
export function truncateString(text: string, max: number): string {
  if (text.length <= max) return text.toWellFormed()
  // Cut before cleaning, so the cost is bounded by `max`, not the text.
  let end = max
  // Do not cut a surrogate pair in half.
  if (isHigh(text.charCodeAt(end - 1)) && isLow(text.charCodeAt(end))) end -= 1
  return `${text.slice(0, end).toWellFormed()}…[truncated ${text.length - end} chars]`
}

const isHigh = (code: number): boolean => code >= 0xd800 && code <= 0xdbff
const isLow = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff

class Walker {
  readonly #limits: SerializeLimits
  /** Objects on the path from the root to the value being converted. */
  readonly #ancestors = new Set<object>()
  /** JSON bytes the walk may still produce; markers for what is cut are held back from it. */
  #bytesLeft: number
  #nodesLeft: number

  constructor(limits: SerializeLimits, budgetBytes: number) {
    this.#limits = limits
    this.#bytesLeft = walkBudget(budgetBytes)
    this.#nodesLeft = limits.maxNodes
  }

  walk(value: unknown, depth: number): JsonValue | undefined {
    this.#nodesLeft--
    const converted = this.#primitive(value, depth)
    // Objects pay for their punctuation and keys as they are built.
    this.#bytesLeft -= primitiveCost(converted)
    return converted
  }

  /** True once a budget is spent: every collection still open stops and marks. */
  #spent(): boolean {
    return this.#bytesLeft < 0 || this.#nodesLeft < 0
  }

  #primitive(value: unknown, depth: number): JsonValue | undefined {
    switch (typeof value) {
      case 'string':
        return truncateString(value, this.#limits.maxStringLength)
      case 'number':
        // -0 is written as 0 by JSON: say so here, so what is returned is what is read back.
        if (Number.isFinite(value)) return value === 0 ? 0 : value
        return String(value)
      case 'boolean':
        return value
      case 'bigint':
        return truncateString(value.toString(), this.#limits.maxStringLength)
      case 'undefined':
        return undefined
      case 'symbol':
        return truncateString(value.toString(), this.#limits.maxStringLength)
      case 'function':
        return `[Function: ${truncateString(functionName(value), 100)}]`
      default:
        return value === null ? null : this.#walkObject(value as object, depth)
    }
  }

  #walkObject(value: object, depth: number): JsonValue {
    if (this.#ancestors.has(value)) return '[Circular]'
    if (depth >= this.#limits.maxDepth || this.#spent())
      return describeDeep(value)
    this.#ancestors.add(value)
    this.#bytesLeft -= 2
    try {
      return this.#convert(value, depth + 1)
    } catch (error) {
      return `[Unserializable: ${describeThrown(error)}]`
    } finally {
      this.#ancestors.delete(value)
    }
  }

  #convert(value: object, depth: number): JsonValue {
    if (value instanceof Error) return this.#error(value, depth)
    if (value instanceof Date) {
      return Number.isNaN(value.getTime())
        ? 'Invalid Date'
        : value.toISOString()
    }
    if (ArrayBuffer.isView(value)) return this.#binary(value, depth)
    if (value instanceof ArrayBuffer || value instanceof SharedArrayBuffer) {
      return this.#bytes(value.constructor.name, new Uint8Array(value))
    }
    if (value instanceof Map) return this.#map(value, depth)
    if (value instanceof Set)
      return this.#array(
        firstItems(value, this.#limits.maxItems),
        depth,
        value.size,
      )
    if (Array.isArray(value)) return this.#array(value, depth)
    if (hasToJSON(value)) return this.#fromToJSON(value, depth)
    return this.#plain(value, depth)
  }

  #fromToJSON(value: { toJSON: () => unknown }, depth: number): JsonValue {
    let result: unknown
    try {
      result = value.toJSON()
    } catch (error) {
      return `[toJSON threw: ${describeThrown(error)}]`
    }
    // Convert what toJSON returned, but never call toJSON on it again.
    if (result !== null && typeof result === 'object' && hasToJSON(result)) {
      return this.#plain(result, depth)
    }
    return this.walk(result, depth) ?? null
  }

  #error(error: Error, depth: number): JsonValue {
    const out: Record<string, JsonValue> = {}
    this.#set(out, 'name', this.#field(error, 'name', depth) ?? 'Error')
    this.#set(out, 'message', this.#field(error, 'message', depth) ?? '')
    for (const key of ['stack', 'code', 'cause', 'errors'] as const) {
      if (key === 'stack' || key in error) {
        const converted = this.#field(error, key, depth)
        if (converted !== undefined) this.#set(out, key, converted)
      }
    }
    this.#copyOwn(error, out, depth, new Set(Object.keys(out)))
    return out
  }

  #binary(view: ArrayBufferView, depth: number): JsonValue {
    const name = view.constructor.name
    if (view instanceof Uint8Array || view instanceof DataView) {
      return this.#bytes(
        name,
        new Uint8Array(view.buffer, view.byteOffset, view.byteLength),
      )
    }
    const items = view as unknown as ArrayLike<unknown>
    return this.#array(items, depth)
  }

  /** Bytes as base64, at most as many as fit in `maxStringLength` characters. */
  #bytes(type: string, bytes: Uint8Array): JsonValue {
    // Buffer is a Uint8Array subclass: `type` says which one it was.
    const max = Math.floor((this.#limits.maxStringLength / 4) * 3)
    const kept = bytes.byteLength <= max ? bytes : bytes.subarray(0, max)
    const encoded = base64(kept)
    this.#bytesLeft -= encoded.length + type.length + 24
    if (kept === bytes) return { type, base64: encoded }
    return {
      type,
      base64: encoded,
      truncatedBytes: bytes.byteLength - max,
    }
  }

  #map(map: Map<unknown, unknown>, depth: number): JsonValue {
    const out: Record<string, JsonValue> = {}
    let count = 0
    for (const [key, item] of map) {
      if (count >= this.#limits.maxItems || this.#spent()) {
        this.#markKeys(out, map.size - count, 'entries')
        break
      }
      count++
      const name =
        typeof key === 'string' ? key : stringifyKey(this.walk(key, depth))
      const converted = this.walk(item, depth)
      if (converted !== undefined)
        this.#set(out, this.#keyFor(out, name), converted)
    }
    return out
  }

  /** The first items of a list, `length` long in all (a Set's size, say). */
  #array(
    items: ArrayLike<unknown>,
    depth: number,
    length = items.length,
  ): JsonValue {
    const out: JsonValue[] = []
    const most = Math.min(length, this.#limits.maxItems)
    for (let i = 0; i < most; i++) {
      if (this.#spent()) return this.#markItems(out, length - i, true)
      out.push(this.walk(items[i], depth) ?? null)
      this.#bytesLeft -= 1
    }
    return length > most ? this.#markItems(out, length - most, false) : out
  }

  #markItems(out: JsonValue[], left: number, budget: boolean): JsonValue[] {
    const marker = `…[truncated ${left} items${budget ? BUDGET_NOTE : ''}]`
    this.#bytesLeft -= marker.length + 3
    out.push(marker)
    return out
  }

  #markKeys(out: Record<string, JsonValue>, left: number, what: string): void {
    const note = this.#spent() ? BUDGET_NOTE : ''
    const marker = `${left} more ${what}${note}`
    this.#bytesLeft -= marker.length + TRUNCATED_KEYS_MARKER.length + 6
    setKey(out, TRUNCATED_KEYS_MARKER, marker)
  }

  #plain(value: object, depth: number): JsonValue {
    const out: Record<string, JsonValue> = {}
    this.#copyOwn(value, out, depth, new Set())
    return out
  }

  /** Copies own enumerable string-keyed properties, guarding each read. */
  #copyOwn(
    from: object,
    out: Record<string, JsonValue>,
    depth: number,
    skip: ReadonlySet<string>,
  ): void {
    const keys = Object.keys(from).filter((key) => !skip.has(key))
    let kept = 0
    for (const [index, key] of keys.entries()) {
      if (kept >= this.#limits.maxItems || this.#spent()) {
        this.#markKeys(out, keys.length - index, 'keys')
        return
      }
      const converted = this.#field(from, key, depth)
      if (converted !== undefined) {
        this.#set(out, this.#keyFor(out, key), converted)
        kept++
      }
    }
  }

  /**
   * The name a key is stored under: cut to `maxStringLength`, and, when a
   * cut makes it the name of a member already stored (two long keys that
   * begin alike), numbered ` (2)`, ` (3)`… so that neither value is lost.
   */
  #keyFor(out: Record<string, JsonValue>, key: string): string {
    return freeName(out, truncateString(key, this.#limits.maxStringLength))
  }

  /** Sets a key, paying for it and its punctuation. */
  #set(out: Record<string, JsonValue>, key: string, value: JsonValue): void {
    this.#bytesLeft -= memberCost(key)
    setKey(out, key, value)
  }

  /** Reads one property; a throwing getter becomes a marker. */
  #field(from: object, key: string, depth: number): JsonValue | undefined {
    let item: unknown
    try {
      item = (from as Record<string, unknown>)[key]
    } catch (error) {
      return throwsMarker(error)
    }
    return this.walk(item, depth)
  }
}

/** The marker a member whose getter throws is stored as. */
export function throwsMarker(error: unknown): string {
  return `[Throws: ${describeThrown(error)}]`
}

/**
 * A plain copy of an object's own enumerable members (but those `skip`
 * names), each read once: a member whose getter throws becomes its
 * {@link throwsMarker}. `unlisted` says why, when even the keys cannot be
 * listed (a proxy trap that throws); the copy is then empty.
 */
export function guardedMembers(
  value: object,
  skip: (key: string) => boolean = () => false,
): { members: Record<string, unknown>; unlisted?: string } {
  const members: Record<string, unknown> = {}
  let keys: string[]
  try {
    keys = Object.keys(value)
  } catch (error) {
    return { members, unlisted: describeThrown(error) }
  }
  for (const key of keys) {
    if (skip(key)) continue
    let member: unknown
    try {
      member = (value as Record<string, unknown>)[key]
    } catch (error) {
      member = throwsMarker(error)
    }
    setKey(members, key, member)
  }
  return { members }
}

/** Bytes held back from the walk's budget for the markers of what it cuts. */
const MARKER_RESERVE = 4096

/** Added to a marker when the cut came from the walk's budget, not an item limit. */
const BUDGET_NOTE = ': size budget spent'

/**
 * The walk's byte budget for `budgetBytes`: what is held back for markers
 * taken off. Exported with {@link primitiveCost} and {@link memberCost} for
 * a caller that must stop where the walk stops (entry.ts's flat path).
 */
export function walkBudget(budgetBytes: number): number {
  return budgetBytes - Math.min(MARKER_RESERVE, budgetBytes / 4)
}

/** What the walk's budget pays for a converted value that is not an object (objects pay for their parts). */
export function primitiveCost(converted: JsonValue | undefined): number {
  if (typeof converted === 'string') return converted.length + 3
  if (typeof converted === 'number') return numberCost(converted)
  return converted !== undefined && typeof converted !== 'object' ? 6 : 0
}

/** What the walk's budget pays for an object member's key and punctuation. */
export function memberCost(key: string): number {
  return key.length + 4
}

/** At most 24 characters: the longest shortest form of a double. */
function numberCost(value: number): number {
  return Number.isInteger(value) && Math.abs(value) < 1e9 ? 11 : 25
}

function functionName(fn: unknown): string {
  try {
    const name = (fn as { name?: unknown }).name
    return typeof name === 'string' && name !== '' ? name : 'anonymous'
  } catch {
    return 'anonymous'
  }
}

/** The first `max` items of an iterable, plus one to show there are more. */
function firstItems(items: Iterable<unknown>, max: number): unknown[] {
  const out: unknown[] = []
  for (const item of items) {
    if (out.length > max) break
    out.push(item)
  }
  return out
}

function hasToJSON(value: object): value is { toJSON: () => unknown } {
  try {
    return typeof (value as { toJSON?: unknown }).toJSON === 'function'
  } catch {
    return false
  }
}

/**
 * `name`, or, when `out` already has a member of that name, the name
 * numbered ` (2)`, ` (3)`…: the first one free after those given before,
 * so that no value is lost to another under the same name. Each object
 * remembers the next number per name, so 10 000 members of one name cost
 * 10 000 steps, not 50 million.
 */
export function freeName(out: object, name: string): string {
  if (!Object.hasOwn(out, name)) return name
  let numbers = nextNumbers.get(out)
  if (numbers === undefined) {
    numbers = new Map()
    nextNumbers.set(out, numbers)
  }
  let n = numbers.get(name) ?? 2
  while (Object.hasOwn(out, `${name} (${n})`)) n++
  numbers.set(name, n + 1)
  return `${name} (${n})`
}

/** The next number {@link freeName} tries, per object and name. */
const nextNumbers = new WeakMap<object, Map<string, number>>()

/** Assigns a key as data, even `__proto__`, which `=` would treat specially. */
export function setKey<T>(out: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') {
    Object.defineProperty(out, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    })
  } else {
    out[key] = value
  }
}

function stringifyKey(key: JsonValue | undefined): string {
  if (typeof key === 'string') return key
  return key === undefined ? 'undefined' : JSON.stringify(key)
}

function describeDeep(value: object): string {
  if (Array.isArray(value)) return '[Array]'
  return `[${constructorName(value)}]`
}

function constructorName(value: object): string {
  try {
    const name = (value.constructor as { name?: unknown } | undefined)?.name
    return typeof name === 'string' && name !== '' ? name : 'Object'
  } catch {
    return 'Object'
  }
}

/** A short text for something thrown, without risking a second throw. */
export function describeThrown(error: unknown): string {
  try {
    if (error instanceof Error) return `${error.name}: ${error.message}`
    return String(error)
  } catch {
    return 'unknown error'
  }
}

function base64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString(
    'base64',
  )
}
