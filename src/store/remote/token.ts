/**
 * Where the bearer token for the ml-dash server comes from, in the order of
 * the official clients (the Python SDK and `fortyfive-labs/ml-dash-cli`),
 * with this library's two explicit sources first:
 *
 * 1. the `token` option;
 * 2. env `ML_DASH_TOKEN`;
 * 3. the OS keychain, service `ml-dash`, account `ml-dash-token` (see
 *    keychain.ts: macOS `security`, Linux `secret-tool`; Windows not read);
 * 4. `tokens.encrypted` (a Fernet token over the JSON object
 *    `{"ml-dash-token": "..."}`, key in `encryption.key`);
 * 5. `tokens.json` (the same object in plain text);
 * 6. `api_key` in `config.json`;
 *
 * the files all in the official clients' folder, `ML_DASH_CONFIG_DIR` or
 * `~/.dash` (client-config.ts). The first source with a token wins.
 *
 * Failure semantics: a token is never put into a message; every error names
 * the source it concerns. A file that exists but cannot be used throws. A
 * keychain tool that fails or times out does not stop the search (a
 * headless Linux host often has `secret-tool` but no D-Bus session): the
 * next sources are read, the failure goes to the debug log, and the
 * no-token error carries it when no source has a token.
 *
 * The keychain read runs a child process synchronously (at most 2 s), once
 * per call, and only when neither the option nor `ML_DASH_TOKEN` is set.
 */
import { createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { mlDashError } from '../../core/error-codes.js'
import { SHARED_OPTIONS } from '../../core/option-table.js'
import { debug } from '../../debug.js'
import { configDir, readClientConfig } from './client-config.js'
import { displayUrl } from './http-client.js'
import type { KeychainOptions } from './keychain.js'
import { KEYCHAIN_ACCOUNT, readKeychainToken } from './keychain.js'

/** The key under which the SDK stores its token. */
const SDK_TOKEN_KEY = KEYCHAIN_ACCOUNT

/** The token's variable and config.json key, from the option table. */
const { env: TOKEN_VARIABLE, configKey: TOKEN_KEY } = SHARED_OPTIONS.token

/** What to tell a user who has no usable token. */
export const TOKEN_HELP =
  'run `ml-dash login`, or set ML_DASH_TOKEN or the token option'

/** A token and where it was found (the place, never the value, goes into messages). */
export interface FoundToken {
  token: string
  source: string
}

type Env = Readonly<Record<string, string | undefined>>

/** What a search found, and what is worth telling when it found nothing. */
interface Search {
  found?: FoundToken
  /** The folder of the token files and `config.json`. */
  dir: string
  /** Why the keychain gave nothing, when worth telling. */
  keychainNote?: string
}

/**
 * Finds the token. Undefined when no source has one. `env` gives
 * `ML_DASH_TOKEN`, `ML_DASH_CONFIG_DIR` and the keychain tool's `PATH` and
 * environment; `home` is where `.dash` is when `ML_DASH_CONFIG_DIR` is not set.
 *
 * @throws Error naming the file when a token file or `config.json` exists
 *   but cannot be read, decrypted or parsed.
 */
export function findToken(
  option: string | undefined,
  env: Env = process.env,
  home: string = homedir(),
  keychain: KeychainOptions = {},
): FoundToken | undefined {
  return searchToken(option, env, home, keychain).found
}

function searchToken(
  option: string | undefined,
  env: Env,
  home: string,
  keychainOptions: KeychainOptions,
): Search {
  const dir = configDir(env, home)
  if (option)
    return { found: { token: option, source: 'the token option' }, dir }
  const fromEnv = env[TOKEN_VARIABLE]
  if (fromEnv) return { found: { token: fromEnv, source: TOKEN_VARIABLE }, dir }
  const keychain = readKeychainToken(env, keychainOptions)
  if (keychain.status === 'found') {
    return { found: { token: keychain.token, source: keychain.source }, dir }
  }
  const keychainNote =
    keychain.status === 'failed' ? keychain.reason : keychain.note
  const found = findInFolder(dir)
  if (found !== undefined && keychain.status === 'failed') {
    debug('%s; using the token from %s', keychain.reason, found.source)
  }
  return { found, dir, keychainNote }
}

/** Sources 4 to 6, in `dir`. */
function findInFolder(dir: string): FoundToken | undefined {
  const encryptedFile = join(dir, 'tokens.encrypted')
  const encrypted = readOptional(encryptedFile)
  if (encrypted !== undefined) {
    const keyFile = join(dir, 'encryption.key')
    const key = readOptional(keyFile)
    if (key === undefined) {
      throw mlDashError(
        'ML_DASH_AUTH',
        `${encryptedFile} exists but ${keyFile} does not; ${TOKEN_HELP}`,
      )
    }
    const text = decryptText(encrypted, key, encryptedFile)
    const token = tokenFromJson(text, encryptedFile)
    if (token !== undefined) return { token, source: encryptedFile }
  }
  const plain = join(dir, 'tokens.json')
  const json = readOptional(plain)
  if (json !== undefined) {
    const token = tokenFromJson(json, plain)
    if (token !== undefined) return { token, source: plain }
  }
  const config = readClientConfig(dir)
  if (config?.apiKey !== undefined) {
    return { token: config.apiKey, source: `${TOKEN_KEY} in ${config.file}` }
  }
  return undefined
}

/**
 * The token for the server at `dashUrl`, checked. `option` is the token
 * option alone: `ML_DASH_TOKEN` is read from `env` here, so that a message
 * names the source the token really came from.
 *
 * @throws Error `ml-dash-logs: no token for the ml-dash server at …: …
 *   (looked in …)` or `… the token expired at … (from <source>)`, each
 *   saying how to fix it; or an error of {@link findToken}.
 */
export function requireToken(
  dashUrl: string,
  option: string | undefined,
  env: Env = process.env,
  home: string = homedir(),
  keychain: KeychainOptions = {},
): FoundToken {
  const { found, dir, keychainNote } = searchToken(option, env, home, keychain)
  if (found === undefined) {
    const note = keychainNote === undefined ? '' : `; ${keychainNote}`
    // The keychain is named only where it was read.
    const keychainPlace =
      (keychain.platform ?? process.platform) === 'win32' ||
      env.ML_DASH_NO_KEYCHAIN === '1'
        ? ''
        : 'the OS keychain, '
    const looked = `${TOKEN_VARIABLE}, ${keychainPlace}${join(dir, 'tokens.encrypted')}, ${join(dir, 'tokens.json')} and ${TOKEN_KEY} in ${join(dir, 'config.json')}`
    throw mlDashError(
      'ML_DASH_AUTH',
      `no token for the ml-dash server at ${displayUrl(dashUrl)}: ${TOKEN_HELP} (looked in ${looked}${note})`,
    )
  }
  // Sent as `Authorization: Bearer <token>`: anything a header cannot carry
  // would fail every request later, with a less clear error.
  if (!/^[\x21-\x7e]+$/.test(found.token)) {
    // The option is configuration; a stored token is the login's.
    throw mlDashError(
      found.source === 'the token option' ? 'ML_DASH_CONFIG' : 'ML_DASH_AUTH',
      `the token from ${found.source} holds white space or characters an HTTP header cannot carry (it is not shown): ${TOKEN_HELP}`,
    )
  }
  const problem = jwtProblem(found.token)
  if (problem !== undefined) {
    throw mlDashError(
      'ML_DASH_AUTH',
      `${problem} (from ${found.source}): ${TOKEN_HELP}`,
    )
  }
  return found
}

/**
 * Decrypts a Fernet token (https://github.com/fernet/spec): base64url of
 * version 0x80, 8-byte time, 16-byte IV, AES-128-CBC ciphertext, and an
 * HMAC-SHA256 over all of that. The key is base64url of 32 bytes: the
 * signing key, then the encryption key.
 *
 * @throws Error when the key or token is malformed or the HMAC does not match.
 */
export function decryptFernet(token: string, key: string): Buffer {
  const keyBytes = Buffer.from(key.trim(), 'base64url')
  if (keyBytes.length !== 32)
    throw new Error('the Fernet key must be 32 bytes of url-safe base64')
  const data = Buffer.from(token.trim(), 'base64url')
  if (data.length < 1 + 8 + 16 + 16 + 32 || data[0] !== 0x80) {
    throw new Error('not a Fernet token')
  }
  const signed = data.subarray(0, data.length - 32)
  const mac = createHmac('sha256', keyBytes.subarray(0, 16))
    .update(signed)
    .digest()
  if (!timingSafeEqual(mac, data.subarray(data.length - 32))) {
    throw new Error('the Fernet token does not match the key')
  }
  const iv = data.subarray(9, 25)
  const decipher = createDecipheriv('aes-128-cbc', keyBytes.subarray(16), iv)
  return Buffer.concat([
    decipher.update(data.subarray(25, data.length - 32)),
    decipher.final(),
  ])
}

/**
 * Why a JWT cannot be used (expired), or undefined when it can or when the
 * token is not a JWT (opaque tokens are sent as they are).
 */
export function jwtProblem(
  token: string,
  now: number = Date.now(),
): string | undefined {
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  let payload: { exp?: unknown }
  try {
    payload = JSON.parse(
      Buffer.from(parts[1]!, 'base64url').toString('utf8'),
    ) as { exp?: unknown }
  } catch {
    return undefined
  }
  if (typeof payload?.exp === 'number' && payload.exp * 1000 <= now) {
    return `the token expired at ${new Date(payload.exp * 1000).toISOString()}`
  }
  return undefined
}

function decryptText(encrypted: string, key: string, file: string): string {
  try {
    return decryptFernet(encrypted, key).toString('utf8')
  } catch (error) {
    throw mlDashError(
      'ML_DASH_AUTH',
      `cannot decrypt ${file}: ${(error as Error).message}; ${TOKEN_HELP}`,
      error,
    )
  }
}

function tokenFromJson(text: string, file: string): string | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw mlDashError(
      'ML_DASH_AUTH',
      `${file} is not a JSON object; ${TOKEN_HELP}`,
    )
  }
  const token = (parsed as Record<string, unknown> | null)?.[SDK_TOKEN_KEY]
  return typeof token === 'string' && token !== '' ? token : undefined
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw mlDashError(
      'ML_DASH_AUTH',
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      error,
    )
  }
}

/** The start-up debug line: which server and where it was named, where the token came from (never the token). */
export function logServer(
  options: { dashUrl: string | undefined; dashUrlSource: string | undefined },
  token: FoundToken | undefined,
): void {
  if (options.dashUrl === undefined) return
  debug(
    'ml-dash server %s (from %s); token from %s',
    displayUrl(options.dashUrl),
    options.dashUrlSource ?? 'dashUrl',
    token?.source ?? 'nowhere',
  )
}
