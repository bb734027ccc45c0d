/**
 * The local ml-dash store: `<dashRoot>/<prefix>/logs/logs.jsonl`.
 *
 * Appends follow the SDK's lock protocol (ml-dash-spec §4), one whole batch
 * per lock hold: take `flock(LOCK_EX)` on `logs/.log_sequence.lock`, repair
 * the file's end and read `logs/.log_sequence`, append all lines in one
 * write, store the next number, unlock. The next number is the larger of the
 * counter and one past the file's last entry, so a counter left behind by a
 * crashed writer never causes a number to be handed out twice.
 *
 * Failure semantics: `append` returns a {@link StoreResult}, never throws.
 * A write that fails part-way is cut back to where it started, so the file
 * never keeps half a batch; so is a batch whose counter could not be stored
 * after it, so that its retry does not write it twice. Permission and
 * missing-path errors are permanent (`failure`); a full disk or an exhausted
 * file table is `retryable`. A batch whose numbers would pass 2^53 - 1 is
 * refused (`failure`), never written with numbers that repeat.
 *
 * Thread use: the wait for the lock runs off the event loop; the work under
 * the lock is a handful of synchronous syscalls, and `appendSync` exists for
 * the process-exit drain.
 *
 * Links (issue 12): the store's own files (`experiment.json`, its temporary
 * file, `.experiment.lock`, `logs/logs.jsonl`, `logs/logs.jsonl.torn`,
 * `logs/.log_sequence`, `logs/.log_sequence.lock`) are opened with
 * `O_NOFOLLOW`. A symbolic link at one of those names is refused, with an
 * error naming it (code `ML_DASH_STORE_IO`, its cause ELOOP; permanent): the store shares its folder with
 * other programs, and a link there must never let a log call rewrite, cut,
 * create or lock a file elsewhere; what the link points at stays byte for
 * byte as it was. Linked *folders* are followed, deliberately: the store
 * root, the experiment folder, `logs/` or any folder above may be a link,
 * to put an experiment on another disk on purpose, and so a prefix's files
 * may then lie outside the root (the check on the prefix is on its text).
 *
 * Nesting (issue 12): an experiment whose prefix leads through another
 * existing experiment (`a/b/c/d` when `a/b/c/experiment.json` exists) is
 * not opened: the error names both prefixes, has the code
 * {@link NESTED_EXPERIMENT_CODE} and is permanent.
 */
import type { Stats } from 'node:fs'
import {
  closeSync,
  constants,
  ftruncateSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  readSync,
  writeSync,
} from 'node:fs'
import { isAbsolute, join, relative, resolve, sep } from 'node:path'
import type { EncodedEntry } from '../core/entry.js'
import type { ExperimentPrefix } from '../core/prefix.js'
import type { StoreResult } from '../core/result.js'
import { SUCCESS } from '../core/result.js'
import { configError } from '../core/config-error.js'
import type { MlDashError, MlDashErrorCode } from '../core/error-codes.js'
import { mlDashError } from '../core/error-codes.js'
import { debug } from '../debug.js'
import type { ExperimentInfo } from './experiment-file.js'
import {
  APPEND_CREATE,
  NOT_A_FILE,
  isSymlink,
  openOwnFile,
  openOwnFileStat,
} from './own-file.js'
import {
  writeExperimentFile,
  writeExperimentFileSync,
} from './experiment-file.js'
import { enclosedExperiment, enclosingExperiment } from './experiment-place.js'
import type { Flock } from './flock.js'
import { loadFlock, loadFlockSync } from './flock.js'
import { repairTail } from './log-tail.js'
import { mostUtf8Bytes, scratchBuffer } from './scratch-buffer.js'

/** Error codes after which a later attempt may succeed. */
const RETRYABLE_CODES = new Set([
  'ENOSPC',
  'EDQUOT',
  'EAGAIN',
  'EBUSY',
  'EMFILE',
  'ENFILE',
  'EINTR',
  'EIO',
])

