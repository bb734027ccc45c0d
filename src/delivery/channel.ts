/**
 * One experiment's delivery: a sink for the local store and one for the
 * ml-dash server, either or both (hybrid, as in the SDK). Each accepted
 * entry goes to every sink; the sinks are independent, so a server outage
 * never stops or slows local writing and a local failure never stops
 * remote delivery.
 *
 * Stores open lazily on their first write (so adapters need no async
 * construction); `open()` opens them eagerly to surface configuration
 * errors (the Experiment's `start()`).
 *
 * Exit: queued entries are drained synchronously into the local store on
 * `exit`; on `beforeExit` the remote sink is flushed (the process is held
 * open until its deadline), once per batch of new entries.
 */
import { mlDashError } from '../core/error-codes.js'
import type { EncodedEntry } from '../core/entry.js'
import type { ResolvedOptions } from '../core/options.js'
import type { ExperimentPrefix } from '../core/prefix.js'
import type { StoreResult } from '../core/result.js'
import type { ExperimentInfo } from '../store/experiment-file.js'
import { LazyLocalStore } from '../store/lazy-local-store.js'
import type { ExperimentStatus } from '../core/experiment-status.js'
import type { RemoteStore } from '../store/remote/remote-store.js'
import { createRemoteStore } from '../store/remote/remote-store.js'
import type { FoundToken } from '../store/remote/token.js'
import { onBeforeExit, onExit } from './exit-hooks.js'
import type {
  BatchStore,
  DeliveryReport,
  Sink,
  SinkOptions,
  SinkStats,
} from './sink.js'
import { createSink } from './sink.js'
import { reportFailure } from './failure-log.js'
import type { Adoption } from './spool.js'
import { adoptionFor, openOutbox, spoolRoot } from './spool.js'
import type { Outbox } from '../store/outbox.js'

/** Local writes take what has accumulated, up to this many entries per lock hold. */
const LOCAL_MAX_BATCH = 4096

/** A server request carries what waits, up to this many entries (and `maxBatchBytes`). */
export const REMOTE_MAX_BATCH = 10_000

/** How server requests are batched: started by `batchSize`, carrying what waits up to the bounds. */
export function remoteBatching(
  options: Pick<ResolvedOptions, 'batchSize' | 'maxBatchBytes'>,
): Pick<SinkOptions, 'batchSize' | 'maxBatchSize' | 'maxBatchBytes'> {
  return {
    batchSize: options.batchSize,
    maxBatchSize: Math.max(REMOTE_MAX_BATCH, options.batchSize),
    maxBatchBytes: options.maxBatchBytes,
  }
}

/**
 * Most bytes in one batch of the local store: a write builds the batch's text and
 * then its bytes, so large entries (up to 256 KiB of metadata each) would
 * otherwise build hundreds of megabytes at once.
 */
const MAX_BATCH_BYTES = 4 * 1024 * 1024

/** Counters per store. */
export interface ChannelStats {
  local?: SinkStats
  remote?: SinkStats
}

/** What a flush or close achieved, per store. */
export interface ChannelReport {
  local?: DeliveryReport
  remote?: DeliveryReport
  /** Set when the final status could not be recorded on the server. */
  statusError?: Error
}

/** One experiment's sinks. */
export interface Channel {
  readonly prefix: string
  /** Queues an entry in every store; false when a store refused it (queue full, closed). */
  enqueue(entry: EncodedEntry): boolean
  /** Whether every store would queue `count` more entries costing `bytes` in all. */
  canTake(count: number, bytes: number): boolean
  /** Opens the stores now; rejects on a permanent failure (a retryable one is retried by writes). */
  open(): Promise<void>
  flush(timeoutMs: number): Promise<ChannelReport>
  /** True once every entry accepted so far is on disk (local store or outbox). */
  persist(timeoutMs: number): Promise<boolean>
  /** Whether entries accepted now would be kept on disk. */
  canKeep(): boolean
  /** What was accepted so far will be kept on disk without a wait (see the implementation). */
  keepsUp(): boolean
  close(timeoutMs: number, status?: ExperimentStatus): Promise<ChannelReport>
  readonly stats: ChannelStats
}

/** What a channel needs beyond the resolved options. */
export interface ChannelOptions {
  prefix: ExperimentPrefix
  options: ResolvedOptions
  /** The server token, required when `options.dashUrl` is set. */
  token?: FoundToken
  info?: ExperimentInfo
}

/** Creates the channel; opens nothing yet. */
export function createChannel(config: ChannelOptions): Channel {
  return new SinkChannel(config)
}

/** Most of a close's deadline kept for the status update after the remote sink's close. */
const STATUS_SHARE_MS = 1000

