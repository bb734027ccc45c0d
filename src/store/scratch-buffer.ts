/**
 * One scratch buffer for the writers that build a batch's bytes before a
 * synchronous write (the local store's lines, the outbox's segment
 * appends, a request body copied out at once): each entry's text is written
 * straight into it, so no joined string is made and encoded again.
 */

/** The largest buffer kept for the next batch; a larger one is made for its batch alone. */
const KEPT_BYTES = 4 << 20

let scratch = Buffer.allocUnsafe(0)

/**
 * A buffer of at least `size` bytes. Its bytes are the caller's until it
 * returns to the event loop or asks again: callers use it synchronously,
 * and copy out what must outlive that.
 */
export function scratchBuffer(size: number): Buffer {
  if (scratch.length >= size) return scratch
  const buffer = Buffer.allocUnsafe(size)
  if (size <= KEPT_BYTES) scratch = buffer
  return buffer
}

/** The most UTF-8 bytes a text of `length` UTF-16 units takes. */
export const mostUtf8Bytes = (length: number): number => length * 3