/**
 * Longest wait for a lock in the synchronous paths (the `exit` drain): a
 * lock held longer (a stuck writer, or this process's own pending wait on
 * another descriptor) fails the batch, counted and reported, instead of
 * keeping the process from exiting.
 */
export const EXIT_LOCK_WAIT_MS = 2000

/** The `code` of the error when an experiment would lie inside another one. */
export const NESTED_EXPERIMENT_CODE =
  'ML_DASH_NESTED_EXPERIMENT' satisfies MlDashErrorCode

/** An open local experiment. */
export interface LocalStore {
  /** The experiment's folder, `<dashRoot>/<prefix>`. */
  readonly directory: string
  /**
   * Appends a batch under one lock hold; waits for the lock off-thread.
   * `stillWanted`, asked once the lock is held, can cancel the write (the
   * exit drain wrote the batch meanwhile).
   */
  append(
    entries: readonly EncodedEntry[],
    stillWanted?: () => boolean,
  ): Promise<StoreResult>
  /** The same, blocking (the lock waited for at most {@link EXIT_LOCK_WAIT_MS}): for the synchronous drain at process exit. */
  appendSync(entries: readonly EncodedEntry[]): StoreResult
  /**
   * Releases the lock file. Appends after close fail; one already waiting
   * for the lock still writes its batch under it, and the descriptor closes
   * after its unlock.
   */
  close(): void
}

/**
 * Opens (creating when missing) the experiment folder, its `experiment.json`
 * and log files, and repairs what a crash may have left.
 *
 * @throws Error naming the path when the folder cannot be created or written,
 *   or naming both prefixes when the prefix leads through another experiment.
 */
export async function openLocalStore(
  dashRoot: string,
  prefix: ExperimentPrefix,
  info: ExperimentInfo = {},
): Promise<LocalStore> {
  const flock = await loadFlock()
  // After the await: nothing else in this process runs between the look and the mkdir.
  const directory = placedDirectory(dashRoot, prefix)
  const logs = makeFolders(directory)
  await writeExperimentFile(directory, prefix, info, flock).catch(
    (error: unknown) => {
      throw pathError('cannot open the experiment folder', directory, error)
    },
  )
  const store = new FileStore(directory, logs, openLock(directory, logs), flock)
  return repaired(store, await store.append([]))
}

/**
 * The same, blocking: for a store first needed inside the process `exit`
 * event (entries logged in the same tick as `process.exit()`), where no
 * promise settles. Waits for the locks on this thread.
 *
 * @throws Error naming the path when the folder cannot be created or written,
 *   or naming both prefixes when the prefix leads through another experiment.
 */
export function openLocalStoreSync(
  dashRoot: string,
  prefix: ExperimentPrefix,
  info: ExperimentInfo = {},
): LocalStore {
  const directory = placedDirectory(dashRoot, prefix)
  const flock = loadFlockSync()
  const logs = makeFolders(directory)
  try {
    writeExperimentFileSync(directory, prefix, info, flock, EXIT_LOCK_WAIT_MS)
  } catch (error) {
    throw pathError('cannot open the experiment folder', directory, error)
  }
  const store = new FileStore(directory, logs, openLock(directory, logs), flock)
  return repaired(store, store.appendSync([]))
}

/**
 * The experiment's folder, checked to lie inside the root and not inside
 * another experiment. Looked at before anything is created, so a refused
 * prefix leaves no folder behind.
 */
