/**
 * Prefix templates, expanded as the ml-dash SDK expands them (issue 13,
 * part 3; the SDK's `src/ml_dash/run.py`, class `RUN`).
 *
 * The SDK formats its prefix (from `Experiment(prefix=...)` or env
 * `ML_DASH_PREFIX`, else `{project}/{now:%Y/%m-%d}/{path_stem}/{job_name}`)
 * with Python's `str.format`, over RUN's own attributes. The fields a path
 * can use, and where each value comes from:
 *
 * - `{user}`: env `ML_DASH_USER` if set, else `USER`.
 * - `{project}`: `{user}/scratch` (two segments: the SDK's default project).
 * - `{now}` and `{now:FORMAT}`: `datetime.now()` taken once per process (at
 *   import), a naive local time: wall-clock fields in the zone of env `TZ`
 *   (else the host's), `%z` and `%Z` empty. FORMAT is strftime; the codes
 *   are {@link STRFTIME_CODES}. `{now}` alone is Python's `str(datetime)`.
 * - `{path_stem}`: the entry script's path below the project root, without
 *   its extension (see {@link sdkPathStem} and {@link findProjectRoot}).
 * - `{job_name}`: `{now:%H.%M.%S}/{job_counter:03d}`.
 * - `{job_counter}`: how many runs this process made before this one (the
 *   SDK counts RUN instances: its first experiment gets 0); a spec such as
 *   `03d` pads it.
 * - `{EXP.date}` (`%Y%m%d`), `{EXP.datetime_str}` (`%Y%m%d.%H%M%S`),
 *   `{EXP.user}`: the SDK's `{EXP.attr}` form, replaced before formatting.
 *
 * Failure semantics: what the SDK would turn into nonsense (`None`, a
 * function's repr) or a KeyError is refused here with an Error whose `code`
 * is `ML_DASH_CONFIG` and whose message names the field: an unknown field,
 * an unsupported strftime code, a format spec, conversion or attribute
 * access, a literal `{{` (the SDK formats again until no `{` is left), a
 * value that is missing or empty or has a brace. Pure: the clock, the
 * environment and the project root are passed in.
 */
import { posix } from 'node:path'
import { configError } from './config-error.js'

/** The SDK's prefix when none is given (`RUN.prefix`). */
export const SDK_DEFAULT_PREFIX_TEMPLATE =
  '{project}/{now:%Y/%m-%d}/{path_stem}/{job_name}'

/** The SDK's `RUN.job_name`. */
const SDK_JOB_NAME_TEMPLATE = '{now:%H.%M.%S}/{job_counter:03d}'

/** The files whose folder the SDK takes as the project root (`PROJECT_ROOT_FILES`). */
const PROJECT_ROOT_FILES = [
  'pyproject.toml',
  'requirements.txt',
  'setup.py',
  'setup.cfg',
] as const

/** The fields {@link expandPrefix} knows, as `{name}`. */
const TEMPLATE_FIELDS = [
  'user',
  'project',
  'now',
  'path_stem',
  'job_name',
  'job_counter',
  'EXP.date',
  'EXP.datetime_str',
  'EXP.user',
] as const

type Env = Readonly<Record<string, string | undefined>>

/** What a template is expanded against; everything the SDK reads is passed in. */
export interface TemplateContext {
  /** The run's time (the SDK: `datetime.now()` when ml_dash is imported, once a process). */
  readonly now: Date
  /** `ML_DASH_USER`, `USER` and `TZ` are read from it. */
  readonly env: Env
  /** The entry script, `process.argv[1]` (the SDK: the caller's `__file__`); `{path_stem}` needs it. */
  readonly entry?: string | undefined
  /** The project root, or a function finding it (called only for `{path_stem}`). @default cwd */
  readonly projectRoot?: string | (() => string) | undefined
  /** The working directory: a relative entry is resolved against it. */
  readonly cwd?: string | undefined
  /** Runs this process made before this one (the SDK's `job_counter`). @default 0 */
  readonly jobCounter?: number | undefined
  /** What the template came from, for errors (`ML_DASH_PREFIX`, `prefix`). @default "prefix" */
  readonly source?: string | undefined
}

/** A configuration error with the library's stable code. */
export type PrefixTemplateError = Error & { code: 'ML_DASH_CONFIG' }

/** A sentence about the template, given the template's name by expandPrefix. */
class Problem extends Error {}

/**
 * Expands the SDK's template fields in `template`; text without a `{` is
 * returned as it is (the SDK leaves it alone too, `}` included).
 *
 * @throws PrefixTemplateError (`code` `ML_DASH_CONFIG`) naming the field, e.g.
 *   `ml-dash-logs: cannot expand prefix "a/b/{foo}": unknown field {foo} ...`
 */
