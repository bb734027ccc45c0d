/**
 * Every error code the README documents, provoked for real (a real test
 * server over HTTP, a real store on disk, the real OpenTelemetry exporter
 * and winston transport), each asserted by its code, never its text; and
 * no provoked error without a documented code.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  afterAll,
  afterEach,
  beforeAll,
  describe,
  expect,
  it,
  vi,
} from 'vitest'
import winston from 'winston'
import type { MlDashErrorCode } from '../../src/core/error-codes.js'
import { ERROR_CODES, isMlDashError } from '../../src/core/error-codes.js'
import { redirectFailureLines } from '../../src/delivery/failure-log.js'
import type { ExperimentOptions } from '../../src/experiment.js'
import { Experiment } from '../../src/experiment.js'
import { MlDashLogRecordExporter } from '../../src/otel/exporter.js'
import type { OtelLogRecord } from '../../src/otel/map.js'
import type { TestServer } from '../../src/testing/ml-dash-server.js'
import {
  signTestToken,
  startTestServer,
} from '../../src/testing/ml-dash-server.js'
import { MlDashTransport } from '../../src/winston/transport.js'
import { useTempDir } from '../helpers.js'

const temp = useTempDir()
let server: TestServer
let token: string
let restoreLines: () => void
beforeAll(async () => {
  server = await startTestServer()
  token = signTestToken({ username: 'alice' })
  restoreLines = redirectFailureLines(() => {})
})
afterAll(async () => {
  restoreLines()
  await server.close()
})
afterEach(() => {
  server.clearFaults()
  vi.unstubAllEnvs()
})

/** The codes each test provoked, to check every documented one was. */
const provoked = new Set<string>()

function expectCode(error: unknown, code: MlDashErrorCode): void {
  expect(isMlDashError(error), String(error)).toBe(true)
  expect((error as { code: string }).code).toBe(code)
  provoked.add(code)
}

async function thrown(action: () => unknown): Promise<unknown> {
  try {
    await action()
  } catch (error) {
    return error
  }
  throw new Error('expected a throw')
}

/** An Experiment whose onError keeps what it is given. */
function withErrors(options: ExperimentOptions): {
  exp: Experiment
  errors: { error: Error; count: number }[]
} {
  const errors: { error: Error; count: number }[] = []
  const exp = new Experiment({
    onError: (error, count) => errors.push({ error, count }),
    ...options,
  })
  return { exp, errors }
}

const remote = (prefix: string, options: ExperimentOptions = {}) =>
  withErrors({
    prefix,
    dashUrl: server.url,
    token,
    dashRoot: false,
    maxRetries: 0,
    ...options,
  })

describe('thrown to the caller', () => {
  it('ML_DASH_CONFIG: an invalid option, variable or config.json', async () => {
    expectCode(
      await thrown(() => new Experiment({ prefix: 'a/b/c', batchSize: 0 })),
      'ML_DASH_CONFIG',
    )
    vi.stubEnv('ML_DASH_MAX_RETRIES', 'many')
    expectCode(
      await thrown(() => new Experiment({ prefix: 'a/b/c' })),
      'ML_DASH_CONFIG',
    )
    vi.unstubAllEnvs()
    const dir = join(temp.dir, 'config')
    mkdirSync(dir)
    writeFileSync(join(dir, 'config.json'), '{ not json')
    vi.stubEnv('ML_DASH_CONFIG_DIR', dir)
    vi.stubEnv('ML_DASH_API_URL', '')
    expectCode(
      await thrown(
        () => new Experiment({ prefix: 'a/b/c', dashUrl: true, token }),
      ),
      'ML_DASH_CONFIG',
    )
  })

  it('ML_DASH_AUTH: no token anywhere', async () => {
    vi.stubEnv('ML_DASH_CONFIG_DIR', temp.dir)
    vi.stubEnv('ML_DASH_TOKEN', '')
    vi.stubEnv('ML_DASH_NO_KEYCHAIN', '1')
    const error = await thrown(
      () => new Experiment({ prefix: 'alice/p/run', dashUrl: server.url }),
    )
    expectCode(error, 'ML_DASH_AUTH')
    // Where it looked, without a keychain it was told not to read.
    expect((error as Error).message).not.toContain('keychain')
  })

  it('ML_DASH_STORE_IO: a store root that is a file', async () => {
    const file = join(temp.dir, 'not-a-folder')
    writeFileSync(file, '')
    const error = await thrown(() =>
      new Experiment({ prefix: 'alice/p/run', dashRoot: file }).start(),
    )
    expectCode(error, 'ML_DASH_STORE_IO')
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toMatch(
      /^(ENOTDIR|EEXIST)$/,
    )
  })

  it('ML_DASH_NESTED_EXPERIMENT: an experiment inside another one', async () => {
    await new Experiment({ prefix: 'alice/p/outer', dashRoot: temp.dir })
      .start()
      .then((exp) => exp.close())
    expectCode(
      await thrown(() =>
        new Experiment({
          prefix: 'alice/p/outer/inner',
          dashRoot: temp.dir,
        }).start(),
      ),
      'ML_DASH_NESTED_EXPERIMENT',
    )
  })

  it('ML_DASH_NOT_STARTED, ML_DASH_CLOSED, ML_DASH_INVALID_LEVEL: programming errors', async () => {
    const exp = new Experiment({ prefix: 'alice/p/states', dashRoot: temp.dir })
    expectCode(await thrown(() => exp.log('early')), 'ML_DASH_NOT_STARTED')
    await exp.start()
    expectCode(
      await thrown(() => exp.log('x', { level: 'loud' })),
      'ML_DASH_INVALID_LEVEL',
    )
    await exp.close()
    expectCode(await thrown(() => exp.log('late')), 'ML_DASH_CLOSED')
  })
})

