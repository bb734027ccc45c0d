/**
 * The router the adapters share: one channel (local and/or remote sink) per
 * experiment prefix, created on first use.
 *
 * A record may name another experiment through the attribute
 * `ml_dash.prefix` (so one transport serves many runs). A routed prefix is
 * validated like any other: a record naming an invalid one stays in the
 * router's own experiment, with the refused value in its metadata under
 * `ml_dash.prefix_refused`, and is counted. The number of experiments one
 * router opens is bounded ({@link MAX_ROUTED_EXPERIMENTS}); records routed
 * beyond it are treated the same way. So are records whose prefix leads
 * through another experiment (issue 12): one of this router's own
 * experiments, or, with a local store, a folder of the store that holds
 * `experiment.json`; opening it would nest an experiment in another's
 * folder. A routed prefix above one of the router's own experiments, or
 * above one in the local store, is refused for the same reason.
 *
 * `enqueue` never throws. Its only I/O is that last look, once for each
 * routed prefix not open yet (a refusal is remembered): a few `lstat`
 * calls up the path, and a bounded look through the prefix's folder when
 * it already exists (src/store/experiment-place.ts).
 */
import { mlDashError } from '../core/error-codes.js'
import type { EncodedEntry, EntryInput, MappedRecord } from '../core/entry.js'
import type { FlatEntry } from '../core/flat-json.js'
import { encodeEntry } from '../core/entry.js'
import type { ResolvedOptions } from '../core/options.js'
import type { ExperimentPrefix } from '../core/prefix.js'
import {
  MIN_EXPERIMENT_SEGMENTS,
  PREFIX_REFUSED_KEY,
  parsePrefix,
  prefixProblem,
} from '../core/prefix.js'
import { configError } from '../core/options.js'
import { toJsonValue } from '../core/serialize.js'
import type { FoundToken } from '../store/remote/token.js'
import { logServer, requireToken } from '../store/remote/token.js'
import {
  enclosedExperiment,
  enclosingExperiment,
} from '../store/experiment-place.js'
import type { Channel, ChannelReport, ChannelStats } from './channel.js'
import { createChannel } from './channel.js'
import { reportFailure, warnUnknownOptions } from './failure-log.js'

/** Most refused routed prefixes a router remembers (past it, a refused one is looked at again each time). */
const MAX_REMEMBERED_REFUSALS = 1024

/** Most experiments one router opens by routing (its own prefix not counted). */
export const MAX_ROUTED_EXPERIMENTS = 256

/** Counters of a router. */
export interface RouterStats {
  /** Per experiment prefix. */
  experiments: Record<string, ChannelStats>
  /** Records whose routed prefix was refused (kept in the default experiment). */
  refusedPrefixes: number
  /** Records with neither a routed nor a default prefix (not stored). */
  unrouted: number
  /** Records given after `close()` (not stored; reported, `ML_DASH_CLOSED`). */
  afterClose: number
}

/** A record routed and encoded, not queued yet. */
export interface Routed {
  readonly channel: Channel
  readonly entry: EncodedEntry
}

/** One router per transport or exporter. */
export interface Router {
  /**
   * Encodes and queues a record; `routedPrefix` is the record's
   * `ml_dash.prefix`, if any. False when it was not taken (no experiment
   * to go to, a full queue, a closed router).
   */
  enqueue(input: EntryInput, routedPrefix?: unknown): boolean
  /**
   * Routes and encodes a record as `enqueue` does, and queues nothing: for
   * an owner that takes a whole request or none of it (the receiver).
   * Undefined when it has no experiment to go to (counted as unrouted).
   */
  route(input: EntryInput, routedPrefix?: unknown): Routed | undefined
  /**
   * Routes an entry a fast path encoded itself (src/core/flat-json.ts) as
   * `route` routes its input. 'refused' when its routed prefix is refused:
   * the entry must then say so in its metadata, so the caller maps the
   * record and gives it to `route` or `enqueue`, which count and mark it.
   */
  routeEncoded(
    entry: EncodedEntry,
    routedPrefix?: unknown,
  ): Routed | undefined | 'refused'
  /** Queues an entry already encoded, into the router's own experiment; false when not taken. */
  enqueueEncoded(entry: EncodedEntry): boolean
  flush(timeoutMs?: number): Promise<Record<string, ChannelReport>>
  /**
   * Resolves true once every entry accepted so far is kept on disk in every
   * experiment: written to the local store (within `timeoutMs`), or in the
   * outbox. False when some experiment holds entries only in memory (its
   * outbox cannot be written): then only a flush says they arrived.
   */
  persist(timeoutMs?: number): Promise<boolean>
  /** True when every experiment keeps up (see `Channel.keepsUp`): what was accepted is kept without a wait. */
  keepsUp(): boolean
  close(timeoutMs?: number): Promise<Record<string, ChannelReport>>
  readonly stats: RouterStats
}

