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
 */

/** Bounds applied while converting a value. */
export interface SerializeLimits {
  /** Longest string kept whole, in UTF-16 code units. @default 16384 */
  maxStringLength: number
  /** Most entries kept of one array, object, Map or Set. @default 1000 */
  maxItems: number
  /** Deepest nesting kept; deeper values become a marker. @default 10 */
  maxDepth: number
}

/** The limits used unless a caller passes its own. */
export const DEFAULT_SERIALIZE_LIMITS: Readonly<SerializeLimits> = {
  maxStringLength: 16_384,
  maxItems: 1_000,
  maxDepth: 10,
}

/** A value that `JSON.stringify` accepts and that round-trips through JSON. */
export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue }

/** Key under which a truncated object records how many keys it left out. */
export const TRUNCATED_KEYS_MARKER = '[truncated]'

/**
 * Converts any value into a strict-JSON-safe tree. Never throws.
 * `undefined` (and a top-level function-free `undefined`) yields `undefined`.
 */
export function toJsonValue(
  value: unknown,
  limits: SerializeLimits = DEFAULT_SERIALIZE_LIMITS,
): JsonValue | undefined {
  return new Walker(limits).walk(value, 0)
}

/** Truncates `text` to `max` code units, marking how many were dropped. */
export function truncateString(text: string, max: number): string {
  const clean = text.toWellFormed()
  if (clean.length <= max) return clean
  // Do not cut a surrogate pair in half.
  let end = max
  const code = clean.charCodeAt(end - 1)
  if (code >= 0xd800 && code <= 0xdbff) end -= 1
  return `${clean.slice(0, end)}…[truncated ${clean.length - end} chars]`
}

class Walker {
  readonly #limits: SerializeLimits
  /** Objects on the path from the root to the value being converted. */
  readonly #ancestors = new Set<object>()

  constructor(limits: SerializeLimits) {
    this.#limits = limits
  }

  walk(value: unknown, depth: number): JsonValue | undefined {
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
        return value.toString()
      case 'undefined':
        return undefined
      case 'symbol':
        return truncateString(value.toString(), this.#limits.maxStringLength)
      case 'function':
        return `[Function: ${(value as { name?: string }).name || 'anonymous'}]`
      default:
        return value === null ? null : this.#walkObject(value as object, depth)
    }
  }

  #walkObject(value: object, depth: number): JsonValue {
    if (this.#ancestors.has(value)) return '[Circular]'
    if (depth >= this.#limits.maxDepth) return describeDeep(value)
    this.#ancestors.add(value)
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
    if (value instanceof Set) return this.#array([...value], depth)
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
    out.name = this.#field(error, 'name', depth) ?? 'Error'
    out.message = this.#field(error, 'message', depth) ?? ''
    const stack = this.#field(error, 'stack', depth)
    if (stack !== undefined) out.stack = stack
    for (const key of ['code', 'cause', 'errors'] as const) {
      if (key in error) {
        const converted = this.#field(error, key, depth)
        if (converted !== undefined) out[key] = converted
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
    return this.#array(Array.from(view as unknown as ArrayLike<unknown>), depth)
  }

  /** Bytes as base64, at most as many as fit in `maxStringLength` characters. */
  #bytes(type: string, bytes: Uint8Array): JsonValue {
    // Buffer is a Uint8Array subclass: `type` says which one it was.
    const max = Math.floor((this.#limits.maxStringLength / 4) * 3)
    if (bytes.byteLength <= max) return { type, base64: base64(bytes) }
    return {
      type,
      base64: base64(bytes.subarray(0, max)),
      truncatedBytes: bytes.byteLength - max,
    }
  }

  #map(map: Map<unknown, unknown>, depth: number): JsonValue {
    const out: Record<string, JsonValue> = {}
    let count = 0
    for (const [key, item] of map) {
      if (count++ >= this.#limits.maxItems) {
        out[TRUNCATED_KEYS_MARKER] =
          `${map.size - this.#limits.maxItems} more entries`
        break
      }
      const name =
        typeof key === 'string' ? key : stringifyKey(this.walk(key, depth))
      const converted = this.walk(item, depth)
      if (converted !== undefined) setKey(out, name, converted)
    }
    return out
  }

  #array(items: readonly unknown[], depth: number): JsonValue {
    const max = this.#limits.maxItems
    const out: JsonValue[] = []
    const length = Math.min(items.length, max)
    for (let i = 0; i < length; i++) {
      out.push(this.walk(items[i], depth) ?? null)
    }
    if (items.length > max) out.push(`…[truncated ${items.length - max} items]`)
    return out
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
      if (kept >= this.#limits.maxItems) {
        setKey(out, TRUNCATED_KEYS_MARKER, `${keys.length - index} more keys`)
        return
      }
      const converted = this.#field(from, key, depth)
      if (converted !== undefined) {
        setKey(
          out,
          truncateString(key, this.#limits.maxStringLength),
          converted,
        )
        kept++
      }
    }
  }

  /** Reads one property; a throwing getter becomes a marker. */
  #field(from: object, key: string, depth: number): JsonValue | undefined {
    let item: unknown
    try {
      item = (from as Record<string, unknown>)[key]
    } catch (error) {
      return `[Throws: ${describeThrown(error)}]`
    }
    return this.walk(item, depth)
  }
}

function hasToJSON(value: object): value is { toJSON: () => unknown } {
  try {
    return typeof (value as { toJSON?: unknown }).toJSON === 'function'
  } catch {
    return false
  }
}

/** Assigns a key as data, even `__proto__`, which `=` would treat specially. */
function setKey(
  out: Record<string, JsonValue>,
  key: string,
  value: JsonValue,
): void {
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