export function expandPrefix(
  template: string,
  context: TemplateContext,
): string {
  try {
    // The SDK formats only while a "{" is left, after the {EXP.*} pass.
    const text = replaceExpFields(template, context)
    return text.includes('{') ? formatFields(text, context) : text
  } catch (error) {
    if (!(error instanceof Problem)) throw error
    const source = context.source ?? 'prefix'
    throw configError(
      `cannot expand ${source} ${JSON.stringify(template)}: ${error.message}`,
    ) as PrefixTemplateError
  }
}

/** What the SDK's default prefix gives: {@link SDK_DEFAULT_PREFIX_TEMPLATE} expanded. */
export function sdkDefaultPrefix(context: TemplateContext): string {
  return expandPrefix(SDK_DEFAULT_PREFIX_TEMPLATE, context)
}

/** The SDK replaces `{EXP.attr}` (a regular expression over `\w+`) before formatting. */
function replaceExpFields(text: string, context: TemplateContext): string {
  return text.replace(/\{EXP\.([\p{L}\p{N}_]+)\}/gu, (_, name: string) => {
    if (name === 'date') return strftime(wallClock(context), '%Y%m%d')
    if (name === 'datetime_str') {
      return strftime(wallClock(context), '%Y%m%d.%H%M%S')
    }
    if (name === 'user') return checkedValue('EXP.user', user(context.env))
    throw new Problem(
      `{EXP.${name}} is not supported: of the SDK's {EXP.*} fields only {EXP.date}, {EXP.datetime_str} and {EXP.user} can be reproduced ({EXP.id} is a new snowflake ID each run, {EXP.name} fails in the SDK before the name exists)`,
    )
  })
}

/** One pass of Python's `str.format` over the known fields. */
function formatFields(text: string, context: TemplateContext): string {
  let out = ''
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (ch === '}') {
      if (text[i + 1] !== '}') {
        throw new Problem(
          `the "}" at character ${i + 1} closes no field (a literal one is written "}}")`,
        )
      }
      out += '}'
      i++
    } else if (ch === '{') {
      if (text[i + 1] === '{') {
        throw new Problem(
          `"{{" at character ${i + 1}: a literal "{" cannot be written (the SDK formats the prefix again while it holds a "{")`,
        )
      }
      const end = text.indexOf('}', i)
      const nested = text.indexOf('{', i + 1)
      if (end < 0) {
        throw new Problem(`the "{" at character ${i + 1} is never closed`)
      }
      if (nested >= 0 && nested < end) {
        throw new Problem(
          `the field at character ${i + 1} holds a "{" (nested fields are not supported)`,
        )
      }
      out += fieldText(text.slice(i + 1, end), context)
      i = end
    } else {
      out += ch
    }
  }
  return out
}

/** The text of one `{name[:spec]}` field. */
function fieldText(field: string, context: TemplateContext): string {
  const colon = field.indexOf(':')
  const head = colon < 0 ? field : field.slice(0, colon)
  const spec = colon < 0 ? '' : field.slice(colon + 1)
  if (head.includes('!')) {
    throw new Problem(
      `{${field}}: a conversion ("!r", "!s", "!a") is not supported`,
    )
  }
  if (head === '' || /^\d+$/.test(head)) {
    throw new Problem(
      `{${field}} is a positional field, and the SDK passes none: name a field (${TEMPLATE_FIELDS.join(', ')})`,
    )
  }
  if (/[.[]/.test(head)) {
    throw new Problem(
      `{${field}}: attribute and index access are not supported; the fields are ${TEMPLATE_FIELDS.join(', ')}`,
    )
  }
  if (head === 'now') {
    const wall = wallClock(context)
    return spec === '' ? pythonDatetimeStr(wall) : strftime(wall, spec)
  }
  if (head === 'job_counter') return formatInt(jobCounter(context), spec)
  if (spec !== '') {
    throw new Problem(
      `{${field}}: a format spec on {${head}} is not supported (only {now:FORMAT} and {job_counter:03d} take one)`,
    )
  }
  return checkedValue(head, stringField(head, context))
}

function stringField(name: string, context: TemplateContext): string {
  switch (name) {
    case 'user':
      return user(context.env)
    case 'project':
      return `${checkedValue('user', user(context.env))}/scratch`
    case 'path_stem':
      return pathStem(context)
    case 'job_name':
      return formatFields(SDK_JOB_NAME_TEMPLATE, context)
    default:
      throw new Problem(
        `unknown field {${name}}; the fields are ${TEMPLATE_FIELDS.join(', ')}`,
      )
  }
}

/** A value may be neither empty nor hold a brace (the SDK would format it again). */
function checkedValue(name: string, value: string): string {
  if (value === '') throw new Problem(`{${name}} is empty`)
  if (/[{}]/.test(value)) {
    throw new Problem(
      `{${name}} is ${JSON.stringify(value)}, which holds a brace (the SDK would expand it again)`,
    )
  }
  return value
}

/** The SDK's `EnvVar @ "ML_DASH_USER" @ "USER"`: the first that is set, even to "". */
function user(env: Env): string {
  const name = env.ML_DASH_USER !== undefined ? 'ML_DASH_USER' : 'USER'
  const value = env[name]
  if (value === undefined) {
    throw new Problem(
      '{user} needs env ML_DASH_USER or USER, and neither is set (the SDK would write "None")',
    )
  }
  if (value === '') throw new Problem(`{user}: env ${name} is set but empty`)
  return value
}

function jobCounter(context: TemplateContext): number {
  const n = context.jobCounter ?? 0
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new Problem(
      `{job_counter} must be an integer >= 0 (got ${String(n)})`,
    )
  }
  return n
}

