/**
 * The token sources of src/store/remote/token.ts, in the official clients'
 * order: the option, ML_DASH_TOKEN, the OS keychain (a stand-in
 * `secret-tool` or `security` on PATH: test/fixtures/keychain-stand-in.sh),
 * tokens.encrypted, tokens.json, then config.json `api_key`, the files in
 * ML_DASH_CONFIG_DIR. HOME is a temporary folder throughout, with a decoy
 * token in ~/.dash that must never be used while ML_DASH_CONFIG_DIR is set.
 * The real Secret Service is in secret-service.test.ts.
 */
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { delimiter, join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { parsePrefix } from '../../../src/core/prefix.js'
import { createRemoteStore } from '../../../src/store/remote/remote-store.js'
import { findToken, requireToken } from '../../../src/store/remote/token.js'
import type { TestServer } from '../../../src/testing/ml-dash-server.js'
import {
  signTestToken,
  startTestServer,
} from '../../../src/testing/ml-dash-server.js'
import { FIXTURES, run, useTempDir } from '../../helpers.js'
import { openAndClose } from './opens-on-server.js'

const temp = useTempDir()
let server: TestServer
beforeEach(async () => (server = await startTestServer()))
afterEach(() => server.close())

const SOURCES = [
  'option',
  'env',
  'keychain',
  'encrypted',
  'plain',
  'apiKey',
] as const
type Source = (typeof SOURCES)[number]

const home = () => join(temp.dir, 'home')
/** ML_DASH_CONFIG_DIR: `<temp>/elsewhere/.dash`, so write-fernet-token.py can write there. */
const configDir = () => join(temp.dir, 'elsewhere', '.dash')

/** The name each source has in messages. */
function sourceName(source: Source, platform = 'linux'): string {
  return {
    option: 'the token option',
    env: 'ML_DASH_TOKEN',
    keychain:
      platform === 'darwin'
        ? 'the macOS keychain (security, service ml-dash, account ml-dash-token)'
        : 'the Secret Service keyring (secret-tool, service ml-dash, username ml-dash-token)',
    encrypted: join(configDir(), 'tokens.encrypted'),
    plain: join(configDir(), 'tokens.json'),
    apiKey: `api_key in ${join(configDir(), 'config.json')}`,
  }[source]
}

interface Setup {
  option?: string
  env: Record<string, string>
}

/**
 * Puts `tokens[source]` into each source named, and a decoy into ~/.dash;
 * returns the option and environment that go with them. What an earlier
 * call put into ML_DASH_CONFIG_DIR is removed first. The keychain
 * stand-ins answer "no item" unless the keychain has a token.
 */
async function place(tokens: Partial<Record<Source, string>>): Promise<Setup> {
  const bin = join(temp.dir, 'bin')
  mkdirSync(bin, { recursive: true })
  rmSync(join(temp.dir, 'elsewhere'), { recursive: true, force: true })
  mkdirSync(configDir(), { recursive: true })
  mkdirSync(join(home(), '.dash'), { recursive: true })
  for (const name of ['security', 'secret-tool']) {
    copyFileSync(join(FIXTURES, 'keychain-stand-in.sh'), join(bin, name))
    chmodSync(join(bin, name), 0o755)
  }
  writeFileSync(
    join(home(), '.dash', 'tokens.json'),
    JSON.stringify({ 'ml-dash-token': 'decoy-in-home' }),
  )
  const env: Record<string, string> = {
    HOME: home(),
    ML_DASH_CONFIG_DIR: configDir(),
    PATH: `${bin}${delimiter}${process.env.PATH ?? ''}`,
    STAND_IN_MODE: tokens.keychain === undefined ? 'missing' : 'token',
    STAND_IN_TOKEN: tokens.keychain ?? '',
  }
  if (tokens.env !== undefined) env.ML_DASH_TOKEN = tokens.env
  if (tokens.encrypted !== undefined) {
    const written = await run('python3', [
      join(FIXTURES, 'write-fernet-token.py'),
      join(temp.dir, 'elsewhere'),
      tokens.encrypted,
    ])
    expect(written.stdout).toBe('written\n')
  }
  if (tokens.plain !== undefined) {
    writeFileSync(
      join(configDir(), 'tokens.json'),
      JSON.stringify({ 'ml-dash-token': tokens.plain }),
    )
  }
  if (tokens.apiKey !== undefined) {
    writeFileSync(
      join(configDir(), 'config.json'),
      JSON.stringify({ remote_url: server.url, api_key: tokens.apiKey }),
    )
  }
  return { option: tokens.option, env }
}

/** A token for each of the sources from `first` on: `good` at `first`, the others refused by the server. */
function layered(first: Source, good: string): Partial<Record<Source, string>> {
  const tokens: Partial<Record<Source, string>> = {}
  for (const source of SOURCES.slice(SOURCES.indexOf(first))) {
    tokens[source] =
      source === first
        ? good
        : signTestToken({ username: 'alice' }, `not-the-secret-${source}`)
  }
  return tokens
}

/** The environment of a child process: this one's, without ML_DASH_* settings. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('ML_DASH_')) env[key] = value
  }
  return { ...env, ...extra }
}

describe('the order of the token sources', () => {
  it('takes each source before every later one, and ignores ~/.dash when ML_DASH_CONFIG_DIR is set', async () => {
    for (const first of SOURCES) {
      const good = signTestToken({ username: 'alice' })
      const { option, env } = await place(layered(first, good))
      expect(findToken(option, env, home()), first).toEqual({
        token: good,
        source: sourceName(first),
      })
    }
  })

  it('reads the macOS keychain through `security` in the same place', async () => {
    const good = signTestToken({ username: 'alice' })
    const { env } = await place(layered('keychain', good))
    const found = findToken(undefined, env, home(), { platform: 'darwin' })
    expect(found).toEqual({
      token: good,
      source: sourceName('keychain', 'darwin'),
    })
    expect(
      await openAndClose({
        url: server.url,
        token: found!.token,
        tokenSource: found!.source,
        prefix: 'alice/sources/mac',
      }),
    ).toEqual({ status: 'success' })
    expect(server.experiment('alice/sources/mac')).toBeDefined()
  })
})

describe('a token found in each source reaches the server as Authorization: Bearer', () => {
  // The option and ML_DASH_TOKEN are sent the same way (token.test.ts).
  it.each(['keychain', 'encrypted', 'plain', 'apiKey'] as const)(
    'from %s, through an Experiment (the later sources hold refused tokens)',
    async (first) => {
      const { env } = await place(
        layered(first, signTestToken({ username: 'alice' })),
      )
      const prefix = `alice/sources/${first}`
      const result = await run(
        process.execPath,
        [join(FIXTURES, 'start-remote.mjs'), server.url, prefix],
        { env: childEnv(env) },
      )
      expect(result.stdout).toBe('started\n')
      expect(server.experiment(prefix)?.logs.map((l) => l.message)).toEqual([
        'one line',
      ])
    },
  )
})

describe('dashUrl: true', () => {
  it("goes to config.json's remote_url when ML_DASH_API_URL is not set, and says so at start-up", async () => {
    const token = signTestToken({ username: 'alice' })
    const { env } = await place({ apiKey: token })
    writeFileSync(
      join(configDir(), 'config.json'),
      JSON.stringify({ remote_url: server.url, api_key: token }),
    )
    const prefix = 'alice/sources/remote-url'
    const result = await run(
      process.execPath,
      [join(FIXTURES, 'start-remote.mjs'), 'true', prefix],
      { env: { ...childEnv(env), NODE_DEBUG: 'ml-dash-logs' } },
    )
    expect(result.stdout).toBe('started\n')
    expect(server.experiment(prefix)?.logs.map((l) => l.message)).toEqual([
      'one line',
    ])
    expect(result.stderr).toContain(
      `ml-dash server ${server.url} (from remote_url in ${join(configDir(), 'config.json')})`,
    )
    expect(result.stderr).not.toContain(token)
  })
})

describe('errors name the source and never show the token', () => {
  it('names each source for an expired token and for one the server refuses', async () => {
    for (const source of SOURCES) {
      const expired = signTestToken({ username: 'alice', exp: 1_000_000 })
      const setup = await place({ [source]: expired })
      let message = ''
      try {
        requireToken(server.url, setup.option, setup.env, home())
      } catch (error) {
        message = (error as Error).message
      }
      expect(message).toContain(`(from ${sourceName(source)})`)
      expect(message).not.toContain(expired.split('.')[2])

      const refused = signTestToken({ username: 'alice' }, 'not-the-secret')
      const again = await place({ [source]: refused })
      const found = requireToken(server.url, again.option, again.env, home())
      const store = createRemoteStore({
        url: server.url,
        token: found.token,
        tokenSource: found.source,
        prefix: parsePrefix('alice/sources/refused'),
        requestTimeoutMs: 5000,
      })
      const opened = await store.open()
      store.close()
      const error = opened.status === 'success' ? undefined : opened.error
      expect(error?.message).toContain(
        `refused the token from ${sourceName(source)} (401)`,
      )
      expect(error?.message).not.toContain(refused.split('.')[2])
    }
  })

  it('names the file of an unusable tokens.json or config.json, never its contents', async () => {
    const token = signTestToken({ username: 'alice' })
    const { env } = await place({})
    const cases: [string, string, string][] = [
      [
        'tokens.json',
        `{"ml-dash-token": "${token}"`,
        `${join(configDir(), 'tokens.json')} is not a JSON object`,
      ],
      [
        'config.json',
        `{"api_key": "${token}"`,
        `${join(configDir(), 'config.json')} is not JSON`,
      ],
      [
        'config.json',
        `{"api_key": ["${token}"]}`,
        `api_key in ${join(configDir(), 'config.json')} must be a string (got an array)`,
      ],
    ]
    for (const [file, text, expected] of cases) {
      writeFileSync(join(configDir(), file), text)
      expect(() => findToken(undefined, env, home())).toThrow(expected)
      try {
        findToken(undefined, env, home())
      } catch (error) {
        expect((error as Error).message).not.toContain(token.split('.')[2])
      }
      writeFileSync(join(configDir(), file), '{}')
    }
  })

  it('says where it looked and why the keychain gave nothing, never what the tool printed', async () => {
    const token = signTestToken({ username: 'alice' })
    const { env } = await place({})
    env.STAND_IN_MODE = 'fail'
    env.STAND_IN_TOKEN = token
    const message = () => {
      try {
        requireToken(server.url, undefined, env, home())
      } catch (error) {
        return (error as Error).message
      }
      return 'no error'
    }
    expect(message()).toBe(
      `ml-dash-logs: no token for the ml-dash server at ${server.url}: run \`ml-dash login\`, or set ML_DASH_TOKEN or the token option (looked in ML_DASH_TOKEN, the OS keychain, ${join(configDir(), 'tokens.encrypted')}, ${join(configDir(), 'tokens.json')} and api_key in ${join(configDir(), 'config.json')}; the keychain was not read: \`secret-tool lookup\` exited with status 51: secret-tool: the keychain is locked)`,
    )
    expect(message()).not.toContain(token.split('.')[2])
  })

  it('uses the next source when the keychain tool fails', async () => {
    const good = signTestToken({ username: 'alice' })
    const { env } = await place({ plain: good })
    env.STAND_IN_MODE = 'fail'
    env.STAND_IN_TOKEN = 'what-the-tool-printed'
    expect(findToken(undefined, env, home())).toEqual({
      token: good,
      source: sourceName('plain'),
    })
  })

  it('says on Windows that the Credential Manager is not read', async () => {
    const { env } = await place({})
    expect(() =>
      requireToken(server.url, undefined, env, home(), { platform: 'win32' }),
    ).toThrow(
      '; the Windows Credential Manager is not read, so a token `ml-dash login` stored there is not found',
    )
  })
})
