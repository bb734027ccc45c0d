/**
 * The one table of options: for each, its kind, the environment variable
 * and `config.json` key it falls back to, its range and default, and the
 * line the README shows. Resolution and validation (./options.ts), the
 * unknown-option warning and the README's options tables
 * (`npm run docs:tables`, checked by test/core/option-table.test.ts) are
 * all driven from here, so that a default is written once.
 */

/** How an option's value is read and checked. */
export type OptionKind =
  /** `owner/project/folder.../name`, or an SDK template of one. */
  | 'prefix'
  /** A path, or `false` for none. */
  | 'dashRoot'
  /** An http(s) URL, or `true` for the official clients' server. */
  | 'dashUrl'
  /** A string that is never shown. */
  | 'secret'
  /** A token a request header can carry (non-empty, no white space), never shown. */
  | 'headerToken'
  /** A non-empty path (a file read at construction, or a folder). */
  | 'path'
  /** A host name or address. */
  | 'host'
  /** `{ name: value }` of HTTP headers. */
  | 'headers'
  /** A safe integer in `[min, max]`. */
  | 'integer'
  /** Milliseconds in `[min, 2^31 - 1]`; the environment variable, if any, gives seconds. */
  | 'duration'
  /** `true` or `false`. */
  | 'flag'
  /** `{ sourceLevel: mlDashLevel }`. */
  | 'levelMap'
  /** `Partial<EntryLimits>`. */
  | 'limits'
  /** A function. */
  | 'function'
  /** A string, or null. */
  | 'text'
  /** An array of strings. */
  | 'strings'
  /** A plain JSON object, or null. */
  | 'object'

/** One option. */
export interface OptionSpec {
  readonly kind: OptionKind
  /**
   * The variable read when the option is not given (the ml-dash SDK's, where
   * it has one). A secret's is read by the code that uses it, which names
   * the source in its errors (src/store/remote/token.ts).
   */
  readonly env?: string
  /** The official clients' `config.json` key read after the variable. */
  readonly configKey?: string
  /** Lowest value (integer, duration). @default 1 */
  readonly min?: number
  /** Highest value (integer). */
  readonly max?: number
  /** The value when neither the option nor the variable is set (undefined: none). */
  readonly default?: number | string | boolean
  /** The README's default cell, where it is more than the variable and the value. */
  readonly defaultText?: string
  /** The README's line. */
  readonly doc: string
}

/** A table of options, by name. */
export type OptionTable = Readonly<Record<string, OptionSpec>>

/** 2^20 bytes. */
export const MiB = 1024 * 1024

/** The options the Experiment and every transport, exporter and receiver share. */
export const SHARED_OPTIONS = {
  prefix: {
    kind: 'prefix',
    env: 'ML_DASH_PREFIX',
    doc: "`owner/project/folder.../name`, or a template as the SDK writes it (`{user}`, `{now:%Y}`, …); validated at construction; the `Experiment` defaults to the SDK's default",
  },
  dashRoot: {
    kind: 'dashRoot',
    default: '.dash',
    doc: 'local store root; `false` for none (remote only)',
  },
  dashUrl: {
    kind: 'dashUrl',
    env: 'ML_DASH_API_URL',
    configKey: 'remote_url',
    defaultText:
      'none; `true`: env `ML_DASH_API_URL`, then `config.json` `remote_url`, then `https://api.dash.ml`',
    doc: "ml-dash server URL, or `true` for the official clients' server; with a local store too, the mode is hybrid",
  },
  token: {
    kind: 'secret',
    env: 'ML_DASH_TOKEN',
    configKey: 'api_key',
    defaultText:
      'env `ML_DASH_TOKEN`, then the OS keychain, then `tokens.encrypted`, `tokens.json`, `config.json` `api_key` in `ML_DASH_CONFIG_DIR` or `~/.dash`',
    doc: 'bearer token for the server (never shown)',
  },
  caFile: {
    kind: 'path',
    doc: "PEM file of the CAs trusted for the server, instead of Node's (`NODE_EXTRA_CA_CERTS` applies only without it)",
  },
  certFile: {
    kind: 'path',
    doc: 'PEM file of a client certificate for the server (with `keyFile`)',
  },
  keyFile: {
    kind: 'path',
    doc: "PEM file of the client certificate's unencrypted private key",
  },
  headers: {
    kind: 'headers',
    env: 'ML_DASH_HEADERS',
    doc: 'extra headers on every server request, `{ name: value }`; the variable: `name=value,…`, values URL-encoded; the option wins',
  },
  batchSize: {
    kind: 'integer',
    env: 'ML_DASH_LOG_BATCH_SIZE',
    default: 100,
    doc: 'entries waiting that start a server request before `flushIntervalMs`; the request then carries everything waiting, up to 10 000 entries (or `batchSize`, if larger) and `maxBatchBytes`, one request in flight',
  },
  maxBatchBytes: {
    kind: 'integer',
    min: 1024,
    default: MiB,
    defaultText: '1048576 (1 MiB)',
    doc: 'most bytes in one server request, counted as `maxQueueBytes` counts them, one per UTF-16 unit (text outside ASCII takes up to 3 bytes a unit on the wire; a single larger entry goes alone); lower it for a server with a smaller body limit',
  },
  flushIntervalMs: {
    kind: 'duration',
    env: 'ML_DASH_FLUSH_INTERVAL',
    default: 5000,
    doc: 'longest wait of a partial server batch (the variable in seconds)',
  },
  maxQueueSize: {
    kind: 'integer',
    default: 1_000_000,
    doc: 'most entries waiting in memory per store and experiment (not in an outbox, which `maxSpoolBytes` bounds); new ones beyond it are dropped, counted and reported',
  },
  maxQueueBytes: {
    kind: 'integer',
    default: 128 * MiB,
    doc: 'most bytes waiting in memory per store and experiment (JSON text + 48 per entry; not in an outbox); new entries beyond it are dropped, counted and reported',
  },
  maxRetries: {
    kind: 'integer',
    env: 'ML_DASH_MAX_RETRIES',
    min: 0,
    default: Number.MAX_SAFE_INTEGER,
    defaultText: 'env `ML_DASH_MAX_RETRIES`, else unlimited',
    doc: 'retries of a batch after a retryable error before it is given up; by default a batch waits in the outbox and is retried (backoff up to `retryMaxDelayMs`) until the server takes it',
  },
  retryBaseDelayMs: {
    kind: 'duration',
    env: 'ML_DASH_RETRY_BASE_DELAY',
    min: 0,
    default: 1000,
    doc: 'first retry delay, doubled each time (the variable in seconds)',
  },
  retryMaxDelayMs: {
    kind: 'duration',
    env: 'ML_DASH_RETRY_MAX_DELAY',
    min: 0,
    default: 30_000,
    doc: 'longest retry delay, at least `retryBaseDelayMs` (the variable in seconds)',
  },
  spoolDir: {
    kind: 'path',
    defaultText:
      '`<dashRoot>/.ml-dash-logs/outbox`, without a local store `$XDG_CACHE_HOME/ml-dash-logs/outbox` (else `~/.cache/…`)',
    doc: 'where the outboxes of entries bound for the server are kept until the server takes them',
  },
  maxSpoolBytes: {
    kind: 'integer',
    default: 1024 * MiB,
    doc: 'most bytes an outbox (per process and experiment) holds on disk; new entries beyond it are dropped, counted and reported',
  },
  requestTimeoutMs: {
    kind: 'duration',
    default: 30_000,
    doc: 'time limit of one server request',
  },
  closeTimeoutMs: {
    kind: 'duration',
    default: 10_000,
    doc: 'deadline of `flush()` / `close()` when the call gives none',
  },
  levelMap: {
    kind: 'levelMap',
    defaultText: '`{}`',
    doc: "overrides of the source-level tables, e.g. `{ verbose: 'info', '35': 'warn' }`",
  },
  limits: {
    kind: 'limits',
    defaultText: 'see below',
    doc: 'size limits of one entry; what is cut is marked',
  },
  onError: {
    kind: 'function',
    doc: '`(error, undeliveredCount) => void`, called out of band; `error.code` is one of the codes below',
  },
  silenceErrors: {
    kind: 'flag',
    default: false,
    doc: 'no stderr line per kind of delivery failure',
  },
  routingOnly: {
    kind: 'flag',
    default: false,
    doc: "no experiment of the transport's own: route by `ml_dash.prefix` alone, reporting what cannot be routed",
  },
} as const satisfies OptionTable

