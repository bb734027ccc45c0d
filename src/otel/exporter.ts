/**
 * `MlDashLogRecordExporter`: an OpenTelemetry `LogRecordExporter` (sdk-logs)
 * that writes into ml-dash experiments, under `BatchLogRecordProcessor` or
 * `SimpleLogRecordProcessor`.
 *
 * `export(records, callback)` never throws: it maps and queues the records,
 * waits until they are delivered, and reports through the callback:
 * SUCCESS when everything of this call was delivered, FAILED with an error
 * saying what was not. `forceFlush()` delivers everything queued;
 * `shutdown()` delivers and closes (idempotent), within `closeTimeoutMs`.
 * Result codes are copied from @opentelemetry/core (0, 1), which is not
 * imported: the library depends on no OpenTelemetry package at runtime.
 */
import type { MlDashOptions } from '../core/options.js'
import { resolveOptions } from '../core/options.js'
import { describeThrown } from '../core/serialize.js'
import type { Router, RouterStats } from '../delivery/router.js'
import { createRouter } from '../delivery/router.js'
import type { OtelLogRecord } from './map.js'
import { mapOtelLogRecord } from './map.js'

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
  #shutdown: Promise<void> | undefined

  /** @throws Error naming the option, for an invalid option. */
  constructor(options: MlDashLogRecordExporterOptions = {}) {
    const resolved = resolveOptions(options, process.env)
    this.#levelMap = resolved.levelMap
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
        error: new Error('ml-dash-logs: the exporter is shut down'),
      })
      return
    }
    let before: number
    try {
      before = undelivered(this.#router.stats)
      for (const record of records) {
        const { input, prefix } = mapOtelLogRecord(record, this.#levelMap)
        this.#router.enqueue(input, prefix)
      }
    } catch (error) {
      resultCallback({
        code: FAILED,
        error: new Error(
          `ml-dash-logs: export failed: ${describeThrown(error)}`,
        ),
      })
      return
    }
    this.#router.flush().then(
      () => {
        const lost = undelivered(this.#router.stats) - before
        resultCallback(
          lost === 0
            ? { code: SUCCESS }
            : {
                code: FAILED,
                error: new Error(
                  `ml-dash-logs: ${lost} log records were not delivered`,
                ),
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
