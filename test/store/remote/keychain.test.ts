/**
 * The keychain read of src/store/remote/keychain.ts against stand-ins for
 * macOS `security` and for `secret-tool` (test/fixtures/keychain-stand-in.sh,
 * which checks its arguments), put first on PATH. The real Secret Service
 * is tested in secret-service.test.ts.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs'
import { chmodSync } from 'node:fs'
import { delimiter, join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  KEYCHAIN_CACHE_MS,
  KEYCHAIN_TIMEOUT_MS,
  findOnPath,
  readKeychainToken,
} from '../../../src/store/remote/keychain.js'
import { signTestToken } from '../../../src/testing/ml-dash-server.js'
import { FIXTURES, useTempDir } from '../../helpers.js'

const temp = useTempDir()

/** A folder holding the stand-in as `security` and `secret-tool`. */
function standInBin(): string {
  const bin = join(temp.dir, 'bin')
  mkdirSync(bin, { recursive: true })
  for (const name of ['security', 'secret-tool']) {
    copyFileSync(join(FIXTURES, 'keychain-stand-in.sh'), join(bin, name))
    chmodSync(join(bin, name), 0o755)
  }
  return bin
}

/** The environment a lookup runs with: the stand-ins first on PATH. */
function envFor(mode: string, token = signTestToken({ username: 'alice' })) {
  return {
    PATH: `${standInBin()}${delimiter}/usr/bin${delimiter}/bin`,
    STAND_IN_MODE: mode,
    STAND_IN_TOKEN: token,
    STAND_IN_CALLS: join(temp.dir, 'calls'),
  }
}

const calls = () =>
  existsSync(join(temp.dir, 'calls'))
    ? readFileSync(join(temp.dir, 'calls'), 'utf8').split('\n').filter(Boolean)
    : []

describe.each([
  {
    platform: 'darwin' as const,
    tool: 'security',
    source:
      'the macOS keychain (security, service ml-dash, account ml-dash-token)',
  },
  {
    platform: 'linux' as const,
    tool: 'secret-tool',
    source:
      'the Secret Service keyring (secret-tool, service ml-dash, username ml-dash-token)',
  },
])('on $platform, with $tool', ({ platform, tool, source }) => {
  it('reads the token the official clients stored, from stdout', () => {
    const env = envFor('token')
    expect(readKeychainToken(env, { platform })).toEqual({
      status: 'found',
      token: env.STAND_IN_TOKEN,
      source,
    })
    expect(calls()).toEqual([tool])
  })

  it('runs the tool once for many reads in the same environment, again after KEYCHAIN_CACHE_MS or in another', () => {
    const env = envFor('token')
    let now = 1_000_000
    const options = { platform, now: () => now }
    for (let i = 0; i < 5; i++)
      expect(readKeychainToken(env, options).status).toBe('found')
    expect(calls()).toEqual([tool])
    now += KEYCHAIN_CACHE_MS
    expect(readKeychainToken(env, options).status).toBe('found')
    expect(calls()).toEqual([tool, tool])
    // Another environment (another login, another D-Bus session) is asked anew.
    expect(
      readKeychainToken({ ...env, DBUS_SESSION_BUS_ADDRESS: 'x' }, options)
        .status,
    ).toBe('found')
    expect(calls()).toEqual([tool, tool, tool])
    // cacheMs 0: asked every time, even with an answer cached.
    readKeychainToken(env, { ...options, cacheMs: 0 })
    expect(calls()).toHaveLength(4)
  })

  it('takes a missing item as no token', () => {
    expect(readKeychainToken(envFor('missing'), { platform })).toEqual({
      status: 'absent',
    })
  })

  it('reports a failing tool by name, never with what it printed on stdout', () => {
    const env = envFor('fail')
    const result = readKeychainToken(env, { platform })
    expect(result).toEqual({
      status: 'failed',
      reason: `the keychain was not read: \`${tool} ${platform === 'darwin' ? 'find-generic-password' : 'lookup'}\` exited with status 51: ${tool}: the keychain is locked`,
    })
    expect(JSON.stringify(result)).not.toContain(env.STAND_IN_TOKEN)
  })

  it('never shows a message that could hold the secret, nor uses output of more than one line', () => {
    for (const mode of ['errtok', 'lines']) {
      const env = envFor(mode)
      const result = readKeychainToken(env, { platform })
      expect(result.status).toBe('failed')
      expect(JSON.stringify(result)).not.toContain(env.STAND_IN_TOKEN)
    }
  })

  it('gives up on a tool that does not answer in time', () => {
    const started = Date.now()
    const result = readKeychainToken(envFor('hang'), {
      platform,
      timeoutMs: 300,
    })
    expect(result).toEqual({
      status: 'failed',
      reason: expect.stringContaining(
        `\`${tool} ${platform === 'darwin' ? 'find-generic-password' : 'lookup'}\` did not answer within 300 ms`,
      ) as string,
    })
    expect(Date.now() - started).toBeLessThan(5000)
  })

  it('says the tool is not on PATH, and runs nothing, when it is not', () => {
    const result = readKeychainToken(
      { PATH: join(temp.dir, 'empty') },
      { platform },
    )
    expect(result).toEqual({
      status: 'absent',
      note: expect.stringContaining(`\`${tool}\` is not on PATH`) as string,
    })
  })

  it('runs nothing when ML_DASH_NO_KEYCHAIN=1', () => {
    const env = { ...envFor('token'), ML_DASH_NO_KEYCHAIN: '1' }
    expect(readKeychainToken(env, { platform })).toEqual({ status: 'absent' })
    expect(calls()).toEqual([])
  })
})

it('reads no keychain on Windows, and says the Credential Manager is not read', () => {
  const result = readKeychainToken(envFor('token'), { platform: 'win32' })
  expect(result).toEqual({
    status: 'absent',
    note: expect.stringContaining(
      'the Windows Credential Manager is not read',
    ) as string,
  })
  expect(calls()).toEqual([])
})

it('limits a lookup to 2 s by default', () => {
  expect(KEYCHAIN_TIMEOUT_MS).toBe(2000)
})

it('looks a tool up in absolute PATH folders only (never the working directory)', () => {
  const bin = standInBin()
  const relativeBin = relative(process.cwd(), bin)
  expect(findOnPath('security', `${relativeBin}${delimiter}`)).toBeUndefined()
  expect(findOnPath('security', `${relativeBin}${delimiter}${bin}`)).toBe(
    join(bin, 'security'),
  )
  chmodSync(join(bin, 'security'), 0o644)
  expect(findOnPath('security', bin)).toBeUndefined()
})
