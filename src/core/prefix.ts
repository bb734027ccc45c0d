/**
 * Experiment prefixes: `owner/project/folder.../name` (ml-dash-spec §1).
 *
 * The prefix becomes a path under the store root, so this is stricter than
 * the SDK: nothing that could leave the root or that two spellings could
 * name differently is accepted. Every refusal names the prefix and the rule.
 */

/** The record attribute that routes a record to another experiment. */
export const PREFIX_ATTRIBUTE = 'ml_dash.prefix'

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
export const MAX_SEGMENT_BYTES = 255

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/

/** The reason `prefix` is refused, or undefined when it is valid. */
export function prefixProblem(prefix: unknown): string | undefined {
  if (typeof prefix !== 'string') return 'it must be a string'
  if (prefix === '') return 'it is empty'
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
  if (segments.length < 3) {
    return 'it needs at least 3 segments: owner/project/name'
  }
  return undefined
}

/**
 * Validates and splits a prefix.
 *
 * @throws Error `ml-dash-logs: invalid prefix "a/b": it needs at least 3 segments: owner/project/name`
 */
export function parsePrefix(prefix: unknown): ExperimentPrefix {
  const problem = prefixProblem(prefix)
  if (problem !== undefined) {
    throw new Error(`ml-dash-logs: invalid prefix ${quote(prefix)}: ${problem}`)
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