describe('reported to onError', () => {
  it('ML_DASH_AUTH: the server refuses the token (401), thrown by start()', async () => {
    const { exp } = remote('alice/p/refused', {
      token: signTestToken({ username: 'alice' }, 'another-secret'),
    })
    const error = await thrown(() => exp.start())
    expectCode(error, 'ML_DASH_AUTH')
    expect((error as { status?: number }).status).toBe(401)
  })

  it('ML_DASH_NETWORK: nothing listens at the URL, the cause kept', async () => {
    const closed = await startTestServer()
    const url = closed.url
    await closed.close()
    const { exp, errors } = remote('alice/p/unreachable', { dashUrl: url })
    // A connection refused is worth retrying: start() does not fail on it.
    await exp.start()
    exp.log('nowhere')
    await exp.close()
    const error = errors[0]?.error
    expectCode(error, 'ML_DASH_NETWORK')
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe(
      'ECONNREFUSED',
    )
  })

  it('ML_DASH_SERVER: the server answers 400 to the logs', async () => {
    const { exp, errors } = remote('alice/p/bad-request')
    await exp.start()
    server.inject({ kind: 'status', status: 400, count: 1, match: /logs$/ })
    exp.log('refused')
    await exp.close()
    const error = errors[0]?.error
    expectCode(error, 'ML_DASH_SERVER')
    expect((error as { status?: number }).status).toBe(400)
    expect(errors[0]?.count).toBe(1)
  })

  it('ML_DASH_DEADLINE: a silent server past the close deadline, with no outbox to keep the entries', async () => {
    // The outbox cannot be made under a file: the entries wait in memory.
    const file = join(temp.dir, 'a-file')
    writeFileSync(file, '')
    const { exp, errors } = remote('alice/p/silent', {
      spoolDir: join(file, 'outbox'),
    })
    await exp.start()
    server.inject({ kind: 'hold', count: 10, match: /logs$/ })
    exp.log('held')
    await exp.close('COMPLETED', 300)
    expectCode(errors.find((e) => e.count === 1)?.error, 'ML_DASH_DEADLINE')
  })

  it('ML_DASH_QUEUE_FULL: entries past maxQueueSize, reported once with their count', async () => {
    const { exp, errors } = withErrors({
      prefix: 'alice/p/full',
      dashRoot: temp.dir,
      maxQueueSize: 1,
    })
    await exp.start()
    for (let i = 0; i < 5; i++) exp.log(`line ${i}`)
    expect(errors).toEqual([])
    await exp.close()
    expect(errors.map((e) => e.count)).toEqual([4])
    expectCode(errors[0]?.error, 'ML_DASH_QUEUE_FULL')
    expect(exp.stats.local?.dropped).toBe(4)
  })

  it('ML_DASH_UNROUTED: winston with routingOnly and a record without a prefix', async () => {
    const errors: Error[] = []
    const transport = new MlDashTransport({
      routingOnly: true,
      dashRoot: temp.dir,
      onError: (error) => errors.push(error),
    })
    transport.on('warn', () => {})
    const logger = winston.createLogger({ transports: [transport] })
    logger.info('nowhere to go')
    // winston hands the record to its transports on a later tick.
    await new Promise((resolve) => setImmediate(resolve))
    await transport.close()
    expectCode(errors[0], 'ML_DASH_UNROUTED')
  })

  it('ML_DASH_CLOSED and ML_DASH_UNDELIVERED: the OpenTelemetry export results', async () => {
    // Records neither kept nor delivered: a local store that cannot be made.
    const file = join(temp.dir, 'a-file-for-otel')
    writeFileSync(file, '')
    const exporter = new MlDashLogRecordExporter({
      prefix: 'alice/p/otel',
      dashRoot: file,
      silenceErrors: true,
    })
    const record: OtelLogRecord = {
      hrTime: [1_700_000_000, 0],
      body: 'lost',
      attributes: {},
      resource: { attributes: {} },
      instrumentationScope: { name: 'test' },
    }
    const failed = await new Promise<{ error?: Error }>((resolve) =>
      exporter.export([record], resolve),
    )
    expectCode(failed.error, 'ML_DASH_UNDELIVERED')
    await exporter.shutdown()
    const after = await new Promise<{ error?: Error }>((resolve) =>
      exporter.export([record], resolve),
    )
    expectCode(after.error, 'ML_DASH_CLOSED')
  })
})

it('every documented code was provoked above', () => {
  expect([...provoked].sort()).toEqual(Object.keys(ERROR_CODES).sort())
})
