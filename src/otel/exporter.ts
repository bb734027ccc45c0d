/**
 * `MlDashLogRecordExporter`: an OpenTelemetry `LogRecordExporter` (sdk-logs)
 * that writes into ml-dash experiments, under `BatchLogRecordProcessor` or
 * `SimpleLogRecordProcessor`.
 *
 * `export(records, callback)` never throws: it maps and queues the records
 * and reports through the callback: SUCCESS when everything of this call
 * was kept, FAILED with an error saying how many of how many were not.
 * When every record was taken and every experiment keeps up (its local
 * store took its last batch and little waits; its outbox works), it
 * answers at once: the records are written within the turn (within 100 ms
 * while small batches trickle in; at exit and on flush at once), and the
 * processor's next batch goes meanwhile. Otherwise (the first call, a
 * store that failed, a backlog) it waits until they are kept on disk:
 * written to the local store, or in the outbox for the server, which sends
 * them on its own (the server's round trip is never waited for); without
 * an outbox, until the server has them. A later failure is reported as
 * every delivery failure is (`onError`, stderr), and makes the next call
 * wait and report; `forceFlush()` and `shutdown()` wait for delivery. Each record is mapped on its own:
 * one whose getters throw is stored as well as it can be, marked (see
 * `mapUnmappableRecord`), and never costs the others. `forceFlush()`
 * delivers everything queued; `shutdown()` delivers and closes
 * (idempotent), within `closeTimeoutMs`.
 * Result codes are copied from @opentelemetry/core (0, 1), which is not
 * imported: the library depends on no OpenTelemetry package at runtime.
 */
import { mlDashError } from '../core/error-codes.js'
import type { EntryLimits, MappedRecord } from '../core/entry.js'
import type { MlDashOptions } from '../core/options.js'
import { resolveOptions } from '../core/options.js'
import { describeThrown } from '../core/serialize.js'
import type { ChannelReport } from '../delivery/channel.js'
import type { Router, RouterStats } from '../delivery/router.js'
import { createRouter, routeRecord } from '../delivery/router.js'
import { debug } from '../debug.js'
import type { OtelLogRecord } from './map.js'
import { mapOtelLogRecord, mapUnmappableRecord } from './map.js'
import { flatEntry } from './flat-entry.js'
import { processContext } from '../process-context.js'

/** ExportResultCode.SUCCESS and FAILED of @opentelemetry/core. */
const SUCCESS = 0
const FAILED = 1

/** What `export` reports (sdk-logs' ExportResult). */
export interface ExportResult {
  code: number
  error?: Error
}

/** Options of the exporter: the shared ones. */
export type MlDashLogRecordExporterOptions = MlDashOptions

/** An OpenTelemetry log record exporter into ml-dash. */
export class MlDashLogRecordExporter {
  readonly #router: Router
  readonly #levelMap: MlDashOptions['levelMap']
  readonly #limits: EntryLimits
  #shutdown: Promise<void> | undefined

  /** @throws Error naming the option, for an invalid option. */
  constructor(options: MlDashLogRecordExporterOptions = {}) {
    const resolved = resolveOptions(options, process.env, [], processContext())
    this.#levelMap = resolved.levelMap
    this.#limits = resolved.limits
    this.#router = createRouter(resolved)
  }

  /** Delivery counters per experiment. */
  get stats(): RouterStats {
    return this.#router.stats
  }

