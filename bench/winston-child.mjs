// One winston benchmark run in its own process: N records through one
// transport, then logger.end() and wait for 'finish' (winston waits for the
// transport). Prints JSON: wall time and peak resident memory.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import winston from 'winston'
import { MlDashTransport } from 'ml-dash-logs/winston'

const [variant, count] = process.argv.slice(2)
const N = Number(count)
const dir = mkdtempSync(join(tmpdir(), 'ml-dash-bench-'))
const transport =
  variant === 'winston/file'
    ? new winston.transports.File({ filename: join(dir, 'app.log') })
    : new MlDashTransport({
        dashRoot: join(dir, '.dash'),
        prefix: 'bench/winston/run',
      })
const logger = winston.createLogger({ transports: [transport] })

const start = performance.now()
for (let i = 0; i < N; i += 1000) {
  for (let j = i; j < i + 1000; j++)
    logger.info('request handled', {
      i: j,
      route: '/api/items',
      status: 200,
      ms: 1.25,
    })
  await new Promise((resolve) => setImmediate(resolve))
}
await new Promise((resolve) => {
  logger.once('finish', resolve)
  logger.end()
})
const total = performance.now() - start
rmSync(dir, { recursive: true, force: true })
process.stdout.write(
  JSON.stringify({
    variant,
    total,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  }) + '\n',
)
