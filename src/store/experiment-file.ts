/**
 * `experiment.json`: created when missing, merged when reopened, as the
 * ml-dash SDK does (ml-dash-spec §4), under a flock on `.experiment.lock`.
 *
 * The file is replaced through a temporary file and a rename, so a reader
 * never sees half of it; a file that does not parse is kept aside as
 * `experiment.json.corrupt-<time>` before a new one is written (the SDK
 * overwrites it).
 *
 * Links: `experiment.json` and `.experiment.lock` are opened with
 * `O_NOFOLLOW` (./own-file.ts), so a symbolic link at either name is refused (ELOOP)
 * and what it points at is neither read, locked, created nor merged. The
 * temporary file is created with O_EXCL as well, which refuses any name
 * that exists, a link included; the renames act on names and never follow
 * a link at either end.
 */
import {
  closeSync,
  constants,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import type { ExperimentPrefix } from '../core/prefix.js'
import { APPEND_CREATE, openOwnFile } from './own-file.js'
import { toJsonValue } from '../core/serialize.js'
import type { Flock } from './flock.js'

/** A file that must not exist yet: created by this open. */
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL

/** What the caller may set in experiment.json; unset fields keep their value. */
export interface ExperimentInfo {
  description?: string | null
  tags?: string[]
  bindrs?: string[]
  metadata?: Record<string, unknown> | null
}

/** The SDK's UTC timestamp: ISO-8601 with microseconds and `Z`. */
function sdkNow(): string {
  return new Date().toISOString().replace('Z', '000Z')
}

/** Creates or merges `<dir>/experiment.json` while holding `<dir>/.experiment.lock`. */
export async function writeExperimentFile(
  dir: string,
  prefix: ExperimentPrefix,
  info: ExperimentInfo,
  flock: Flock,
): Promise<void> {
  const lockFd = openOwnFile(join(dir, '.experiment.lock'), APPEND_CREATE)
  try {
    await flock.lock(lockFd)
    mergeAndUnlock(lockFd, flock, dir, prefix, info)
  } finally {
    closeSync(lockFd)
  }
}

/** The same, blocking on the lock for at most `waitMs`: for a store first opened at process exit. */
export function writeExperimentFileSync(
  dir: string,
  prefix: ExperimentPrefix,
  info: ExperimentInfo,
  flock: Flock,
  waitMs: number,
): void {
  const lockFd = openOwnFile(join(dir, '.experiment.lock'), APPEND_CREATE)
  try {
    flock.lockSync(lockFd, waitMs)
    mergeAndUnlock(lockFd, flock, dir, prefix, info)
  } finally {
    closeSync(lockFd)
  }
}

function mergeAndUnlock(
  lockFd: number,
  flock: Flock,
  dir: string,
  prefix: ExperimentPrefix,
  info: ExperimentInfo,
): void {
  try {
    mergeExperimentFile(dir, prefix, info)
  } finally {
    flock.unlock(lockFd)
  }
}

function mergeExperimentFile(
  dir: string,
  prefix: ExperimentPrefix,
  info: ExperimentInfo,
): void {
  const file = join(dir, 'experiment.json')
  const existing = readExisting(file)
  let document: Record<string, unknown>
  if (existing === undefined) {
    document = {
      name: prefix.name,
      project: prefix.project,
      description: info.description ?? null,
      tags: info.tags ?? [],
      bindrs: info.bindrs ?? [],
      prefix: prefix.prefix,
      metadata: info.metadata ?? null,
      created_at: sdkNow(),
      write_protected: false,
    }
  } else {
    document = { ...existing, prefix: prefix.prefix, updated_at: sdkNow() }
    for (const key of ['description', 'tags', 'bindrs', 'metadata'] as const) {
      if (info[key] !== undefined) document[key] = info[key]
    }
  }
  const temporary = `${file}.${process.pid}.tmp`
  // Caller metadata may hold anything: store it JSON-safe, like log metadata.
  writeNew(temporary, JSON.stringify(toJsonValue(document)))
  try {
    renameSync(temporary, file)
  } catch (error) {
    rmSync(temporary, { force: true })
    throw error
  }
}

/**
 * Writes `text` to a file created by this call. A name that exists already
 * is a leftover of a crashed run with the same pid (a container's pid 1,
 * say) or a link someone put there: it is unlinked (which removes the name,
 * never what a link points at) and the file created once more. The lock
 * held keeps writers of this library off the name meanwhile.
 */
function writeNew(path: string, text: string): void {
  let fd: number
  try {
    fd = openOwnFile(path, CREATE_NEW)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    unlinkSync(path)
    fd = openOwnFile(path, CREATE_NEW)
  }
  try {
    writeFileSync(fd, text)
  } catch (error) {
    closeSync(fd)
    rmSync(path, { force: true })
    throw error
  }
  closeSync(fd)
}

/**
 * The parsed file, undefined when missing; a corrupt one is moved aside. A
 * link at its name is refused (ELOOP thrown), before anything is renamed.
 */
function readExisting(file: string): Record<string, unknown> | undefined {
  let fd: number
  try {
    fd = openOwnFile(file, constants.O_RDONLY)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  let text: string
  try {
    text = readFileSync(fd, 'utf8')
  } finally {
    closeSync(fd)
  }
  try {
    const parsed: unknown = JSON.parse(text)
    if (
      typeof parsed === 'object' &&
      parsed !== null &&
      !Array.isArray(parsed)
    ) {
      return parsed as Record<string, unknown>
    }
  } catch {
    // fall through: not JSON
  }
  // The read above refused a link, so this moves a file of the store's own;
  // a link at the new name would be replaced, not followed.
  renameSync(file, `${file}.corrupt-${Date.now()}`)
  return undefined
}