  export(
    records: readonly OtelLogRecord[],
    resultCallback: (result: ExportResult) => void,
  ): void {
    if (this.#shutdown !== undefined) {
      resultCallback({
        code: FAILED,
        error: mlDashError('ML_DASH_CLOSED', 'the exporter is shut down'),
      })
      return
    }
    // Each record on its own: one that throws must not cost the others.
    let unmapped = 0
    let refused = 0
    for (const record of records) {
      const taken = this.#enqueue(record)
      if (taken === undefined) unmapped++
      else if (!taken) refused++
    }
    // Every record taken, and every experiment keeps up: they will be kept
    // without a wait, so the processor's next batch need not wait either
    // (the local store then writes what several calls gave in one lock
    // hold per experiment). Otherwise the call waits until they are kept.
    if (refused === 0 && unmapped === 0 && this.#router.keepsUp()) {
      resultCallback({ code: SUCCESS })
      return
    }
    // Kept on disk (the local store written, or the outbox) is what the
    // call answers for: the server's round trip is not waited for, so the
    // processor's next batch goes while this one is sent. Entries held only
    // in memory (no outbox) are waited for until delivered.
    const before = undelivered(this.#router.stats)
    this.#router
      .persist()
      .then((kept) => (kept ? undefined : this.#router.flush()))
      .then(
        (reports) => {
          // Still waiting at the deadline, neither kept nor delivered (a
          // store that fails with a retryable error, a full disk): this
          // call's records, the newest, are among them.
          const waiting = reports === undefined ? 0 : stillWaiting(reports)
          // Refused at once, or failed while this call waited (an earlier
          // call's records among them: the call answers for what failed).
          const lost = Math.min(
            records.length,
            refused +
              unmapped +
              undelivered(this.#router.stats) -
              before +
              waiting,
          )
          resultCallback(
            lost === 0
              ? { code: SUCCESS }
              : {
                  code: FAILED,
                  error: lostError(lost, records.length, unmapped),
                },
          )
        },
        (error: unknown) =>
          resultCallback({
            code: FAILED,
            error:
              error instanceof Error ? error : new Error(describeThrown(error)),
          }),
      )
  }

  /** Queues one record; false when it was not taken, undefined when it could not be mapped. */
  #enqueue(record: OtelLogRecord): boolean | undefined {
    const routed = routeRecord(
      this.#router,
      flatEntry(record, this.#limits, this.#levelMap),
      () => this.#map(record),
    )
    if (routed === 'unmapped') return undefined
    return routed !== undefined && routed.channel.enqueue(routed.entry)
  }

  /**
   * One record's entry: mapped whole, else as well as it can be (marked),
   * else undefined (the mapping's fallback threw too; counted by the caller).
   */
  #map(record: OtelLogRecord): MappedRecord | undefined {
    try {
      return mapOtelLogRecord(record, this.#levelMap)
    } catch (error) {
      debug('a log record could not be mapped whole: %s', describeThrown(error))
      try {
        return mapUnmappableRecord(record, error, this.#levelMap)
      } catch {
        return undefined
      }
    }
  }

  /** Delivers everything queued. */
  async forceFlush(): Promise<void> {
    await this.#router.flush()
  }

  /** Delivers everything and closes; idempotent. */
  shutdown(): Promise<void> {
    this.#shutdown ??= this.#router.close().then(() => undefined)
    return this.#shutdown
  }
}

/** FAILED's error: how many of the call's records were not delivered, and why. */
function lostError(lost: number, total: number, unmapped: number): Error {
  const why = unmapped > 0 ? ` (${unmapped} could not be mapped)` : ''
  return mlDashError(
    'ML_DASH_UNDELIVERED',
    `${lost} of ${total} log records were not delivered${why}`,
  )
}

/** Entries a flush left waiting at its deadline, over every experiment and store. */
function stillWaiting(reports: Record<string, ChannelReport>): number {
  let count = 0
  for (const report of Object.values(reports))
    for (const store of [report.local, report.remote])
      if (store?.timedOut === true) count += store.pending
  return count
}

/** Records given up on or dropped so far, over every experiment and store. */
function undelivered(stats: RouterStats): number {
  let count = stats.unrouted
  for (const stores of Object.values(stats.experiments)) {
    for (const store of [stores.local, stores.remote]) {
      if (store !== undefined) count += store.failed + store.dropped
    }
  }
  return count
}