/** Python's int `__format__` for the specs a counter needs: `[0][width][d]`. */
function formatInt(value: number, spec: string): string {
  const match = /^(0?)(\d*)d?$/.exec(spec)
  if (match === null) {
    throw new Problem(
      `{job_counter:${spec}}: only a zero flag and a width are supported, as in {job_counter:03d}`,
    )
  }
  const width = match[2] === '' ? 0 : Number(match[2])
  return String(value).padStart(width, match[1] === '0' ? '0' : ' ')
}

function pathStem(context: TemplateContext): string {
  if (context.entry === undefined || context.entry === '') {
    throw new Problem(
      '{path_stem} needs the entry script, and there is none (process.argv[1] is unset: a REPL or node --eval)',
    )
  }
  const entry = context.entry.replaceAll('\\', '/')
  if (!entry.startsWith('/') && context.cwd === undefined) {
    throw new Problem(
      `{path_stem}: the entry ${JSON.stringify(entry)} is relative and no working directory was given`,
    )
  }
  const absolute = posix.resolve(context.cwd ?? '/', entry)
  const given = context.projectRoot
  const root = typeof given === 'function' ? given() : (given ?? context.cwd)
  if (root === undefined) {
    throw new Problem(
      '{path_stem} needs the project root or the working directory',
    )
  }
  return sdkPathStem(absolute, root.replaceAll('\\', '/'))
}

/**
 * The SDK's path_stem: the absolute entry path less as many leading
 * segments as the project root has (`"/".join(path.split("/")[depth:])`,
 * whether or not the entry lies below the root), then `os.path.splitext`.
 */
export function sdkPathStem(
  absoluteEntry: string,
  projectRoot: string,
): string {
  const depth = projectRoot.split('/').length
  return splitext(absoluteEntry.split('/').slice(depth).join('/'))
}

/** Python's `posixpath.splitext(p)[0]`: leading dots of the name are not an extension. */
function splitext(path: string): string {
  const sep = path.lastIndexOf('/')
  const dot = path.lastIndexOf('.')
  if (dot <= sep) return path
  for (let i = sep + 1; i < dot; i++) {
    if (path[i] !== '.') return path.slice(0, dot)
  }
  return path
}

/** The file checks {@link findProjectRoot} needs, passed in to keep this module free of I/O. */
export interface ProjectRootProbe {
  /** The working directory: the root when no project file is found. */
  readonly cwd: string
  /** Whether something exists at the path (the SDK: `Path.exists()`). */
  exists(path: string): boolean
  /** Whether the path is a file (the SDK: `Path.is_file()`). */
  isFile(path: string): boolean
}

/**
 * The SDK's `find_project_root(entry)`: the nearest folder, from the
 * entry's own (or the entry, if it is a folder) up to `/`, holding one of
 * {@link PROJECT_ROOT_FILES}; else the working directory.
 */
export function findProjectRoot(
  entry: string | undefined,
  probe: ProjectRootProbe,
): string {
  if (entry === undefined || entry === '') return probe.cwd
  let dir = posix.resolve(probe.cwd, entry.replaceAll('\\', '/'))
  if (probe.isFile(dir)) dir = posix.dirname(dir)
  for (;;) {
    if (PROJECT_ROOT_FILES.some((f) => probe.exists(posix.join(dir, f)))) {
      return dir
    }
    const up = posix.dirname(dir)
    if (up === dir) return probe.cwd
    dir = up
  }
}