/**
 * Routes one record for an adapter with a fast path: its `flat` text
 * (src/core/flat-json.ts) unless its routed prefix is refused; otherwise
 * (no flat text, or a refused prefix, which the entry must then say) the
 * record as `map` gives it, through `route`. Undefined when the router has
 * no experiment for it (counted there); 'unmapped' when `map` gave nothing.
 */
export function routeRecord(
  router: Router,
  flat: FlatEntry | undefined,
  map: () => MappedRecord | undefined,
): Routed | undefined | 'unmapped' {
  if (flat !== undefined) {
    const routed = router.routeEncoded(flat.entry, flat.prefix)
    if (routed !== 'refused') return routed
  }
  const mapped = map()
  return mapped === undefined
    ? 'unmapped'
    : router.route(mapped.input, mapped.prefix)
}

/** How a router's owner handles records with no experiment. */
export interface RouterMode {
  /**
   * The owner answers for every record the router does not take (the
   * receiver's `partial_success`), so the router needs no prefix of its own.
   */
  ownerReportsUnrouted?: boolean
}

/**
 * Creates a router over resolved options.
 *
 * @throws Error when there is no prefix (and neither `routingOnly` nor an
 *   owner that reports unrouted records), or a server is configured and no
 *   usable token is found.
 */
export function createRouter(
  options: ResolvedOptions,
  mode: RouterMode = {},
): Router {
  warnUnknownOptions(options.unknownOptions)
  if (
    options.prefix === undefined &&
    !options.routingOnly &&
    mode.ownerReportsUnrouted !== true
  ) {
    throw configError(
      "no experiment prefix: set the option prefix or the environment variable ML_DASH_PREFIX (owner/project/name); to route by each record's ml_dash.prefix alone, set routingOnly: true",
    )
  }
  return new PrefixRouter(options, mode.ownerReportsUnrouted !== true)
}

class PrefixRouter implements Router {
  readonly #options: ResolvedOptions
  readonly #token: FoundToken | undefined
  readonly #channels = new Map<string, Channel>()
  #routedCount = 0
  /** Routed prefixes refused because they lead through an experiment. */
  readonly #throughExperiment = new Set<string>()
  #refused = 0
  #unrouted = 0
  /** Unrouted records not yet reported (routing-only mode). */
  #unreported = 0
  readonly #reportsUnrouted: boolean
  #closed = false
  #afterClose = 0
  /** Records after close not yet reported. */
  #afterCloseUnreported = 0