class SinkChannel implements Channel {
  readonly prefix: string
  readonly #config: ChannelOptions
  readonly #local: { sink: Sink; store: LazyLocalStore } | undefined
  readonly #remote: { sink: Sink; store: RemoteStore } | undefined
  readonly #unregister: (() => void)[] = []
  /** Lets the outbox go (removed when the server took everything). */
  #release: (() => void) | undefined
  #adoption: Adoption | undefined
  #exitFlushedAt = 0

  constructor(config: ChannelOptions) {
    this.#config = config
    this.prefix = config.prefix.prefix
    const { options } = config
    if (options.dashRoot !== undefined) {
      const store = new LazyLocalStore(
        options.dashRoot,
        config.prefix,
        config.info,
      )
      this.#local = {
        store,
        sink: createSink({
          ...this.#sinkSettings(),
          name: `local ${this.prefix}`,
          store,
          maxBatchSize: LOCAL_MAX_BATCH,
          maxBatchBytes: MAX_BATCH_BYTES,
          flushIntervalMs: 0,
        }),
      }
    }
    if (options.dashUrl !== undefined) {
      if (config.token === undefined)
        throw mlDashError('ML_DASH_AUTH', 'a remote channel needs a token')
      const store = createRemoteStore({
        url: options.dashUrl,
        token: config.token.token,
        tokenSource: config.token.source,
        prefix: config.prefix,
        info: config.info,
        requestTimeoutMs: options.requestTimeoutMs,
        network: options.network,
      })
      // The channel closes the remote store itself, after the status PATCH.
      const batches: BatchStore = {
        write: (e, wanted) => store.write(e, wanted),
        close: () => {},
      }
      const root = spoolRoot(options.spoolDir, options.dashRoot)
      const spooled = this.#openOutbox(root, options.dashUrl)
      this.#release = spooled?.release
      // What earlier processes left for this server goes first.
      this.#adoption = adoptionFor({
        root,
        url: options.dashUrl,
        token: config.token,
        network: options.network,
        requestTimeoutMs: options.requestTimeoutMs,
        sink: this.#remoteBatches(),
      })
      this.#remote = {
        store,
        sink: createSink({
          ...this.#remoteBatches(),
          name: `remote ${this.prefix}`,
          store: batches,
          flushIntervalMs: options.flushIntervalMs,
          queue: spooled?.outbox,
          startAfter: this.#adoption.done,
          // On disk, the outbox's bound; in memory (no outbox, or a broken one), the queue's.
          maxDurableBytes: options.maxSpoolBytes,
        }),
      }
    }
    // At exit: the local store is written synchronously; what the server
    // never got is counted and said (nothing asynchronous runs any more).
    for (const sink of [this.#local?.sink, this.#remote?.sink])
      if (sink !== undefined)
        this.#unregister.push(onExit(() => sink.flushSync()))
    if (this.#remote !== undefined)
      this.#unregister.push(onBeforeExit(() => this.#exitFlush()))
  }

  get stats(): ChannelStats {
    return { local: this.#local?.sink.stats, remote: this.#remote?.sink.stats }
  }

  canTake(count: number, bytes: number): boolean {
    return (
      (this.#local?.sink.canTake(count, bytes) ?? true) &&
      (this.#remote?.sink.canTake(count, bytes) ?? true)
    )
  }

  enqueue(entry: EncodedEntry): boolean {
    const local = this.#local?.sink.enqueue(entry) ?? true
    const remote = this.#remote?.sink.enqueue(entry) ?? true
    return local && remote
  }

  async open(): Promise<void> {
    const results = await Promise.all([
      this.#local?.store.open(),
      this.#remote?.store.open(),
    ])
    for (const result of results) {
      if (result?.status === 'failure') throw result.error
    }
  }

  /**
   * Resolves true once every entry accepted so far is on disk in at least
   * one store: the local store (written, within `timeoutMs`), or the outbox
   * (written now). False when neither holds them (the receiver then does
   * not acknowledge them).
   */
  async persist(timeoutMs: number): Promise<boolean> {
    const inOutbox = this.#remote?.sink.persist() ?? false
    if (this.#local === undefined) return inOutbox
    const before = this.#local.sink.stats.failed
    const report = await this.#local.sink.flush(timeoutMs)
    // Still queued at the deadline (a Python writer holds the lock): it is
    // written later, so answering "not kept" would only bring a duplicate.
    const written =
      (report.timedOut && !this.#local.sink.retrying) ||
      (!report.timedOut && report.failed === before)
    return written || inOutbox
  }

  /**
   * True when what was accepted so far will be kept on disk without a wait:
   * the local store took its last batch and little waits for it (up to one
   * lock hold's batch), and the outbox, when there is a server, works.
   */
  keepsUp(): boolean {
    return (
      (this.#local?.sink.keepsUp(LOCAL_MAX_BATCH) ?? true) &&
      (this.#remote === undefined || this.#remote.sink.persist())
    )
  }

  /** Whether entries accepted now would be kept on disk (a local store, or an outbox that works). */
  canKeep(): boolean {
    return this.#local !== undefined || this.#remote?.sink.persist() === true
  }

  async flush(timeoutMs: number): Promise<ChannelReport> {
    const [local, remote] = await Promise.all([
      this.#local?.sink.flush(timeoutMs),
      this.#remote?.sink.flush(timeoutMs),
    ])
    return { local, remote }
  }

  async close(
    timeoutMs: number,
    status?: ExperimentStatus,
  ): Promise<ChannelReport> {
    const deadline = Date.now() + timeoutMs
    // A status update after the remote sink gets a share of the deadline
    // of its own: a sink that retries until its deadline would leave it none.
    const statusShare =
      this.#remote !== undefined && status !== undefined
        ? Math.min(STATUS_SHARE_MS, timeoutMs / 4)
        : 0
    const [local, remote] = await Promise.all([
      this.#local?.sink.close(timeoutMs),
      this.#closeRemote(deadline - statusShare),
    ])
    const report: ChannelReport = { local, remote }
    if (this.#remote !== undefined && status !== undefined) {
      const result = await withDeadline(
        this.#remote.store.setStatus(status),
        deadline - Date.now(),
      )
      if (result.status !== 'success') report.statusError = result.error
    }
    this.#remote?.store.close()
    this.#release?.()
    this.#release = undefined
    for (const unregister of this.#unregister.splice(0)) unregister()
    return report
  }

  /**
   * Closes the remote sink by `deadline`. An adoption still sending an
   * earlier process's outboxes is stopped first, with half the time: what
   * it leaves stays in those outboxes, for a later process.
   */
  async #closeRemote(deadline: number): Promise<DeliveryReport | undefined> {
    if (this.#remote === undefined) return undefined
    await this.#adoption?.stop(Math.max(0, (deadline - Date.now()) / 2))
    return this.#remote.sink.close(Math.max(0, deadline - Date.now()))
  }

  #remoteBatches() {
    return { ...this.#sinkSettings(), ...remoteBatching(this.#config.options) }
  }

  /** What every sink of the channel shares. */
  #sinkSettings() {
    const { options } = this.#config
    return {
      maxQueueSize: options.maxQueueSize,
      maxQueueBytes: options.maxQueueBytes,
      maxRetries: options.maxRetries,
      retryBaseDelayMs: options.retryBaseDelayMs,
      retryMaxDelayMs: options.retryMaxDelayMs,
      onError: options.onError,
      silenceErrors: options.silenceErrors,
    }
  }

  /**
   * This channel's outbox for the server at `url`; undefined (entries then
   * wait in memory, as they did before outboxes) when it cannot be made,
   * which is said once.
   */
  #openOutbox(
    root: string,
    url: string,
  ): { outbox: Outbox; release: () => void } | undefined {
    try {
      const spooled = openOutbox(root, url, this.prefix, this.#config.info)
      spooled.outbox.onBroken = (error) =>
        reportFailure(
          this.#config.options,
          `remote ${this.prefix}`,
          'the outbox cannot be written',
          error,
          0,
        )
      return spooled
    } catch (error) {
      reportFailure(
        this.#config.options,
        `remote ${this.prefix}`,
        'no outbox (entries bound for the server wait in memory, and are lost if the process dies)',
        error as Error,
        0,
      )
      return undefined
    }
  }

  /** The beforeExit flush: only when entries arrived since the last one, so an outage cannot loop. */
  async #exitFlush(): Promise<void> {
    const sink = this.#remote!.sink
    const { accepted, pending } = sink.stats
    if (pending === 0 || accepted === this.#exitFlushedAt) return
    this.#exitFlushedAt = accepted
    const report = await sink.flush(this.#config.options.closeTimeoutMs)
    // The deadline passed: count and say what is left, and release the
    // connection (a request still waiting for a silent server would
    // otherwise hold the program open until requestTimeoutMs).
    if (report.timedOut) await this.close(0)
  }
}

function withDeadline(
  promise: Promise<StoreResult>,
  ms: number,
): Promise<StoreResult> {
  return new Promise((resolve) => {
    const timer = setTimeout(
      () =>
        resolve({
          status: 'failure',
          error: mlDashError(
            'ML_DASH_DEADLINE',
            'the status update did not finish before the close deadline',
          ),
        }),
      Math.max(0, ms),
    )
    timer.unref()
    promise.then(
      (result) => {
        clearTimeout(timer)
        resolve(result)
      },
      (error: unknown) => {
        clearTimeout(timer)
        resolve({ status: 'failure', error: error as Error })
      },
    )
  })
}
