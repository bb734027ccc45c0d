/**
 * The network settings of requests to the ml-dash server, resolved once at
 * construction: a CA bundle, a client certificate and key, extra request
 * headers (an option, and `ML_DASH_HEADERS` in the format of the OTLP
 * exporters' `OTEL_EXPORTER_OTLP_HEADERS`), and the proxy environment
 * variables (`https_proxy`/`HTTPS_PROXY`, `http_proxy`/`HTTP_PROXY`,
 * `no_proxy`/`NO_PROXY`).
 *
 * Failure semantics: a file that cannot be read or holds no PEM of its
 * kind, a malformed header entry and a proxy URL that is not http(s) throw
 * here, with `code` `ML_DASH_CONFIG` and a sentence naming the option or
 * variable. Header values are never shown (they often are API keys), nor
 * are a proxy URL's credentials. Nothing is read later: the environment is
 * passed in, so this stays pure apart from reading the named files.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { validateHeaderValue } from 'node:http'
import { BlockList, isIP } from 'node:net'
import { configError } from '../../core/config-error.js'
import { SHARED_OPTIONS } from '../../core/option-table.js'

/** The headers' variable, from the option table. */
const HEADERS_VARIABLE = SHARED_OPTIONS.headers.env

/** Network options of the ml-dash server's requests. */
export interface NetworkSettings {
  /**
   * PEM file of the CA certificates to trust for the ml-dash server,
   * instead of Node's built-in ones (as curl's `--cacert` and the OTLP
   * exporters' certificate option do). `NODE_EXTRA_CA_CERTS` applies only
   * without it. @default undefined (Node's CAs and `NODE_EXTRA_CA_CERTS`)
   */
  caFile?: string
  /** PEM file of the client certificate, for servers that require one (with `keyFile`). @default undefined */
  certFile?: string
  /** PEM file of the client certificate's private key, unencrypted (with `certFile`). @default undefined */
  keyFile?: string
  /**
   * Extra headers on every request to the ml-dash server; they win over
   * the same names in env `ML_DASH_HEADERS`.
   * @default env `ML_DASH_HEADERS` (`key=value,key2=value2`, URL-encoded values), else {}
   */
  headers?: Record<string, string>
}

/** A proxy and the variable it came from (for messages). */
export interface ProxySetting {
  readonly url: URL
  /** `HTTPS_PROXY`, `https_proxy`, `HTTP_PROXY` or `http_proxy`. */
  readonly source: string
}

/** Every network setting, read and validated. */
export interface ResolvedNetwork {
  /** TLS options for the server's connections (Buffers of the PEM files). */
  readonly tls: { ca?: Buffer; cert?: Buffer; key?: Buffer }
  /** Lower-case header names; never shown in messages. */
  readonly headers: Readonly<Record<string, string>>
  readonly httpsProxy?: ProxySetting | undefined
  readonly httpProxy?: ProxySetting | undefined
  /** `no_proxy` entries, lower-case; `*` bypasses every proxy. */
  readonly noProxy: readonly string[]
}

/** Direct connections, Node's CAs, no extra headers: the default. */
export const DIRECT_NETWORK: ResolvedNetwork = Object.freeze({
  tls: {},
  headers: {},
  noProxy: [],
})

type Env = Readonly<Record<string, string | undefined>>

/**
 * Headers the library sets itself, or that would change how a request is
 * carried: the bearer token, the framing of the body, the proxy's own
 * credentials (a header here would travel through the tunnel to the
 * server), and `expect` (a 100-continue would stall every request).
 */
const OWN_HEADERS = new Set([
  'authorization',
  'host',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'proxy-authorization',
  'proxy-connection',
  'expect',
  'keep-alive',
  'te',
  'upgrade',
])

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

/**
 * Reads and validates `settings` and the proxy and header variables of `env`.
 *
 * @throws Error with `code` `ML_DASH_CONFIG` naming the option or variable.
 */
