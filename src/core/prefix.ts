/**
 * Experiment prefixes: `owner/project/folder.../name` (ml-dash-spec §1).
 *
 * The prefix becomes a path under the store root, so this is stricter than
 * the SDK: nothing that could leave the root or that two spellings could
 * name differently is accepted. Every refusal names the prefix and the rule.
 *
 * A prefix also may not reach into another experiment's files (issue 12,
 * item 3): any folder of 3 segments or more may be an experiment, so a
 * segment below it may not be one of the names an experiment folder holds
 * (`alice/rt/victim/experiment.json`, `.../logs`, `.../logs/logs.jsonl`),
 * or its `mkdir` would put a folder where that experiment's file belongs and
 * break it (EISDIR for the SDK and for this library). These rules are on the
 * text alone; that no existing experiment lies on the way is checked against
 * the store (src/store/experiment-place.ts). Length and depth are bounded so
 * the Python tools, which recurse once per folder, and the official CLI's
 * discovery both still handle the result.
 */

import { configError } from './config-error.js'

/** The record attribute that routes a record to another experiment. */
export const PREFIX_ATTRIBUTE = 'ml_dash.prefix'

/** Metadata key holding a routed prefix that was refused. */
export const PREFIX_REFUSED_KEY = 'ml_dash.prefix_refused'

/** A validated prefix and its parts. */
export interface ExperimentPrefix {
  /** The prefix as given (already valid). */
  readonly prefix: string
  /** The namespace: a user or a team. */
  readonly owner: string
  readonly project: string
  /** Folders between the project and the name, outermost first. */
  readonly folders: readonly string[]
  /** The experiment's name: the last segment. */
  readonly name: string
  readonly segments: readonly string[]
}

/** Longest segment, in UTF-8 bytes (the common file-name limit). */
const MAX_SEGMENT_BYTES = 255

/**
 * Most segments in a prefix. The official TypeScript CLI (ml-dash-cli,
 * `ml-dash upload`) finds experiments by walking the store and stops
 * descending past depth 24, so a deeper experiment is silently never
 * uploaded; 24 stays within what it finds. It also keeps Python's
 * `Path.mkdir(parents=True)` and `rglob` (which recurse once per segment)
 * far from their recursion limit.
 */
export const MAX_PREFIX_SEGMENTS = 24

/**
 * Longest prefix, in UTF-8 bytes: a quarter of Linux's 4096-byte path
 * limit, which leaves room for the store root and the files below the
 * experiment (`logs/.log_sequence.lock`).
 */
export const MAX_PREFIX_BYTES = 1024

/**
 * What the SDK (storage.py) and this library keep in an experiment folder;
 * a segment at index 3 or deeper may not be one of them. Lower case: names
 * are compared after NFC and lower-casing, for case-insensitive file
 * systems (macOS, Windows).
 */
const EXPERIMENT_ENTRIES: ReadonlySet<string> = new Set([
  'experiment.json',
  '.experiment.lock',
  'parameters.json',
  '.parameters.lock',
  'logs',
  'metrics',
  'files',
  'tracks',
])

/**
 * The start of the names experiment-file.ts gives `experiment.json`'s
 * temporary file (`experiment.json.<pid>.tmp`) and a corrupt file kept
 * aside (`experiment.json.corrupt-<time>`), also in the experiment folder.
 */
const EXPERIMENT_COPY = 'experiment.json.'

/** What an experiment's `logs/` holds; a segment at index 4 or deeper may not be one of them. */
const LOG_FOLDER_ENTRIES: ReadonlySet<string> = new Set([
  'logs.jsonl',
  'logs.jsonl.torn',
  '.log_sequence',
  '.log_sequence.lock',
])

/** The fewest segments an experiment has: a folder this deep may be one. */
export const MIN_EXPERIMENT_SEGMENTS = 3

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/

/** The folder beside the store's owners where the library keeps its outboxes (src/delivery/spool.ts); no prefix may name it. */
export const SPOOL_FOLDER = '.ml-dash-logs'

