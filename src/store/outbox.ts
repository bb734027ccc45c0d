/**
 * The outbox: entries bound for the ml-dash server, on disk before they are
 * sent, so that a process that dies (SIGKILL, an OOM kill, an unhandled
 * SIGTERM) loses none that reached it, and memory stays flat through an
 * outage. Learnt from the OpenTelemetry Collector's persistent queue (read
 * and write indexes beside the data), Vector's disk buffer (data files and
 * a ledger of what was acknowledged, files deleted once acknowledged) and
 * Fluent Bit's filesystem chunks; no code of theirs is copied.
 *
 * Layout, under the spool root (./spool-place.ts):
 *
 * ```
 * <root>/<server>/                  one folder per server URL (host + hash)
 *   <writer>/                       one per writing process (and thread): time-pid-thread-random
 *     writer.lock                   flock(2)ed by the writer while it lives
 *     <experiment>/                 one per experiment: a hash of its prefix
 *       outbox.json                 { prefix, info, created }
 *       acked                       the byte position (over all segments) the server has taken up to
 *       0000000000000000.log …      segments, named by the position of their first byte:
 *                                   one encoded entry per line, appended, about 16 MiB each
 * ```
 *
 * A writer appends what accumulated in one turn of the event loop with one
 * write (or at once when asked: the receiver, the exit drain); the sender
 * takes batches from the oldest unacknowledged entry, from memory while
 * what is waiting is small and from the segments when it is not (during an
 * outage), and records each acknowledged batch in `acked`; segments wholly
 * acknowledged are deleted. A writer whose lock can be taken is gone: its
 * outboxes are orphaned, and the next process for the same server (or
 * `ml-dash-logs sync`) adopts them: locks them, sends what they hold from
 * `acked` on, in order, then removes them.
 *
 * Durability: appends are not fsynced. What was written survives the
 * process (it is in the page cache); a power loss or a kernel crash may
 * cost the last seconds the page cache held, and may leave a torn last
 * line, which adoption skips (counted). The batch in flight when a process
 * dies is sent again by the adopter: the API has no idempotency key.
 *
 * Links: every file is opened with `O_NOFOLLOW` (./own-file.ts) and the
 * folders the outbox makes are checked not to be links.
 */
