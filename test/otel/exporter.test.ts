/** The real OpenTelemetry SDK (sdk-logs) with MlDashLogRecordExporter under both processors. */
import { context, trace, TraceFlags } from '@opentelemetry/api'
import type { AnyValueMap } from '@opentelemetry/api-logs'
import { SeverityNumber } from '@opentelemetry/api-logs'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  BatchLogRecordProcessor,
  LoggerProvider,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs'
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { ExportResult } from '../../src/otel/exporter.js'
import { MlDashLogRecordExporter } from '../../src/otel/exporter.js'
import {
  signTestToken,
  startTestServer,
} from '../../src/testing/ml-dash-server.js'
import { FIXTURES, useTempDir } from '../helpers.js'
import { captureRecords } from '../otel-records.js'

const temp = useTempDir()

const { lines } = temp

function provider(
  prefix: string,
  kind: 'batch' | 'simple',
  exporter = new MlDashLogRecordExporter({ prefix, dashRoot: temp.dir }),
) {
  const processor =
    kind === 'batch'
      ? new BatchLogRecordProcessor({ exporter })
      : new SimpleLogRecordProcessor({ exporter })
  return new LoggerProvider({
    resource: resourceFromAttributes({
      'service.name': 'evaluator',
      'service.version': '1.2.0',
    }),
    processors: [processor],
  })
}

describe.each(['batch', 'simple'] as const)(
  'MlDashLogRecordExporter under the %s processor',
  (kind) => {
    it('maps every severity range and delivers everything on shutdown', async () => {
      const prefix = `alice/otel/${kind}`
      const logs = provider(prefix, kind)
      const logger = logs.getLogger('eval-scope', '0.3.1')
      const numbers = [0, 1, 5, 8, 9, 12, 13, 16, 17, 20, 21, 24]
      for (const severityNumber of numbers)
        logger.emit({ severityNumber, body: `n${severityNumber}` })
      logger.emit({ severityText: 'WARNING', body: 'by text' })
      await logs.shutdown()
      expect(lines(prefix).map((l) => [l.message, l.level])).toEqual([
        ['n0', 'info'],
        ['n1', 'debug'],
        ['n5', 'debug'],
        ['n8', 'debug'],
        ['n9', 'info'],
        ['n12', 'info'],
        ['n13', 'warn'],
        ['n16', 'warn'],
        ['n17', 'error'],
        ['n20', 'error'],
        ['n21', 'fatal'],
        ['n24', 'fatal'],
        ['by text', 'warn'],
      ])
      expect(lines(prefix)[1]?.metadata).toMatchObject({
        source_level: 1,
        'otel.resource': {
          'service.name': 'evaluator',
          'service.version': '1.2.0',
        },
        'otel.scope': { name: 'eval-scope', version: '0.3.1' },
      })
    })
  },
)

