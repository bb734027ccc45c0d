/**
 * Which failures of a request to the ml-dash server are worth retrying,
 * decided in one place: connection errors and timeouts, and the statuses
 * 408, 429, 500, 502, 503 and 504. Any other 4xx or 5xx is permanent, and
 * so is a host name DNS says does not exist (`ENOTFOUND`): a mistyped URL
 * does not start working by waiting.
 * `Retry-After` is read as seconds or as an HTTP date.
 */

/** HTTP statuses after which the same request may succeed later. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([
  408, 429, 500, 502, 503, 504,
])

/**
 * Error codes of a connection that failed or broke, or a request that timed
 * out. `EAI_AGAIN` is DNS failing for now; `ENOTFOUND` (no such name) is not here.
 */
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'ERR_ML_DASH_TIMEOUT',
])

/** True for a status the request may be retried after. */
export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUSES.has(status)
}

/** True for a network-level error worth retrying. */
export function isRetryableError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code
  return typeof code === 'string' && RETRYABLE_CODES.has(code)
}

/**
 * Milliseconds to wait from a `Retry-After` value (delay-seconds or an
 * HTTP-date), or undefined when absent or unreadable. Never negative.
 */
export function parseRetryAfter(
  value: string | string[] | undefined,
  now: number = Date.now(),
): number | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim()
  if (text === undefined || text === '') return undefined
  if (/^\d+$/.test(text)) return Number(text) * 1000
  // An HTTP-date names its day and month; V8 would read "-1" as a year.
  if (!/[A-Za-z]/.test(text)) return undefined
  const date = Date.parse(text)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - now)
}
