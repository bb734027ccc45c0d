// The exporter under the newest sdk-logs line (3.x, Node >= 22.15), run by
// scripts/test-otel-latest.sh in a scratch project with a Node 22 binary.
// Exits non-zero, saying what differs, when anything is not as expected.
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { context, trace } from '@opentelemetry/api'
import { resourceFromAttributes } from '@opentelemetry/resources'
import {
  BatchLogRecordProcessor,
  LoggerProvider,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs'
import { MlDashLogRecordExporter } from 'ml-dash-logs/otel'

const dashRoot = mkdtempSync(join(tmpdir(), 'ml-dash-otel-latest-'))
try {
  for (const [kind, Processor] of [
    ['batch', BatchLogRecordProcessor],
    ['simple', SimpleLogRecordProcessor],
  ]) {
    const prefix = `alice/otel-latest/${kind}`
    const exporter = new MlDashLogRecordExporter({ prefix, dashRoot })
    const provider = new LoggerProvider({
      resource: resourceFromAttributes({ 'service.name': 'latest' }),
      processors: [new Processor({ exporter })],
    })
    const logger = provider.getLogger('scope', '3.0.0')
    for (const severityNumber of [1, 9, 13, 17, 21])
      logger.emit({ severityNumber, body: `n${severityNumber}` })
    const spanContext = {
      traceId: '0af7651916cd43dd8448eb211c80319c',
      spanId: 'b7ad6b7169203331',
      traceFlags: 1,
    }
    logger.emit({
      body: { structured: true },
      timestamp: [1_700_000_000, 123_456_789],
      attributes: { 'exception.type': 'E' },
      context: trace.setSpanContext(context.active(), spanContext),
    })
    await provider.shutdown()
    const lines = readFileSync(
      join(dashRoot, prefix, 'logs', 'logs.jsonl'),
      'utf8',
    )
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
    assert.deepEqual(
      lines.map((l) => l.level),
      ['debug', 'info', 'warn', 'error', 'fatal', 'info'],
    )
    assert.deepEqual(
      lines.map((l) => l.sequenceNumber),
      [0, 1, 2, 3, 4, 5],
    )
    const last = lines[5]
    assert.equal(last.timestamp, '2023-11-14T22:13:20.123456Z')
    assert.equal(last.message, '{"structured":true}')
    assert.deepEqual(last.metadata.exception, { type: 'E' })
    assert.equal(last.metadata.trace_id, spanContext.traceId)
    assert.deepEqual(last.metadata['otel.resource'], {
      'service.name': 'latest',
    })
    assert.deepEqual(last.metadata['otel.scope'], {
      name: 'scope',
      version: '3.0.0',
    })
    console.log(`sdk-logs latest, ${kind} processor: ok`)
  }
} finally {
  rmSync(dashRoot, { recursive: true, force: true })
}