describe('MlDashLogRecordExporter mapping', () => {
  it('keeps structured bodies, attributes, exception attributes, trace context and the precise time', async () => {
    const prefix = 'alice/otel/details'
    const logs = provider(prefix, 'simple')
    const logger = logs.getLogger('details')
    const spanContext = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: TraceFlags.SAMPLED,
    }
    logger.emit({
      severityNumber: SeverityNumber.ERROR,
      severityText: 'ERROR',
      body: { event: 'checkpoint', shard: 3 },
      timestamp: [1_700_000_000, 123_456_789],
      attributes: {
        'http.route': '/score',
        'exception.type': 'RangeError',
        'exception.message': 'empty',
        'exception.stacktrace': 'RangeError: empty',
      },
      context: trace.setSpanContext(context.active(), spanContext),
    })
    await logs.shutdown()
    const [line] = lines(prefix)
    expect(line).toMatchObject({
      timestamp: '2023-11-14T22:13:20.123456Z',
      level: 'error',
      message: '{"event":"checkpoint","shard":3}',
      metadata: {
        body: { event: 'checkpoint', shard: 3 },
        'http.route': '/score',
        exception: {
          type: 'RangeError',
          message: 'empty',
          stacktrace: 'RangeError: empty',
        },
        trace_id: '0af7651916cd43dd8448eb211c80319c',
        span_id: 'b7ad6b7169203331',
        trace_flags: '01',
        source_level: 'ERROR',
      },
    })
  })

  it('routes by a record or resource ml_dash.prefix attribute', async () => {
    const exporter = new MlDashLogRecordExporter({
      prefix: 'alice/otel/main',
      dashRoot: temp.dir,
    })
    const logs = new LoggerProvider({
      resource: resourceFromAttributes({
        'ml_dash.prefix': 'alice/otel/from-resource',
      }),
      processors: [new SimpleLogRecordProcessor({ exporter })],
    })
    const logger = logs.getLogger('routing')
    logger.emit({ body: 'resource' })
    logger.emit({
      body: 'record',
      attributes: { 'ml_dash.prefix': 'alice/otel/from-record' },
    })
    await logs.shutdown()
    expect(lines('alice/otel/from-resource').map((l) => l.message)).toEqual([
      'resource',
    ])
    expect(lines('alice/otel/from-record').map((l) => l.message)).toEqual([
      'record',
    ])
  })

  it('routes only by an own ml_dash.prefix, never one a __proto__ attribute put on the prototype', async () => {
    const prefix = 'alice/otel/own-prefix'
    const logs = provider(prefix, 'simple')
    // sdk-logs assigns attributes with `=`: this one becomes the prototype.
    const attributes = JSON.parse(
      '{"__proto__": {"ml_dash.prefix": "x/y/z"}, "a": 1}',
    ) as AnyValueMap
    logs.getLogger('proto').emit({ body: 'kept here', attributes })
    await logs.shutdown()
    expect(lines(prefix).map((l) => l.message)).toEqual(['kept here'])
    expect(existsSync(join(temp.dir, 'x'))).toBe(false)
  })

  it('answers once the records are in the outbox, not after the server: a batch goes while the server sits on the last', async () => {
    const server = await startTestServer()
    try {
      const failures: string[] = []
      const exporter = new MlDashLogRecordExporter({
        prefix: 'alice/otel/held',
        dashUrl: server.url,
        token: signTestToken({ username: 'alice' }),
        dashRoot: false,
        // The held request gives up after this, and its retry is refused.
        requestTimeoutMs: 1000,
        retryBaseDelayMs: 10,
        onError: (error) => failures.push(error.message),
      })
      const exportOne = (body: string) =>
        new Promise<ExportResult>((resolve) =>
          exporter.export([{ body, hrTime: [1_700_000_000, 0] }], resolve),
        )
      // The experiment is created, then the server sits on every log POST.
      expect((await exportOne('first')).code).toBe(0)
      server.inject({ kind: 'hold', count: 1, match: /logs$/ })
      const results = [await exportOne('a'), await exportOne('b')]
      expect(results.map((r) => r.code)).toEqual([0, 0])
      expect(
        exporter.stats.experiments['alice/otel/held']?.remote,
      ).toMatchObject({ accepted: 3 })
      // A refusal after the answer is reported as delivery failures are.
      server.inject({ kind: 'status', status: 400, count: 10, match: /logs$/ })
      expect((await exportOne('refused')).code).toBe(0)
      await exporter.shutdown()
      expect(failures.some((m) => m.includes('answered 400'))).toBe(true)
    } finally {
      await server.close()
    }
  })

  it('reports FAILED, not SUCCESS, while a full disk keeps the records from being written (a real tmpfs filled up)', () => {
    // Mounting needs root, as the suite runs in CI and here.
    expect(process.getuid?.()).toBe(0)
    const disk = join(temp.dir, 'small-disk')
    mkdirSync(disk)
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=128k', 'tmpfs', disk])
    try {
      const child = execFileSync(
        process.execPath,
        [join(FIXTURES, 'otel-full-disk.mjs'), join(disk, '.dash')],
        { encoding: 'utf8' },
      )
      const results = JSON.parse(child) as number[]
      // Some calls were written before the disk filled; the rest failed.
      expect(results[0]).toBe(0)
      expect(results.at(-1)).toBe(1)
      expect(results.slice(results.indexOf(1))).not.toContain(0)
    } finally {
      execFileSync('umount', [disk])
    }
  })

  it('reports FAILED through the callback, never a throw, when the records cannot be kept', async () => {
    const notADirectory = join(temp.dir, 'a-file')
    writeFileSync(notADirectory, '')
    const exporter = new MlDashLogRecordExporter({
      prefix: 'alice/otel/refused',
      dashRoot: notADirectory,
      silenceErrors: true,
    })
    const result = await new Promise<ExportResult>((resolve) =>
      exporter.export([{ body: 'x', hrTime: [1_700_000_000, 0] }], resolve),
    )
    expect(result.code).toBe(1)
    expect(result.error?.message).toContain(
      '1 of 1 log records were not delivered',
    )
    await exporter.shutdown()
    const after = await new Promise<ExportResult>((resolve) =>
      exporter.export([{ body: 'z' }], resolve),
    )
    expect(after.code).toBe(1)
  })
})

