/**
 * The outboxes of this process (src/store/outbox.ts), one writer per server,
 * and the adoption of the outboxes earlier processes left: the first
 * channel for a server claims its orphans and sends them, oldest first,
 * before anything of its own goes (its own entries wait in its outbox
 * meanwhile, so nothing is lost and the order holds).
 *
 * Where outboxes live (`spoolDir`): beside the local store when there is
 * one (`<dashRoot>/.ml-dash-logs/outbox`, a folder the SDK's discovery,
 * validator and uploader do not see: they look for `*\/experiment.json`),
 * else in the user's cache folder (`$XDG_CACHE_HOME/ml-dash-logs/outbox`,
 * else `~/.cache/ml-dash-logs/outbox`).
 */
import { displayUrl } from '../store/remote/http-client.js'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { isMlDashError, mlDashError } from '../core/error-codes.js'
import { describeThrown } from '../core/serialize.js'
import { SPOOL_FOLDER, parsePrefix } from '../core/prefix.js'
import { debug } from '../debug.js'
import { loadFlockSync } from '../store/flock.js'
import type { ExperimentInfo } from '../store/experiment-file.js'
import type { ClaimedWriter } from '../store/outbox.js'
import {
  Outbox,
  OutboxWriter,
  claimOrphans,
  serverDirectory,
} from '../store/outbox.js'
import type { ResolvedNetwork } from '../store/remote/network.js'
import { createRemoteStore } from '../store/remote/remote-store.js'
import type { FoundToken } from '../store/remote/token.js'
import { reportFailure } from './failure-log.js'
import type { DeliveryReport, Sink, SinkOptions } from './sink.js'
import { createSink } from './sink.js'

type Env = Readonly<Record<string, string | undefined>>

/** The spool root: the option, else beside the local store, else the user's cache folder. */
export function spoolRoot(
  spoolDir: string | undefined,
  dashRoot: string | undefined,
  env: Env = process.env,
  home: string = homedir(),
): string {
  if (spoolDir !== undefined) return resolve(spoolDir)
  if (dashRoot !== undefined) return resolve(dashRoot, SPOOL_FOLDER, 'outbox')
  const cache = env.XDG_CACHE_HOME?.startsWith('/')
    ? env.XDG_CACHE_HOME
    : join(home, '.cache')
  return join(cache, 'ml-dash-logs', 'outbox')
}

/** This process's writers, by server folder. */
const writers = new Map<string, OutboxWriter>()

/**
 * The outbox of `prefix` for the server at `url`, and how to let it go:
 * removed once the server took everything, else kept for a later process.
 *
 * @throws Error (`ML_DASH_STORE_IO`) when it cannot be made.
 */
export function openOutbox(
  root: string,
  url: string,
  prefix: string,
  info?: ExperimentInfo,
): { outbox: Outbox; release: () => void } {
  const directory = serverDirectory(root, url)
  let owner: OutboxWriter
  let outbox: Outbox
  try {
    let writer = writers.get(directory)
    if (writer === undefined) {
      writer = OutboxWriter.create(directory, loadFlockSync())
      writers.set(directory, writer)
    }
    owner = writer
    outbox = owner.outbox(prefix, info)
    // The exact command: `sync` looks in the user's cache folder by default.
    outbox.resumeCommand = `ml-dash-logs sync --dash-url ${shellWord(displayUrl(url))} --spool-dir ${shellWord(root)}`
  } catch (error) {
    throw isMlDashError(error)
      ? error
      : mlDashError(
          'ML_DASH_STORE_IO',
          `cannot make the outbox in "${directory}": ${(error as Error).message}`,
          error,
        )
  }
  return {
    outbox,
    release: () => {
      try {
        if (owner.release(outbox)) writers.delete(directory)
      } catch (error) {
        debug(
          'outbox %s: release failed: %s',
          outbox.directory,
          describeThrown(error),
        )
      }
    },
  }
}

/** `word` as one shell word: as it is when plain, else single-quoted. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word)
    ? word
    : `'${word.replaceAll("'", "'\\''")}'`
}

/** What sending another process's outboxes needs. */
export interface AdoptionSettings {
  root: string
  url: string
  token: FoundToken
  network: ResolvedNetwork | undefined
  requestTimeoutMs: number
  sink: Omit<
    SinkOptions,
    'store' | 'name' | 'queue' | 'startAfter' | 'flushIntervalMs'
  >
  /** Progress: entries sent so far of the total found. */
  onProgress?: (sent: number, total: number) => void
}

/** What an adoption did. */
export interface AdoptionReport {
  /** Orphaned outboxes found and claimed. */
  outboxes: number
  /** Entries they held. */
  entries: number
  delivered: number
  failed: number
  /** Entries left in them (the adoption was stopped, or the server kept failing). */
  left: number
  /** Torn lines skipped (a power loss mid-write). */
  torn: number
  /** Outboxes that could not be read (left as they are). */
  unreadable: number
}

/** A running adoption. */
export interface Adoption {
  /** Settles when every claimed outbox was sent or the adoption stopped. */
  readonly done: Promise<AdoptionReport>
  /** Stops: what is not sent by the deadline stays in its outbox, for a later process. */
  stop(timeoutMs: number): Promise<AdoptionReport>
}

