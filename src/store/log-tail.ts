/**
 * Reading and repairing the end of `logs.jsonl`.
 *
 * Called with the sequence lock held, on open and before every append, so
 * a crash by any writer (this library or the Python SDK) is repaired before
 * the next number is handed out (ml-dash-spec §4, "stricter"):
 * - a last line without its `\n` that parses as an entry is completed with
 *   the newline it lacks;
 * - a last line that does not parse is torn: its bytes are appended to the
 *   sibling file `logs.jsonl.torn` (each fragment followed by `\n`) and cut
 *   off `logs.jsonl`, so every line stays valid JSON;
 * - the sequence number of the last entry is returned, so the caller can
 *   move a counter that lags the file past it.
 * Only the end of the file is read (a window that grows as needed), so the
 * cost does not grow with the file.
 *
 * The `.torn` file is opened without following a link: a link at its name
 * fails the repair (ELOOP) before `logs.jsonl` is cut, so the torn bytes
 * stay where they were and nothing reaches the link's target.
 */
import {
  appendFileSync,
  closeSync,
  fstatSync,
  ftruncateSync,
  readSync,
  writeSync,
} from 'node:fs'
import { APPEND_CREATE, openOwnFile } from './own-file.js'

const NEWLINE = 0x0a
const FIRST_WINDOW = 4096

/** What the end of the file holds after repair. */
export interface TailReport {
  /** Number of the last entry in the file; -1 when it holds none. */
  lastSequence: number
  /** Bytes moved aside to the `.torn` file; 0 when none. */
  tornBytes: number
  /** File size after repair. */
  size: number
}

/**
 * Repairs the end of the open log file `fd` (opened for reading and
 * appending); `logPath` names it, for the `.torn` sibling.
 */
export function repairTail(fd: number, logPath: string): TailReport {
  let size = fstatSync(fd).size
  if (size === 0) return { lastSequence: -1, tornBytes: 0, size }
  let tornBytes = 0
  const last = readByte(fd, size - 1)
  if (last !== NEWLINE) {
    const { start, bytes } = lastSegment(fd, size)
    if (sequenceOf(bytes) !== undefined) {
      writeSync(fd, '\n', size)
      size += 1
    } else {
      keepTorn(`${logPath}.torn`, Buffer.concat([bytes, Buffer.from('\n')]))
      ftruncateSync(fd, start)
      tornBytes = size - start
      size = start
    }
  }
  return { lastSequence: lastSequenceBefore(fd, size), tornBytes, size }
}

/** Appends a torn fragment to the `.torn` file, created when missing; a link there is refused. */
function keepTorn(path: string, fragment: Buffer): void {
  const fd = openOwnFile(path, APPEND_CREATE)
  try {
    appendFileSync(fd, fragment)
  } finally {
    closeSync(fd)
  }
}

/** The bytes after the last newline of the file's first `size` bytes. */
function lastSegment(
  fd: number,
  size: number,
): { start: number; bytes: Buffer } {
  for (let window = FIRST_WINDOW; ; window *= 2) {
    const from = Math.max(0, size - window)
    const chunk = readRange(fd, from, size)
    const newline = chunk.lastIndexOf(NEWLINE)
    if (newline >= 0 || from === 0) {
      const start = from + newline + 1
      return { start, bytes: chunk.subarray(newline + 1) }
    }
  }
}

/** Number of the last line, ending at `size`, that is an entry; -1 if none. */
function lastSequenceBefore(fd: number, size: number): number {
  for (let window = FIRST_WINDOW; size > 0; window *= 2) {
    const from = Math.max(0, size - window)
    const chunk = readRange(fd, from, size)
    // Lines whose start lies inside the chunk (the first may be partial unless from is 0).
    const lines = chunk.toString('utf8').split('\n')
    lines.pop() // after the final newline: empty
    const firstWhole = from === 0 ? 0 : 1
    for (let i = lines.length - 1; i >= firstWhole; i--) {
      const sequence = sequenceOf(Buffer.from(lines[i]!))
      if (sequence !== undefined) return sequence
    }
    if (from === 0) return -1
  }
  return -1
}

/**
 * The `sequenceNumber` of a line that parses as an entry, else undefined.
 * A number past 2^53 - 1 (parsed inexactly) still makes the line an entry:
 * the store refuses to number after it, rather than cut the line off as torn
 * or hand out numbers from an earlier line.
 */
function sequenceOf(line: Buffer): number | undefined {
  try {
    const parsed = JSON.parse(line.toString('utf8')) as {
      sequenceNumber?: unknown
    }
    const sequence = parsed?.sequenceNumber
    return Number.isInteger(sequence) && (sequence as number) >= 0
      ? (sequence as number)
      : undefined
  } catch {
    return undefined
  }
}

function readByte(fd: number, position: number): number {
  const buffer = Buffer.alloc(1)
  readSync(fd, buffer, 0, 1, position)
  return buffer[0]!
}

function readRange(fd: number, from: number, to: number): Buffer {
  const buffer = Buffer.alloc(to - from)
  let done = 0
  while (done < buffer.length) {
    const read = readSync(fd, buffer, done, buffer.length - done, from + done)
    if (read === 0) break
    done += read
  }
  return buffer.subarray(0, done)
}
