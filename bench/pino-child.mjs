// One benchmark run in its own process: pino logs N records through one
// transport, then ends it and waits until the worker has closed (so every
// record is written). Prints JSON: total wall time and the time spent in
// logging calls on the main thread.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pino from 'pino'

const [variant, count] = process.argv.slice(2)
const N = Number(count)
const dir = mkdtempSync(join(tmpdir(), 'ml-dash-bench-'))
const reference = fileURLToPath(
  new URL('./pino-reference-transport.cjs', import.meta.url),
)
const targets = {
  'pino/file': {
    target: 'pino/file',
    options: { destination: join(dir, 'app.log') },
  },
  'ml-dash-logs/pino': {
    target: 'ml-dash-logs/pino',
    options: { dashRoot: join(dir, '.dash'), prefix: 'bench/pino/run' },
  },
  // References: pino-abstract-transport alone, storing nothing.
  'abstract-transport (JSON.parse, no store)': { target: reference },
  'abstract-transport (lines, no store)': {
    target: reference,
    options: { lines: true },
  },
}
const target = targets[variant]
const transport = pino.transport(target)
await new Promise((resolve) => transport.once('ready', resolve))
const logger = pino(transport).child({ service: 'loader' })

const start = performance.now()
let inCalls = 0
for (let i = 0; i < N; i += 1000) {
  const t = performance.now()
  for (let j = i; j < i + 1000; j++)
    logger.info(
      { i: j, route: '/api/items', status: 200, ms: 1.25 },
      'request handled',
    )
  inCalls += performance.now() - t
  // Let the worker drain, as a real service's event loop would.
  await new Promise((resolve) => setImmediate(resolve))
}
await new Promise((resolve) => {
  // pino unrefs the worker once ready; hold the loop open until it closes (as pino's autoEnd does).
  transport.ref()
  transport.once('close', resolve)
  transport.end()
})
const total = performance.now() - start
// What was written, counted after the clock stopped (references store nothing).
const written = [
  join(dir, 'app.log'),
  join(dir, '.dash/bench/pino/run/logs/logs.jsonl'),
]
  .filter((file) => existsSync(file))
  .map((file) => readFileSync(file, 'utf8').split('\n').length - 1)
rmSync(dir, { recursive: true, force: true })
const result = { variant, total, inCalls }
if (written.length > 0) result.delivered = written[0]
process.stdout.write(JSON.stringify(result) + '\n')
