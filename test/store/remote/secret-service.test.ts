/**
 * The token in a real Secret Service, stored as each official client
 * stores it, is found and sent to the server (an Experiment in a child
 * process, test/fixtures/start-remote.mjs) with no other source set: HOME
 * and ML_DASH_CONFIG_DIR are empty temporary folders.
 *
 * The Secret Service is Debian's gnome-keyring-daemon in a private
 * `dbus-run-session` (test/fixtures/secret-service-session.sh), written once
 * by `secret-tool store` as the official TypeScript CLI does, once by
 * Python's `keyring` (Debian's python3-keyring) as the SDK does.
 *
 * When gnome-keyring, libsecret-tools (secret-tool), python3-keyring or dbus
 * is missing and this runs as root where apt-get exists (CI's clean Debian
 * machines), the test installs them first, quietly: `apt-get install -y -qq
 * gnome-keyring libsecret-tools python3-keyring dbus`, after an `apt-get
 * update` if that fails. When they still are missing, or the daemon cannot
 * start, each test says why and is skipped, never passed.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync } from 'node:fs'
import { delimiter, dirname, join } from 'node:path'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { findOnPath } from '../../../src/store/remote/keychain.js'
import type { TestServer } from '../../../src/testing/ml-dash-server.js'
import {
  signTestToken,
  startTestServer,
} from '../../../src/testing/ml-dash-server.js'
import type { Finished } from '../../helpers.js'
import { FIXTURES, run, useTempDir } from '../../helpers.js'

const SYSTEM_PATH = ['/usr/local/bin', '/usr/bin', '/bin'].join(delimiter)
const SEARCH_PATH = `${process.env.PATH ?? ''}${delimiter}${SYSTEM_PATH}`
const TOOLS = [
  'gnome-keyring-daemon',
  'secret-tool',
  'dbus-run-session',
  'dbus-send',
]
const PACKAGES = ['gnome-keyring', 'libsecret-tools', 'python3-keyring', 'dbus']

/** What is missing for the test, in words; empty when nothing is. */
function missing(): string[] {
  const absent = TOOLS.filter((tool) => !findOnPath(tool, SEARCH_PATH))
  const keyring = spawnSync('/usr/bin/python3', ['-c', 'import keyring'], {
    stdio: 'ignore',
  })
  if (keyring.status !== 0) absent.push("/usr/bin/python3's keyring module")
  return absent
}

/** Installs the packages when that is possible; why the test cannot run, or undefined. */
async function prepare(): Promise<string | undefined> {
  if (missing().length === 0) return undefined
  const apt = findOnPath('apt-get', SEARCH_PATH)
  if (process.getuid?.() !== 0 || apt === undefined) {
    return `${missing().join(', ')} missing, and not root with apt-get to install ${PACKAGES.join(' ')}`
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const install = () =>
    run(
      apt,
      ['-o', 'DPkg::Lock::Timeout=120', 'install', '-y', '-qq', ...PACKAGES],
      { env },
    )
  let result = await install()
  if (result.code !== 0) {
    await run(apt, ['-o', 'DPkg::Lock::Timeout=120', 'update', '-qq'], { env })
    result = await install()
  }
  const still = missing()
  if (still.length === 0) return undefined
  const last = result.stderr.trim().split('\n').pop() ?? ''
  return `apt-get install ${PACKAGES.join(' ')} left ${still.join(', ')} missing (${last})`
}

let cannotRun: string | undefined
beforeAll(async () => {
  cannotRun = await prepare()
}, 600_000)

const temp = useTempDir()
let server: TestServer
beforeEach(async () => (server = await startTestServer()))
afterEach(() => server.close())

/**
 * Stores `token` with `writer` in a fresh Secret Service and starts an
 * Experiment at `prefix` in the same D-Bus session.
 */
function startInSession(
  writer: 'secret-tool' | 'keyring',
  token: string,
  prefix: string,
): Promise<Finished> {
  const home = join(temp.dir, 'home')
  const config = join(temp.dir, 'config')
  mkdirSync(home)
  mkdirSync(config)
  const env: NodeJS.ProcessEnv = {
    HOME: home,
    ML_DASH_CONFIG_DIR: config,
    // secret-tool must be found on PATH: the system folders, then node's.
    PATH: `${SYSTEM_PATH}${delimiter}${dirname(process.execPath)}`,
    ML_DASH_TEST_SECRET: token,
    LANG: 'C.UTF-8',
  }
  return run(
    'dbus-run-session',
    [
      '--',
      'sh',
      join(FIXTURES, 'secret-service-session.sh'),
      writer,
      process.execPath,
      join(FIXTURES, 'start-remote.mjs'),
      server.url,
      prefix,
    ],
    { env, cwd: temp.dir },
  )
}

/**
 * Why the session could not run the test: the fixture's `SKIP:` line (exit
 * 77), or dbus-run-session's own complaint when the bus did not start.
 */
function sessionProblem(result: Finished): string | undefined {
  if (result.code === 77) return result.stdout.trim()
  const bus = /^dbus-run-session: .*$/m.exec(result.stderr)
  return result.stdout === '' && bus !== null ? bus[0] : undefined
}

describe('a token in the Secret Service', () => {
  // it.for, not it.each: only it.for passes the test context (for skip).
  it.for([
    { writer: 'secret-tool' as const, by: 'the official CLI' },
    { writer: 'keyring' as const, by: "the SDK's Python keyring" },
  ])(
    'is found when stored by $writer, as $by stores it',
    async ({ writer }, context) => {
      if (cannotRun !== undefined) context.skip(cannotRun)
      const token = signTestToken({ username: 'alice' })
      const prefix = `alice/keyring/${writer}`
      const result = await startInSession(writer, token, prefix)
      const problem = sessionProblem(result)
      if (problem !== undefined) context.skip(problem)
      expect(result.stdout, result.stderr).toBe('started\n')
      expect(server.experiment(prefix)?.logs.map((l) => l.message)).toEqual([
        'one line',
      ])
      expect(result.stdout + result.stderr).not.toContain(token.split('.')[2])
    },
  )

  it('names the keyring when the server refuses the token found there', async (context) => {
    if (cannotRun !== undefined) context.skip(cannotRun)
    const refused = signTestToken({ username: 'alice' }, 'not-the-secret')
    const result = await startInSession('secret-tool', refused, 'alice/k/r')
    const problem = sessionProblem(result)
    if (problem !== undefined) context.skip(problem)
    expect(result.stdout).toContain(
      'refused the token from the Secret Service keyring (secret-tool, service ml-dash, username ml-dash-token) (401)',
    )
    expect(result.stdout + result.stderr).not.toContain(refused.split('.')[2])
  })
})
