/**
 * The protobuf wire format, reading only: varints (64-bit values as BigInt,
 * so nanosecond times and int64 attributes lose no precision), fixed32,
 * fixed64, and length-delimited fields. Every read checks the bounds and
 * throws `ProtobufError` on truncated or malformed input; nothing reads past
 * the buffer. Groups (wire types 3 and 4) are refused: OTLP does not use them.
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

const decoder = new TextDecoder('utf-8', { fatal: false })

/** A cursor over one message's bytes. */
export class ProtoReader {
  #pos = 0
  readonly #buf: Uint8Array

  constructor(buf: Uint8Array) {
    this.#buf = buf
  }

  get done(): boolean {
    return this.#pos >= this.#buf.length
  }

  /** The next field's number and wire type. */
  tag(): { field: number; wire: number } {
    const raw = this.varint()
    const field = Math.floor(raw / 8)
    if (field === 0)
      throw new ProtobufError(`field number 0 at byte ${this.#pos}`)
    return { field, wire: raw % 8 }
  }

  /** A varint up to 2^53 (lengths, tags, enums, booleans). */
  varint(): number {
    const value = this.varintBig()
    if (value > BigInt(Number.MAX_SAFE_INTEGER))
      throw new ProtobufError(`varint too large at byte ${this.#pos}`)
    return Number(value)
  }

  /** A varint of up to 64 bits, unsigned. */
  varintBig(): bigint {
    let result = 0n
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.#pos >= this.#buf.length)
        throw new ProtobufError('truncated varint')
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

  fixed64(): bigint {
    const bytes = this.#take(8)
    return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true)
  }

  fixed32(): number {
    const bytes = this.#take(4)
    return new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true)
  }

  double(): number {
    const bytes = this.#take(8)
    return new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0, true)
  }

  /** A length-delimited field's bytes. */
  bytes(): Uint8Array {
    return this.#take(this.varint())
  }

  string(): string {
    return decoder.decode(this.bytes())
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

  #take(length: number): Uint8Array {
    if (length < 0 || this.#pos + length > this.#buf.length) {
      throw new ProtobufError(
        `truncated: ${length} bytes wanted at byte ${this.#pos} of ${this.#buf.length}`,
      )
    }
    const bytes = this.#buf.subarray(this.#pos, this.#pos + length)
    this.#pos += length
    return bytes
  }
}
