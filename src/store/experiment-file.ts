/**
 * `experiment.json`: created when missing, merged when reopened, as the
 * ml-dash SDK does (ml-dash-spec §4), under a flock on `.experiment.lock`.
 *
 * The file is replaced through a temporary file and a rename, so a reader
 * never sees half of it; a file that does not parse is kept aside as
 * `experiment.json.corrupt-<time>` before a new one is written (the SDK
 * overwrites it).
 */
import {
  closeSync,
  openSync,
  readFileSync,
  renameSync,
  writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import type { ExperimentPrefix } from '../core/prefix.js'
import { toJsonValue } from '../core/serialize.js'
import type { Flock } from './flock.js'

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
  const lockFd = openSync(join(dir, '.experiment.lock'), 'a')
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
  const lockFd = openSync(join(dir, '.experiment.lock'), 'a')
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
  writeFileSync(temporary, JSON.stringify(toJsonValue(document)))
  renameSync(temporary, file)
}

/** The parsed file, undefined when missing; a corrupt one is moved aside. */
function readExisting(file: string): Record<string, unknown> | undefined {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
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
  renameSync(file, `${file}.corrupt-${Date.now()}`)
  return undefined
}