/** Adoptions running in this process, by server folder: one at a time per server. */
const adoptions = new Map<string, Adoption>()

/**
 * The adoption for the server of `settings`: the one running, else a new
 * one (an outbox this process left earlier, at a close's deadline, is an
 * orphan by now, and goes first too).
 */
export function adoptionFor(settings: AdoptionSettings): Adoption {
  const directory = serverDirectory(settings.root, settings.url)
  let adoption = adoptions.get(directory)
  if (adoption === undefined) {
    const started = adopt(settings)
    adoption = started
    adoptions.set(directory, started)
    void started.done.then(() => {
      if (adoptions.get(directory) === started) adoptions.delete(directory)
    })
  }
  return adoption
}

/** Claims the orphans of the server and sends them, oldest first. */
export function adopt(settings: AdoptionSettings): Adoption {
  const report: AdoptionReport = {
    outboxes: 0,
    entries: 0,
    delivered: 0,
    failed: 0,
    left: 0,
    torn: 0,
    unreadable: 0,
  }
  let stopped: number | undefined
  let current: Sink | undefined
  /** The close of the current sink that `stop()` began. */
  let closing: Promise<DeliveryReport> | undefined
  const directory = serverDirectory(settings.root, settings.url)
  let claimed: ClaimedWriter[] = []
  const outboxes: { writer: ClaimedWriter; outbox: Outbox }[] = []

  /** Claims and counts the orphans: a turn later, never inside the logging call that opened the channel. */
  const claim = (): void => {
    try {
      claimed = claimOrphans(directory, loadFlockSync())
    } catch (error) {
      report.unreadable++
      reportFailure(
        settings.sink,
        `outbox ${directory}`,
        'orphaned outboxes not read',
        error as Error,
        0,
      )
    }
    for (const writer of claimed) {
      for (const folder of writer.outboxes) {
        try {
          outboxes.push({ writer, outbox: Outbox.adopt(folder) })
        } catch (error) {
          report.unreadable++
          debug(
            'outbox %s: not readable, left: %s',
            folder,
            describeThrown(error),
          )
        }
      }
    }
    report.outboxes = outboxes.length
    for (const { outbox } of outboxes) report.entries += outbox.length
  }

  const run = async (): Promise<AdoptionReport> => {
    await new Promise((resolve) => setImmediate(resolve))
    if (stopped !== undefined) return report
    try {
      claim()
      for (const { outbox } of outboxes) {
        if (stopped !== undefined) break
        await send(outbox)
      }
    } finally {
      for (const { outbox } of outboxes) {
        report.left += outbox.length
        report.torn += outbox.torn
        try {
          if (outbox.empty) outbox.remove()
          else outbox.close()
        } catch (error) {
          debug('outbox %s: %s', outbox.directory, describeThrown(error))
        }
      }
      for (const writer of claimed)
        try {
          writer.release()
        } catch (error) {
          debug('outbox %s: %s', writer.directory, describeThrown(error))
        }
    }
    if (report.outboxes > 0)
      debug(
        'adopted %d outboxes of %s: %o',
        report.outboxes,
        settings.url,
        report,
      )
    return report
  }

  const send = async (outbox: Outbox): Promise<void> => {
    let prefix: ReturnType<typeof parsePrefix>
    try {
      prefix = parsePrefix(outbox.meta.prefix)
    } catch (error) {
      // Left as it is, and counted: nothing can be sent without its experiment.
      debug('outbox %s: %s', outbox.directory, describeThrown(error))
      report.unreadable++
      return
    }
    const store = createRemoteStore({
      url: settings.url,
      token: settings.token.token,
      tokenSource: settings.token.source,
      prefix,
      info: outbox.meta.info,
      requestTimeoutMs: settings.requestTimeoutMs,
      network: settings.network,
      background: true,
    })
    const sink = createSink({
      ...settings.sink,
      // Never given up while retryable: left in the outbox when stopped.
      maxRetries: Number.MAX_SAFE_INTEGER,
      name: `remote ${prefix.prefix} (outbox of an earlier process)`,
      store,
      queue: outbox,
      flushIntervalMs: 0,
      preloaded: outbox.length,
    })
    current = sink
    const before = report.delivered + report.failed
    while (stopped === undefined && sink.stats.pending > 0) {
      // Never holding the process open: an app that ends, ends.
      await sink.flush(ADOPTION_FLUSH_MS, false)
      settings.onProgress?.(
        before + sink.stats.delivered + sink.stats.failed,
        report.entries,
      )
    }
    const closed = await (closing ?? sink.close(0))
    current = undefined
    closing = undefined
    report.delivered += closed.delivered
    report.failed += closed.failed
  }

  const done = run().catch((error: unknown) => {
    debug('adoption of %s failed: %s', settings.url, describeThrown(error))
    return report
  })
  return {
    done,
    stop: async (timeoutMs) => {
      stopped ??= Date.now() + timeoutMs
      if (current !== undefined) closing ??= current.close(timeoutMs)
      return done
    },
  }
}

/** How long one wait of an adoption's sender is (it waits again while entries are left). */
const ADOPTION_FLUSH_MS = 1000
