/**
 * Reads the ml-dash token from the OS keychain, where the official clients
 * keep it: service `ml-dash`, account (username) `ml-dash-token`.
 *
 * - macOS: `security find-generic-password -s ml-dash -a ml-dash-token -w`,
 *   as the official TypeScript CLI does; Python's `keyring` stores its
 *   macOS items under the same service and account.
 * - Linux (and other Unix systems): `secret-tool lookup service ml-dash
 *   username ml-dash-token`, which finds both what the TypeScript CLI's
 *   `secret-tool store` and what Python's `keyring` (Secret Service backend)
 *   wrote.
 * - Windows: not read. Python's `keyring` keeps the token in the Credential
 *   Manager, which has no command-line reader that ships with Windows.
 *
 * The tool is run only when found on `PATH` (absolute folders only: a
 * `security` in the working directory is never run), without a shell,
 * with a 2 s limit. The secret is read from stdout and returned, never
 * logged or put into a message: a failure names the tool and its exit
 * status, or the first line of its stderr, which for a lookup holds no
 * secret. `ML_DASH_NO_KEYCHAIN=1` (as in the official CLI) skips the read.
 * The answer is reused for {@link KEYCHAIN_CACHE_MS} in the same
 * environment (kept in memory only, as the token is anyway).
 */
import { spawnSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { accessSync, constants, statSync } from 'node:fs'
import { delimiter, isAbsolute, join } from 'node:path'

/** The keychain service and account the official clients use. */
const KEYCHAIN_SERVICE = 'ml-dash'
export const KEYCHAIN_ACCOUNT = 'ml-dash-token'

/** How long a keychain tool may run. */
export const KEYCHAIN_TIMEOUT_MS = 2000

/**
 * How long what a keychain tool gave is used again for the same
 * environment, so that a process opening many experiments runs the tool
 * (which blocks its thread, up to {@link KEYCHAIN_TIMEOUT_MS}) once, not
 * once per experiment; a new `ml-dash login` counts after it.
 */
export const KEYCHAIN_CACHE_MS = 60_000

/** The exit status of `security` for "the specified item could not be found". */
const SECURITY_NOT_FOUND = 44

/** What reading the keychain gave. */
export type KeychainResult =
  | { status: 'found'; token: string; source: string }
  /** No entry, or no keychain to read; `note` says why when that is worth telling. */
  | { status: 'absent'; note?: string }
  /** The tool failed or timed out; `reason` is a sentence naming it. */
  | { status: 'failed'; reason: string }

/** Options of {@link readKeychainToken}, for tests and unusual hosts. */
export interface KeychainOptions {
  /** @default process.platform */
  platform?: NodeJS.Platform
  /** @default 2000 */
  timeoutMs?: number
  /** How long a tool's answer is reused; 0: not at all. @default 60000 */
  cacheMs?: number
  /** The clock of the cache. @default Date.now */
  now?: () => number
}

/** The last tool answer, for the environment and tool it was given in. */
let lastLookup:
  { key: string; until: number; result: KeychainResult } | undefined

type Env = Readonly<Record<string, string | undefined>>

/** The sentence the no-token message carries on Windows. */
const WINDOWS_KEYCHAIN_NOTE =
  'the Windows Credential Manager is not read, so a token `ml-dash login` stored there is not found: set ML_DASH_TOKEN or the token option'

/**
 * Looks the token up in the OS keychain. `env` supplies `PATH`, the
 * environment the tool runs with (e.g. `DBUS_SESSION_BUS_ADDRESS`) and
 * `ML_DASH_NO_KEYCHAIN`. Never throws.
 */
export function readKeychainToken(
  env: Env = process.env,
  options: KeychainOptions = {},
): KeychainResult {
  if (env.ML_DASH_NO_KEYCHAIN === '1') return { status: 'absent' }
  const platform = options.platform ?? process.platform
  const timeoutMs = options.timeoutMs ?? KEYCHAIN_TIMEOUT_MS
  if (platform === 'win32')
    return { status: 'absent', note: WINDOWS_KEYCHAIN_NOTE }
  const mac = platform === 'darwin'
  const tool = mac ? 'security' : 'secret-tool'
  const path = findOnPath(tool, env.PATH)
  if (path === undefined) {
    return {
      status: 'absent',
      note: `\`${tool}\` is not on PATH, so the ${mac ? 'macOS keychain' : 'Secret Service keyring'} was not read`,
    }
  }
  const args = mac
    ? ['find-generic-password', '-s', KEYCHAIN_SERVICE]
    : ['lookup', 'service', KEYCHAIN_SERVICE]
  args.push(mac ? '-a' : 'username', KEYCHAIN_ACCOUNT)
  if (mac) args.push('-w')
  const now = (options.now ?? Date.now)()
  // The tool's answer depends on its path and its environment, nothing else.
  // Hashed: the environment may hold other secrets, which are not kept.
  const key = createHash('sha256')
    .update(JSON.stringify([path, Object.entries(env).sort()]))
    .digest('hex')
  const cacheMs = options.cacheMs ?? KEYCHAIN_CACHE_MS
  if (
    cacheMs > 0 &&
    lastLookup !== undefined &&
    lastLookup.key === key &&
    now < lastLookup.until
  )
    return lastLookup.result
  const result = runLookup(tool, path, args, env, timeoutMs)
  lastLookup = cacheMs > 0 ? { key, until: now + cacheMs, result } : undefined
  return result
}

/** The source named in messages for a token found by `tool`. */
function sourceName(tool: string): string {
  return tool === 'security'
    ? `the macOS keychain (security, service ${KEYCHAIN_SERVICE}, account ${KEYCHAIN_ACCOUNT})`
    : `the Secret Service keyring (secret-tool, service ${KEYCHAIN_SERVICE}, username ${KEYCHAIN_ACCOUNT})`
}

function runLookup(
  tool: string,
  path: string,
  args: string[],
  env: Env,
  timeoutMs: number,
): KeychainResult {
  const run = spawnSync(path, args, {
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
    maxBuffer: 1024 * 1024,
    windowsHide: true,
  })
  const failed = (what: string): KeychainResult => ({
    status: 'failed',
    reason: `the keychain was not read: \`${tool} ${args[0]}\` ${what}`,
  })
  if (run.error !== undefined) {
    const code = (run.error as NodeJS.ErrnoException).code
    return code === 'ETIMEDOUT'
      ? failed(`did not answer within ${timeoutMs} ms`)
      : failed(`could not run (${code ?? 'error'})`)
  }
  if (run.signal !== null) return failed(`was killed by ${run.signal}`)
  const token = run.stdout.replace(/\r?\n$/, '')
  // A token is one line of header-safe text; anything else is not used (nor shown).
  if (run.status === 0 && /[\r\n\0]/.test(token))
    return failed('printed more than one line of secret (not used)')
  if (run.status === 0 && token !== '') {
    return { status: 'found', token, source: sourceName(tool) }
  }
  const stderr = firstLine(run.stderr, run.stdout)
  // `security` says 44 for a missing item; `secret-tool lookup` exits 1
  // and prints nothing. Anything else (a locked keychain, a refused
  // prompt, no D-Bus session) is a failure, not "no token".
  if (run.status === 0) return { status: 'absent' }
  if (tool === 'security' && run.status === SECURITY_NOT_FOUND)
    return { status: 'absent' }
  if (tool === 'secret-tool' && run.status === 1 && stderr === '')
    return { status: 'absent' }
  return failed(
    `exited with status ${run.status}${stderr === '' ? '' : `: ${stderr}`}`,
  )
}

/**
 * The first line of a tool's stderr, at most 200 characters; empty when it
 * could hold any of what stdout held (a secret is never echoed).
 */
function firstLine(stderr: string, stdout: string): string {
  const line = (stderr.split(/\r?\n/, 1)[0] ?? '').trim().slice(0, 200)
  const out = stdout.trim()
  if (out !== '' && line.includes(out)) return ''
  // A long run of token characters could be a secret: the line is not shown.
  return SECRET_LIKE.test(line)
    ? '(its message is not shown: it could hold a secret)'
    : line
}

/** A run of characters as long as a token's (a JWT, base64, hex). */
const SECRET_LIKE = /[A-Za-z0-9_\-+/=.]{24,}/

/**
 * The executable `name` in the first absolute folder of `pathList` holding
 * one, or undefined. Relative and empty entries (the working directory)
 * are skipped.
 */
export function findOnPath(
  name: string,
  pathList: string | undefined,
): string | undefined {
  for (const dir of (pathList ?? '').split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue
    const candidate = join(dir, name)
    try {
      if (!statSync(candidate).isFile()) continue
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      continue
    }
  }
  return undefined
}
