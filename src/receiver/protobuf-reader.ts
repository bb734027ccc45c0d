/**
 * The protobuf wire format, reading only: varints (64-bit values as BigInt,
 * so int64 attributes lose no precision), fixed32, fixed64 (as a double, or
 * divided by 10^9 exactly: nanosecond times), and length-delimited fields.
 * Every read checks the bounds and throws `ProtobufError` on truncated or
 * malformed input; nothing reads past the buffer. Groups (wire types 3 and
 * 4) are refused: OTLP does not use them.
 */

/** Malformed protobuf input. */
class ProtobufError extends Error {
  override readonly name = 'ProtobufError'
}

/** Wire types. */
export const VARINT = 0
export const FIXED64 = 1
export const LENGTH = 2
export const FIXED32 = 5

/** Eight bytes seen as one double, in the platform's byte order. */
const SCRATCH_DOUBLE = new Float64Array(1)
const SCRATCH_BYTES = new Uint8Array(SCRATCH_DOUBLE.buffer)
/** 0 on little-endian platforms, 7 on big-endian ones (s390x): where the wire's first byte goes. */
const FIRST_BYTE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 7

/** The little-endian uint32 at `at`. */
function uint32At(buf: Uint8Array, at: number): number {
  return (
    (buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16)) +
    buf[at + 3]! * 0x1000000
  )
}

/**
 * A cursor over one message's bytes: a range of one buffer, shared with the
 * readers of the messages nested in it (`message()`), so that no view is
 * made per field and strings are decoded straight from the buffer.
 */
export class ProtoReader {
  #pos: number
  /** Where this message ends in the buffer. */
  readonly #end: number
  readonly #buf: Buffer

  /** A reader of `buf[start, end)`; see {@link ProtoReader.of} for any bytes. */
  constructor(buf: Buffer, start: number, end: number) {
    this.#buf = buf
    this.#pos = start
    this.#end = end
  }

  /** A reader of a whole message's bytes (a view of them as a Buffer, not a copy). */
  static of(bytes: Uint8Array): ProtoReader {
    const buf = Buffer.isBuffer(bytes)
      ? bytes
      : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    return new ProtoReader(buf, 0, buf.length)
  }

  get done(): boolean {
    return this.#pos >= this.#end
  }

  /** The next field's number and wire type. */
  tag(): { field: number; wire: number } {
    const raw = this.varint()
    const field = Math.floor(raw / 8)
    if (field === 0)
      throw new ProtobufError(`field number 0 at byte ${this.#pos}`)
    return { field, wire: raw % 8 }
  }

