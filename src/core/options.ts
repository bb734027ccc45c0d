/**
 * The options every entry point shares, and their resolution.
 *
 * `resolveOptions` layers the user's value, then the ml-dash SDK's
 * environment variable where one exists, then the default, and validates
 * each: a bad value throws here, at construction, with a sentence naming
 * the option (or the variable) and the value. Nothing is read from the
 * environment later. The environment is passed in, so this stays pure.
 */
import type { EntryLimits } from './entry.js'
import { DEFAULT_ENTRY_LIMITS } from './entry.js'
import type { LevelMap } from './level-tables.js'
import { isLevel, LEVELS } from './levels.js'
import type { ExperimentPrefix } from './prefix.js'
import { configError } from './config-error.js'
import type { OptionSpec, OptionTable } from './option-table.js'
import { SHARED_OPTIONS } from './option-table.js'
import { parsePrefix } from './prefix.js'
import type { TemplateContext } from './prefix-template.js'
import { expandPrefix } from './prefix-template.js'
import type {
  NetworkSettings,
  ResolvedNetwork,
} from '../store/remote/network.js'

/** Options shared by the Experiment and every transport, exporter and receiver. */
export interface MlDashOptions {
  /** Experiment prefix `owner/project/folder.../name`. @default env `ML_DASH_PREFIX` */
  prefix?: string
  /** Local store root; `false` for no local store (remote only). @default ".dash" */
  dashRoot?: string | false
  /**
   * ml-dash server URL; `true` for the official clients' server. With a
   * local store as well, the mode is hybrid.
   * @default undefined (no server); `true`: env `ML_DASH_API_URL`, else
   * `remote_url` in the official clients' `config.json`, else `https://api.dash.ml`
   */
  dashUrl?: string | true
  /** Bearer token for the server. @default env `ML_DASH_TOKEN`, then the OS keychain, then the official clients' token files and `config.json` `api_key` */
  token?: string
  /** PEM file of the CA certificates trusted for the ml-dash server, instead of Node's built-in ones (`NODE_EXTRA_CA_CERTS` applies only without it). @default undefined */
  caFile?: string
  /** PEM file of a client certificate for the ml-dash server (with `keyFile`). @default undefined */
  certFile?: string
  /** PEM file of the client certificate's unencrypted private key (with `certFile`). @default undefined */
  keyFile?: string
  /** Extra headers on every ml-dash server request; they win over env `ML_DASH_HEADERS` (`key=value,key2=value2`, values URL-encoded). @default env `ML_DASH_HEADERS`, else none */
  headers?: Record<string, string>
  /**
   * Entries waiting that start a server request before `flushIntervalMs`;
   * the request then carries everything waiting, up to 10 000 entries (or
   * `batchSize`, if larger) and `maxBatchBytes`, one request in flight.
   * @default env `ML_DASH_LOG_BATCH_SIZE`, else 100
   */
  batchSize?: number
  /** Most bytes in one server request, counted as `maxQueueBytes` counts them, one per UTF-16 unit (text outside ASCII takes up to 3 on the wire; a single larger entry goes alone). @default 1048576 (1 MiB) */
  maxBatchBytes?: number
  /** Longest wait before a partial remote batch is sent. @default env `ML_DASH_FLUSH_INTERVAL` (seconds), else 5000 */
  flushIntervalMs?: number
  /** Most entries waiting per store and experiment; beyond it new entries are dropped, counted and reported (`ML_DASH_QUEUE_FULL`). @default 1000000 */
  maxQueueSize?: number
  /**
   * Most bytes waiting per store and experiment (each entry's JSON text plus
   * 48 bytes); beyond it new entries are dropped, counted and reported
   * (`ML_DASH_QUEUE_FULL`).
   * @default 134217728 (128 MiB)
   */
  maxQueueBytes?: number
  /**
   * Retries of a batch after a retryable error before it is given up. By
   * default a batch waits in the outbox and is retried, with backoff up to
   * `retryMaxDelayMs`, until the server takes it.
   * @default env `ML_DASH_MAX_RETRIES`, else unlimited (9007199254740991)
   */
  maxRetries?: number
  /**
   * Where the outboxes of entries bound for the server are kept until the
   * server takes them. @default `<dashRoot>/.ml-dash-logs/outbox`; without
   * a local store `$XDG_CACHE_HOME/ml-dash-logs/outbox`, else `~/.cache/ml-dash-logs/outbox`
   */
  spoolDir?: string
  /**
   * Most bytes one outbox (per process and experiment) holds on disk; new
   * entries beyond it are dropped, counted and reported.
   * @default 1073741824 (1 GiB)
   */
  maxSpoolBytes?: number
  /** First retry delay, doubled each time. @default env `ML_DASH_RETRY_BASE_DELAY` (seconds), else 1000 */
  retryBaseDelayMs?: number
  /** Longest retry delay. @default env `ML_DASH_RETRY_MAX_DELAY` (seconds), else 30000 */
  retryMaxDelayMs?: number
  /** Time limit of one server request. @default 30000 */
  requestTimeoutMs?: number
  /** Deadline of `flush()` and `close()` when the call gives none. @default 10000 */
  closeTimeoutMs?: number
  /** Overrides of the source-level tables, e.g. `{ verbose: 'info', '35': 'warn' }`. @default {} */
  levelMap?: LevelMap
  /** Size limits of one entry; what is cut is marked. @default DEFAULT_ENTRY_LIMITS */
  limits?: Partial<EntryLimits>
  /**
   * Called, out of band, when entries cannot be delivered (with how many);
   * `error.code` is one of `ERROR_CODES`. Never called from inside a
   * logging call; exceptions it throws are ignored.
   * @default undefined (failures are counted and shown with NODE_DEBUG=ml-dash-logs)
   */
  onError?: (error: Error, undelivered: number) => void
  /**
   * No stderr line when delivery fails. By default each kind of failure
   * (an error code or status) is shown once per experiment and store on
   * stderr, then at most once a minute with how many more there were.
   * @default false
   */
  silenceErrors?: boolean
  /**
   * Route by each record's `ml_dash.prefix` alone, with no experiment of
   * the transport's own: asked for explicitly, because a record without a
   * routable prefix is then not stored (it is counted as `unrouted` and
   * reported like a delivery failure). Without it, a transport with no
   * prefix fails at construction.
   * @default false
   */
  routingOnly?: boolean
}