export function resolveNetwork(
  settings: NetworkSettings,
  env: Env,
  server?: string,
): ResolvedNetwork {
  for (const name of ['caFile', 'certFile', 'keyFile'] as const) {
    const value: unknown = settings[name]
    if (value !== undefined && (typeof value !== 'string' || value === ''))
      throw configError(`${name} must be the path of a PEM file`)
  }
  const given: unknown = settings.headers
  if (
    given !== undefined &&
    (typeof given !== 'object' || given === null || Array.isArray(given))
  )
    throw configError(
      'headers must be an object of header names and values (for the key=value form, use ML_DASH_HEADERS)',
    )
  if ((settings.certFile === undefined) !== (settings.keyFile === undefined)) {
    throw configError(
      settings.certFile === undefined
        ? 'keyFile is given without certFile (a client certificate needs both; for one PEM file holding both, give it as each)'
        : 'certFile is given without keyFile (a client certificate needs both; for one PEM file holding both, give it as each)',
    )
  }
  const tls: { ca?: Buffer; cert?: Buffer; key?: Buffer } = {}
  if (settings.caFile !== undefined)
    tls.ca = readPem('caFile', settings.caFile, 'certificate')
  if (settings.certFile !== undefined)
    tls.cert = readPem('certFile', settings.certFile, 'certificate')
  if (settings.keyFile !== undefined)
    tls.key = readPem('keyFile', settings.keyFile, 'key')
  const headers = {
    ...parseHeaders(env[HEADERS_VARIABLE] ?? '', HEADERS_VARIABLE),
    ...checkHeaders(settings.headers ?? {}, 'the headers option'),
  }
  const noProxy = (env.no_proxy?.trim() ? env.no_proxy : (env.NO_PROXY ?? ''))
    .split(/[\s,]+/)
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry !== '')
  // With the server known, only the variable its scheme uses is read, and
  // only when NO_PROXY does not exempt it: a proxy variable meant for other
  // tools must not stop this library.
  const target = server === undefined ? undefined : new URL(server)
  const wanted = (variable: 'https_proxy' | 'http_proxy') =>
    target === undefined ||
    (target.protocol === (variable === 'https_proxy' ? 'https:' : 'http:') &&
      !bypassesProxy(target, noProxy))
  return {
    tls,
    headers,
    httpsProxy: wanted('https_proxy')
      ? proxyFrom(env, 'https_proxy')
      : undefined,
    httpProxy: wanted('http_proxy') ? proxyFrom(env, 'http_proxy') : undefined,
    noProxy,
  }
}

/**
 * Parses `key=value,key2=value2` as the OTLP exporters read
 * `OTEL_EXPORTER_OTLP_HEADERS`: entries split at commas, each at its
 * first `=`, key and value trimmed and URL-decoded. Where the exporters
 * skip a bad entry silently, this throws naming it by position (and key,
 * never value): a header that silently goes missing is an outage later.
 */
export function parseHeaders(
  text: string,
  source: string,
): Record<string, string> {
  const headers: Record<string, string> = {}
  text.split(',').forEach((raw, index) => {
    const entry = raw.trim()
    if (entry === '') return
    const where = `${source} entry ${index + 1}`
    const equals = entry.indexOf('=')
    if (equals <= 0)
      throw configError(`${where} is not key=value (its text is not shown)`)
    const key = decode(entry.slice(0, equals).trim(), where)
    const rawValue = entry.slice(equals + 1).trim()
    // The exporters drop what follows a ';' (W3C baggage metadata); a
    // value cut short without a word would be worse than refusing it.
    if (rawValue.includes(';'))
      throw configError(
        `${where} (key "${safeName(key)}") has a ';' in its value; write it URL-encoded as %3B`,
      )
    headers[key.toLowerCase()] = decode(
      rawValue,
      `${where} (key "${safeName(key)}")`,
    )
  })
  return checkHeaders(headers, source)
}

/** The proxy for `url` under `network`, or undefined to connect directly. */
export function proxyFor(
  url: URL,
  network: ResolvedNetwork,
): ProxySetting | undefined {
  const proxy =
    url.protocol === 'https:' ? network.httpsProxy : network.httpProxy
  if (proxy === undefined || bypassesProxy(url, network.noProxy))
    return undefined
  return proxy
}

/**
 * True when `no_proxy` lists the URL's host, as curl and Go read it: `*`
 * is every host; `example.com`, `.example.com` and `*.example.com` each
 * match example.com and every name under it; an entry with `:port` matches
 * that port only; an IP address matches itself, a CIDR block its range.
 */
export function bypassesProxy(url: URL, noProxy: readonly string[]): boolean {
  const host = url.hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
  const port = url.port || (url.protocol === 'https:' ? '443' : '80')
  return noProxy.some((entry) => {
    if (entry === '*') return true
    const { name, entryPort } = splitPort(entry)
    if (entryPort !== undefined && entryPort !== port) return false
    if (name.includes('/')) return inBlock(host, name)
    if (isIP(name) !== 0 || isIP(host) !== 0)
      return canonicalIp(name) === canonicalIp(host)
    const domain = name.replace(/^\*?\.+/, '').replace(/\.$/, '')
    return host === domain || host.endsWith(`.${domain}`)
  })
}