describe('MlDashLogRecordExporter with a record that throws', () => {
  it.each(['body', 'attributes'])(
    'stores the records around one whose %s getter throws, and that one marked',
    async (field) => {
      const prefix = `alice/otel/throws-${field}`
      const [first, bad, last] = await captureRecords((provider) => {
        const logger = provider.getLogger('throwing')
        logger.emit({ severityNumber: SeverityNumber.INFO, body: 'first' })
        logger.emit({
          severityNumber: SeverityNumber.ERROR,
          body: 'bad',
          attributes: { shard: 3 },
        })
        logger.emit({ severityNumber: SeverityNumber.INFO, body: 'last' })
      })
      Object.defineProperty(bad, field, {
        get() {
          throw new Error(`${field} exploded`)
        },
      })
      const exporter = new MlDashLogRecordExporter({
        prefix,
        dashRoot: temp.dir,
      })
      const result = await new Promise<ExportResult>((resolve) =>
        exporter.export([first!, bad!, last!], resolve),
      )
      await exporter.shutdown()
      expect(result).toEqual({ code: 0 })
      const stored = lines(prefix)
      expect(stored.map((l) => [l.level, l.message])).toEqual([
        ['info', 'first'],
        [
          'error',
          field === 'body' ? '[body threw: Error: body exploded]' : 'bad',
        ],
        ['info', 'last'],
      ])
      expect(stored[1]?.metadata).toMatchObject({
        'ml_dash.unmapped': { [field]: `Error: ${field} exploded` },
        'otel.scope': { name: 'throwing' },
        source_level: SeverityNumber.ERROR,
      })
      expect(stored[1]?.metadata?.shard).toBe(
        field === 'attributes' ? undefined : 3,
      )
    },
  )

  it('stores a record whose attribute getter throws with everything else it holds, the attribute marked', async () => {
    const prefix = 'alice/otel/throws-deep'
    const [first, bad, last] = await captureRecords((provider) => {
      const logger = provider.getLogger('throwing')
      for (const body of ['first', 'bad', 'last'])
        logger.emit({ severityNumber: SeverityNumber.WARN, body })
    })
    // Reading the attributes works; reading one of them throws.
    Object.assign(bad!, {
      attributes: Object.defineProperty({}, 'shard', {
        enumerable: true,
        get() {
          throw new Error('shard exploded')
        },
      }),
    })
    const exporter = new MlDashLogRecordExporter({ prefix, dashRoot: temp.dir })
    const result = await new Promise<ExportResult>((resolve) =>
      exporter.export([first!, bad!, last!], resolve),
    )
    await exporter.shutdown()
    expect(result).toEqual({ code: 0 })
    expect(lines(prefix)).toMatchObject([
      { level: 'warn', message: 'first' },
      {
        level: 'warn',
        message: 'bad',
        metadata: {
          shard: '[Throws: Error: shard exploded]',
          'ml_dash.unmapped': { record: 'Error: shard exploded' },
          'otel.scope': { name: 'throwing' },
        },
      },
      { level: 'warn', message: 'last' },
    ])
  })

  it('stores a record with a severityText of the wrong type, or a body whose traps throw, with what it holds', async () => {
    const prefix = 'alice/otel/odd-fields'
    const records = await captureRecords((provider) => {
      const logger = provider.getLogger('odd')
      for (const body of ['null text', 'number text', 'proxy body'])
        logger.emit({
          severityNumber: SeverityNumber.ERROR,
          body,
          attributes: { order: 42 },
        })
    })
    // As a processor may hand them over (the SDK passes severityText
    // through as given); defined, since an emitted record's setters ignore writes.
    const set = (record: object, field: string, value: unknown) =>
      Object.defineProperty(record, field, { value })
    set(records[0]!, 'severityText', null)
    set(records[1]!, 'severityText', 40)
    set(
      records[2]!,
      'body',
      new Proxy(
        {},
        {
          getPrototypeOf() {
            throw new Error('no prototype')
          },
        },
      ),
    )
    const exporter = new MlDashLogRecordExporter({ prefix, dashRoot: temp.dir })
    const result = await new Promise<ExportResult>((resolve) =>
      exporter.export(records, resolve),
    )
    await exporter.shutdown()
    expect(result).toEqual({ code: 0 })
    const stored = lines(prefix)
    expect(stored.map((l) => [l.level, l.message, l.metadata?.order])).toEqual([
      ['error', 'null text', 42],
      ['error', 'number text', 42],
      ['error', '[body threw: Error: no prototype]', 42],
    ])
    expect(stored[2]?.metadata).toMatchObject({
      'ml_dash.unmapped': { body: 'Error: no prototype' },
    })
  })

  it('does not blame the body for a field that cannot be mapped without it either', async () => {
    const prefix = 'alice/otel/odd-time'
    const exporter = new MlDashLogRecordExporter({ prefix, dashRoot: temp.dir })
    const record = { hrTime: null, body: 'hello', severityNumber: 9 }
    await new Promise<ExportResult>((resolve) =>
      exporter.export([record as never], resolve),
    )
    await exporter.shutdown()
    const [line] = lines(prefix)
    expect(line!.metadata?.['ml_dash.unmapped']).not.toHaveProperty('body')
    expect(line!.metadata?.['ml_dash.unmapped']).toHaveProperty('record')
  })
})
