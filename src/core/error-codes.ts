/**
 * The stable `code` of every error the library raises or reports, so that
 * an `onError` callback (or a `catch`) decides by the code, never by the
 * text. The text names the path, URL or option and may change; the codes
 * do not. An error wrapping a lower one (a file system or network error)
 * keeps it as `cause`, with its own code (`ENOSPC`, `ECONNREFUSED`, …).
 *
 * This table is the one list: the README's table of codes is checked
 * against it by a test.
 */

/** Every code, and when it is raised. */
export const ERROR_CODES = Object.freeze({
  ML_DASH_CONFIG:
    'an option, environment variable, `config.json`, prefix, template or network setting is invalid, or the port is taken; thrown at construction (or by `startReceiver`), before anything is written',
  ML_DASH_AUTH:
    'no token was found for the server, a token source could not be read, or the server refused the token (401, 403)',
  ML_DASH_NETWORK:
    'the server could not be reached: DNS, connection, TLS, proxy or request time limit (`cause` holds the error)',
  ML_DASH_SERVER:
    'the server answered an error status or an answer that does not read (`status` holds the HTTP status)',
  ML_DASH_STORE_IO:
    'the local store could not be read or written: permissions, a full disk, a link or special file at one of its names, its lock (`cause` holds the error)',
  ML_DASH_NESTED_EXPERIMENT:
    'the experiment would lie inside another experiment, or around one',
  ML_DASH_QUEUE_FULL:
    'entries were dropped because a queue bound (`maxQueueSize`, `maxQueueBytes`) was reached',
  ML_DASH_UNROUTED:
    'records carried no valid `ml_dash.prefix` and there is no experiment of its own (`routingOnly`)',
  ML_DASH_DEADLINE:
    'entries were not delivered before a `flush()`/`close()` deadline, or before the process exited',
  ML_DASH_UNDELIVERED:
    'the result of an OpenTelemetry `export()` some of whose records were neither kept on disk nor delivered (each failure went to `onError` with its own code)',
  ML_DASH_CLOSED:
    'a write came after `close()` (or after the exporter was shut down)',
  ML_DASH_INVALID_LEVEL:
    "`log()` was given a level that is not one of the five (thrown, with the SDK's sentence)",
  ML_DASH_NOT_STARTED: 'an `Experiment` was logged to before `start()`',
} as const)

/** One of {@link ERROR_CODES}. */
export type MlDashErrorCode = keyof typeof ERROR_CODES

/** An error raised or reported by the library: `code` is one of {@link ERROR_CODES}. */
export interface MlDashError extends Error {
  code: MlDashErrorCode
  /** The HTTP status, for `ML_DASH_SERVER` and a refused token. */
  status?: number
}

/**
 * `ml-dash-logs: <sentence>` (the prefix added when missing) with `code`,
 * and `cause` when one is given.
 */
export function mlDashError(
  code: MlDashErrorCode,
  sentence: string,
  cause?: unknown,
): MlDashError {
  const message = sentence.startsWith('ml-dash-logs: ')
    ? sentence
    : `ml-dash-logs: ${sentence}`
  const error = new Error(
    message,
    cause === undefined ? undefined : { cause },
  ) as MlDashError
  error.code = code
  return error
}

/** True for an error that carries one of the library's codes. */
export function isMlDashError(error: unknown): error is MlDashError {
  const code = (error as { code?: unknown } | null | undefined)?.code
  return typeof code === 'string' && Object.hasOwn(ERROR_CODES, code)
}
