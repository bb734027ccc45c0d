/**
 * The local store as delivery uses it: opened lazily, and synchronously
 * when it is first needed inside the process `exit` event.
 */
import type { EncodedEntry } from '../core/entry.js'
import type { ExperimentPrefix } from '../core/prefix.js'
import type { StoreResult } from '../core/result.js'
import { SUCCESS, openUntilSuccess } from '../core/result.js'
import type { ExperimentInfo } from './experiment-file.js'
import type { LocalStore } from './local-store.js'
import {
  closedResult,
  openLocalStore,
  openLocalStoreSync,
} from './local-store.js'

/**
 * The local store, opened on first use (so adapters need no async
 * construction); a failed open is tried again by the next write. `open()`
 * opens it at once, to surface a configuration error early (the
 * Experiment's `start()`). Its `write`/`writeSync`/`close` are what a
 * delivery sink asks of a store.
 */
export class LazyLocalStore {
  readonly #prefix: ExperimentPrefix
  readonly #dashRoot: string
  readonly #info: ExperimentInfo | undefined
  #store: LocalStore | undefined
  #syncOpenFailure: StoreResult | undefined
  #closed = false
  readonly open: () => Promise<StoreResult>

  constructor(
    dashRoot: string,
    prefix: ExperimentPrefix,
    info?: ExperimentInfo,
  ) {
    this.#prefix = prefix
    this.#dashRoot = dashRoot
    this.#info = info
    this.open = openUntilSuccess(async () => {
      if (this.#store !== undefined) return SUCCESS
      const store = await openLocalStore(dashRoot, prefix, info)
      // Closed (or opened by the exit drain) meanwhile: release what this open took.
      if (this.#closed || this.#store !== undefined) {
        store.close()
        return this.#closed ? closedResult(prefix.prefix) : SUCCESS
      }
      this.#store = store
      return SUCCESS
    })
  }

  async write(
    entries: readonly EncodedEntry[],
    stillWanted: () => boolean,
  ): Promise<StoreResult> {
    const opened = await this.open()
    if (opened.status !== 'success') return opened
    return this.#store!.append(entries, stillWanted)
  }

  /**
   * Writes at process exit. A store not open yet (entries logged in the
   * same tick as `process.exit()`) is opened here, synchronously.
   */
  writeSync(entries: readonly EncodedEntry[]): StoreResult {
    if (this.#store === undefined && !this.#closed) {
      // Tried once: a drain of many batches does not redo a failed open for each.
      if (this.#syncOpenFailure !== undefined) return this.#syncOpenFailure
      try {
        this.#store = openLocalStoreSync(
          this.#dashRoot,
          this.#prefix,
          this.#info,
        )
      } catch (error) {
        this.#syncOpenFailure = { status: 'failure', error: error as Error }
        return this.#syncOpenFailure
      }
    }
    if (this.#store === undefined) return closedResult(this.#prefix.prefix)
    return this.#store.appendSync(entries)
  }

  close(): void {
    this.#closed = true
    this.#store?.close()
  }
}