  /** A length-delimited field as a reader of its own: the message nested there. */
  message(): ProtoReader {
    const length = this.varint()
    const at = this.#skipBytes(length)
    return new ProtoReader(this.#buf, at, at + length)
  }

  /** A varint up to 2^53 (lengths, tags, enums, booleans). */
  varint(): number {
    // In numbers while it fits 8 bytes (56 bits: exact up to 2^53, and a
    // larger value is refused either way); longer ones as BigInt.
    const buf = this.#buf
    let pos = this.#pos
    let result = 0
    let scale = 1
    for (let i = 0; i < 8; i++) {
      if (pos >= this.#end) throw new ProtobufError('truncated varint')
      const byte = buf[pos++]!
      result += (byte & 0x7f) * scale
      if ((byte & 0x80) === 0) {
        this.#pos = pos
        if (result > Number.MAX_SAFE_INTEGER)
          throw new ProtobufError(`varint too large at byte ${pos}`)
        return result
      }
      scale *= 128
    }
    const value = this.varintBig()
    if (value > BigInt(Number.MAX_SAFE_INTEGER))
      throw new ProtobufError(`varint too large at byte ${this.#pos}`)
    return Number(value)
  }

  /** A varint of up to 64 bits, unsigned. */
  varintBig(): bigint {
    let result = 0n
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.#pos >= this.#end) throw new ProtobufError('truncated varint')
      const byte = this.#buf[this.#pos++]!
      result |= BigInt(byte & 0x7f) << shift
      if ((byte & 0x80) === 0) return result & 0xffff_ffff_ffff_ffffn
    }
    throw new ProtobufError(`varint longer than 10 bytes at byte ${this.#pos}`)
  }

  /** A two's-complement int64 varint. */
  int64(): bigint {
    return BigInt.asIntN(64, this.varintBig())
  }

  /**
   * A two's-complement int64 varint as a number when its value is below
   * 2^49 and not negative (up to 7 bytes: exact, read without a BigInt);
   * undefined, and nothing read, for any other (then read `int64()`).
   */
  smallInt64(): number | undefined {
    const buf = this.#buf
    let pos = this.#pos
    let result = 0
    let scale = 1
    for (let i = 0; i < 7 && pos < this.#end; i++) {
      const byte = buf[pos++]!
      result += (byte & 0x7f) * scale
      if ((byte & 0x80) === 0) {
        this.#pos = pos
        return result
      }
      scale *= 128
    }
    return undefined
  }

  /**
   * A fixed64 divided by 10^9, exactly, without a BigInt: [quotient,
   * remainder] (nanoseconds as seconds and nanoseconds). The value is
   * split as high16·2^48 + low16·2^32 + low32, and 2^48 and 2^32 each as
   * a multiple of 10^9 and a rest: every product and sum stays below 2^53.
   */
  fixed64ByBillion(): [number, number] {
    const at = this.#skipBytes(8)
    const low = uint32At(this.#buf, at)
    const high = uint32At(this.#buf, at + 4)
    const high16 = Math.floor(high / 0x10000)
    const low16 = high % 0x10000
    // 2^48 = 281474·10^9 + 976710656, 2^32 = 4·10^9 + 294967296.
    const rest = high16 * 976_710_656 + low16 * 294_967_296 + low
    const remainder = rest % 1e9
    return [high16 * 281_474 + low16 * 4 + (rest - remainder) / 1e9, remainder]
  }

  fixed32(): number {
    return uint32At(this.#buf, this.#skipBytes(4))
  }

  double(): number {
    const at = this.#skipBytes(8)
    // The wire is little-endian; copied into a scratch double.
    for (let i = 0; i < 8; i++)
      SCRATCH_BYTES[FIRST_BYTE === 0 ? i : 7 - i] = this.#buf[at + i]!
    return SCRATCH_DOUBLE[0]!
  }

  /** A length-delimited field's bytes. */
  bytes(): Uint8Array {
    return this.#take(this.varint())
  }

  /** A length-delimited field as UTF-8 text (a bad sequence becomes U+FFFD, as TextDecoder makes it). */
  string(): string {
    const length = this.varint()
    const at = this.#skipBytes(length)
    return this.#buf.toString('utf8', at, at + length)
  }

  /** A length-delimited field as UTF-8 text that is likely to repeat (a key): see {@link RepeatedStrings}. */
  repeatedString(strings: RepeatedStrings): string {
    const length = this.varint()
    const at = this.#skipBytes(length)
    return strings.text(this.#buf, at, at + length)
  }

  /** A length-delimited field's bytes as lowercase hex (trace and span ids). */
  hex(): string {
    const length = this.varint()
    const at = this.#skipBytes(length)
    return this.#buf.toString('hex', at, at + length)
  }

  /** Skips a field of the given wire type. */
  skip(wire: number): void {
    if (wire === VARINT) this.varintBig()
    else if (wire === FIXED64) this.#take(8)
    else if (wire === LENGTH) this.bytes()
    else if (wire === FIXED32) this.#take(4)
    else
      throw new ProtobufError(
        `unsupported wire type ${wire} at byte ${this.#pos}`,
      )
  }

  /** Reads `wire` as expected for a field, or throws. */
  expect(wire: number, expected: number, field: string): void {
    if (wire !== expected)
      throw new ProtobufError(
        `${field}: wire type ${wire}, expected ${expected}`,
      )
  }

  /** Moves past `length` bytes, checked; returns where they start. */
  #skipBytes(length: number): number {
    if (length < 0 || this.#pos + length > this.#end)
      throw new ProtobufError(
        `truncated: ${length} bytes wanted at byte ${this.#pos} of ${this.#end}`,
      )
    const at = this.#pos
    this.#pos += length
    return at
  }

  #take(length: number): Uint8Array {
    const at = this.#skipBytes(length)
    // A plain view: a Buffer's subarrays are Buffers, slower to make.
    return new Uint8Array(this.#buf.buffer, this.#buf.byteOffset + at, length)
  }
}

/**
 * Texts that repeat from record to record (attribute keys), each kept once
 * with its bytes: a text seen before costs a hash and a compare of its
 * bytes instead of a decode, and is the same string each time (which V8,
 * once it is used as a property name, need not look up again). Bounded:
 * {@link SLOTS} slots, texts of at most {@link MAX_REPEATED_BYTES} bytes;
 * a new text takes its slot's place.
 */
export class RepeatedStrings {
  readonly #bytes: (Uint8Array | undefined)[] = new Array<undefined>(SLOTS)
  readonly #texts: string[] = new Array<string>(SLOTS).fill('')

  /** The UTF-8 text of `buf[at, end)`, as `buf.toString` decodes it. */
  text(buf: Buffer, at: number, end: number): string {
    const length = end - at
    if (length > MAX_REPEATED_BYTES) return buf.toString('utf8', at, end)
    // FNV-1a over the bytes.
    let hash = 0x811c9dc5
    for (let i = at; i < end; i++) hash = Math.imul(hash ^ buf[i]!, 0x01000193)
    const slot = hash & (SLOTS - 1)
    const known = this.#bytes[slot]
    if (known?.length === length) {
      let same = true
      for (let i = 0; i < length; i++)
        if (known[i] !== buf[at + i]) {
          same = false
          break
        }
      if (same) return this.#texts[slot]!
    }
    const text = buf.toString('utf8', at, end)
    // A copy of its own (a small Buffer would hold a block of Node's shared pool).
    this.#bytes[slot] = new Uint8Array(buf.subarray(at, end))
    this.#texts[slot] = text
    return text
  }
}

const SLOTS = 256
const MAX_REPEATED_BYTES = 64