/** The reason `prefix` is refused, or undefined when it is valid. */
export function prefixProblem(prefix: unknown): string | undefined {
  if (typeof prefix !== 'string') return 'it must be a string'
  if (prefix === '') return 'it is empty'
  // First, so every later check walks at most this many bytes.
  if (Buffer.byteLength(prefix) > MAX_PREFIX_BYTES) {
    return `it is longer than ${MAX_PREFIX_BYTES} bytes`
  }
  if (prefix.startsWith('/')) return 'it must be relative (no leading "/")'
  if (prefix.includes('\\')) return 'it must not contain a backslash'
  if (CONTROL.test(prefix))
    return 'it must not contain NUL or control characters'
  if (prefix.toWellFormed() !== prefix) return 'it must be valid Unicode'
  const segments = prefix.split('/')
  if (segments.some((s) => s === '')) return 'it has an empty segment'
  if (segments.some((s) => s === '.' || s === '..')) {
    return 'it must not contain "." or ".." segments'
  }
  if (segments.some((s) => Buffer.byteLength(s) > MAX_SEGMENT_BYTES)) {
    return `a segment is longer than ${MAX_SEGMENT_BYTES} bytes`
  }
  if (segments.length < MIN_EXPERIMENT_SEGMENTS) {
    return 'it needs at least 3 segments: owner/project/name'
  }
  if (segments.length > MAX_PREFIX_SEGMENTS) {
    return `it has more than ${MAX_PREFIX_SEGMENTS} segments`
  }
  if (foldName(segments[0]!) === SPOOL_FOLDER)
    return `its owner "${segments[0]}" is the folder where the library keeps its outboxes, beside the store`
  return storeNameProblem(segments)
}

/**
 * A segment that names one of an experiment folder's own entries, where
 * the folder above it could be an experiment; undefined when none does.
 */
function storeNameProblem(segments: readonly string[]): string | undefined {
  for (let i = MIN_EXPERIMENT_SEGMENTS; i < segments.length; i++) {
    const name = foldName(segments[i]!)
    if (name.startsWith(EXPERIMENT_COPY)) {
      return `it names ${JSON.stringify(segments[i])} inside a folder that may be an experiment: a segment after the third may not begin "${EXPERIMENT_COPY}", the names of experiment.json's temporary and corrupt copies (in any case)`
    }
    if (EXPERIMENT_ENTRIES.has(name)) {
      return `it names ${JSON.stringify(segments[i])} inside a folder that may be an experiment: a segment after the third may not be one of an experiment folder's own names (${[...EXPERIMENT_ENTRIES].join(', ')}; in any case)`
    }
    if (i > MIN_EXPERIMENT_SEGMENTS && LOG_FOLDER_ENTRIES.has(name)) {
      return `it names ${JSON.stringify(segments[i])} where an experiment's logs/ folder may be: a segment after the fourth may not be one of that folder's file names (${[...LOG_FOLDER_ENTRIES].join(', ')}; in any case)`
    }
  }
  return undefined
}

/**
 * A name as a case-insensitive file system may compare it: NFC, then upper
 * and lower case, so that letters whose case folding differs from their
 * lower case (`ſ`, long s, folds to `s` on APFS) are caught too. It may
 * fold a few names that no file system confuses (dotless `ı` to `i`); the
 * error is on the side of refusing.
 */
function foldName(segment: string): string {
  return segment.normalize('NFC').toUpperCase().toLowerCase()
}

/**
 * Validates and splits a prefix.
 *
 * @throws Error `ml-dash-logs: invalid prefix "a/b": it needs at least 3 segments: owner/project/name`
 */
export function parsePrefix(prefix: unknown): ExperimentPrefix {
  const problem = prefixProblem(prefix)
  if (problem !== undefined) {
    throw configError(`invalid prefix ${quote(prefix)}: ${problem}`)
  }
  const valid = prefix as string
  const segments = valid.split('/')
  return {
    prefix: valid,
    owner: segments[0]!,
    project: segments[1]!,
    folders: segments.slice(2, -1),
    name: segments.at(-1)!,
    segments,
  }
}

/** JSON-quotes a value for an error message, control characters escaped. */
function quote(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}
