/**
 * Opening a file the store owns (`experiment.json` and its temporary copy,
 * the lock files, `logs.jsonl`, `.log_sequence`, `logs.jsonl.torn`): never
 * through a symbolic link at the file's own name (`O_NOFOLLOW`, see
 * local-store.ts), and only a regular file. `O_NONBLOCK` keeps a FIFO
 * planted at the name from blocking the open (a read open would wait for a
 * writer forever, and hang the exit drain with it); a regular file ignores
 * the flag. Whatever else stands at the name (a FIFO, a device, a folder)
 * is refused with a sentence naming the path.
 */
import type { Stats } from 'node:fs'
import { closeSync, constants, fstatSync, lstatSync, openSync } from 'node:fs'

/** Linux and macOS define both; Windows neither (0 there, where the store cannot run: it needs flock). */
const NOFOLLOW: number = constants.O_NOFOLLOW ?? 0
const NONBLOCK: number = constants.O_NONBLOCK ?? 0

/** Opened for appending, created when missing: the lock files (never written) and `logs.jsonl.torn`. */
export const APPEND_CREATE =
  constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT

/** Whether something at `path` is a symbolic link (false when nothing is there). */
export function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink()
  } catch {
    return false
  }
}

/** The code of the error for a name that holds something other than a regular file (the store wraps it, as `cause`, in an `ML_DASH_STORE_IO` error). */
export const NOT_A_FILE = 'ERR_ML_DASH_NOT_A_FILE'

/** Opens `path` as {@link openSync} does (with `O_NOFOLLOW` and `O_NONBLOCK` added), refusing a link or anything but a regular file. */
export function openOwnFile(path: string, flags: number, mode = 0o644): number {
  return openOwnFileStat(path, flags, mode).fd
}

/** {@link openOwnFile}, with the file's status as the check read it. */
export function openOwnFileStat(
  path: string,
  flags: number,
  mode = 0o644,
): { fd: number; stat: Stats } {
  let fd: number
  try {
    fd = openSync(path, flags | NOFOLLOW | NONBLOCK, mode)
  } catch (error) {
    // A FIFO with no reader refuses a non-blocking open for writing.
    if ((error as NodeJS.ErrnoException).code === 'ENXIO')
      throw notAFile(path, error)
    throw error
  }
  let stat: Stats
  try {
    stat = fstatSync(fd)
  } catch (error) {
    closeSync(fd)
    throw error
  }
  if (!stat.isFile()) {
    closeSync(fd)
    throw notAFile(path)
  }
  return { fd, stat }
}

function notAFile(path: string, cause?: unknown): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(
    `ml-dash-logs: refusing to open "${path}": it is not a regular file (a FIFO, a device or a folder stands at that name)`,
    { cause },
  )
  error.code = NOT_A_FILE
  error.path = path
  return error
}
