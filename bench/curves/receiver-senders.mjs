// One run of the receiver curve: `ml-dash-logs serve` (its own process,
// local store) takes N records as OTLP/protobuf requests of 512 records,
// sent by C concurrent senders (keep-alive connections) from this process;
// each request is answered only once its records are written. Prints
// { total, delivered }.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer'
import {
  InMemoryLogRecordExporter,
  LoggerProvider,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs'

const [count, senders] = process.argv.slice(2).map(Number)
const PER_REQUEST = 512
const dir = mkdtempSync(join(tmpdir(), 'ml-dash-curve-'))
const bin = fileURLToPath(
  new URL('../../bin/ml-dash-logs.cjs', import.meta.url),
)
const serve = spawn(
  process.execPath,
  [
    // SERVE_NODE_OPTIONS: flags for serve's node, e.g. --cpu-prof to profile it.
    ...(process.env.SERVE_NODE_OPTIONS?.split(' ') ?? []),
    bin,
    'serve',
    '--port',
    '0',
    '--prefix',
    'bench/recv/run',
    '--dash-root',
    join(dir, '.dash'),
  ],
  { stdio: ['ignore', 'ignore', 'pipe'] },
)
let said = ''
while (!/ at (\S+)\/v1\/logs/.test(said)) {
  const [chunk] = await once(serve.stderr, 'data')
  said += chunk
}
const url = new URL(`${/ at (\S+)\/v1\/logs/.exec(said)[1]}/v1/logs`)

// One request's body: 512 records, written by the official serializer.
const memory = new InMemoryLogRecordExporter()
const provider = new LoggerProvider({
  processors: [new SimpleLogRecordProcessor({ exporter: memory })],
})
const logger = provider.getLogger('bench')
for (let i = 0; i < PER_REQUEST; i++)
  logger.emit({
    severityNumber: 9,
    body: 'request handled',
    attributes: { i, route: '/api/items', status: 200, ms: 1.25 },
  })
await provider.forceFlush()
const body = Buffer.from(
  ProtobufLogsSerializer.serializeRequest(memory.getFinishedLogRecords()),
)

const agent = new Agent({ keepAlive: true, maxSockets: senders })
const post = () =>
  new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/x-protobuf' },
      },
      (res) => {
        res.resume()
        res.on('end', () =>
          res.statusCode === 200
            ? resolve()
            : reject(new Error(`answered ${res.statusCode}`)),
        )
      },
    )
    req.on('error', reject)
    req.end(body)
  })
const requests = Math.ceil(count / PER_REQUEST)
let sent = 0
const start = performance.now()
await Promise.all(
  Array.from({ length: senders }, async () => {
    while (sent < requests) {
      sent++
      await post()
    }
  }),
)
const total = performance.now() - start
serve.kill('SIGTERM')
await once(serve, 'exit')
agent.destroy()
const delivered =
  readFileSync(join(dir, '.dash/bench/recv/run/logs/logs.jsonl'), 'utf8').split(
    '\n',
  ).length - 1
rmSync(dir, { recursive: true, force: true })
process.stdout.write(
  `${JSON.stringify({ total, delivered, records: requests * PER_REQUEST })}\n`,
)
