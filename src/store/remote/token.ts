/**
 * Where the bearer token for the ml-dash server comes from, in order:
 * the `token` option, env `ML_DASH_TOKEN`, then the files `ml-dash login`
 * writes: `~/.dash/tokens.encrypted` (a Fernet token over the JSON object
 * `{"ml-dash-token": "..."}`, key in `~/.dash/encryption.key`) and
 * `~/.dash/tokens.json` (the same object in plain text). The SDK's first
 * source, the OS keyring, needs a native keyring binding and is not read.
 *
 * A token is never put into a message: errors name the source, not the value.
 */
import { createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { displayUrl } from './http-client.js'

/** The key under which the SDK stores its token. */
export const SDK_TOKEN_KEY = 'ml-dash-token'

/** What to tell a user who has no usable token. */
export const TOKEN_HELP =
  'run `ml-dash login`, or set ML_DASH_TOKEN or the token option'

/** A token and where it was found (the place, never the value, goes into messages). */
export interface FoundToken {
  token: string
  source: string
}

/**
 * Finds the token. Undefined when no source has one.
 *
 * @throws Error naming the file when a token file exists but cannot be read or decrypted.
 */
export function findToken(
  option: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
  home: string = homedir(),
): FoundToken | undefined {
  if (option) return { token: option, source: 'the token option' }
  if (env.ML_DASH_TOKEN)
    return { token: env.ML_DASH_TOKEN, source: 'ML_DASH_TOKEN' }
  const dir = join(home, '.dash')
  const encrypted = readOptional(join(dir, 'tokens.encrypted'))
  if (encrypted !== undefined) {
    const file = join(dir, 'tokens.encrypted')
    const key = readOptional(join(dir, 'encryption.key'))
    if (key === undefined) {
      throw new Error(
        `ml-dash-logs: ${file} exists but ${join(dir, 'encryption.key')} does not; ${TOKEN_HELP}`,
      )
    }
    const token = tokenFromJson(decryptText(encrypted, key, file), file)
    if (token !== undefined) return { token, source: file }
  }
  const plain = join(dir, 'tokens.json')
  const json = readOptional(plain)
  if (json !== undefined) {
    const token = tokenFromJson(json, plain)
    if (token !== undefined) return { token, source: plain }
  }
  return undefined
}

/**
 * The token for the server at `dashUrl`, checked. `option` is the token
 * option alone: `ML_DASH_TOKEN` is read from `env` here, so that a message
 * names the source the token really came from.
 *
 * @throws Error `ml-dash-logs: no token for the ml-dash server at …` or
 *   `… the token expired at …`, each saying how to fix it.
 */
export function requireToken(
  dashUrl: string,
  option: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
  home: string = homedir(),
): FoundToken {
  const found = findToken(option, env, home)
  if (found === undefined) {
    throw new Error(
      `ml-dash-logs: no token for the ml-dash server at ${displayUrl(dashUrl)}: ${TOKEN_HELP}`,
    )
  }
  const problem = jwtProblem(found.token)
  if (problem !== undefined) {
    throw new Error(
      `ml-dash-logs: ${problem} (from ${found.source}): ${TOKEN_HELP}`,
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
    throw new Error(
      `ml-dash-logs: cannot decrypt ${file}: ${(error as Error).message}; ${TOKEN_HELP}`,
      { cause: error },
    )
  }
}

function tokenFromJson(text: string, file: string): string | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new Error(`ml-dash-logs: ${file} is not a JSON object; ${TOKEN_HELP}`)
  }
  const token = (parsed as Record<string, unknown> | null)?.[SDK_TOKEN_KEY]
  return typeof token === 'string' && token !== '' ? token : undefined
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new Error(
      `ml-dash-logs: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      { cause: error },
    )
  }
}
