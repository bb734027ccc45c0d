/**
 * The delivery sink for one experiment and one store: a bounded queue,
 * batches by size and time, one write in flight, bounded retries, flush and
 * close with deadlines, and counters.
 *
 * - `enqueue` never throws and never does I/O. When the queue is full the
 *   new entry is dropped and counted (what was accepted earlier is kept,
 *   so order and the oldest context survive an outage).
 * - With `flushIntervalMs: 0` (the local store) a write starts as soon as
 *   the current turn of the event loop ends, taking everything that has
 *   accumulated (up to `maxBatchSize`); entries logged while it runs form
 *   the next batch. Otherwise a partial batch waits up to the interval, on
 *   an `unref()`'d timer.
 * - A `retryable` result retries the same batch first (order is kept),
 *   waiting as the retry policy says (./retry-policy.ts: Retry-After or
 *   backoff with jitter, at most `maxRetries` times); a `failure`, or
 *   retries exhausted, drops that batch, counts it as failed, reports it
 *   through `onError`, and delivery goes on.
 * - `flush(ms)` settles everything accepted before the call, or reports at
 *   the deadline what is still pending; it never shortens a retry wait (the
 *   server asked for it, and a retry spent early is lost to the outage).
 *   `close(ms)` does the same, then stops: nothing is left scheduled. Its
 *   deadline is the policy's: a wait that would pass it ends at once,
 *   without spending a retry, and what is left is counted as failed.
 *   `flushSync()` drains synchronously for the process `exit` event, when
 *   the store can.
 */
import type { EncodedEntry } from '../core/entry.js'
import type { StoreResult } from '../core/result.js'
import { mlDashError } from '../core/error-codes.js'
import { describeThrown } from '../core/serialize.js'
import { debug } from '../debug.js'
import { reportFailure, reportKept, reportRetrying } from './failure-log.js'
import type { RetryDecision } from './retry-policy.js'
import { decideRetry, passesDeadline } from './retry-policy.js'

/** Fewer entries than this waiting make a write (of a store written as soon as it can) wait until {@link LINGER_MS} after the last one. */
const SMALL_BATCH = 64

/** Longest such wait: what the local store's latency grows by while entries trickle into many experiments. */
const LINGER_MS = 100

/** A store as the sink sees it. */
export interface BatchStore {
  /** Writes a batch. `stillWanted()` false after the wait for a lock: skip it (already written). */
  write(
    entries: readonly EncodedEntry[],
    stillWanted: () => boolean,
  ): Promise<StoreResult>
  /** Writes a batch synchronously, where the store can (the local store). */
  writeSync?(entries: readonly EncodedEntry[]): StoreResult
  /** Releases the store's resources. */
  close(): void | Promise<void>
}

/** Settings of one sink. */
export interface SinkOptions {
  store: BatchStore
  /** For diagnostics: which experiment and store. */
  name: string
  /** Most entries in one batch. */
  maxBatchSize: number
  /**
   * Entries waiting that start a batch before `flushIntervalMs` ends. The
   * batch then takes everything waiting, up to `maxBatchSize` and
   * `maxBatchBytes`: a backlog drains in batches as large as the bounds
   * allow, one in flight.
   * @default maxBatchSize
   */
  batchSize?: number
  /**
   * Most bytes ({@link entryCost}) in one batch; a single larger entry goes
   * alone. Bounds what a write builds (the batch's text, then its bytes).
   * @default Infinity
   */
  maxBatchBytes?: number
  /** 0: write as soon as possible. */
  flushIntervalMs: number
  maxQueueSize: number
  /** Most bytes waiting or in flight, counted by {@link entryCost}. */
  maxQueueBytes: number
  maxRetries: number
  retryBaseDelayMs: number
  retryMaxDelayMs: number
  /** The backoff's jitter source, in [0, 1]; for tests. @default Math.random */
  random?: (() => number) | undefined
  onError?: ((error: Error, undelivered: number) => void) | undefined
  /** No stderr line for failures (they still reach onError and the debug log). */
  silenceErrors?: boolean
  /**
   * Where waiting entries are kept: in memory (the default), or a durable
   * queue (the outbox), whose entries outlive the process: at exit and at
   * a close's deadline they are kept there, not given up.
   */
  queue?: EntryQueue
  /** Nothing is sent before this settles (the outboxes of an earlier process go first). */
  startAfter?: Promise<unknown>
  /** Entries the queue holds already (an earlier process's outbox), counted as accepted. */
  preloaded?: number
  /** The byte bound while the queue is durable (on disk): `maxSpoolBytes`. @default maxQueueBytes */
  maxDurableBytes?: number
}

