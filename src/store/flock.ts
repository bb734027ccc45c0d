/**
 * BSD `flock(2)` for Node, through koffi (a Node-API FFI with prebuilt
 * binaries), calling the C library's own `flock`.
 *
 * Why flock exactly: the ml-dash Python SDK guards `logs.jsonl` with
 * `fcntl.flock(fd, LOCK_EX)`. On Linux, flock and POSIX record locks
 * (fcntl/lockf/OFD) do not exclude each other, so only a real flock on the
 * same file interoperates (ml-dash-spec §4). koffi is Node-API, so it loads
 * in worker threads (pino runs transports in one) and a pending wait does
 * not crash a worker that is torn down.
 *
 * The binding is loaded on first use ({@link loadFlock}), never at import.
 * A blocking wait runs on koffi's own thread, so the event loop keeps going
 * while a Python writer holds the lock; the uncontended case is one
 * non-blocking syscall on the calling thread.
 */
import { constants } from 'node:os'
import { describeThrown } from '../core/serialize.js'
import { mlDashError } from '../core/error-codes.js'
import { nativeRequire } from './native-require.js'

const LOCK_EX = 2
const LOCK_NB = 4
const LOCK_UN = 8

/** The lock operations the local store uses. */
export interface Flock {
  /** Takes an exclusive lock on `fd`, waiting off-thread if it is held. */
  lock(fd: number): Promise<void>
  /**
   * Takes an exclusive lock on `fd`, blocking this thread while it is held;
   * with `waitMs`, for at most that long (then throws, code
   * `ERR_ML_DASH_LOCK_TIMEOUT`): the exit drain must never hang on a lock.
   */
  lockSync(fd: number, waitMs?: number): void
  /** Takes the lock on `fd` if no one holds it: true when taken, false when held. */
  tryLock(fd: number): boolean
  /** Releases the lock on `fd`. */
  unlock(fd: number): void
}

interface FlockCall {
  (fd: number, operation: number): number
  async(
    fd: number,
    operation: number,
    callback: (error: unknown, result: number) => void,
  ): void
}

let loaded: Promise<Flock> | undefined

/** Loads the binding once per thread; rejects with a clear error where flock is unavailable. */
export function loadFlock(): Promise<Flock> {
  loaded ??= import('koffi').then(
    (module) => (boundSync ??= bind(module as unknown as Koffi)),
    (error: unknown) => {
      loaded = undefined
      throw mlDashError(
        'ML_DASH_STORE_IO',
        `the local store needs flock(2) through koffi, which failed to load: ${String(error)}`,
        error,
      )
    },
  )
  return loaded
}

/**
 * The same, synchronously (for the `exit` drain, where no promise settles):
 * the binding already loaded, else koffi required now.
 *
 * @throws Error where flock is unavailable, as {@link loadFlock} rejects.
 */
export function loadFlockSync(): Flock {
  if (boundSync !== undefined) return boundSync
  let koffi: Koffi
  try {
    koffi = nativeRequire('koffi') as Koffi
  } catch (error) {
    throw mlDashError(
      'ML_DASH_STORE_IO',
      `the local store needs flock(2) through koffi, which failed to load: ${String(error)}`,
      error,
    )
  }
  boundSync = bind(koffi)
  loaded ??= Promise.resolve(boundSync)
  return boundSync
}

let boundSync: Flock | undefined

/** The part of koffi used here (its ESM and CJS shapes both have it). */
interface Koffi {
  load(path: null): { func(signature: string): unknown }
  errno(): number
}

function bind(koffi: Koffi): Flock {
  if (process.platform === 'win32') {
    throw mlDashError(
      'ML_DASH_STORE_IO',
      'the local store needs flock(2), which Windows does not have',
    )
  }
  // `load(null)` is the running program itself, which links the C library.
  const flock = koffi
    .load(null)
    .func('int flock(int fd, int operation)') as FlockCall
  const fail = (operation: string, errno: number): Error => {
    const code = errnoName(errno)
    const error = new Error(
      `flock(${operation}) failed: ${code}`,
    ) as NodeJS.ErrnoException
    error.code = code
    error.errno = errno
    return error
  }
  const lockSync = (fd: number, waitMs?: number): void => {
    if (waitMs !== undefined) return lockWithin(fd, waitMs)
    while (flock(fd, LOCK_EX) !== 0) {
      const errno = koffi.errno()
      if (errno !== constants.errno.EINTR) throw fail('LOCK_EX', errno)
    }
  }
  /** Non-blocking tries, a few milliseconds apart, until `waitMs` has passed. */
  const lockWithin = (fd: number, waitMs: number): void => {
    const until = Date.now() + waitMs
    while (flock(fd, LOCK_EX | LOCK_NB) !== 0) {
      const errno = koffi.errno()
      const busy =
        errno === constants.errno.EWOULDBLOCK || errno === constants.errno.EINTR
      if (!busy) throw fail('LOCK_EX|LOCK_NB', errno)
      if (Date.now() >= until) throw lockTimeout(waitMs)
      Atomics.wait(PAUSE, 0, 0, LOCK_POLL_MS)
    }
  }
  const lock = (fd: number): Promise<void> => {
    if (flock(fd, LOCK_EX | LOCK_NB) === 0) return Promise.resolve()
    const errno = koffi.errno()
    if (
      errno !== constants.errno.EWOULDBLOCK &&
      errno !== constants.errno.EINTR
    ) {
      return Promise.reject(fail('LOCK_EX|LOCK_NB', errno))
    }
    return new Promise((resolve, reject) => {
      flock.async(fd, LOCK_EX, (error, result) => {
        if (error) reject(toError(error))
        else if (result !== 0) {
          // The errno of the other thread is not visible here: retry on this one.
          try {
            lockSync(fd)
            resolve()
          } catch (syncError) {
            reject(toError(syncError))
          }
        } else resolve()
      })
    })
  }
  const tryLock = (fd: number): boolean => {
    for (;;) {
      if (flock(fd, LOCK_EX | LOCK_NB) === 0) return true
      const errno = koffi.errno()
      if (errno === constants.errno.EWOULDBLOCK) return false
      if (errno !== constants.errno.EINTR) throw fail('LOCK_EX|LOCK_NB', errno)
    }
  }
  const unlock = (fd: number): void => {
    if (flock(fd, LOCK_UN) !== 0) throw fail('LOCK_UN', koffi.errno())
  }
  return { lock, lockSync, tryLock, unlock }
}

/** Pause between two tries of a bounded lock wait. */
const LOCK_POLL_MS = 5

/** Something to `Atomics.wait` on: the only synchronous sleep there is. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4))

function lockTimeout(waitMs: number): Error {
  const error = new Error(
    `flock(LOCK_EX) failed: another writer held the lock for ${waitMs} ms`,
  ) as NodeJS.ErrnoException
  error.code = 'ERR_ML_DASH_LOCK_TIMEOUT'
  return error
}

function toError(value: unknown): Error {
  return value instanceof Error
    ? value
    : new Error(`flock failed: ${describeThrown(value)}`)
}

function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(constants.errno)) {
    if (value === errno) return name
  }
  return `errno ${errno}`
}