  constructor(options: ResolvedOptions, reportsUnrouted: boolean) {
    this.#options = options
    this.#reportsUnrouted = reportsUnrouted
    this.#token =
      options.dashUrl === undefined
        ? undefined
        : requireToken(options.dashUrl, options.token)
    logServer(options, this.#token)
  }

  get stats(): RouterStats {
    const experiments: Record<string, ChannelStats> = {}
    for (const [prefix, channel] of this.#channels)
      experiments[prefix] = channel.stats
    return {
      experiments,
      refusedPrefixes: this.#refused,
      unrouted: this.#unrouted,
      afterClose: this.#afterClose,
    }
  }

  enqueue(input: EntryInput, routedPrefix?: unknown): boolean {
    const routed = this.route(input, routedPrefix)
    return routed !== undefined && routed.channel.enqueue(routed.entry)
  }

  route(input: EntryInput, routedPrefix?: unknown): Routed | undefined {
    const destination = this.#destination(routedPrefix)
    if (destination === undefined) return undefined
    if (destination !== 'refused')
      return {
        channel: destination,
        entry: encodeEntry(input, this.#options.limits),
      }
    this.#refused++
    const channel = this.#own()
    if (channel === undefined) {
      this.#unroutable()
      return undefined
    }
    const marked = {
      ...input,
      metadata: withRefused(input.metadata, routedPrefix),
    }
    return { channel, entry: encodeEntry(marked, this.#options.limits) }
  }

  routeEncoded(
    entry: EncodedEntry,
    routedPrefix?: unknown,
  ): Routed | undefined | 'refused' {
    const destination = this.#destination(routedPrefix)
    return destination === undefined || destination === 'refused'
      ? destination
      : { channel: destination, entry }
  }

  /**
   * The channel a record goes to: its routed prefix's, else the router's
   * own. Undefined when there is none (after close, or no experiment at
   * all: counted and reported); 'refused' when the routed prefix is
   * refused (counted by the caller that marks the entry).
   */
  #destination(routedPrefix: unknown): Channel | undefined | 'refused' {
    if (this.#closed) return this.#refuseAfterClose()
    // The own experiment is opened with the first record, wherever it goes.
    const own = this.#own()
    if (
      routedPrefix !== undefined &&
      routedPrefix !== this.#options.prefix?.prefix
    )
      return this.#routed(routedPrefix) ?? 'refused'
    if (own === undefined) this.#unroutable()
    return own
  }

  enqueueEncoded(entry: EncodedEntry): boolean {
    if (this.#closed) return this.#refuseAfterClose() ?? false
    const channel = this.#own()
    if (channel === undefined) return this.#unroutable()
    return channel.enqueue(entry)
  }

  /** Counts a record with no experiment and reports it, out of band. */
  #unroutable(): false {
    this.#unrouted++
    if (this.#reportsUnrouted && this.#unreported++ === 0)
      setImmediate(() => this.#reportUnrouted())
    return false
  }

  /** Counts a record given after close and reports it, out of band, once a turn. */
  #refuseAfterClose(): undefined {
    this.#afterClose++
    if (this.#afterCloseUnreported++ === 0)
      setImmediate(() => {
        const count = this.#afterCloseUnreported
        this.#afterCloseUnreported = 0
        reportFailure(
          this.#options,
          'router',
          `${count} records not stored`,
          mlDashError(
            'ML_DASH_CLOSED',
            `${count} records came after close(): they are not stored`,
          ),
          count,
        )
      })
    return undefined
  }

  #reportUnrouted(): void {
    const count = this.#unreported
    if (count === 0) return
    this.#unreported = 0
    const error = mlDashError(
      'ML_DASH_UNROUTED',
      `${count} records had no experiment to go to: routingOnly is set and they carry no valid ml_dash.prefix`,
    )
    reportFailure(
      this.#options,
      'router',
      `${count} records not stored`,
      error,
      count,
    )
  }

  async flush(
    timeoutMs = this.#options.closeTimeoutMs,
  ): Promise<Record<string, ChannelReport>> {
    return this.#each((channel) => channel.flush(timeoutMs))
  }

  keepsUp(): boolean {
    for (const channel of this.#channels.values())
      if (!channel.keepsUp()) return false
    return true
  }

  async persist(timeoutMs = this.#options.closeTimeoutMs): Promise<boolean> {
    const kept = await Promise.all(
      [...this.#channels.values()].map((channel) => channel.persist(timeoutMs)),
    )
    return kept.every(Boolean)
  }

  async close(
    timeoutMs = this.#options.closeTimeoutMs,
  ): Promise<Record<string, ChannelReport>> {
    this.#closed = true
    // What is still to be reported is reported before the close resolves.
    if (this.#unreported > 0) this.#reportUnrouted()
    return this.#each((channel) => channel.close(timeoutMs))
  }

  /** The channel of the router's own prefix, if it has one. */
  #own(): Channel | undefined {
    return this.#options.prefix === undefined
      ? undefined
      : this.#channel(this.#options.prefix)
  }

  /**
   * The channel a routed prefix names: an open one at once (it was
   * validated when opened); a new one only when the prefix is valid, leads
   * through no experiment and the bound allows it. Undefined otherwise.
   */
  #routed(value: unknown): Channel | undefined {
    const open =
      typeof value === 'string' ? this.#channels.get(value) : undefined
    if (open !== undefined) return open
    if (typeof value === 'string' && this.#throughExperiment.has(value))
      return undefined
    if (
      this.#routedCount >= MAX_ROUTED_EXPERIMENTS ||
      prefixProblem(value) !== undefined
    )
      return undefined
    const prefix = parsePrefix(value)
    if (this.#leadsThroughExperiment(prefix.segments)) {
      // Remembered, so a record routed there again costs no look at the disk.
      if (this.#throughExperiment.size < MAX_REMEMBERED_REFUSALS)
        this.#throughExperiment.add(prefix.prefix)
      return undefined
    }
    this.#routedCount++
    return this.#channel(prefix)
  }

  /**
   * Whether the prefix and an experiment would lie one inside the other: a
   * proper ancestor of the prefix is an experiment this router writes (its
   * folder may not exist yet) or one in the local store, or the prefix is
   * an ancestor of one this router writes. A router without a local store
   * only looks at its own.
   */
  #leadsThroughExperiment(segments: readonly string[]): boolean {
    for (let n = MIN_EXPERIMENT_SEGMENTS; n < segments.length; n++) {
      if (this.#channels.has(segments.slice(0, n).join('/'))) return true
    }
    const below = `${segments.join('/')}/`
    for (const open of this.#channels.keys())
      if (open.startsWith(below)) return true
    const { dashRoot } = this.#options
    return (
      dashRoot !== undefined &&
      (enclosingExperiment(dashRoot, segments) !== undefined ||
        enclosedExperiment(dashRoot, segments) !== undefined)
    )
  }

  #channel(prefix: ExperimentPrefix): Channel {
    let channel = this.#channels.get(prefix.prefix)
    if (channel === undefined) {
      channel = createChannel({
        prefix,
        options: this.#options,
        token: this.#token,
      })
      this.#channels.set(prefix.prefix, channel)
    }
    return channel
  }

  async #each(
    run: (channel: Channel) => Promise<ChannelReport>,
  ): Promise<Record<string, ChannelReport>> {
    const entries = await Promise.all(
      [...this.#channels].map(
        async ([prefix, channel]) => [prefix, await run(channel)] as const,
      ),
    )
    return Object.fromEntries(entries)
  }
}

function withRefused(metadata: unknown, refused: unknown): unknown {
  const value =
    typeof refused === 'string'
      ? refused
      : JSON.stringify(toJsonValue(refused) ?? null)
  if (
    typeof metadata === 'object' &&
    metadata !== null &&
    !Array.isArray(metadata)
  ) {
    // First among the named members (integer-like keys always come first
    // in an object), so that the item limit, which keeps the first
    // members, keeps it too; set again after the spread, so that a member
    // of that name in the metadata cannot replace it. Metadata over the
    // byte limit is replaced whole, this key listed among its keys.
    try {
      const marked: Record<string, unknown> = {
        [PREFIX_REFUSED_KEY]: value,
        ...metadata,
      }
      marked[PREFIX_REFUSED_KEY] = value
      return marked
    } catch {
      // A getter or a proxy trap that throws: the metadata goes under
      // `value`, where the walk reads each member and marks what throws.
    }
  }
  return metadata === undefined
    ? { [PREFIX_REFUSED_KEY]: value }
    : { [PREFIX_REFUSED_KEY]: value, value: metadata }
}