/** Every option populated and validated. */
export interface ResolvedOptions {
  prefix: ExperimentPrefix | undefined
  dashRoot: string | undefined
  dashUrl: string | undefined
  /** Where `dashUrl` came from: the option, `ML_DASH_API_URL`, config.json's `remote_url`, or the default. */
  dashUrlSource: string | undefined
  token: string | undefined
  /** CA, client certificate, extra headers and proxies of server requests (undefined: direct, Node's CAs, no extra headers). */
  network: ResolvedNetwork | undefined
  batchSize: number
  maxBatchBytes: number
  flushIntervalMs: number
  maxQueueSize: number
  maxQueueBytes: number
  maxRetries: number
  /** Resolved as given; the spool root is chosen with the server (src/delivery/spool.ts). */
  spoolDir: string | undefined
  maxSpoolBytes: number
  retryBaseDelayMs: number
  retryMaxDelayMs: number
  requestTimeoutMs: number
  closeTimeoutMs: number
  levelMap: LevelMap
  limits: EntryLimits
  onError: ((error: Error, undelivered: number) => void) | undefined
  silenceErrors: boolean
  routingOnly: boolean
  /** Names given that no entry point knows (ignored; delivery shows them). */
  unknownOptions: readonly UnknownOption[]
}

/**
 * Every name an entry point's options add to the shared ones: with
 * `satisfies`, a list that misses one (or names one too many) does not compile.
 */
export type OwnNames<T> = Record<Exclude<keyof T, keyof MlDashOptions>, true>

/** The shared option names. */
export const SHARED_OPTION_NAMES: readonly string[] = Object.keys(
  SHARED_OPTIONS satisfies Record<keyof MlDashOptions, OptionSpec>,
)

/** The ml-dash server used when `dashUrl: true`, no `ML_DASH_API_URL` and no `remote_url` in `config.json`. */
export const DEFAULT_DASH_URL = 'https://api.dash.ml'