function placedDirectory(dashRoot: string, prefix: ExperimentPrefix): string {
  const directory = experimentDirectory(dashRoot, prefix)
  const enclosing = enclosingExperiment(dashRoot, prefix.segments)
  if (enclosing !== undefined) {
    // Not a retryable code: opening again meets the same experiment.
    throw mlDashError(
      NESTED_EXPERIMENT_CODE,
      `prefix "${prefix.prefix}" leads through the experiment "${enclosing}" (its folder holds experiment.json): an experiment may not lie inside another one's folder`,
    )
  }
  const enclosed = enclosedExperiment(dashRoot, prefix.segments)
  if (enclosed !== undefined) {
    throw mlDashError(
      NESTED_EXPERIMENT_CODE,
      `prefix "${prefix.prefix}" would hold the experiment "${enclosed}" in its folder: an experiment may not lie inside another one's folder`,
    )
  }
  return directory
}

/** The experiment's folders, as the SDK makes them; returns `logs/`. */
function makeFolders(directory: string): string {
  try {
    for (const sub of ['logs', 'metrics', 'files'])
      mkdirSync(join(directory, sub), { recursive: true })
  } catch (error) {
    throw pathError('cannot open the experiment folder', directory, error)
  }
  return join(directory, 'logs')
}

function openLock(directory: string, logs: string): number {
  try {
    return openOwnFile(join(logs, '.log_sequence.lock'), APPEND_CREATE)
  } catch (error) {
    throw pathError('cannot open the experiment folder', directory, error)
  }
}

/** The store once its repair on open succeeded; else closed, and the error thrown. */
function repaired(store: FileStore, result: StoreResult): LocalStore {
  if (result.status !== 'success') {
    store.close()
    throw result.error
  }
  return store
}

/** `<dashRoot>/<prefix>`, checked to lie inside the root. */
export function experimentDirectory(
  dashRoot: string,
  prefix: ExperimentPrefix,
): string {
  const root = resolve(dashRoot)
  const directory = join(root, ...prefix.segments)
  const inside = relative(root, directory)
  // `..` or `../…` leaves the root; a folder merely named `...a` does not.
  if (
    inside === '' ||
    inside === '..' ||
    inside.startsWith(`..${sep}`) ||
    isAbsolute(inside)
  ) {
    throw configError(
      `prefix "${prefix.prefix}" leads outside the store root "${root}"`,
    )
  }
  return directory
}

class FileStore implements LocalStore {
  readonly directory: string
  readonly #logFile: string
  readonly #counterFile: string
  readonly #lockFile: string
  readonly #lockFd: number
  readonly #flock: Flock
  #closed = false
  /** Appends waiting for or holding the lock; the last one closes the descriptor after close(). */
  #users = 0
  /**
   * The log as this store's last append left it. When it is still that
   * file, at that size and modification time, under the next lock hold,
   * nobody wrote it meanwhile (every writer's append grows it), so its
   * tail need not be read again: its last number is known. Anything else
   * reads the tail (and repairs it). The counter is read every time.
   */
  #known: KnownTail | undefined
  /** The log's and the counter's descriptors, kept from one hold to the next. */
  readonly #files: StoreFiles

  constructor(directory: string, logs: string, lockFd: number, flock: Flock) {
    this.directory = directory
    this.#logFile = join(logs, 'logs.jsonl')
    this.#files = new StoreFiles(this.#logFile)
    this.#counterFile = join(logs, '.log_sequence')
    this.#lockFile = join(logs, '.log_sequence.lock')
    this.#lockFd = lockFd
    this.#flock = flock
  }

