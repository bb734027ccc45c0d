/**
 * `Experiment`: the ml-dash SDK's logging API for code that logs directly.
 *
 * Mirrors the Python `Experiment` (see ml-dash's Logging page):
 * `run(fn)` opens, runs, flushes and closes (a throw closes it as FAILED
 * and is rethrown); `log(message, { level, metadata })` with `info` as the
 * default; `logs.debug|info|warn|error|fatal(message, metadata?)`.
 *
 * As in the SDK, `log` throws synchronously, before any I/O and storing
 * nothing, for a programmer's error only: an invalid level, or logging
 * before `start()` or after `close()`. Everything after acceptance is
 * asynchronous: entries are queued and written by the delivery sinks
 * (local store, ml-dash server, or both);
 * failures are counted and reported through `onError`, never thrown into
 * `log`. Entries still queued when the process calls `process.exit()` are
 * written synchronously to the local store on `exit`.
 */
import type { ExperimentStatus } from './core/experiment-status.js'
import { EXPERIMENT_STATUSES } from './core/experiment-status.js'
import type { EntryLimits } from './core/entry.js'
import { encodeEntry } from './core/entry.js'
import { normalizeLevel } from './core/levels.js'
import type { Level } from './core/levels.js'
import type {
  MlDashOptions,
  OwnNames,
  ResolvedOptions,
} from './core/options.js'
import {
  checkDeadline,
  configError,
  resolveOptions,
  resolveTable,
} from './core/options.js'
import type { OptionSpec } from './core/option-table.js'
import { EXPERIMENT_OPTIONS } from './core/option-table.js'
import { mlDashError } from './core/error-codes.js'
import type { ExperimentPrefix } from './core/prefix.js'
import { parsePrefix } from './core/prefix.js'
import type {
  Channel,
  ChannelReport,
  ChannelStats,
} from './delivery/channel.js'
import { createChannel } from './delivery/channel.js'
import {
  warnUnknownLogOptions,
  warnUnknownOptions,
} from './delivery/failure-log.js'
import type { ExperimentInfo } from './store/experiment-file.js'
import type { FoundToken } from './store/remote/token.js'
import { logServer, requireToken } from './store/remote/token.js'
import { processContext } from './process-context.js'
import { sdkDefaultPrefix } from './core/prefix-template.js'

/** Options of an {@link Experiment}: the shared ones plus experiment.json's fields. */
export interface ExperimentOptions extends MlDashOptions {
  /** experiment.json `description`. @default null (kept when reopening) */
  description?: string
  /** experiment.json `tags`. @default [] (kept when reopening) */
  tags?: string[]
  /** experiment.json `bindrs`. @default [] (kept when reopening) */
  bindrs?: string[]
  /** experiment.json `metadata`. @default null (kept when reopening) */
  metadata?: Record<string, unknown>
}

/** The experiment.json option names, beside the shared ones (the option table, checked complete by the compiler). */
const EXPERIMENT_NAMES = Object.keys(
  EXPERIMENT_OPTIONS satisfies Record<
    keyof OwnNames<ExperimentOptions>,
    OptionSpec
  >,
)

/** Options of one {@link Experiment.log} call. */
export interface LogOptions {
  /** One of debug, info, warn, error, fatal, in any case. @default "info" */
  level?: string
  /** Stored as given (made JSON-safe), omitted when empty. */
  metadata?: Record<string, unknown>
  /** Event time. @default the time of the call */
  timestamp?: Date | number | string
}

export type { ExperimentStatus }

const STATUSES: readonly unknown[] = EXPERIMENT_STATUSES

/** Where an experiment is in its life. */
export type ExperimentState =
  'created' | 'starting' | 'running' | 'closing' | 'closed'

/** `exp.logs.info(message, metadata?)` and its four siblings. */
export type LogBuilder = Readonly<
  Record<Level, (message: string, metadata?: Record<string, unknown>) => void>
>

const NO_OPTIONS: LogOptions = Object.freeze({})

/** Experiments made in this process (the SDK's RUN.job_counter). */
let experimentsMade = 0