type Env = Readonly<Record<string, string | undefined>>

/** What each kind of option resolves to. */
interface KindValues {
  prefix: ExperimentPrefix | undefined
  dashRoot: string | undefined
  dashUrl: { url: string; source: string } | undefined
  secret: string | undefined
  headerToken: string | undefined
  path: string | undefined
  host: string
  /** Checked with the other network settings (../store/remote/network.ts). */
  headers: Record<string, string> | undefined
  integer: number
  duration: number
  flag: boolean
  levelMap: LevelMap
  limits: EntryLimits
  function: ((...args: never[]) => unknown) | undefined
  text: string | null | undefined
  strings: string[] | undefined
  object: Record<string, unknown> | null | undefined
}

/** The resolved values of a table's options. */
export type ResolvedTable<T extends OptionTable> = {
  -readonly [K in keyof T]: KindValues[T[K]['kind']]
}

/**
 * Resolves every option of `table` from `options`, then the environment,
 * then the default, checking each as its kind says.
 *
 * @throws Error (code `ML_DASH_CONFIG`) naming the option or the variable.
 */
export function resolveTable<T extends OptionTable>(
  table: T,
  options: Readonly<Record<string, unknown>>,
  env: Env = {},
  context: OptionsContext = {},
): ResolvedTable<T> {
  const resolved: Record<string, unknown> = {}
  for (const [name, spec] of Object.entries(table))
    resolved[name] = resolveOne(name, spec, options[name], env, context)
  return resolved as ResolvedTable<T>
}

function resolveOne(
  name: string,
  spec: OptionSpec,
  value: unknown,
  env: Env,
  context: OptionsContext,
): unknown {
  switch (spec.kind) {
    case 'prefix':
      return resolvePrefix(name, spec, value, env, context)
    case 'dashRoot':
      return resolveDashRoot(value)
    case 'dashUrl':
      return resolveDashUrl(name, spec, value, env, context)
    case 'secret':
      // Its variable is read where it is used, to name the source (see OptionSpec.env).
      return optionalString(name, value)
    case 'headerToken':
      return headerToken(name, value)
    case 'path':
      return path(name, value)
    case 'host':
      return host(name, value) ?? spec.default
    case 'headers':
      return value
    case 'integer':
      return integer(name, spec, value, env)
    case 'duration':
      return duration(name, spec, value, env)
    case 'flag':
      return flag(name, value, spec.default === true)
    case 'levelMap':
      return resolveLevelMap(value)
    case 'limits':
      return resolveLimits(value as Partial<EntryLimits> | undefined)
    case 'function':
      return resolveFunction(name, value)
    case 'text':
      if (value === undefined || value === null || typeof value === 'string')
        return value
      throw configError(`${name} must be a string or null (got ${show(value)})`)
    case 'strings':
      if (
        value === undefined ||
        (Array.isArray(value) &&
          value.every((item) => typeof item === 'string'))
      )
        return value
      throw configError(
        `${name} must be an array of strings (got ${show(value)})`,
      )
    case 'object':
      if (
        value === undefined ||
        value === null ||
        (typeof value === 'object' && !Array.isArray(value))
      )
        return value
      throw configError(
        `${name} must be an object or null (got ${show(value)})`,
      )
  }
}

/**
 * Resolves options: user value, then environment, then default.
 *
 * @throws Error naming the option or variable, e.g.
 *   `ml-dash-logs: batchSize must be an integer >= 1 (got 0)`.
 */