  async append(
    entries: readonly EncodedEntry[],
    stillWanted?: () => boolean,
  ): Promise<StoreResult> {
    if (this.#closed) return closedResult(this.directory)
    this.#users++
    try {
      await this.#flock.lock(this.#lockFd)
    } catch (error) {
      this.#leave()
      return classify(error, this.#lockFile)
    }
    // A close() during the wait does not stop the batch: it was accepted, and
    // the lock is held now. The descriptor stays open until after the unlock:
    // closing it would drop the lock under the write.
    try {
      return this.#underLock(entries, stillWanted)
    } finally {
      this.#leave()
    }
  }

  appendSync(entries: readonly EncodedEntry[]): StoreResult {
    if (this.#closed) return closedResult(this.directory)
    try {
      this.#flock.lockSync(this.#lockFd, EXIT_LOCK_WAIT_MS)
    } catch (error) {
      return classify(error, this.#lockFile)
    }
    return this.#underLock(entries)
  }

  close(): void {
    if (this.#closed) return
    this.#closed = true
    // An append waiting for or holding the lock still uses the descriptor.
    if (this.#users === 0) this.#release()
  }

  /** An append is done with the descriptor (unlocked, or never locked). */
  #leave(): void {
    this.#users--
    if (this.#closed && this.#users === 0) this.#release()
  }

  #release(): void {
    this.#files.closeKept()
    try {
      closeSync(this.#lockFd)
    } catch (error) {
      debug('closing %s failed: %s', this.#lockFile, String(error))
    }
  }

  /** Runs with the lock held, and unlocks whatever happens. */
  #underLock(
    entries: readonly EncodedEntry[],
    stillWanted?: () => boolean,
  ): StoreResult {
    const files = this.#files
    files.path = this.#logFile
    try {
      const wanted = stillWanted === undefined || stillWanted()
      const result = this.#write(files, wanted ? entries : [])
      // After any failure the next hold opens both files afresh.
      if (result.status !== 'success') files.closeKept()
      return result
    } catch (error) {
      files.closeKept()
      return classify(error, files.path)
    } finally {
      files.endHold()
      this.#unlock()
    }
  }

  /**
   * One descriptor on the log (read, repair, append) and one on the counter
   * (read, then write). A batch with no entries (the repair on open) creates
   * no file.
   */
  #write(files: StoreFiles, entries: readonly EncodedEntry[]): StoreResult {
    const writing = entries.length > 0
    // Kept for the next hold only when opened to append.
    const opened = files.open(
      this.#logFile,
      writing ? APPEND_READ_CREATE : constants.O_RDWR,
      writing,
    )
    const log = opened?.fd
    const known = this.#known
    this.#known = undefined
    const now = opened?.stat
    const unchanged =
      known !== undefined &&
      now !== undefined &&
      now.ino === known.ino &&
      now.dev === known.dev &&
      now.size === known.size &&
      now.mtimeMs === known.mtimeMs
    const tail =
      log === undefined
        ? NO_TAIL
        : unchanged
          ? { lastSequence: known.next - 1, tornBytes: 0, size: known.size }
          : repairTail(log, this.#logFile)
    if (tail.tornBytes > 0)
      debug('cut %d torn bytes off %s', tail.tornBytes, this.#logFile)
    const counterFd = files.open(this.#counterFile, constants.O_RDWR, true)?.fd
    // Read every time: a counter written alone (by hand) must be seen.
    const counter =
      counterFd === undefined ? NO_COUNTER : readCounter(counterFd)
    const next = Math.max(counter.value, tail.lastSequence + 1)
    if (!Number.isSafeInteger(next + entries.length)) {
      const file = next === counter.value ? this.#counterFile : this.#logFile
      return tooLarge(file, next, entries.length)
    }
    if (!writing) {
      return next === counter.value
        ? SUCCESS
        : this.#storeCounter(files, counterFd, next)
    }
    files.path = this.#logFile
    appendLines(log!, entries, next, tail.size)
    const stored = this.#storeCounter(
      files,
      counterFd,
      next + entries.length,
      counter.length,
    )
    if (stored.status !== 'success') return rollBack(log!, tail.size, stored)
    const after = fstatSync(log!)
    this.#known = {
      ino: after.ino,
      dev: after.dev,
      size: after.size,
      mtimeMs: after.mtimeMs,
      next: next + entries.length,
    }
    return stored
  }

  /** Writes the next number, creating the counter file when missing. */
  #storeCounter(
    files: StoreFiles,
    counterFd: number | undefined,
    next: number,
    /** The file's length before (undefined: unknown). */
    length?: number,
  ): StoreResult {
    try {
      const fd =
        counterFd ??
        files.open(
          this.#counterFile,
          constants.O_RDWR | constants.O_CREAT,
          true,
        )!.fd
      writeCounter(fd, next, counterFd === undefined ? 0 : length)
      return SUCCESS
    } catch (error) {
      return classify(error, this.#counterFile)
    }
  }

  #unlock(): void {
    try {
      this.#flock.unlock(this.#lockFd)
    } catch (error) {
      debug('unlocking %s failed: %s', this.#lockFile, String(error))
    }
  }
}

/**
 * The descriptors a store's lock holds use, and the file a hold works on
 * (named in errors). The log's (opened to append) and the counter's are
 * kept open from one hold to the next, while the process keeps fewer than
 * {@link MAX_KEPT_DESCRIPTORS}: a hold then looks at each name (`lstat`)
 * instead of opening, checking and closing it, and uses the kept
 * descriptor when the name still holds that same regular file; anything
 * else (a file replaced, removed, or turned into a link) is opened as the
 * first time. Kept ones close with the store, and after a hold that failed.
 */
class StoreFiles {
  path: string
  readonly #kept = new Map<string, KeptFile>()
  readonly #temporary: number[] = []

  constructor(path: string) {
    this.path = path
  }

  /**
   * A descriptor for `file` and its status, or undefined when it does not
   * exist and `flags` do not create it. `keep`: the descriptor may serve
   * later holds.
   */
  open(
    file: string,
    flags: number,
    keep: boolean,
  ): { fd: number; stat: Stats } | undefined {
    this.path = file
    const kept = this.#kept.get(file)
    if (kept !== undefined) {
      const stat = lstatSync(file, { throwIfNoEntry: false })
      if (
        stat !== undefined &&
        stat.isFile() &&
        stat.ino === kept.ino &&
        stat.dev === kept.dev
      )
        return { fd: kept.fd, stat }
      this.#close(file, kept)
    }
    const opened = openIfPresent(file, flags)
    if (opened === undefined) return undefined
    if (keep && keptDescriptors < MAX_KEPT_DESCRIPTORS) {
      keptDescriptors++
      this.#kept.set(file, {
        fd: opened.fd,
        ino: opened.stat.ino,
        dev: opened.stat.dev,
      })
    } else this.#temporary.push(opened.fd)
    return opened
  }

  /** The hold is over: closes what it opened and did not keep. */
  endHold(): void {
    for (const fd of this.#temporary.splice(0)) closeQuietly(fd)
  }

  /** Closes the kept descriptors too (a failed hold, the store's close). */
  closeKept(): void {
    for (const [file, kept] of this.#kept) this.#close(file, kept)
  }

  #close(file: string, kept: KeptFile): void {
    this.#kept.delete(file)
    keptDescriptors--
    closeQuietly(kept.fd)
  }
}

/** A descriptor kept open, and the file it was opened on. */
interface KeptFile {
  fd: number
  ino: number
  dev: number
}

/**
 * Most descriptors the stores of a process keep open between holds: two
 * for each of 256 experiments (a router opens at most 256 by routing). A
 * store beyond it opens and closes its files in every hold.
 */
const MAX_KEPT_DESCRIPTORS = 512
let keptDescriptors = 0

/** Closes a descriptor; a close that throws is logged, so the unlock after it still runs. */
function closeQuietly(fd: number): void {
  try {
    closeSync(fd)
  } catch (error) {
    debug('closing a log descriptor failed: %s', String(error))
  }
}

/** Open for reading and appending, created when missing (the log, when writing). */
const APPEND_READ_CREATE =
  constants.O_RDWR | constants.O_APPEND | constants.O_CREAT

/** The log file and its size after this store's last append, and the next number it gave the counter. */
interface KnownTail {
  ino: number
  dev: number
  size: number
  mtimeMs: number
  next: number
}

/** What an absent log holds. */
const NO_TAIL = { lastSequence: -1, tornBytes: 0, size: 0 }

/**
 * A descriptor for `file`, or undefined when it does not exist and `flags`
 * do not create it. A link at its name is refused (ELOOP), dangling or not.
 */
function openIfPresent(
  file: string,
  flags: number,
): { fd: number; stat: Stats } | undefined {
  try {
    return openOwnFileStat(file, flags, 0o644)
  } catch (error) {
    if (
      (error as NodeJS.ErrnoException).code === 'ENOENT' &&
      (flags & constants.O_CREAT) === 0
    )
      return undefined
    throw error
  }
}

/** Writes the batch's lines with one write; on failure, cuts the file back to `size`. */
function appendLines(
  fd: number,
  entries: readonly EncodedEntry[],
  first: number,
  size: number,
): void {
  if (entries.length === 0) return
  const bytes = storeLines(entries, first)
  let written = 0
  try {
    while (written < bytes.length) written += writeSync(fd, bytes, written)
  } catch (error) {
    if (written > 0) cutBack(fd, size, error)
    throw error
  }
}

/**
 * The batch's store lines (what `toStoreLine` gives, joined), written
 * straight into the scratch buffer: each entry's text lands after its
 * `{"sequenceNumber":n`, and its opening brace becomes the comma, so no
 * line is made as a string. The caller writes it at once.
 */
function storeLines(entries: readonly EncodedEntry[], first: number): Buffer {
  let most = 0
  for (const entry of entries)
    most += mostUtf8Bytes(entry.length) + LINE_OVERHEAD
  const buffer = scratchBuffer(most)
  let at = 0
  for (let i = 0; i < entries.length; i++) {
    // Byte by byte: cheaper than a string and a call for each line's number.
    for (let k = 0; k < NUMBER_KEY.length; k++) buffer[at++] = NUMBER_KEY[k]!
    const digits = String(first + i)
    for (let k = 0; k < digits.length; k++) buffer[at++] = digits.charCodeAt(k)
    const brace = at
    at += buffer.write(entries[i]!, at, 'utf8')
    buffer[brace] = COMMA
    buffer[at++] = NEWLINE
  }
  return buffer.subarray(0, at)
}

const NUMBER_KEY = Buffer.from('{"sequenceNumber":', 'latin1')
/** `{"sequenceNumber":` (18), a safe integer's digits (16 at most) and the newline. */
const LINE_OVERHEAD = 40
const COMMA = 0x2c
const NEWLINE = 0x0a

/**
 * Cuts a partly written batch off. When that fails too, part of the batch
 * stays in the file and a retry would write that part twice: the error
 * thrown then has no code, which makes it permanent.
 */
function cutBack(fd: number, size: number, writeError: unknown): void {
  try {
    ftruncateSync(fd, size)
  } catch (error) {
    const detail = writeError instanceof Error ? writeError.message : ''
    throw new Error(
      `${detail}; cutting the part written back off failed too (${String(error)}), so the batch is not retried`,
      { cause: error },
    )
  }
}

/**
 * The counter write failed after the batch was appended: cuts the batch off
 * again, so that a retry writes it once. If even that fails, the lines stay
 * and count as written (`success`): the next append numbers past them, from
 * the log's last entry, while a retry would append them a second time.
 */
function rollBack(fd: number, size: number, failed: StoreResult): StoreResult {
  try {
    ftruncateSync(fd, size)
    return failed
  } catch (error) {
    debug('keeping a batch whose counter write failed: %s', String(error))
    return SUCCESS
  }
}

/**
 * The counter as the SDK reads it (`int(text.strip())`); 0 when empty or
 * unreadable. It may be past 2^53 - 1 (then inexact): the caller refuses it.
 */
function readCounter(fd: number): Counter {
  const buffer = Buffer.alloc(64)
  const read = readSync(fd, buffer, 0, buffer.length, 0)
  const text = buffer.toString('utf8', 0, read).trim()
  // 64 bytes read: the file may be longer (then it is always cut).
  const length = read < buffer.length ? read : Infinity
  return { value: /^\d+$/.test(text) ? Number(text) : 0, length }
}

/** The counter's number, and the file's length in bytes (Infinity: unknown). */
interface Counter {
  value: number
  length: number
}

/** A missing counter. */
const NO_COUNTER: Counter = { value: 0, length: 0 }

/**
 * Stores the next number as bare digits. The new text is written over the
 * old before the file is cut to its length (numbers only grow), so a crash
 * in between leaves a whole number, never an empty file.
 */
function writeCounter(fd: number, next: number, length?: number): void {
  const text = Buffer.from(String(next))
  writeSync(fd, text, 0, text.length, 0)
  // A file no longer than the new number has nothing left after it.
  if (length === undefined || length > text.length)
    ftruncateSync(fd, text.length)
}

/**
 * Refuses a batch whose numbers would pass 2^53 - 1: above it a double
 * cannot tell neighbours apart (two entries would share a number) and from
 * 10^21 on `String` writes `1e+21`. `file` gave the next number, `next`.
 */
function tooLarge(file: string, next: number, count: number): StoreResult {
  const limit = `${Number.MAX_SAFE_INTEGER} (2^53 - 1, the largest integer JavaScript counts exactly)`
  // An unsafe `next` is already rounded: printing it would misquote the file.
  const problem = Number.isSafeInteger(next)
    ? `the next sequence number it gives, ${next}, plus ${count} ${count === 1 ? 'entry' : 'entries'} passes ${limit}`
    : `it holds a sequence number past ${limit}`
  return {
    status: 'failure',
    error: mlDashError(
      'ML_DASH_STORE_IO',
      `cannot write "${file}": ${problem}; nothing was written`,
    ),
  }
}

function classify(error: unknown, path: string): StoreResult {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  const wrapped = pathError('cannot write', path, error)
  return code !== undefined && RETRYABLE_CODES.has(code)
    ? { status: 'retryable', error: wrapped }
    : { status: 'failure', error: wrapped }
}

/** The failure of a write to a closed local store; `name` is its folder or prefix. */
export function closedResult(name: string): StoreResult {
  return {
    status: 'failure',
    error: mlDashError(
      'ML_DASH_CLOSED',
      `the local store for "${name}" is closed`,
    ),
  }
}

/**
 * `ml-dash-logs: cannot write "<path>": EACCES: permission denied, open ...`
 * with code `ML_DASH_STORE_IO` and the file system's error as `cause`; for an open refused because the file is a link, the
 * sentence says so and names the link (which may be a sibling of `path`).
 */
function pathError(what: string, path: string, cause: unknown): MlDashError {
  const detail = cause instanceof Error ? cause.message : String(cause)
  const link = refusedLink(cause)
  const code = (cause as NodeJS.ErrnoException | undefined)?.code
  const message =
    link !== undefined
      ? `ml-dash-logs: refusing to open "${link}": it is a symbolic link (the store never follows links to its own files)`
      : code === NOT_A_FILE
        ? detail
        : `ml-dash-logs: ${what} "${path}": ${detail}`
  return mlDashError('ML_DASH_STORE_IO', message, cause)
}

/**
 * The path of an open that `O_NOFOLLOW` refused because it names a link,
 * else undefined. ELOOP (EMLINK on FreeBSD) may also mean a loop among the
 * linked folders above the file, which is not the file being a link: the
 * name is looked at to tell.
 */
function refusedLink(cause: unknown): string | undefined {
  const { code, path } = (cause ?? {}) as NodeJS.ErrnoException
  if ((code !== 'ELOOP' && code !== 'EMLINK') || typeof path !== 'string')
    return undefined
  return isSymlink(path) ? path : undefined
}