import { randomBytes, createHash } from 'node:crypto'
import {
  closeSync,
  constants,
  fstatSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  readSync,
  readdirSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { join } from 'node:path'
import { threadId } from 'node:worker_threads'
import type { EncodedEntry } from '../core/entry.js'
import { mlDashError } from '../core/error-codes.js'
import type { ExperimentInfo } from './experiment-file.js'
import type { Flock } from './flock.js'
import { APPEND_CREATE, openOwnFile } from './own-file.js'
import { mostUtf8Bytes, scratchBuffer } from './scratch-buffer.js'

/** A segment is closed and a new one started past this size. */
const SEGMENT_BYTES = 16 * 1024 * 1024

/** Past this many bytes waiting in memory, the rest is read back from the segments. */
const WINDOW_BYTES = 8 * 1024 * 1024

/** Past this length of entries not yet written (UTF-16 units), a push writes them at once. */
const WRITE_AT_LENGTH = 1024 * 1024

/** What a cold read takes from a segment at once, at most. */
const READ_CHUNK_BYTES = 4 * 1024 * 1024
/** Read past what a batch may take, so that its last line's end is found without a second read. */
const READ_SLACK_BYTES = 64 * 1024

const READ_ONLY = constants.O_RDONLY
const WRITE_APPEND = constants.O_WRONLY | constants.O_APPEND
const READ_WRITE_CREATE = constants.O_RDWR | constants.O_CREAT

/** `acked`: the position as decimal digits, padded to a fixed width so one pwrite replaces it. */
const ACKED_WIDTH = 20

interface Segment {
  /** Position of its first byte, over all segments (its name). */
  start: number
  size: number
}

/** What an outbox holds about its experiment, for the sender (or an adopter) to open it. */
export interface OutboxMeta {
  prefix: string
  info?: ExperimentInfo
  created: string
}

/** One experiment's entries on their way to one server. */
export class Outbox {
  readonly directory: string
  readonly meta: OutboxMeta
  readonly #segments: Segment[]
  #writeFd: number | undefined
  readonly #ackedFd: number
  /** Position after the last byte on disk. */
  #end: number
  /** Position the server has taken up to (persisted in `acked`). */
  #acked: number
  /** Position after the last entry taken (sent or being sent). */
  #taken: number
  /** Entries pushed, not written yet, and their length with newlines (UTF-16 units: at most their bytes). */
  #unwritten: string[] = []
  #unwrittenLength = 0
  /** Hot: every entry after `#taken` is also here, with the position after it once written. */
  #hot = true
  #window: EncodedEntry[] = []
  #windowEnds: number[] = []
  #windowHead = 0
  #windowBytes = 0
  /** Entries not taken yet. */
  #waiting: number
  /** Where the batch taken last ends: acknowledged by `done()`. */
  #inflightEnd: number | undefined
  #scheduled: NodeJS.Immediate | undefined
  #closed = false
  /** Made by another process, found on disk: its lines are checked as they are read. */
  #adopted = true
  /**
   * Set when a write failed (the folder vanished, the disk is full): from
   * then on, new entries wait in memory only (`spill` while older ones are
   * still read from disk), and the outbox no longer counts as durable.
   */
  #broken: Error | undefined
  #spill: EncodedEntry[] = []
  /** Told once when a write fails. */
  onBroken: ((error: Error) => void) | undefined
  /** Torn lines skipped while reading (a power loss mid-write). */
  torn = 0
  /** Entries on disk that could not be read back (the outbox's folder vanished). */
  unreadable = 0

  private constructor(
    directory: string,
    meta: OutboxMeta,
    segments: Segment[],
    ackedFd: number,
    acked: number,
    waiting: number,
  ) {
    this.directory = directory
    this.meta = meta
    this.#segments = segments
    this.#ackedFd = ackedFd
    const last = segments.at(-1)
    this.#end = last === undefined ? 0 : last.start + last.size
    this.#acked = Math.min(acked, this.#end)
    this.#taken = this.#acked
    this.#waiting = waiting
    // What is on disk past `acked` is read from there first.
    this.#hot = this.#taken === this.#end
  }

  /** Makes a new outbox in `directory` (which must not exist). */
  static create(directory: string, meta: OutboxMeta): Outbox {
    makeFolder(directory)
    writeWhole(join(directory, 'outbox.json'), JSON.stringify(meta))
    const ackedFd = openOwnFile(
      join(directory, 'acked'),
      READ_WRITE_CREATE,
      0o600,
    )
    const outbox = new Outbox(directory, meta, [], ackedFd, 0, 0)
    outbox.#adopted = false
    outbox.#writeAcked()
    return outbox
  }

  /**
   * Opens an orphaned outbox to send what it holds (nothing is appended to
   * it). Counts its waiting entries by their newlines.
   *
   * @throws Error (`ML_DASH_STORE_IO`) when it cannot be read.
   */
  static adopt(directory: string): Outbox {
    const meta = JSON.parse(
      readWhole(join(directory, 'outbox.json')),
    ) as OutboxMeta
    const ackedFd = openOwnFile(
      join(directory, 'acked'),
      READ_WRITE_CREATE,
      0o600,
    )
    try {
      // Digits only: a zero-filled or garbled file (a power loss) counts as 0.
      const text = readFd(ackedFd, 0, ACKED_WIDTH).trim()
      const acked = /^\d{1,16}$/.test(text) ? Number(text) : 0
      const segments = listSegments(directory)
      let waiting = 0
      for (const segment of segments) {
        const from = Math.max(0, acked - segment.start)
        if (from >= segment.size) continue
        waiting += countLines(join(directory, segmentName(segment.start)), from)
      }
      return new Outbox(directory, meta, segments, ackedFd, acked, waiting)
    } catch (error) {
      closeSync(ackedFd)
      throw error
    }
  }

  /** The command that sends it from where it is (set by its writer's spool), for messages. */
  resumeCommand: string | undefined

  /** Where it is (it outlives the process), for messages; undefined once a write failed. */
  get durable(): string | undefined {
    return this.#broken === undefined ? this.directory : undefined
  }

  /** Entries not taken yet (on disk or about to be). */
  get length(): number {
    return this.#waiting
  }

  /** Queues an entry; it is written at the end of this turn of the event loop, with the others. */
  push(entry: EncodedEntry): void {
    if (this.#closed) return
    this.#waiting++
    if (this.#broken !== undefined) {
      if (this.#hot) this.#window.push(entry)
      else this.#spill.push(entry)
      return
    }
    this.#unwritten.push(entry)
    this.#unwrittenLength += entry.length + 1
    if (this.#hot) {
      this.#window.push(entry)
      this.#windowBytes += entry.length
      if (this.#windowBytes > WINDOW_BYTES && this.#broken === undefined)
        this.#goCold()
    }
    // A burst that never yields is written as it grows, not held whole.
    if (this.#unwrittenLength > WRITE_AT_LENGTH) this.persistSync()
    this.#scheduled ??= setImmediate(() => {
      this.#scheduled = undefined
      this.persistSync()
    })
  }

  /**
   * Writes what was pushed now, with one write. Never throws: when the
   * write fails, the outbox breaks (see `#broken`) and `onBroken` is told.
   */
  persistSync(): void {
    if (this.#unwritten.length === 0 || this.#closed) return
    const unwritten = this.#unwritten
    // Where each entry's line ends, from the start of this write.
    const ends = new Array<number>(unwritten.length)
    let bytes: Buffer
    try {
      bytes = segmentLines(unwritten, ends)
      const fd = this.#segmentFor(bytes.length)
      let written = 0
      try {
        while (written < bytes.length)
          written += writeSync(fd, bytes, written, bytes.length - written)
      } catch (error) {
        // A part written is cut off again: those entries are sent from memory.
        if (written > 0) ftruncateSync(fd, this.#segments.at(-1)!.size)
        throw error
      }
    } catch (error) {
      this.#break(error)
      return
    }
    if (this.#hot) {
      // The window's unwritten tail is exactly what was just written.
      const first = this.#window.length - unwritten.length
      for (let i = 0; i < unwritten.length; i++)
        this.#windowEnds[first + i] = this.#end + ends[i]!
    }
    this.#segments.at(-1)!.size += bytes.length
    this.#end += bytes.length
    this.#unwritten = []
    this.#unwrittenLength = 0
  }

  /**
   * Takes the next batch: at most `maxCount` entries and `maxBytes` bytes
   * (one larger entry goes alone). `done()` acknowledges it.
   */
  take(maxCount: number, maxBytes: number): EncodedEntry[] {
    this.persistSync()
    let entries: EncodedEntry[]
    try {
      entries = this.#hot
        ? this.#takeFromWindow(maxCount, maxBytes)
        : this.#takeFromDisk(maxCount, maxBytes)
    } catch (error) {
      // The segments cannot be read (the folder was deleted): what only
      // they held is gone; what waits in memory goes on.
      this.#break(error, 'read')
      this.#taken = this.#end
      this.#hot = true
      this.#window = this.#spill
      this.#windowEnds = []
      this.#windowHead = 0
      this.#spill = []
      this.unreadable += this.#waiting - this.#window.length
      this.#waiting = this.#window.length
      return []
    }
    this.#waiting -= entries.length
    this.#inflightEnd = this.#taken
    return entries
  }

  /** The batch taken last was settled (sent, or given up): it is not sent again. */
  done(): void {
    if (this.#inflightEnd === undefined || this.#closed) return
    this.#acked = this.#inflightEnd
    this.#inflightEnd = undefined
    try {
      this.#writeAcked()
    } catch (error) {
      // Best effort once broken: only the writing of new entries failed.
      if (this.#broken === undefined) this.#break(error)
      return
    }
    // Segments wholly acknowledged go, except the one being written.
    while (
      this.#segments.length > 1 &&
      this.#segments[0]!.start + this.#segments[0]!.size <= this.#acked
    ) {
      const segment = this.#segments.shift()!
      rmSync(join(this.directory, segmentName(segment.start)), { force: true })
    }
  }

  /** Gives up on everything waiting (counted as failed by the caller): acknowledged as if sent. */
  clear(): void {
    this.persistSync()
    this.#taken = this.#end
    this.#inflightEnd = this.#end
    this.#window = []
    this.#windowEnds = []
    this.#windowHead = 0
    this.#windowBytes = 0
    this.#hot = true
    this.#spill = []
    this.#waiting = 0
    this.done()
  }

  /** Whether everything in it was acknowledged (it may be removed). */
  get empty(): boolean {
    return this.#unwritten.length === 0 && this.#acked === this.#end
  }

  /** Writes what is pending and closes the files; the outbox stays on disk. */
  close(): void {
    if (this.#closed) return
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled)
    this.#scheduled = undefined
    try {
      this.persistSync()
    } finally {
      this.#closed = true
      if (this.#writeFd !== undefined) closeSync(this.#writeFd)
      closeSync(this.#ackedFd)
    }
  }

  /** Closes it and deletes its folder. */
  remove(): void {
    this.close()
    rmSync(this.directory, { recursive: true, force: true })
  }

  #break(error: unknown, what = 'write'): void {
    const file = join(
      this.directory,
      segmentName(this.#segments.at(-1)?.start ?? this.#end),
    )
    this.#broken = mlDashError(
      'ML_DASH_STORE_IO',
      `cannot ${what} the outbox "${file}": ${(error as Error).message}; entries bound for the server wait in memory from now on, and are lost if the process dies`,
      error,
    )
    // The entries not written: in the window already (hot), else spilled after what is on disk.
    if (!this.#hot) this.#spill.push(...this.#unwritten)
    this.#unwritten = []
    this.#unwrittenLength = 0
    try {
      this.onBroken?.(this.#broken)
    } catch {
      // a report must not break the outbox further
    }
  }

  #goCold(): void {
    this.#hot = false
    this.#window = []
    this.#windowEnds = []
    this.#windowHead = 0
    this.#windowBytes = 0
  }

  #takeFromWindow(maxCount: number, maxBytes: number): EncodedEntry[] {
    const start = this.#windowHead
    const most = Math.min(this.#window.length, start + maxCount)
    let end = start
    let bytes = 0
    while (end < most) {
      bytes += this.#window[end]!.length
      if (end > start && bytes > maxBytes) break
      end++
    }
    const entries = this.#window.slice(start, end)
    for (const entry of entries) this.#windowBytes -= entry.length
    // Entries pushed after a failed write have no place on disk: the last that has one counts.
    for (let i = end - 1; i >= start; i--) {
      const last = this.#windowEnds[i]
      if (last !== undefined) {
        this.#taken = last
        break
      }
    }
    this.#windowHead = end
    if (this.#windowHead === this.#window.length) {
      this.#window = []
      this.#windowEnds = []
      this.#windowHead = 0
    } else if (this.#windowHead > 4096) {
      this.#window = this.#window.slice(this.#windowHead)
      this.#windowEnds = this.#windowEnds.slice(this.#windowHead)
      this.#windowHead = 0
    }
    return entries
  }

  #takeFromDisk(maxCount: number, maxBytes: number): EncodedEntry[] {
    const entries: EncodedEntry[] = []
    let bytes = 0
    let full = false
    while (!full && entries.length < maxCount && this.#taken < this.#end) {
      const segment = this.#segments.find(
        (s) => this.#taken < s.start + s.size,
      )!
      // A segment shorter than the next one's name says (a power loss): from its start.
      const from = Math.max(0, this.#taken - segment.start)
      const file = join(this.directory, segmentName(segment.start))
      // What one batch takes, most often (ASCII: a byte a unit), grown
      // until it holds a whole line (an entry may be larger than a chunk).
      let length = Math.min(
        READ_CHUNK_BYTES,
        segment.size - from,
        Math.max(maxBytes - bytes, 0) + READ_SLACK_BYTES,
      )
      let chunk = readFile(file, from, length)
      while (chunk.indexOf(0x0a) < 0 && from + length < segment.size) {
        length = Math.min(length * 2, segment.size - from)
        chunk = readFile(file, from, length)
      }
      if (chunk.indexOf(0x0a) < 0) {
        // A torn last line (the writer died mid-write): skipped, counted
        // (it was not counted as waiting: it has no newline).
        this.torn++
        this.#taken = segment.start + segment.size
        continue
      }
      let offset = 0
      for (;;) {
        const newline = chunk.indexOf(0x0a, offset)
        if (newline < 0) break
        const line = chunk.toString('utf8', offset, newline)
        if (
          entries.length > 0 &&
          (entries.length >= maxCount || bytes + line.length > maxBytes)
        ) {
          full = true
          break
        }
        offset = newline + 1
        // Lines this process wrote itself are whole (a failed write is cut
        // back, and reading stops at the last whole write): only an
        // adopted outbox's lines, from a process that may have died
        // mid-write or lost power, are parsed to tell.
        if (this.#adopted ? isEntry(line) : line.endsWith('}')) {
          entries.push(line)
          bytes += line.length
        } else {
          // Counted as waiting (it ends in a newline), never to be sent.
          this.torn++
          this.#waiting--
        }
      }
      this.#taken = segment.start + from + offset
    }
    if (this.#taken >= this.#end) {
      this.#hot = true
      // After a failed write: what waited in memory comes next.
      this.#window = this.#spill
      this.#windowEnds = []
      this.#windowHead = 0
      this.#spill = []
    }
    return entries
  }

  /** The descriptor to append `bytes` to, starting a new segment when the current one is full. */
  #segmentFor(bytes: number): number {
    const last = this.#segments.at(-1)
    if (
      this.#writeFd !== undefined &&
      last !== undefined &&
      (last.size === 0 || last.size + bytes <= SEGMENT_BYTES)
    )
      return this.#writeFd
    if (this.#writeFd !== undefined) closeSync(this.#writeFd)
    const file = join(this.directory, segmentName(this.#end))
    // Set again only once the new segment is open.
    this.#writeFd = undefined
    this.#writeFd = openOwnFile(file, APPEND_CREATE | constants.O_EXCL, 0o600)
    this.#segments.push({ start: this.#end, size: 0 })
    return this.#writeFd
  }

  #writeAcked(): void {
    const text = String(this.#acked).padStart(ACKED_WIDTH, ' ')
    writeSync(this.#ackedFd, text, 0, 'latin1')
  }
}

/** A line a writer wrote whole: JSON text of an entry (a torn one is not). */
function isEntry(line: string): boolean {
  if (!line.startsWith('{') || !line.endsWith('}')) return false
  try {
    const entry = JSON.parse(line) as Record<string, unknown> | null
    return typeof entry?.message === 'string'
  } catch {
    return false
  }
}

/** The writer folders this thread holds. */
const liveWriters = new Set<string>()

/**
 * This process's outboxes for one server, under one lock: a writer folder
 * made on first use, holding one outbox per experiment.
 */
export class OutboxWriter {
  readonly directory: string
  readonly #lockFd: number
  readonly #outboxes = new Set<Outbox>()
  /** Outboxes made so far: each gets its own folder, even for one prefix. */
  #made = 0

  private constructor(directory: string, lockFd: number) {
    this.directory = directory
    this.#lockFd = lockFd
  }

  /** Makes this process's writer folder in `serverDirectory` and locks it. */
  static create(serverDirectory: string, flock: Flock): OutboxWriter {
    makeFolder(serverDirectory)
    const name = [
      String(Date.now()).padStart(15, '0'),
      process.pid,
      threadId,
      randomBytes(4).toString('hex'),
    ].join('-')
    const directory = join(serverDirectory, name)
    makeFolder(directory)
    const lockFd = openOwnFile(
      join(directory, 'writer.lock'),
      APPEND_CREATE,
      0o600,
    )
    if (!flock.tryLock(lockFd)) {
      closeSync(lockFd)
      throw mlDashError(
        'ML_DASH_STORE_IO',
        `another process holds the lock of the new outbox "${directory}"`,
      )
    }
    liveWriters.add(directory)
    return new OutboxWriter(directory, lockFd)
  }

  /**
   * A new outbox for `prefix`, in a folder of its own: two channels of one
   * process for the same experiment (an Experiment and a transport) each
   * have their own, and a prefix opened again after a close that kept
   * entries starts a new one (the kept one is an orphan for the next adopter).
   */
  outbox(prefix: string, info?: ExperimentInfo): Outbox {
    const meta: OutboxMeta = { prefix, created: new Date().toISOString() }
    if (info !== undefined) meta.info = info
    const name = `${String(++this.#made).padStart(6, '0')}-${prefixKey(prefix)}`
    const outbox = Outbox.create(join(this.directory, name), meta)
    this.#outboxes.add(outbox)
    return outbox
  }

  /**
   * Closes `outbox`: removed when the server took everything, else kept for
   * the next process or `ml-dash-logs sync`. True when it was the writer's
   * last: the writer is closed then (its folder removed when nothing is left
   * in it, else unlocked: an orphan for the next process).
   */
  release(outbox: Outbox): boolean {
    if (!this.#outboxes.delete(outbox)) return false
    try {
      if (outbox.empty) outbox.remove()
      else outbox.close()
    } finally {
      if (this.#outboxes.size === 0) this.#closeWriter()
    }
    return this.#outboxes.size === 0
  }

  /** The last outbox went: the folder goes too when nothing is left in it; the lock is released either way. */
  #closeWriter(): void {
    try {
      if (readdirSync(this.directory).length === 1)
        rmSync(this.directory, { recursive: true, force: true })
    } finally {
      liveWriters.delete(this.directory)
      closeSync(this.#lockFd)
    }
  }
}

/**
 * The orphaned writer folders in `serverDirectory`, oldest first, each
 * locked for the caller (another adopter skips it), with its outboxes.
 * `release()` unlocks a folder and removes it when nothing is left in it.
 */
export function claimOrphans(
  serverDirectory: string,
  flock: Flock,
): ClaimedWriter[] {
  let names: string[]
  try {
    names = readdirSync(serverDirectory).sort()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw mlDashError(
      'ML_DASH_STORE_IO',
      `cannot read the outbox folder "${serverDirectory}": ${(error as Error).message}`,
      error,
    )
  }
  const claimed: ClaimedWriter[] = []
  for (const name of names) {
    const directory = join(serverDirectory, name)
    // This thread's own writers are alive, whatever the lock says (on NFS,
    // flock is emulated per process).
    if (liveWriters.has(directory) || !isFolder(directory)) continue
    let lockFd: number
    try {
      // Not created: a folder without its lock yet is a writer being made.
      lockFd = openOwnFile(join(directory, 'writer.lock'), WRITE_APPEND)
    } catch {
      continue
    }
    try {
      // Another user's outbox is not sent with this user's token.
      const owner = fstatSync(lockFd).uid
      if (owner !== (process.getuid?.() ?? owner) || !flock.tryLock(lockFd)) {
        closeSync(lockFd)
        continue
      }
      const outboxes = readdirSync(directory)
        .filter((entry) => isFolder(join(directory, entry)))
        .map((entry) => join(directory, entry))
      claimed.push({
        directory,
        outboxes,
        release: () => {
          try {
            const left = readdirSync(directory).filter(
              (e) => e !== 'writer.lock',
            )
            if (left.length === 0)
              rmSync(directory, { recursive: true, force: true })
          } finally {
            closeSync(lockFd)
          }
        },
      })
    } catch {
      // Vanished meanwhile: not an orphan to send.
      closeSync(lockFd)
    }
  }
  return claimed
}

/** An orphaned writer folder, locked by this process. */
export interface ClaimedWriter {
  directory: string
  /** Its outbox folders. */
  outboxes: string[]
  release(): void
}

/** The folder name of an experiment's outbox: a hash of its prefix (prefixes may be long and deep). */
function prefixKey(prefix: string): string {
  return createHash('sha256').update(prefix).digest('hex').slice(0, 24)
}

/** The folder of `url`'s outboxes under `root`: its host, readable, and a hash of the whole URL. */
export function serverDirectory(root: string, url: string): string {
  // As URL writes it (scheme and host lower-cased), without a trailing slash.
  const parsed = new URL(url)
  const host = parsed.host.replace(/[^A-Za-z0-9.-]/g, '_')
  const canonical = parsed.href.replace(/\/+$/, '')
  const hash = createHash('sha256').update(canonical).digest('hex').slice(0, 12)
  return join(root, `${host}-${hash}`)
}

function segmentName(start: number): string {
  return `${String(start).padStart(16, '0')}.log`
}

function listSegments(directory: string): Segment[] {
  const starts = readdirSync(directory)
    .filter((name) => /^\d{16}\.log$/.test(name))
    .map((name) => Number(name.slice(0, 16)))
    .sort((a, b) => a - b)
  return starts.map((start) => {
    const fd = openOwnFile(join(directory, segmentName(start)), READ_ONLY)
    try {
      return { start, size: fstatSync(fd).size }
    } finally {
      closeSync(fd)
    }
  })
}

function countLines(file: string, from: number): number {
  const fd = openOwnFile(file, READ_ONLY)
  try {
    const chunk = Buffer.alloc(1 << 20)
    let count = 0
    for (let at = from; ;) {
      const read = readSync(fd, chunk, 0, chunk.length, at)
      if (read === 0) return count
      const view = chunk.subarray(0, read)
      for (let i = view.indexOf(0x0a); i >= 0; i = view.indexOf(0x0a, i + 1))
        count++
      at += read
    }
  } finally {
    closeSync(fd)
  }
}

function readFile(file: string, from: number, length: number): Buffer {
  const fd = openOwnFile(file, READ_ONLY)
  try {
    // Only the bytes read are returned: no need to clear it first.
    const buffer = Buffer.allocUnsafe(length)
    let read = 0
    while (read < length) {
      const got = readSync(fd, buffer, read, length - read, from + read)
      if (got === 0) break
      read += got
    }
    return buffer.subarray(0, read)
  } finally {
    closeSync(fd)
  }
}

function readFd(fd: number, from: number, length: number): string {
  const buffer = Buffer.alloc(length)
  const read = readSync(fd, buffer, 0, length, from)
  return buffer.toString('utf8', 0, read)
}

function readWhole(file: string): string {
  const fd = openOwnFile(file, READ_ONLY)
  try {
    return readFd(fd, 0, fstatSync(fd).size)
  } finally {
    closeSync(fd)
  }
}

function writeWhole(file: string, text: string): void {
  const fd = openOwnFile(file, APPEND_CREATE | constants.O_EXCL, 0o600)
  try {
    writeSync(fd, text)
  } finally {
    closeSync(fd)
  }
}

/** Makes `directory` (and what leads to it), refusing a link at its own name. */
function makeFolder(directory: string): void {
  // Only its user may read it: entries are the user's logs.
  mkdirSync(directory, { recursive: true, mode: 0o700 })
  if (!isFolder(directory))
    throw mlDashError(
      'ML_DASH_STORE_IO',
      `refusing to use "${directory}" as an outbox folder: it is a link or not a folder`,
    )
}

function isFolder(path: string): boolean {
  try {
    return lstatSync(path).isDirectory()
  } catch {
    return false
  }
}

/**
 * Entries as a segment holds them, a line each, written straight into the
 * scratch buffer (the caller writes it at once); `ends[i]` is where entry
 * `i`'s line ends.
 */
function segmentLines(
  entries: readonly EncodedEntry[],
  ends: number[],
): Buffer {
  let most = 0
  for (const entry of entries) most += mostUtf8Bytes(entry.length) + 1
  const buffer = scratchBuffer(most)
  let at = 0
  for (let i = 0; i < entries.length; i++) {
    at += buffer.write(entries[i]!, at, 'utf8')
    buffer[at++] = 0x0a
    ends[i] = at
  }
  return buffer.subarray(0, at)
}