/**
 * The entries a sink has accepted and not settled, in order. The sink takes
 * one batch at a time and says when it is settled (`done`).
 */
export interface EntryQueue {
  /** Entries waiting, not taken. */
  readonly length: number
  push(entry: EncodedEntry): void
  /** The next batch: at most `maxCount` entries and `maxBytes` (a larger single entry goes alone). */
  take(maxCount: number, maxBytes: number): EncodedEntry[]
  /** The batch taken last is settled: it is not given again. */
  done(): void
  /** Everything waiting is given up. */
  clear(): void
  /** Set for a queue whose entries outlive the process: where they are, for messages. */
  readonly durable?: string
  /** The command that sends them from there (`ml-dash-logs sync …`), for messages. */
  readonly resumeCommand?: string
  /** Writes what it holds in memory to where it outlives the process. */
  persistSync?(): void
}

/** The in-memory queue. */
class MemoryQueue implements EntryQueue {
  #entries: EncodedEntry[] = []
  #head = 0

  get length(): number {
    return this.#entries.length - this.#head
  }

  push(entry: EncodedEntry): void {
    this.#entries.push(entry)
  }

  take(maxCount: number, maxBytes: number): EncodedEntry[] {
    const most = Math.min(this.#entries.length, this.#head + maxCount)
    let end = this.#head + 1
    for (let bytes = entryCost(this.#entries[this.#head]!); end < most; end++) {
      bytes += entryCost(this.#entries[end]!)
      if (bytes > maxBytes) break
    }
    const entries = this.#entries.slice(this.#head, end)
    this.#head = end
    if (this.#head === this.#entries.length) {
      this.#entries = []
      this.#head = 0
    } else if (this.#head > 4096 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head)
      this.#head = 0
    }
    return entries
  }

  done(): void {}

  clear(): void {
    this.#entries = []
    this.#head = 0
  }
}

/** Counters of one sink. accepted = delivered + failed + queued (+ in flight). */
export interface SinkStats {
  /** Entries taken into the queue. */
  accepted: number
  /** Entries the store confirmed. */
  delivered: number
  /** Entries refused because the queue was full (by count or bytes) or the sink closed. */
  dropped: number
  /** Accepted entries given up on (permanent error, retries exhausted, deadline at close). */
  failed: number
  /** Entry writes attempted again after a retryable error. */
  retried: number
  /** Entries waiting or in flight now. */
  pending: number
  /** What they cost the byte bound ({@link entryCost}). */
  pendingBytes: number
  /** Why the last entries were given up on, when some were. */
  lastError?: string
}

/** What a flush or close achieved by its end. */
export interface DeliveryReport extends SinkStats {
  /** True when the deadline came before everything was settled. */
  timedOut: boolean
}

/** The sink's public face. */
export interface Sink {
  /** Queues an encoded entry; false when it was dropped. Never throws. */
  enqueue(entry: EncodedEntry): boolean
  /** Whether `count` more entries costing `bytes` in all would be queued now. */
  canTake(count: number, bytes: number): boolean
  /**
   * Settles what was accepted before the call, or reports at the deadline.
   * The process is held open until then (a flush that is awaited must be
   * able to wait out a retry when nothing else keeps the program alive).
   */
  flush(timeoutMs: number, holdProcess?: boolean): Promise<DeliveryReport>
  /**
   * At process exit: writes everything queued now, blocking, when the store
   * can (the local store); otherwise (the server) counts it as failed and
   * reports it, since nothing asynchronous runs any more.
   */
  flushSync(): void
  /**
   * Writes what the queue holds in memory to where it outlives the process,
   * now; true when every accepted entry is there (a durable queue that works).
   */
  persist(): boolean
  /**
   * True when the store took the last batch written and at most
   * `maxPending` entries wait: what is accepted now will be written soon
   * without anyone waiting for it (an OpenTelemetry export may answer at
   * once). False before any batch was written.
   */
  keepsUp(maxPending: number): boolean
  /** A batch failed with a retryable error and is waiting to be tried again. */
  readonly retrying: boolean
  close(timeoutMs: number): Promise<DeliveryReport>
  readonly stats: Readonly<SinkStats>
}

/**
 * What an entry costs the queue's byte bound: its JSON text, one byte per
 * UTF-16 code unit, plus a fixed allowance for the string header and the
 * queue slot, so that many tiny entries count too. V8 keeps Latin-1 text
 * in one byte a unit and other text in two, so entries mostly outside
 * Latin-1 can take up to twice the bound; in hybrid mode both stores count
 * the one shared text, so the two bounds together over-count it.
 */
export function entryCost(entry: EncodedEntry): number {
  return entry.length + ENTRY_OVERHEAD_BYTES
}

/** Least time between two reports of drops by one sink. */
const DROP_REPORT_MS = 1000

/** Why an entry given after `close()` is dropped. */
const CLOSED_REFUSAL = 'they came after close()'

/** A deadline as a timer can wait it: 0 to 2^31-1 ms (NaN: 0). */
function clampDeadline(ms: number): number {
  return Number.isFinite(ms)
    ? Math.min(Math.max(0, ms), 2_147_483_647)
    : ms > 0
      ? 2_147_483_647
      : 0
}

/** The fixed part of {@link entryCost}. */
const ENTRY_OVERHEAD_BYTES = 48

/** Creates a sink over `options.store`. */
export function createSink(options: SinkOptions): Sink {
  return new BatchingSink(options)
}

interface Batch {
  entries: readonly EncodedEntry[]
  /** Their {@link entryCost}, returned to the byte bound when the batch settles. */
  bytes: number
  /** Set when the synchronous drain wrote it: the async write must skip it. */
  settled: boolean
}

interface Waiter {
  /** Resolved when this many accepted entries are settled. */
  target: number
  /** Ends the wait: `timedOut` at its deadline, or when the close's came first. */
  resolve: (timedOut: boolean) => void
}

/** A retry wait in progress. */
interface RetryWait {
  /** When it ends by itself (`Date.now()` time). */
  until: number
  /** Ends it early (close): the retry is not made. */
  cut: () => void
}

class BatchingSink implements Sink {
  readonly #options: SinkOptions
  readonly #queue: EntryQueue
  /** Nothing is sent while set (see SinkOptions.startAfter). */
  #gated = false
  /** Cost of the entries queued and in flight. */
  #bytes = 0
  #inflight: Batch | undefined
  #draining = false
  #timer: NodeJS.Timeout | undefined
  #immediate: NodeJS.Immediate | undefined
  #retryWait: RetryWait | undefined
  #waiters: Waiter[] = []
  #closed = false
  #lastError: string | undefined
  /** When the last batch was taken (`performance.now()`). */
  #lastBatchAt = -Infinity
  /** The last batch settled was written (none yet: false). */
  #lastWriteOk = false
  /** Why the batch now waiting for a retry failed: named if the close's deadline ends the wait. */
  #lastRetryError: Error | undefined
  /** The close's deadline (`Date.now()` time); the retry policy's deadline. */
  #deadline: number | undefined
  /** The close's deadline comes before the next retry could: nothing more is sent. */
  #outOfTime = false
  #stopped = false
  /** Entries dropped since the last report, and why the first of them was. */
  #dropsUnreported = 0
  #dropReason = ''
  #lastDropReport = -Infinity
  readonly #stats = {
    accepted: 0,
    delivered: 0,
    dropped: 0,
    failed: 0,
    retried: 0,
  }

  constructor(options: SinkOptions) {
    this.#options = options
    this.#queue = options.queue ?? new MemoryQueue()
    this.#stats.accepted = options.preloaded ?? 0
    if (options.startAfter !== undefined) {
      this.#gated = true
      const open = (): void => {
        this.#gated = false
        if (this.#queuedCount() > 0) this.#schedule()
      }
      options.startAfter.then(open, open)
    }
  }

  get stats(): Readonly<SinkStats> {
    const stats: SinkStats = {
      ...this.#stats,
      pending: this.#pending(),
      pendingBytes: this.#bytes,
    }
    if (this.#lastError !== undefined) stats.lastError = this.#lastError
    return stats
  }

  enqueue(entry: EncodedEntry): boolean {
    const cost = entryCost(entry)
    const refused = this.#refusal(cost)
    if (refused !== undefined) {
      this.#stats.dropped++
      // Reported out of band, with how many: at most once a second.
      if (this.#dropsUnreported++ === 0) {
        this.#dropReason = refused
        const wait = this.#lastDropReport + DROP_REPORT_MS - Date.now()
        if (wait <= 0) setImmediate(() => this.#reportDrops())
        else setTimeout(() => this.#reportDrops(), wait).unref()
      }
      return false
    }
    this.#stats.accepted++
    this.#bytes += cost
    this.#queue.push(entry)
    this.#schedule()
    return true
  }

  canTake(count: number, bytes: number): boolean {
    return (
      !this.#closed &&
      (this.#queue.durable !== undefined ||
        this.#queuedCount() + count <= this.#options.maxQueueSize) &&
      this.#bytes + bytes <= this.#byteBound()
    )
  }

  /** On disk, the outbox's bound; in memory, the queue's. */
  #byteBound(): number {
    return this.#queue.durable !== undefined
      ? (this.#options.maxDurableBytes ?? this.#options.maxQueueBytes)
      : this.#options.maxQueueBytes
  }

  /** Why an entry of `cost` bytes cannot be queued now, or undefined when it can. */
  #refusal(cost: number): string | undefined {
    if (this.#closed) return CLOSED_REFUSAL
    // On disk, entries cost no memory: only the outbox's byte bound counts.
    if (
      this.#queue.durable === undefined &&
      this.#queuedCount() >= this.#options.maxQueueSize
    )
      return `queue full: maxQueueSize ${this.#options.maxQueueSize} entries`
    if (this.#bytes + cost > this.#byteBound())
      return this.#queue.durable !== undefined &&
        this.#options.maxDurableBytes !== undefined
        ? `outbox full: maxSpoolBytes ${this.#options.maxDurableBytes} bytes`
        : `queue full: maxQueueBytes ${this.#options.maxQueueBytes} bytes`
    return undefined
  }

  flush(timeoutMs: number, holdProcess = true): Promise<DeliveryReport> {
    timeoutMs = clampDeadline(timeoutMs)
    const target = this.#stats.accepted
    if (this.#settledCount() >= target) {
      return Promise.resolve(this.#report(false))
    }
    if (this.#outOfTime) return Promise.resolve(this.#report(true))
    const flushed = new Promise<DeliveryReport>((resolve) => {
      const waiter: Waiter = {
        target,
        resolve: (timedOut) => {
          clearTimeout(timer)
          this.#waiters = this.#waiters.filter((w) => w !== waiter)
          resolve(this.#report(timedOut))
        },
      }
      const timer = setTimeout(() => waiter.resolve(true), timeoutMs)
      if (!holdProcess) timer.unref()
      this.#waiters.push(waiter)
    })
    // After the waiter is registered: the drain sends partial batches only while someone waits.
    this.#startNow()
    return flushed
  }

  keepsUp(maxPending: number): boolean {
    return (
      this.#lastWriteOk &&
      !this.retrying &&
      !this.#closed &&
      this.#pending() <= maxPending
    )
  }

  get retrying(): boolean {
    return this.#lastRetryError !== undefined
  }

  persist(): boolean {
    this.#queue.persistSync?.()
    return this.#queue.durable !== undefined
  }

  flushSync(): void {
    if (this.#stopped) return
    // Drops of this tick are said before the process goes.
    this.#reportDrops()
    const writeSync = this.#options.store.writeSync?.bind(this.#options.store)
    if (this.#queue.durable !== undefined) {
      // Kept where they outlive the process: the next one sends them.
      try {
        this.#queue.persistSync?.()
        this.#reportKept()
      } catch (error) {
        const pending = this.#pending()
        this.#abandon(error as Error, pending)
      }
      return
    }
    if (writeSync === undefined) {
      const pending = this.#pending()
      this.#abandon(
        mlDashError(
          'ML_DASH_DEADLINE',
          `${pending} ${pending === 1 ? 'entry was' : 'entries were'} not sent before the process exited`,
        ),
        pending,
      )
      return
    }
    const inflight = this.#inflight
    if (inflight !== undefined && !inflight.settled) {
      inflight.settled = true
      this.#settle(inflight, writeSync(inflight.entries))
    }
    while (this.#queuedCount() > 0) {
      const batch = this.#take()
      batch.settled = true
      this.#settle(batch, writeSync(batch.entries))
    }
    this.#notify()
  }

  async close(timeoutMs: number): Promise<DeliveryReport> {
    timeoutMs = clampDeadline(timeoutMs)
    this.#closed = true
    // Drops not reported yet are reported before the close resolves.
    this.#reportDrops()
    this.#deadline = Date.now() + timeoutMs
    this.#cutWaitPastDeadline()
    const report = await this.flush(timeoutMs)
    this.#stop()
    if (report.timedOut && this.#queue.durable !== undefined) {
      // Kept where they outlive the process: the next one sends them.
      this.#reportKept()
    } else if (report.timedOut) {
      // Give up on what the deadline left: count it, say it.
      const undelivered = this.#pending()
      this.#abandon(
        mlDashError(
          'ML_DASH_DEADLINE',
          `${this.#options.name}: ${undelivered} entries not delivered before the close deadline (${timeoutMs} ms)${this.#lastRetryError === undefined ? '' : `; the last attempt failed: ${this.#lastRetryError.message.replace(/^ml-dash-logs: /, '')}`}`,
        ),
        undelivered,
      )
    }
    try {
      await this.#options.store.close()
    } catch (error) {
      debug(
        '%s: closing the store failed: %s',
        this.#options.name,
        describeThrown(error),
      )
    }
    return { ...this.#report(report.timedOut) }
  }

  /** A retry wait begun before the close but ending after its deadline ends now, unspent. */
  #cutWaitPastDeadline(): void {
    const wait = this.#retryWait
    if (wait === undefined) return
    if (passesDeadline(wait.until - Date.now(), this.#remainingMs())) wait.cut()
  }

  #schedule(): void {
    if (this.#draining || this.#stopped || this.#outOfTime) return
    if (this.#options.flushIntervalMs === 0) {
      const linger = this.#lingerMs()
      if (linger <= 0) this.#startSoon()
      else if (this.#timer === undefined) {
        this.#timer = setTimeout(() => this.#startNow(), linger)
        this.#timer.unref()
      }
    } else if (this.#fullBatchWaits()) {
      this.#startSoon()
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(
        () => this.#startNow(),
        this.#options.flushIntervalMs,
      )
      this.#timer.unref()
    }
  }

  /**
   * How long a write that starts as soon as it can (the local store) waits
   * still: when fewer than {@link SMALL_BATCH} entries wait and the last
   * write went less than {@link LINGER_MS} ago, until then, so that many
   * experiments each taking a few entries a turn write a few times a
   * second each, not once a turn each (every write costs a lock hold and a
   * handful of system calls). A flush, {@link SMALL_BATCH} entries waiting,
   * a full batch or a pause in the flow starts at once.
   */
  #lingerMs(): number {
    if (
      this.#waiters.length > 0 ||
      this.#queuedCount() >= SMALL_BATCH ||
      this.#fullBatchWaits()
    )
      return 0
    return this.#lastBatchAt + LINGER_MS - performance.now()
  }

  /** Starts a drain after the current turn, so a burst of calls forms one batch. */
  #startSoon(): void {
    this.#immediate ??= setImmediate(() => {
      this.#immediate = undefined
      this.#startNow()
    })
  }

  #startNow(): void {
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#gated) return
    // A retry wait is not woken here: a flush waits it out like everyone.
    if (this.#draining || this.#stopped || this.#outOfTime) return
    this.#draining = true
    this.#drain()
      .catch((error: unknown) =>
        debug(
          '%s: delivery loop failed: %s',
          this.#options.name,
          describeThrown(error),
        ),
      )
      .finally(() => {
        this.#draining = false
        if (this.#queuedCount() > 0) this.#schedule()
      })
  }

  /**
   * Sends batches while there is work. The first batch goes whatever its
   * size (the interval elapsed, a flush asked, or the batch is full); later
   * ones only when full, or while a flush waits, or for the local store.
   */
  async #drain(): Promise<void> {
    for (
      let first = true;
      !this.#stopped && this.#queuedCount() > 0;
      first = false
    ) {
      const partialAllowed =
        first || this.#waiters.length > 0 || this.#options.flushIntervalMs === 0
      if (!partialAllowed && !this.#fullBatchWaits()) return
      // Written as soon as it can, but a trickle into many experiments lingers (see #lingerMs).
      if (!first && this.#waiters.length === 0 && this.#lingerMs() > 0) return
      const batch = this.#take()
      // A queue may find less than it counted (torn lines in an outbox).
      if (batch.entries.length === 0) return
      this.#inflight = batch
      this.#lastBatchAt = performance.now()
      await this.#deliver(batch)
      // Out of time: it stays in flight for the close's deadline accounting.
      if (!batch.settled) return
      this.#inflight = undefined
      this.#notify()
    }
  }

  /**
   * Writes one batch, retrying as the retry policy decides, until it is
   * settled, delivery stops, or the close's deadline comes first.
   */
  async #deliver(batch: Batch): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const written = await this.#write(batch)
      if (batch.settled || this.#stopped) return
      // A refused token is the login's fault, not the entries': in an
      // outbox they wait (retried, kept at the deadline) rather than go.
      const result: StoreResult =
        written.status === 'failure' &&
        this.#queue.durable !== undefined &&
        (written.error as { code?: unknown }).code === 'ML_DASH_AUTH'
          ? { status: 'retryable', error: written.error }
          : written
      const decision = decideRetry({
        attempt,
        result,
        options: this.#options,
        remainingMs: this.#remainingMs(),
        random: this.#options.random,
      })
      // The policy settles every result that is not retryable.
      if (decision.action === 'settle' || result.status !== 'retryable') {
        batch.settled = true
        this.#settle(batch, result)
        return
      }
      this.#debugRetry(batch, result.error, decision)
      this.#lastRetryError = result.error
      reportRetrying(this.#options, this.#options.name, result.error)
      const waited =
        decision.action === 'wait' && (await this.#sleep(decision.delayMs))
      if (batch.settled || this.#stopped) return
      if (!waited) return this.#runOutOfTime()
      this.#stats.retried += batch.entries.length
    }
  }

  #debugRetry(
    batch: Batch,
    error: Error,
    decision: Exclude<RetryDecision, { action: 'settle' }>,
  ): void {
    debug(
      '%s: %d entries: %s; %s in %d ms',
      this.#options.name,
      batch.entries.length,
      error.message,
      decision.action === 'wait'
        ? 'retrying'
        : 'not retrying: the close deadline comes first; the retry was due',
      Math.round(decision.delayMs),
    )
  }

  /** Time left before the close's deadline; undefined before close (a flush never ends a wait). */
  #remainingMs(): number | undefined {
    return this.#deadline === undefined
      ? undefined
      : this.#deadline - Date.now()
  }

  /**
   * The next retry would come after the close's deadline: send nothing
   * more, and end the close's wait now; it counts what is left as failed.
   */
  #runOutOfTime(): void {
    this.#outOfTime = true
    for (const waiter of [...this.#waiters]) waiter.resolve(true)
  }

  async #write(batch: Batch): Promise<StoreResult> {
    try {
      return await this.#options.store.write(
        batch.entries,
        () => !batch.settled,
      )
    } catch (error) {
      // A store should return results; a throw is treated as permanent.
      return {
        status: 'failure',
        error:
          error instanceof Error ? error : new Error(describeThrown(error)),
      }
    }
  }

  #settle(batch: Batch, result: StoreResult): void {
    const count = batch.entries.length
    this.#queue.done()
    // Preloaded entries were not counted in: never below zero.
    this.#bytes = Math.max(0, this.#bytes - batch.bytes)
    this.#lastRetryError = undefined
    this.#lastWriteOk = result.status === 'success'
    if (result.status === 'success') {
      this.#stats.delivered += count
      return
    }
    this.#stats.failed += count
    this.#reportError(result.error, count)
  }

  /** Says where the entries not sent yet are kept (a durable queue, at exit or a close's deadline). */
  #reportKept(): void {
    const pending = this.#pending()
    if (pending === 0) return
    reportKept(
      this.#options,
      this.#options.name,
      `${pending} ${pending === 1 ? 'entry' : 'entries'} not sent yet, kept in the outbox ${this.#queue.durable!}: the next process for this server, or \`${this.#queue.resumeCommand ?? 'ml-dash-logs sync'}\`, sends them`,
    )
  }

  #reportDrops(): void {
    const count = this.#dropsUnreported
    if (count === 0) return
    this.#dropsUnreported = 0
    this.#lastDropReport = Date.now()
    reportFailure(
      this.#options,
      this.#options.name,
      `${count} ${count === 1 ? 'entry' : 'entries'} dropped`,
      mlDashError(
        this.#dropReason === CLOSED_REFUSAL
          ? 'ML_DASH_CLOSED'
          : 'ML_DASH_QUEUE_FULL',
        `${this.#options.name}: ${this.#dropReason}`,
      ),
      count,
    )
  }

  #reportError(error: Error, count: number): void {
    this.#lastError = error.message
    reportFailure(
      this.#options,
      this.#options.name,
      `${count} ${count === 1 ? 'entry' : 'entries'} not delivered`,
      error,
      count,
    )
  }

  /**
   * Waits `ms` on an unref'd timer. True when the wait ran its course;
   * false when the close cut it (its deadline came, or would come first).
   */
  #sleep(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const end = (ranOut: boolean): void => {
        clearTimeout(timer)
        this.#retryWait = undefined
        resolve(ranOut)
      }
      const timer = setTimeout(() => end(true), ms)
      timer.unref()
      this.#retryWait = { until: Date.now() + ms, cut: () => end(false) }
    })
  }

  /** The next batch out of the queue; its bytes stay counted until it settles. */
  #take(): Batch {
    const entries = this.#queue.take(
      this.#options.maxBatchSize,
      this.#options.maxBatchBytes ?? Infinity,
    )
    let bytes = 0
    for (const entry of entries) bytes += entryCost(entry)
    return { entries, bytes, settled: false }
  }