export function resolveOptions(
  options: MlDashOptions = {},
  env: Env = {},
  ownNames: readonly string[] = [],
  context: OptionsContext = {},
): ResolvedOptions {
  if (
    options !== undefined &&
    options !== null &&
    (typeof options !== 'object' || Array.isArray(options))
  )
    throw configError(
      `the options must be an object such as { prefix: 'alice/project/run' } (got ${show(options)})`,
    )
  const given = (options ?? {}) as Readonly<Record<string, unknown>>
  const values = resolveTable(SHARED_OPTIONS, given, env, context)
  if (values.retryMaxDelayMs < values.retryBaseDelayMs) {
    throw configError(
      `retryMaxDelayMs (${values.retryMaxDelayMs}) must be >= retryBaseDelayMs (${values.retryBaseDelayMs})`,
    )
  }
  const server = values.dashUrl
  const { caFile, certFile, keyFile, headers } = values
  const resolved: ResolvedOptions = {
    prefix: values.prefix,
    dashRoot: values.dashRoot,
    dashUrl: server?.url,
    dashUrlSource: server?.source,
    // Only with a server: a broken http_proxy meant for other tools must not stop local logging.
    network:
      server === undefined
        ? undefined
        : context.network?.(
            { caFile, certFile, keyFile, headers },
            env,
            server.url,
          ),
    token: values.token,
    batchSize: values.batchSize,
    maxBatchBytes: values.maxBatchBytes,
    flushIntervalMs: values.flushIntervalMs,
    maxQueueSize: values.maxQueueSize,
    maxQueueBytes: values.maxQueueBytes,
    maxRetries: values.maxRetries,
    spoolDir: values.spoolDir,
    maxSpoolBytes: values.maxSpoolBytes,
    retryBaseDelayMs: values.retryBaseDelayMs,
    retryMaxDelayMs: values.retryMaxDelayMs,
    requestTimeoutMs: values.requestTimeoutMs,
    closeTimeoutMs: values.closeTimeoutMs,
    levelMap: values.levelMap,
    limits: values.limits,
    onError: values.onError as ResolvedOptions['onError'],
    silenceErrors: values.silenceErrors,
    routingOnly: values.routingOnly,
    unknownOptions: unknownOptions(given, ownNames),
  }
  if (resolved.dashRoot === undefined && resolved.dashUrl === undefined) {
    throw configError(
      'dashRoot is false and no dashUrl is set: there is nowhere to write',
    )
  }
  return resolved
}

export { CONFIG_ERROR_CODE, configError } from './config-error.js'

function resolveDashRoot(value: unknown): string | undefined {
  if (value === false) return undefined
  if (value === undefined) return '.dash'
  if (typeof value !== 'string' || value === '' || value.includes('\0')) {
    throw configError(
      `dashRoot must be a non-empty path or false (got ${show(value)})`,
    )
  }
  return value
}

/** A prefix, or an SDK template of one expanded as the SDK does (`{user}`, `{now:%Y}`, …). */
function resolvePrefix(
  name: string,
  spec: OptionSpec,
  value: unknown,
  env: Env,
  context: OptionsContext,
): ExperimentPrefix | undefined {
  const variable = spec.env
  // null, as pino's options keep it through structured cloning, means not given.
  const fromEnv =
    (value === undefined || value === null) && variable !== undefined
  const template = fromEnv ? env[variable] : value
  if (template === undefined) return undefined
  if (typeof template !== 'string') return parsePrefix(template)
  return parsePrefix(
    expandPrefix(template, {
      now: new Date(),
      ...context.template,
      env,
      source: fromEnv ? variable : name,
    }),
  )
}

/**
 * The server and where it was named: the option's URL, or for `true` the
 * context's (`ML_DASH_API_URL`, then `config.json` `remote_url`, then the
 * default), else the variable, else {@link DEFAULT_DASH_URL}.
 */
function resolveDashUrl(
  name: string,
  spec: OptionSpec,
  value: unknown,
  env: Env,
  context: OptionsContext,
): { url: string; source: string } | undefined {
  if (value === undefined) return undefined
  const variable = spec.env
  const { url, source } =
    value !== true
      ? { url: value, source: name }
      : (context.serverUrl?.() ??
        (variable !== undefined && env[variable]
          ? { url: env[variable], source: variable }
          : { url: DEFAULT_DASH_URL, source: 'the default' }))
  if (typeof url !== 'string')
    throw configError(
      `${name} must be an http(s) URL or true (got ${show(url)})`,
    )

  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw configError(`${source} must be an http(s) URL (got ${show(url)})`)
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    // Shown without any user:password it may carry.
    const credentials = parsed.username !== '' || parsed.password !== ''
    parsed.username = ''
    parsed.password = ''
    throw configError(
      `${source} must be an http(s) URL (got ${show(credentials ? parsed.href : url)})`,
    )
  }
  return { url: url.replace(/\/+$/, ''), source }
}