/** An IPv6 address in its one written form (`0:0::1` is `::1`), else the text as it is. */
function canonicalIp(text: string): string {
  if (isIP(text) !== 6) return text
  try {
    return new URL(`http://[${text}]/`).hostname.slice(1, -1)
  } catch {
    // A zone (fe80::1%eth0) is not in URL syntax: compared as written.
    return text
  }
}

function splitPort(entry: string): { name: string; entryPort?: string } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry)
  if (bracketed) return { name: bracketed[1]!, entryPort: bracketed[2] }
  // Two colons or more without brackets: an IPv6 address, no port.
  const withPort = /^([^:]+):(\d+)$/.exec(entry)
  return withPort
    ? { name: withPort[1]!, entryPort: withPort[2] }
    : { name: entry }
}

function inBlock(host: string, cidr: string): boolean {
  const [address, bits] = cidr.split('/')
  const family = isIP(address ?? '')
  const hostFamily = isIP(host)
  if (family === 0 || hostFamily !== family || !/^\d+$/.test(bits ?? ''))
    return false
  const type = family === 4 ? 'ipv4' : 'ipv6'
  const list = new BlockList()
  try {
    list.addSubnet(address!, Number(bits), type)
  } catch {
    return false
  }
  return list.check(host, type)
}

function proxyFrom(env: Env, lower: string): ProxySetting | undefined {
  // Lower-case first, as curl, undici and proxy-from-env read them. Under
  // CGI (REQUEST_METHOD set) HTTP_PROXY may come from a request's `Proxy:`
  // header ("httpoxy"), so there, as in curl and Go, only http_proxy counts.
  const upper = lower.toUpperCase()
  const cgi = env.REQUEST_METHOD !== undefined && lower === 'http_proxy'
  const source = env[lower]?.trim() || cgi ? lower : upper
  const text = env[source]?.trim()
  if (!text) return undefined
  let url: URL
  try {
    url = new URL(
      /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `http://${text}`,
    )
  } catch {
    throw configError(`${source} is not a URL (its text is not shown)`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw configError(
      `${source} names a ${url.protocol.slice(0, -1)} proxy; only http:// and https:// proxies are supported`,
    )
  }
  try {
    decodeURIComponent(url.username)
    decodeURIComponent(url.password)
  } catch (error) {
    throw configError(
      `${source}: the proxy's user or password is not valid %-encoding (it is not shown)`,
      error,
    )
  }
  return { url, source }
}

function checkHeaders(
  headers: Record<string, string>,
  source: string,
): Record<string, string> {
  const checked: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name))
      throw configError(`${source}: "${safeName(name)}" is not a header name`)
    const lower = name.toLowerCase()
    if (OWN_HEADERS.has(lower))
      throw configError(
        `${source} sets "${lower}", which the library sets itself${lower === 'authorization' ? ' (the ml-dash token goes there: give it as the token option or ML_DASH_TOKEN)' : ''}`,
      )
    if (typeof value !== 'string' || !validHeaderValue(value))
      throw configError(
        `${source}: the value of "${lower}" is not one that HTTP can carry (a string of one line of Latin-1 text; it is not shown)`,
      )
    checked[lower] = value
  }
  return checked
}

/** Whether Node would send the value as a header (it throws at each request otherwise). */
function validHeaderValue(value: string): boolean {
  try {
    validateHeaderValue('x', value)
    return true
  } catch {
    return false
  }
}

function readPem(option: string, file: string, kind: 'certificate' | 'key') {
  let pem: Buffer
  try {
    pem = readFileSync(file)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error'
    throw configError(`${option} "${file}" cannot be read (${code})`, error)
  }
  try {
    if (kind === 'certificate') new X509Certificate(pem)
    else createPrivateKey(pem)
  } catch (error) {
    const encrypted =
      (error as { code?: unknown }).code === 'ERR_MISSING_PASSPHRASE'
    throw configError(
      encrypted
        ? `${option} "${file}" holds an encrypted key; give it unencrypted (openssl pkey -in it -out plain.pem)`
        : `${option} "${file}" holds no PEM ${kind === 'key' ? 'private key' : 'certificate'} Node can read`,
      error,
    )
  }
  return pem
}

function decode(text: string, where: string): string {
  try {
    return decodeURIComponent(text)
  } catch {
    throw configError(`${where} has a malformed %-escape`)
  }
}

/** A header name for a message: a name that is not one is not echoed. */
function safeName(name: string): string {
  return TOKEN.test(name) ? name : '(not shown)'
}