/** `now` as the SDK's naive local datetime: wall-clock fields, proleptic Gregorian. */
interface WallClock {
  readonly year: number
  /** 1 to 12. */
  readonly month: number
  readonly day: number
  readonly hour: number
  readonly minute: number
  readonly second: number
  readonly millisecond: number
  /** 0 (Sunday) to 6, as C's `tm_wday`. */
  readonly weekday: number
  /** 1 to 366. */
  readonly yearDay: number
  /** Whole seconds since the epoch (`%s`). */
  readonly epochSeconds: number
}

const DAY_MS = 86_400_000

/**
 * The wall clock of `context.now` in env `TZ`'s zone (the host's when
 * unset), as glibc reads `TZ`: `""` is UTC and a leading `:` is dropped.
 */
function wallClock(context: TemplateContext): WallClock {
  const ms = context.now.getTime()
  if (!Number.isFinite(ms)) throw new Problem('{now} is an invalid Date')
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: timeZone(context.env.TZ),
    calendar: 'gregory',
    numberingSystem: 'latn',
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(context.now)
  const part = (type: string) =>
    Number(parts.find((p) => p.type === type)?.value)
  const year = part('year')
  const month = part('month')
  const day = part('day')
  if (!(year >= 1000 && year <= 9999)) {
    throw new Problem(`{now} is outside the years 1000 to 9999`)
  }
  const date = Date.UTC(year, month - 1, day)
  return {
    year,
    month,
    day,
    hour: part('hour'),
    minute: part('minute'),
    second: part('second'),
    millisecond: ((ms % 1000) + 1000) % 1000,
    weekday: new Date(date).getUTCDay(),
    yearDay: (date - Date.UTC(year, 0, 1)) / DAY_MS + 1,
    epochSeconds: Math.floor(ms / 1000),
  }
}

function timeZone(tz: string | undefined): string | undefined {
  if (tz === undefined) return undefined
  const name = tz === '' ? 'UTC' : tz.replace(/^:/, '')
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name })
  } catch {
    throw new Problem(
      `{now} is local time, and env TZ=${JSON.stringify(tz)} is not a time zone name known here (use an IANA name such as "Europe/Paris")`,
    )
  }
  return name
}

/** Python's `str(datetime)`: `YYYY-MM-DD HH:MM:SS[.ffffff]`. */
function pythonDatetimeStr(wall: WallClock): string {
  const base = strftime(wall, '%Y-%m-%d %H:%M:%S')
  return wall.millisecond === 0 ? base : `${base}.${microseconds(wall)}`
}

function microseconds(wall: WallClock): string {
  return String(wall.millisecond * 1000).padStart(6, '0')
}

const DAYS = [
  'Sunday',
  'Monday',
  'Tuesday',
  'Wednesday',
  'Thursday',
  'Friday',
  'Saturday',
]
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
]

/** A numeric code: its value, its width, and its padding when no flag is given. */
type NumericCode = (wall: WallClock) => [number, number, '0' | ' ' | '']

const NUMERIC: Readonly<Record<string, NumericCode>> = {
  C: (w) => [Math.floor(w.year / 100), 2, '0'],
  d: (w) => [w.day, 2, '0'],
  e: (w) => [w.day, 2, ' '],
  g: (w) => [isoWeek(w).year % 100, 2, '0'],
  G: (w) => [isoWeek(w).year, 4, ''],
  H: (w) => [w.hour, 2, '0'],
  I: (w) => [w.hour % 12 || 12, 2, '0'],
  j: (w) => [w.yearDay, 3, '0'],
  k: (w) => [w.hour, 2, ' '],
  l: (w) => [w.hour % 12 || 12, 2, ' '],
  m: (w) => [w.month, 2, '0'],
  M: (w) => [w.minute, 2, '0'],
  s: (w) => [w.epochSeconds, 1, ''],
  S: (w) => [w.second, 2, '0'],
  u: (w) => [w.weekday || 7, 1, ''],
  U: (w) => [Math.floor((w.yearDay - 1 + 7 - w.weekday) / 7), 2, '0'],
  V: (w) => [isoWeek(w).week, 2, '0'],
  w: (w) => [w.weekday, 1, ''],
  W: (w) => [
    Math.floor((w.yearDay - 1 + 7 - ((w.weekday + 6) % 7)) / 7),
    2,
    '0',
  ],
  y: (w) => [w.year % 100, 2, '0'],
  Y: (w) => [w.year, 4, ''],
}