function flag(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback
  if (typeof value !== 'boolean')
    throw configError(`${name} must be true or false (got ${show(value)})`)
  return value
}

/**
 * What resolution takes from the running process (src/process-context.ts);
 * without it, resolution is pure: no config.json is read, and a template
 * is expanded for now, without an entry script.
 */
export interface OptionsContext {
  /** The server `dashUrl: true` names, and where that came from. */
  serverUrl?: () => { url: string; source: string }
  /** The run a prefix template is expanded for (all but the environment). */
  template?: Omit<TemplateContext, 'env' | 'source'>
  /** Reads and checks the network settings for the server at `url` (it reads the PEM files). */
  network?: (
    settings: NetworkSettings,
    env: Env,
    url: string,
  ) => ResolvedNetwork
}

/** An option name no entry point knows, and the known name nearest to it. */
export interface UnknownOption {
  name: string
  nearest?: string
}

/**
 * The option names (and `limits.*` names) that neither the shared table
 * nor the entry point's own names hold: a misspelled option must not pass
 * unnoticed. Delivery shows them (once per name and process); this stays pure.
 */
function unknownOptions(
  options: Readonly<Record<string, unknown>>,
  ownNames: readonly string[],
): UnknownOption[] {
  const found = unknownAmong(
    Object.keys(options),
    [...SHARED_OPTION_NAMES, ...ownNames],
    '',
  )
  const limits = options.limits
  if (typeof limits === 'object' && limits !== null)
    found.push(...unknownAmong(Object.keys(limits), LIMIT_NAMES, 'limits.'))
  return found
}

function unknownAmong(
  names: readonly string[],
  known: readonly string[],
  path: string,
): UnknownOption[] {
  const found: UnknownOption[] = []
  for (const name of names) {
    if (known.includes(name)) continue
    const nearest = nearestName(name, known)
    found.push(
      nearest === undefined
        ? { name: path + name }
        : { name: path + name, nearest: path + nearest },
    )
  }
  return found
}

/** The names `limits` takes. */
const LIMIT_NAMES: readonly string[] = Object.keys(DEFAULT_ENTRY_LIMITS)

/** The known name closest to `name` in edit distance, if any is close. */
export function nearestName(
  name: string,
  known: readonly string[],
): string | undefined {
  let best: string | undefined
  let bestDistance = Math.max(2, Math.floor(name.length / 3)) + 1
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase())
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance]
  }
  return best
}

/** Levenshtein distance, one row at a time (names are short). */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const next = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      next.push(Math.min(substitution, row[j]! + 1, next[j - 1]! + 1))
    }
    row = next
  }
  return row[b.length]!
}

/** A token as a header can carry it. @throws Error naming the rule, never the token */
function headerToken(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !/^[\x21-\x7e]+$/.test(value))
    throw configError(
      `${name} must be a non-empty string of visible ASCII characters (what an HTTP header carries)`,
    )
  return value
}

/** A path: undefined when not given; an empty one is an error (it would quietly mean none). */
function path(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value.trim() === '' || value.includes('\0'))
    throw configError(
      `${name} must be the path of a file or folder (got ${show(value)})`,
    )
  return value
}

/** A host name or address: undefined when not given; an empty one is an error (Node would listen everywhere). */
function host(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || !/^[^\s]+$/.test(value))
    throw configError(
      `${name} must be a host name or address, such as 127.0.0.1 or 0.0.0.0 (got ${show(value)})`,
    )
  return value
}

function optionalString(name: string, value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined
  if (typeof value !== 'string') throw configError(`${name} must be a string`)
  return value
}

/** A whole number from the option, else the variable, else the default. */
function integer(
  name: string,
  spec: OptionSpec,
  value: unknown,
  env: Env,
): number {
  const rule = { min: spec.min ?? 1, max: spec.max, integer: true }
  if (value !== undefined) return checkNumber(name, value, rule)
  const raw = fromEnv(env, spec.env)
  if (raw === undefined) return spec.default as number
  // Decimal digits only, as Python's int() reads the SDK's variables (not 0x10 or 1e3).
  return checkNumber(
    spec.env!,
    /^[+-]?\d+$/.test(raw) ? Number(raw) : NaN,
    rule,
    raw,
  )
}

