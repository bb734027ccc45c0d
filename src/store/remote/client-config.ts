/**
 * The official ml-dash clients' configuration folder and its `config.json`.
 *
 * Both official clients (the Python SDK's CLI and the TypeScript CLI,
 * `fortyfive-labs/ml-dash-cli`) keep `tokens.encrypted`, `encryption.key`,
 * `tokens.json` and `config.json` in one folder: `ML_DASH_CONFIG_DIR` when
 * set (the TypeScript CLI), else `~/.dash`. `config.json` is a JSON object;
 * this library reads two of its keys: `remote_url` (the server `ml-dash
 * login` and the CLIs' commands talk to) and `api_key` (a token, for
 * example a service account's).
 *
 * Failure semantics: a missing file is no configuration; a file that cannot
 * be read, is not a JSON object or holds a key of the wrong type throws an
 * Error naming the file (never a value: `api_key` is a secret). The official
 * clients treat a corrupt file as empty; here that would send logs, and the
 * token, to the public server instead of the one configured, so it fails.
 */
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { configError } from '../../core/config-error.js'
import { SHARED_OPTIONS } from '../../core/option-table.js'
import { DEFAULT_DASH_URL } from '../../core/options.js'
import { isSymlink } from '../own-file.js'

/** The server's variable and the config.json keys, from the option table. */
const { env: URL_VARIABLE, configKey: URL_KEY } = SHARED_OPTIONS.dashUrl
const TOKEN_KEY = SHARED_OPTIONS.token.configKey

type Env = Readonly<Record<string, string | undefined>>

/** What `config.json` holds that this library uses. */
export interface ClientConfig {
  /** The file read (absolute). */
  file: string
  /** `remote_url`, when set to a non-empty string. */
  remoteUrl?: string
  /** `api_key`, when set to a non-empty string. Never put it in a message. */
  apiKey?: string
}

/** A server URL and where it came from (for messages and the debug line). */
export interface ServerUrl {
  url: string
  /** `ML_DASH_API_URL`, `remote_url in <file>`, or `the default (https://api.dash.ml)`. */
  source: string
}

/**
 * The official clients' configuration folder: `ML_DASH_CONFIG_DIR` (made
 * absolute against the working directory) when set and not empty, else
 * `<home>/.dash`.
 */
export function configDir(env: Env = process.env, home = homedir()): string {
  const dir = env.ML_DASH_CONFIG_DIR
  return dir ? resolve(dir) : join(home, '.dash')
}

/**
 * Reads `<dir>/config.json`. Undefined when the file does not exist.
 *
 * @throws Error naming the file when it cannot be read, is not a JSON
 *   object, or has a `remote_url` or `api_key` that is not a string.
 */
export function readClientConfig(
  dir: string = configDir(),
): ClientConfig | undefined {
  const file = join(dir, 'config.json')
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    // Missing is "no config"; a link at the name that leads nowhere is not.
    if ((code === 'ENOENT' || code === 'ENOTDIR') && !isSymlink(file))
      return undefined
    throw configError(`cannot read ${file}: ${code ?? 'error'}`, error)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw configError(`${file} is not JSON`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw configError(`${file} is not a JSON object`)
  }
  const data = parsed as Record<string, unknown>
  return {
    file,
    remoteUrl: stringKey(data, URL_KEY, file),
    apiKey: stringKey(data, TOKEN_KEY, file),
  }
}

/**
 * The server `dashUrl: true` means: env `ML_DASH_API_URL`, then
 * `remote_url` in `config.json` under {@link configDir}, then
 * `https://api.dash.ml`. An empty value counts as unset, as in the official
 * clients. The URL is returned as given: checking its form is the caller's.
 *
 * @throws Error naming `config.json` when it is unreadable or malformed
 *   (only consulted when `ML_DASH_API_URL` is not set).
 */
export function resolveServerUrl(
  env: Env = process.env,
  dir: string = configDir(env),
): ServerUrl {
  const fromEnv = env[URL_VARIABLE]
  if (fromEnv) return { url: fromEnv, source: URL_VARIABLE }
  const config = readClientConfig(dir)
  if (config?.remoteUrl !== undefined) {
    return { url: config.remoteUrl, source: `${URL_KEY} in ${config.file}` }
  }
  return { url: DEFAULT_DASH_URL, source: `the default (${DEFAULT_DASH_URL})` }
}

/** A key's string value; undefined when absent, null or empty. */
function stringKey(
  data: Record<string, unknown>,
  key: string,
  file: string,
): string | undefined {
  const value = data[key]
  if (value === undefined || value === null || value === '') return undefined
  if (typeof value !== 'string') {
    throw configError(
      `${key} in ${file} must be a string (got ${Array.isArray(value) ? 'an array' : typeof value})`,
    )
  }
  return value
}
