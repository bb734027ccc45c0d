/**
 * The official clients' config.json (src/store/remote/client-config.ts):
 * its folder, and the server `dashUrl: true` means.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  configDir,
  readClientConfig,
  resolveServerUrl,
} from '../../../src/store/remote/client-config.js'
import type { TestServer } from '../../../src/testing/ml-dash-server.js'
import {
  signTestToken,
  startTestServer,
} from '../../../src/testing/ml-dash-server.js'
import { useTempDir } from '../../helpers.js'
import { openAndClose } from './opens-on-server.js'

const temp = useTempDir()
let server: TestServer
beforeEach(async () => (server = await startTestServer()))
afterEach(() => server.close())

/** Writes `<temp>/cfg/config.json` and returns the folder. */
function writeConfig(text: string): string {
  const dir = join(temp.dir, 'cfg')
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'config.json'), text)
  return dir
}

describe('configDir', () => {
  it('is ML_DASH_CONFIG_DIR (made absolute) when set, else ~/.dash', () => {
    expect(configDir({ ML_DASH_CONFIG_DIR: '/etc/dash' }, '/home/a')).toBe(
      '/etc/dash',
    )
    expect(configDir({ ML_DASH_CONFIG_DIR: 'rel' }, '/home/a')).toBe(
      resolve('rel'),
    )
    expect(configDir({ ML_DASH_CONFIG_DIR: '' }, '/home/a')).toBe(
      '/home/a/.dash',
    )
    expect(configDir({}, '/home/a')).toBe('/home/a/.dash')
  })
})

describe('resolveServerUrl', () => {
  it('takes ML_DASH_API_URL, then remote_url in config.json, then the public server', () => {
    const dir = writeConfig(JSON.stringify({ remote_url: server.url }))
    const file = join(dir, 'config.json')
    expect(resolveServerUrl({ ML_DASH_API_URL: 'http://env:1' }, dir)).toEqual({
      url: 'http://env:1',
      source: 'ML_DASH_API_URL',
    })
    expect(resolveServerUrl({}, dir)).toEqual({
      url: server.url,
      source: `remote_url in ${file}`,
    })
    writeConfig(JSON.stringify({ remote_url: '' }))
    expect(resolveServerUrl({}, dir)).toEqual({
      url: 'https://api.dash.ml',
      source: 'the default (https://api.dash.ml)',
    })
    expect(resolveServerUrl({}, join(temp.dir, 'none'))).toEqual({
      url: 'https://api.dash.ml',
      source: 'the default (https://api.dash.ml)',
    })
  })

  it('takes a config.json that is a link leading nowhere as an error naming it, not as no config', () => {
    const dir = join(temp.dir, 'dangling')
    mkdirSync(dir, { recursive: true })
    symlinkSync(join(temp.dir, 'nowhere.json'), join(dir, 'config.json'))
    expect(() => resolveServerUrl({}, dir)).toThrow(
      `cannot read ${join(dir, 'config.json')}`,
    )
  })

  it('finds config.json in ML_DASH_CONFIG_DIR by default, and the URL it names is reached', async () => {
    const dir = writeConfig(JSON.stringify({ remote_url: server.url }))
    const { url } = resolveServerUrl({ ML_DASH_CONFIG_DIR: dir })
    expect(url).toBe(server.url)
    expect(
      await openAndClose({
        url,
        token: signTestToken({ username: 'alice' }),
        tokenSource: 'the token option',
        prefix: 'alice/config/run',
      }),
    ).toEqual({ status: 'success' })
    expect(server.experiment('alice/config/run')).toBeDefined()
  })

  it('names config.json when it is not JSON, not an object, or remote_url is not a string', () => {
    const file = join(temp.dir, 'cfg', 'config.json')
    for (const [text, message] of [
      ['{"remote_url": ', `ml-dash-logs: ${file} is not JSON`],
      ['[1]', `ml-dash-logs: ${file} is not a JSON object`],
      [
        '{"remote_url": 8}',
        `ml-dash-logs: remote_url in ${file} must be a string (got number)`,
      ],
    ]) {
      const dir = writeConfig(text!)
      expect(() => resolveServerUrl({}, dir)).toThrow(message)
    }
    mkdirSync(join(temp.dir, 'cfg', 'sub', 'config.json'), { recursive: true })
    expect(() => readClientConfig(join(temp.dir, 'cfg', 'sub'))).toThrow(
      `ml-dash-logs: cannot read ${join(temp.dir, 'cfg', 'sub', 'config.json')}: EISDIR`,
    )
  })

  it('does not read config.json when ML_DASH_API_URL is set', () => {
    const dir = writeConfig('not json')
    expect(resolveServerUrl({ ML_DASH_API_URL: server.url }, dir).url).toBe(
      server.url,
    )
  })
})

describe('readClientConfig', () => {
  it('gives nothing for a missing file, and both keys otherwise', () => {
    expect(readClientConfig(join(temp.dir, 'none'))).toBeUndefined()
    const dir = writeConfig(
      JSON.stringify({ remote_url: 'http://x', api_key: 'k', other: 1 }),
    )
    expect(readClientConfig(dir)).toEqual({
      file: join(dir, 'config.json'),
      remoteUrl: 'http://x',
      apiKey: 'k',
    })
  })
})