const TEXT: Readonly<Record<string, (wall: WallClock) => string>> = {
  a: (w) => DAYS[w.weekday]!.slice(0, 3),
  A: (w) => DAYS[w.weekday]!,
  b: (w) => MONTHS[w.month - 1]!.slice(0, 3),
  h: (w) => MONTHS[w.month - 1]!.slice(0, 3),
  B: (w) => MONTHS[w.month - 1]!,
  p: (w) => (w.hour < 12 ? 'AM' : 'PM'),
  // glibc lower-cases %P even with the ^ flag.
  P: (w) => (w.hour < 12 ? 'am' : 'pm'),
}

/** Codes glibc expands into other codes (their flags change nothing). */
const COMPOSITE: Readonly<Record<string, string>> = {
  D: '%m/%d/%y',
  F: '%Y-%m-%d',
  R: '%H:%M',
  T: '%H:%M:%S',
}

/**
 * Codes Python's `datetime.strftime` handles itself before glibc sees the
 * format. `%z` and `%Z` are empty: the SDK's `now` is naive.
 */
const PYTHON_OWN: Readonly<Record<string, (wall: WallClock) => string>> = {
  f: microseconds,
  z: () => '',
  Z: () => '',
  '%': () => '%',
}

/** Every strftime code {@link expandPrefix} supports in `{now:FORMAT}`, flags aside. */
export const STRFTIME_CODES: readonly string[] = [
  ...Object.keys(NUMERIC),
  ...Object.keys(TEXT),
  ...Object.keys(COMPOSITE),
  ...Object.keys(PYTHON_OWN),
].map((c) => `%${c}`)

/** Why a known code is refused. */
const REFUSED: Readonly<Record<string, string>> = {
  c: 'it depends on the locale',
  x: 'it depends on the locale',
  X: 'it depends on the locale',
  r: 'it depends on the locale',
  E: 'locale alternatives (%E, %O) are not supported',
  O: 'locale alternatives (%E, %O) are not supported',
  n: 'a newline cannot be in a prefix',
  t: 'a tab cannot be in a prefix',
  ':': '%:z depends on the Python version (3.12 and later expand it)',
}

/**
 * C-locale strftime as Python's `datetime.strftime` gives it on Linux
 * (glibc): the codes of {@link STRFTIME_CODES}, with glibc's flags `-` (no
 * padding), `_` (spaces), `0` (zeros) and `^` (upper case). Field widths
 * and the `#` flag are refused; so are codes glibc would copy as they are.
 */
function strftime(wall: WallClock, format: string): string {
  let out = ''
  for (let i = 0; i < format.length; i++) {
    if (format[i] !== '%') {
      out += format[i]!
      continue
    }
    const flag = /[-_0^#]/.test(format[i + 1] ?? '') ? format[++i]! : ''
    const code = format[++i]
    out += conversion(wall, flag, code, format)
  }
  return out
}

function conversion(
  wall: WallClock,
  flag: string,
  code: string | undefined,
  format: string,
): string {
  const refuse = (why: string): never => {
    const written = `%${flag}${code ?? ''}`
    throw new Problem(`{now:${format}}: ${written} is refused: ${why}`)
  }
  if (code === undefined) return refuse('a format may not end with "%"')
  if (flag === '#') return refuse('the # flag is not supported')
  if (/\d/.test(code)) return refuse('field widths are not supported')
  const numeric = NUMERIC[code]
  if (numeric !== undefined) {
    const [value, width, pad] = numeric(wall)
    const fill =
      flag === '-' ? '' : flag === '_' ? ' ' : flag === '0' ? '0' : pad
    return fill === '' ? String(value) : String(value).padStart(width, fill)
  }
  const text = TEXT[code]?.(wall)
  if (text !== undefined) {
    return flag === '^' && code !== 'P' ? text.toUpperCase() : text
  }
  const composite = COMPOSITE[code]
  if (composite !== undefined) return strftime(wall, composite)
  const own = PYTHON_OWN[code]
  if (own !== undefined) {
    if (flag !== '') refuse(`a flag on %${code} is not expanded by Python`)
    return own(wall)
  }
  return refuse(
    REFUSED[code] ??
      `not a strftime code supported here (${STRFTIME_CODES.join(' ')})`,
  )
}

/** ISO 8601 week-numbering year and week (`%G`, `%V`). */
function isoWeek(wall: WallClock): { year: number; week: number } {
  const mondayBased = (wall.weekday + 6) % 7
  const thursday =
    Date.UTC(wall.year, wall.month - 1, wall.day) + (3 - mondayBased) * DAY_MS
  const year = new Date(thursday).getUTCFullYear()
  const week = Math.floor((thursday - Date.UTC(year, 0, 1)) / DAY_MS / 7) + 1
  return { year, week }
}
