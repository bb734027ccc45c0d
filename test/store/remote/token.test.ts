import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  decryptFernet,
  findToken,
  jwtProblem,
  requireToken,
} from '../../../src/store/remote/token.js'
import {
  signTestToken,
  startTestServer,
} from '../../../src/testing/ml-dash-server.js'
import { FIXTURES, run, useTempDir } from '../../helpers.js'

const temp = useTempDir()

describe('findToken', () => {
  it('takes the option, then ML_DASH_TOKEN', () => {
    expect(findToken('opt', { ML_DASH_TOKEN: 'env' }, temp.dir)).toEqual({
      token: 'opt',
      source: 'the token option',
    })
    expect(findToken(undefined, { ML_DASH_TOKEN: 'env' }, temp.dir)).toEqual({
      token: 'env',
      source: 'ML_DASH_TOKEN',
    })
    expect(findToken(undefined, {}, temp.dir)).toBeUndefined()
  })

  it('reads ~/.dash/tokens.encrypted written by python3 in the standard Fernet format', async () => {
    const token = signTestToken({ username: 'alice' })
    const result = await run('python3', [
      join(FIXTURES, 'write-fernet-token.py'),
      temp.dir,
      token,
    ])
    expect(result.stdout).toBe('written\n')
    expect(findToken(undefined, {}, temp.dir)).toEqual({
      token,
      source: join(temp.dir, '.dash', 'tokens.encrypted'),
    })
  })

  it('prefers the encrypted file over tokens.json, and reads tokens.json alone', () => {
    mkdirSync(join(temp.dir, '.dash'))
    writeFileSync(
      join(temp.dir, '.dash', 'tokens.json'),
      JSON.stringify({ 'ml-dash-token': 'plain' }),
    )
    expect(findToken(undefined, {}, temp.dir)?.token).toBe('plain')
  })

  it('names the file, never the token, when a file is unusable', () => {
    mkdirSync(join(temp.dir, '.dash'))
    writeFileSync(
      join(temp.dir, '.dash', 'tokens.encrypted'),
      'gAAAAA-not-fernet',
    )
    expect(() => findToken(undefined, {}, temp.dir)).toThrow(
      `${join(temp.dir, '.dash', 'encryption.key')} does not`,
    )
    writeFileSync(
      join(temp.dir, '.dash', 'encryption.key'),
      Buffer.alloc(32).toString('base64url'),
    )
    expect(() => findToken(undefined, {}, temp.dir)).toThrow(
      /cannot decrypt .*tokens\.encrypted: not a Fernet token; run `ml-dash login`/,
    )
  })
})

describe('decryptFernet', () => {
  it('refuses a token signed with another key', async () => {
    await run('python3', [
      join(FIXTURES, 'write-fernet-token.py'),
      temp.dir,
      'secret-token',
    ])
    const { readFileSync } = await import('node:fs')
    const encrypted = readFileSync(
      join(temp.dir, '.dash', 'tokens.encrypted'),
      'utf8',
    )
    expect(() =>
      decryptFernet(encrypted, Buffer.alloc(32, 1).toString('base64url')),
    ).toThrow('does not match the key')
  })
})

describe('jwtProblem and requireToken', () => {
  it('reports an expired JWT and passes opaque tokens', () => {
    const expired = signTestToken({ username: 'alice', exp: 1_000_000 })
    expect(jwtProblem(expired)).toBe(
      'the token expired at 1970-01-12T13:46:40.000Z',
    )
    expect(
      jwtProblem(
        signTestToken({ username: 'alice', exp: Date.now() / 1000 + 60 }),
      ),
    ).toBeUndefined()
    expect(jwtProblem('opaque-token')).toBeUndefined()
    expect(() => requireToken('http://x', expired)).toThrow(
      /expired .* \(from the token option\): run `ml-dash login`/,
    )
    expect(requireToken('http://x', 'opaque').token).toBe('opaque')
  })

  it('names ML_DASH_TOKEN as the source of a token it finds there', () => {
    const expired = signTestToken({ username: 'alice', exp: 1_000_000 })
    expect(() =>
      requireToken('http://x', undefined, { ML_DASH_TOKEN: expired }, temp.dir),
    ).toThrow('(from ML_DASH_TOKEN)')
  })

  it.each([
    ['a newline', 'abc\ndef'],
    ['a space', 'abc def'],
    ['a control character', 'abc\u0000'],
    ['a non-ASCII letter', 'abcé'],
  ])(
    'refuses a token with %s at once, naming its source and not showing it',
    (_, token) => {
      let error: unknown
      try {
        requireToken('http://x', undefined, { ML_DASH_TOKEN: token }, temp.dir)
      } catch (thrown) {
        error = thrown
      }
      expect((error as { code?: string }).code).toBe('ML_DASH_AUTH')
      expect((error as Error).message).toContain('from ML_DASH_TOKEN')
      expect((error as Error).message).not.toContain('abc')
    },
  )

  it('names ML_DASH_TOKEN when the server refuses the token found there', async () => {
    const server = await startTestServer()
    try {
      const result = await run(
        process.execPath,
        [join(FIXTURES, 'remote-env-token.mjs'), server.url],
        {
          env: {
            ...process.env,
            HOME: temp.dir,
            ML_DASH_TOKEN: signTestToken({ username: 'alice' }, 'wrong'),
          },
        },
      )
      expect(result.stdout).toContain(
        'refused the token from ML_DASH_TOKEN (401)',
      )
    } finally {
      await server.close()
    }
  })

  it('never shows the password of the server URL when there is no token', () => {
    expect(() =>
      requireToken('http://alice:s3cret@x:8', undefined, {}, temp.dir),
    ).toThrow(
      /^ml-dash-logs: no token for the ml-dash server at http:\/\/x:8: /,
    )
  })
})