/** An ml-dash experiment that Node code logs into. */
export class Experiment {
  /** The experiment's prefix, `owner/project/folder.../name`. */
  readonly prefix: string
  /** Per-level shortcuts: `exp.logs.error('Failed', { path })`. */
  readonly logs: LogBuilder
  readonly #options: ResolvedOptions
  readonly #parsedPrefix: ExperimentPrefix
  readonly #info: ExperimentInfo
  readonly #limits: EntryLimits
  readonly #token: FoundToken | undefined
  #state: ExperimentState = 'created'
  #channel: Channel | undefined
  #starting: Promise<this> | undefined
  #closing: Promise<ChannelReport> | undefined
  /** Set when a close's deadline came before the start finished: the status the start then closes with. */
  #closeWhenStarted: ExperimentStatus | undefined

  /**
   * @throws Error naming the option, for a missing or invalid prefix or any
   *   invalid option (checked here, before any I/O).
   */
  constructor(options: ExperimentOptions = {}) {
    // The SDK's RUN.job_counter: counted before expanding, even if expansion fails.
    const context = processContext(process.env, experimentsMade++)
    this.#options = resolveOptions(
      options,
      process.env,
      EXPERIMENT_NAMES,
      context,
    )
    // experiment.json's fields, checked here too, before any I/O.
    resolveTable(EXPERIMENT_OPTIONS, options as Record<string, unknown>)
    warnUnknownOptions(this.#options.unknownOptions)
    // Without a prefix, the SDK's default, as the SDK does (adapters still need one).
    this.#parsedPrefix =
      this.#options.prefix ??
      parsePrefix(
        sdkDefaultPrefix({
          ...context.template!,
          env: process.env,
          source: 'the SDK default prefix',
        }),
      )
    this.prefix = this.#parsedPrefix.prefix
    this.#limits = this.#options.limits
    this.#info = pickInfo(options)
    this.#token =
      this.#options.dashUrl === undefined
        ? undefined
        : requireToken(this.#options.dashUrl, this.#options.token)
    logServer(this.#options, this.#token)
    const at =
      (level: Level) => (message: string, metadata?: Record<string, unknown>) =>
        this.#log(level, message, metadata, undefined)
    this.logs = Object.freeze({
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      fatal: at('fatal'),
    })
  }

  /** created, starting, running, closing or closed. */
  get state(): ExperimentState {
    return this.#state
  }

  /** Delivery counters per store (accepted, delivered, dropped, failed, retried, pending). */
  get stats(): ChannelStats {
    return this.#channel?.stats ?? {}
  }

  /**
   * Opens the experiment: creates or merges experiment.json and repairs the
   * log files. Resolves to the experiment itself.
   *
   * @throws Error naming the path when the store cannot be created or written.
   */
  start(): Promise<this> {
    this.#starting ??= this.#start()
    return this.#starting
  }

  async #start(): Promise<this> {
    if (this.#state !== 'created') {
      // Only a close comes between (a start in progress or done is shared).
      throw mlDashError(
        'ML_DASH_CLOSED',
        `experiment "${this.prefix}" cannot start: it is ${this.#state}`,
      )
    }
    this.#state = 'starting'
    const channel = createChannel({
      prefix: this.#parsedPrefix,
      options: this.#options,
      token: this.#token,
      info: this.#info,
    })
    try {
      await channel.open()
    } catch (error) {
      await channel.close(0)
      this.#starting = undefined
      // A close that came meanwhile owns the state from here: it ends closed.
      if (this.#state === 'starting') this.#state = 'created'
      throw error
    }
    this.#channel = channel
    // A close that came meanwhile waits for this start, then closes the channel;
    // one whose deadline passed first left that to this start.
    if (this.#state === 'starting') this.#state = 'running'
    else if (this.#closeWhenStarted !== undefined)
      void channel.close(this.#options.closeTimeoutMs, this.#closeWhenStarted)
    return this
  }

  /**
   * Records one entry. `level` defaults to `info`; `metadata` is stored as
   * given (JSON-safe), omitted when empty.
   *
   * @throws Error `Invalid log level: 'X'. Must be one of: info, warn, error, debug, fatal`
   * @throws Error when the experiment is not running (before start, after close).
   */
  log(message: string, options: LogOptions = NO_OPTIONS): void {
    const level = normalizeLevel(options.level ?? 'info')
    if (options !== NO_OPTIONS) warnUnknownLogOptions(options)
    this.#log(level, message, options.metadata, options.timestamp)
  }

  /** The entry, once its options are read (the shortcuts come here directly). */
  #log(
    level: Level,
    message: string,
    metadata: Record<string, unknown> | undefined,
    time: LogOptions['timestamp'],
  ): void {
    if (this.#state !== 'running' || this.#channel === undefined) {
      throw mlDashError(
        this.#state === 'closed' || this.#state === 'closing'
          ? 'ML_DASH_CLOSED'
          : 'ML_DASH_NOT_STARTED',
        `cannot log to experiment "${this.prefix}": it is ${this.#state} (call start() or run() first)`,
      )
    }
    this.#channel.enqueue(
      encodeEntry({ level, message, metadata, time }, this.#limits),
    )
  }

  /**
   * Delivers everything logged so far. Resolves with the counters per
   * store; `timedOut` says the deadline came first (entries stay queued).
   */
  flush(
    timeoutMs: number = this.#options.closeTimeoutMs,
  ): Promise<ChannelReport> {
    try {
      checkDeadline('flush(timeoutMs)', timeoutMs)
    } catch (error) {
      return Promise.reject(
        error instanceof Error ? error : new Error(String(error)),
      )
    }
    return this.#channel?.flush(timeoutMs) ?? Promise.resolve({})
  }

  /**
   * Flushes, closes, and records the status on the server (awaited).
   * Entries still undelivered at the deadline are counted as failed and
   * reported. Idempotent: later calls return the first call's result.
   * Called while `start()` is under way, it waits for the start (whose
   * failure is the start's to report) and closes what it opened; the
   * deadline applies to the close, after the start.
   */
  close(
    status: ExperimentStatus = 'COMPLETED',
    timeoutMs: number = this.#options.closeTimeoutMs,
  ): Promise<ChannelReport> {
    try {
      checkDeadline('close(status, timeoutMs)', timeoutMs)
      if (!STATUSES.includes(status))
        throw configError(
          `close(status) takes one of ${STATUSES.join(', ')} (got ${JSON.stringify(status) ?? String(status)})`,
        )
    } catch (error) {
      return Promise.reject(
        error instanceof Error ? error : new Error(String(error)),
      )
    }
    this.#closing ??= this.#close(status, timeoutMs)
    return this.#closing
  }

  async #close(
    status: ExperimentStatus,
    timeoutMs: number,
  ): Promise<ChannelReport> {
    this.#state = 'closing'
    const deadline = Date.now() + timeoutMs
    try {
      // Else the start would finish afterwards and leave a running experiment.
      if (!(await settlesWithin(this.#starting, timeoutMs))) {
        // Still starting at the deadline: the start closes what it opens.
        this.#closeWhenStarted = status
        return {}
      }
      const left = Math.max(0, deadline - Date.now())
      return (await this.#channel?.close(left, status)) ?? {}
    } finally {
      this.#state = 'closed'
    }
  }

  /**
   * Starts, runs `fn`, then closes: COMPLETED when `fn` resolves, FAILED
   * when it throws (the error is rethrown after closing).
   */
  async run<T>(fn: (experiment: this) => T | Promise<T>): Promise<T> {
    await this.start()
    let result: T
    try {
      result = await fn(this)
    } catch (error) {
      await this.close('FAILED')
      throw error
    }
    await this.close('COMPLETED')
    return result
  }
}

/** True when `promise` (if any) settles within `ms`; its outcome is ignored. */
function settlesWithin(
  promise: Promise<unknown> | undefined,
  ms: number,
): Promise<boolean> {
  if (promise === undefined) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms)
    timer.unref()
    const settled = () => {
      clearTimeout(timer)
      resolve(true)
    }
    promise.then(settled, settled)
  })
}

function pickInfo(options: ExperimentOptions): ExperimentInfo {
  const info: ExperimentInfo = {}
  if (options.description !== undefined) info.description = options.description
  if (options.tags !== undefined) info.tags = [...options.tags]
  if (options.bindrs !== undefined) info.bindrs = [...options.bindrs]
  if (options.metadata !== undefined) info.metadata = { ...options.metadata }
  return info
}