  #queuedCount(): number {
    return this.#queue.length
  }

  /** Enough waits to start a batch: by count (`batchSize`), or by bytes (waiting, not in flight). */
  #fullBatchWaits(): boolean {
    if (
      this.#queuedCount() >=
      (this.#options.batchSize ?? this.#options.maxBatchSize)
    )
      return true
    const maxBytes = this.#options.maxBatchBytes
    if (maxBytes === undefined) return false
    const inFlight =
      this.#inflight?.settled === false ? this.#inflight.bytes : 0
    return this.#bytes - inFlight >= maxBytes
  }

  #pending(): number {
    return this.#stats.accepted - this.#settledCount()
  }

  #settledCount(): number {
    return this.#stats.delivered + this.#stats.failed
  }

  #notify(): void {
    const settled = this.#settledCount()
    const ready = this.#waiters.filter((w) => w.target <= settled)
    if (ready.length === 0) return
    this.#waiters = this.#waiters.filter((w) => w.target > settled)
    for (const waiter of ready) waiter.resolve(false)
  }

  #report(timedOut: boolean): DeliveryReport {
    return { ...this.stats, timedOut }
  }

  #stop(): void {
    this.#stopped = true
    clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#immediate !== undefined) clearImmediate(this.#immediate)
    this.#immediate = undefined
    this.#retryWait?.cut()
    // Nothing is sent any more: no one waits for it.
    for (const waiter of [...this.#waiters]) waiter.resolve(true)
  }

  /** Counts everything still pending as failed and reports it once. */
  #abandon(error: Error, count: number): void {
    if (count === 0) return
    if (this.#inflight !== undefined) this.#inflight.settled = true
    this.#queue.clear()
    this.#bytes = 0
    this.#stats.failed += count
    this.#reportError(error, count)
    this.#notify()
  }
}