/** Milliseconds from the option, else seconds from the SDK's variable, else the default. */
function duration(
  name: string,
  spec: OptionSpec,
  value: unknown,
  env: Env,
): number {
  const rule = { min: spec.min ?? 1, integer: false }
  if (value !== undefined) return checkNumber(name, value, rule)
  const variable = spec.env
  const raw = fromEnv(env, variable)
  if (raw === undefined) return spec.default as number
  // A decimal number, as Python's float() reads it (not 0x10).
  const seconds = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(raw)
    ? Number(raw)
    : NaN
  if (!Number.isFinite(seconds)) {
    throw configError(
      `${variable} must be a number of seconds (got ${show(raw)})`,
    )
  }
  return checkNumber(
    `${variable} (in seconds)`,
    Math.round(seconds * 1000),
    rule,
    raw,
  )
}

/** The variable's trimmed value; undefined when unset or blank. */
function fromEnv(env: Env, variable: string | undefined): string | undefined {
  const raw = variable === undefined ? undefined : env[variable]?.trim()
  return raw === '' ? undefined : raw
}

/** Durations are capped where Node's timers stop working (2^31-1 ms). */
const MAX_TIMER_MS = 2_147_483_647

/**
 * A deadline given to a call (`flush(timeoutMs)`, `close(…, timeoutMs)`):
 * milliseconds from 0 to 2^31-1. @throws Error (`ML_DASH_CONFIG`) naming the call
 */
export function checkDeadline(name: string, value: unknown): void {
  checkNumber(name, value, { min: 0, integer: false })
}

/** `value` when it is a number in range (a safe integer if `integer`), else a named error. */
function checkNumber(
  name: string,
  value: unknown,
  rule: { min: number; max?: number | undefined; integer: boolean },
  raw?: string,
): number {
  const ok = rule.integer
    ? Number.isSafeInteger(value)
    : Number.isFinite(value) && (value as number) <= MAX_TIMER_MS
  if (
    typeof value === 'number' &&
    ok &&
    value >= rule.min &&
    (rule.max === undefined || value <= rule.max)
  )
    return value
  const what = rule.integer ? 'an integer' : 'a duration'
  const unit = rule.integer ? '' : ' ms'
  const range =
    rule.max === undefined
      ? `>= ${rule.min}${unit}`
      : `from ${rule.min} to ${rule.max}${unit}`
  throw configError(
    `${name} must be ${what} ${range} (got ${show(raw ?? value)})`,
  )
}

function resolveLevelMap(map: unknown): LevelMap {
  if (map === undefined) return {}
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw configError('levelMap must be an object such as { verbose: "info" }')
  }
  for (const [source, level] of Object.entries(map)) {
    if (!isLevel(level)) {
      throw configError(
        `levelMap[${JSON.stringify(source)}] must be one of ${LEVELS.join(', ')} (got ${show(level)})`,
      )
    }
  }
  return { ...(map as LevelMap) }
}

function resolveLimits(limits: Partial<EntryLimits> | undefined): EntryLimits {
  if (
    limits !== undefined &&
    (typeof limits !== 'object' || limits === null || Array.isArray(limits))
  )
    throw configError(
      `limits must be an object such as { maxMessageLength: 10000 } (got ${show(limits)})`,
    )
  const merged: EntryLimits = { ...DEFAULT_ENTRY_LIMITS }
  for (const key of LIMIT_NAMES as (keyof EntryLimits)[]) {
    const value = limits?.[key]
    if (value === undefined) continue
    merged[key] = checkNumber(`limits.${key}`, value, { min: 1, integer: true })
  }
  return merged
}

function resolveFunction(name: string, value: unknown): KindValues['function'] {
  if (value === undefined) return undefined
  if (typeof value !== 'function')
    throw configError(`${name} must be a function`)
  return value as KindValues['function']
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  // JSON would write NaN and the infinities as null.
  if (typeof value === 'number') return String(value)
  if (typeof value === 'bigint') return `${value}n`
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}
