/**
 * Whether a prefix leads through an experiment that already exists in the
 * local store (issue 12, item 3).
 *
 * An experiment is a folder holding `experiment.json` (ml-dash-spec §4: the
 * SDK and the ml-dash CLI find experiments by searching for
 * `*\/experiment.json`). A prefix that goes through one, such as
 * `alice/rt/victim/sub/x` below the experiment `alice/rt/victim`, would put
 * folders inside that experiment's folder: the SDK's discovery then reports
 * both, and a name there may take the place of one of the experiment's own
 * files. The rules on the prefix's text (src/core/prefix.ts) refuse those
 * names; this check refuses the nesting itself, by looking at the store.
 *
 * Failure semantics: never throws. It costs one `lstat` per proper ancestor
 * of 3 segments or more (at most 21 for the longest prefix allowed). The
 * answer holds at the moment of the look: an experiment created between it
 * and the `mkdir` that follows is not seen (no lock covers the whole store).
 */
import { lstatSync, readdirSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { MAX_PREFIX_SEGMENTS, MIN_EXPERIMENT_SEGMENTS } from '../core/prefix.js'

/** The file whose presence makes a folder an experiment. */
const EXPERIMENT_FILE = 'experiment.json'

/**
 * The prefix of the outermost existing experiment that is a proper
 * ancestor of `segments` (its folder holds `experiment.json`), or undefined
 * when none is.
 *
 * `experiment.json` is looked at with `lstat`, so a symbolic link at that
 * name counts as present whatever it points at (dangling or not), and so
 * does a folder of that name: the SDK's `rglob('*\/experiment.json')`
 * reports each of them, so each claims the folder. The folders on the way
 * are followed, as everywhere in the store (a linked folder is a choice the
 * user made).
 */
export function enclosingExperiment(
  dashRoot: string,
  segments: readonly string[],
): string | undefined {
  const root = resolve(dashRoot)
  for (let n = MIN_EXPERIMENT_SEGMENTS; n < segments.length; n++) {
    const ancestor = segments.slice(0, n)
    if (holdsExperimentFile(join(root, ...ancestor))) return ancestor.join('/')
  }
  return undefined
}

/** Most folders {@link enclosedExperiment} looks at before it stops looking. */
const MAX_FOLDERS_LOOKED_AT = 2000

/**
 * The prefix of an existing experiment that lies below `segments`, when
 * `segments` is not an experiment yet (opening it would put that one
 * inside its folder), else undefined. Looks through the folder's
 * subfolders breadth first, down to the deepest prefix allowed, and stops
 * after {@link MAX_FOLDERS_LOOKED_AT} folders looked at (what lies past
 * that is not seen). A linked subfolder is looked at (the SDK's discovery
 * finds an experiment there) but not looked through. A folder that does
 * not exist yet, the usual case, costs one `lstat`.
 */
export function enclosedExperiment(
  dashRoot: string,
  segments: readonly string[],
): string | undefined {
  const top = join(resolve(dashRoot), ...segments)
  if (holdsExperimentFile(top)) return undefined
  let level: { folder: string; prefix: readonly string[] }[] = [
    { folder: top, prefix: segments },
  ]
  let looked = 0
  while (level.length > 0) {
    const next: typeof level = []
    for (const { folder, prefix } of level) {
      for (const { name, linked } of subfolders(folder)) {
        if (++looked > MAX_FOLDERS_LOOKED_AT) return undefined
        const below = [...prefix, name]
        if (holdsExperimentFile(join(folder, name))) return below.join('/')
        if (!linked && below.length < MAX_PREFIX_SEGMENTS)
          next.push({ folder: join(folder, name), prefix: below })
      }
    }
    level = next
  }
  return undefined
}

/** A folder's subfolders, and links (which may lead to one); none when it cannot be read. */
function subfolders(folder: string): { name: string; linked: boolean }[] {
  try {
    return readdirSync(folder, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() || entry.isSymbolicLink())
      .map((entry) => ({ name: entry.name, linked: entry.isSymbolicLink() }))
  } catch {
    return []
  }
}

function holdsExperimentFile(folder: string): boolean {
  try {
    lstatSync(join(folder, EXPERIMENT_FILE))
    return true
  } catch {
    // ENOENT (no such file) and ENOTDIR (a file stands where a folder of the
    // path would be, so nothing lies below it) mean no experiment. Any other
    // error (EACCES on a folder we may not search, ELOOP among linked
    // folders, EIO) is taken as "not an experiment" too, deliberately: the
    // check cannot tell, and the open that follows meets the same error and
    // reports it with the path.
    return false
  }
}