/** The `Experiment`'s own options: `experiment.json` fields, kept when reopening unless given. */
export const EXPERIMENT_OPTIONS = {
  description: {
    kind: 'text',
    defaultText: 'kept',
    doc: '`experiment.json` `description` (`Experiment` only)',
  },
  tags: {
    kind: 'strings',
    defaultText: 'kept',
    doc: '`experiment.json` `tags` (`Experiment` only)',
  },
  bindrs: {
    kind: 'strings',
    defaultText: 'kept',
    doc: '`experiment.json` `bindrs` (`Experiment` only)',
  },
  metadata: {
    kind: 'object',
    defaultText: 'kept',
    doc: '`experiment.json` `metadata` (`Experiment` only)',
  },
} as const satisfies OptionTable

/** The receiver's own options (`startReceiver`, `ml-dash-logs serve`). */
export const RECEIVER_OPTIONS = {
  port: {
    kind: 'integer',
    min: 0,
    max: 65_535,
    default: 4318,
    doc: 'port to listen on; 0 picks a free one',
  },
  host: {
    kind: 'host',
    default: '127.0.0.1',
    doc: 'address to listen on; beyond loopback without `authToken`, a warning',
  },
  authToken: {
    kind: 'headerToken',
    defaultText:
      'none; the command line reads `--auth-token-file` or env `ML_DASH_RECEIVER_TOKEN`',
    doc: 'requests must carry `Authorization: Bearer <authToken>` (the scheme in any case)',
  },
  maxBodyBytes: {
    kind: 'integer',
    default: 4 * MiB,
    doc: 'largest request body as received (413 past it)',
  },
  maxDecompressedBytes: {
    kind: 'integer',
    default: 16 * MiB,
    doc: 'largest body after gzip (413 past it)',
  },
  maxRecordsPerRequest: {
    kind: 'integer',
    default: 50_000,
    doc: 'most log records in one request (413 past it)',
  },
  maxPendingBytes: {
    kind: 'integer',
    default: 128 * MiB,
    doc: 'most bytes held, in total: bodies being read and decoded, and entries waiting for delivery (429 past it)',
  },
  maxPendingRecords: {
    kind: 'integer',
    default: 1_000_000,
    doc: 'most records waiting for delivery, in total (429 past it)',
  },
  maxConnections: {
    kind: 'integer',
    default: 256,
    doc: 'most open connections; past it, the oldest idle one makes room',
  },
  receiveTimeoutMs: {
    kind: 'integer',
    max: 2_147_483_647,
    default: 30_000,
    doc: 'time limit for receiving one request (408 past it); not `requestTimeoutMs`, which bounds requests to the server',
  },
  headersTimeoutMs: {
    kind: 'integer',
    max: 2_147_483_647,
    default: 10_000,
    doc: "time limit for receiving a request's headers",
  },
} as const satisfies OptionTable
