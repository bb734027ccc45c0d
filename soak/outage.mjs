// `npm run soak` (second part): an app logging SOAK_OUTAGE_RATE records a
// second (50 000) through the pino transport while the ml-dash server is
// down for SOAK_OUTAGE_MS (60 000); the app's memory is sampled from /proc
// the whole time. Checks that its RSS stays within OUTAGE_RSS_LIMIT_MB (50)
// of where it was when the outage began, and that every record arrives,
// once and in order, after the server recovers. Before the outbox (issue
// 14), the same app held the backlog in memory: 383 MB for a million records.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startTestServer } from 'ml-dash-logs/testing'
import { startApp } from './start-app.mjs'

const OUTAGE_MS = Number(process.env.SOAK_OUTAGE_MS ?? 60_000)
const RATE = Number(process.env.SOAK_OUTAGE_RATE ?? 50_000)
const LIMIT_MB = Number(process.env.OUTAGE_RSS_LIMIT_MB ?? 50)
const BEFORE_MS = 3000
const N = Math.round((RATE * (BEFORE_MS + OUTAGE_MS)) / 1000)
const prefix = 'alice/soak/outage'
const cache = mkdtempSync(join(tmpdir(), 'ml-dash-logs-soak-'))

const server = await startTestServer()
const app = startApp(server, prefix, N, RATE, {
  XDG_CACHE_HOME: cache,
  SOAK_UNLIMITED_RETRIES: '1',
})
const rssMb = () => {
  try {
    const status = readFileSync(`/proc/${app.pid}/status`, 'utf8')
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024
  } catch {
    return 0
  }
}
let atOutage = 0
let peakInOutage = 0
let sampling = true
const sampler = (async () => {
  while (sampling) {
    await new Promise((resolve) => setTimeout(resolve, 200))
    if (atOutage > 0) peakInOutage = Math.max(peakInOutage, rssMb())
  }
})()
await new Promise((resolve) => setTimeout(resolve, BEFORE_MS))
atOutage = rssMb()
console.log(
  `outage soak: server down for ${OUTAGE_MS} ms, app RSS ${Math.round(atOutage)} MB`,
)
await server.down(OUTAGE_MS)
const recoveredAt = rssMb()
const { code, report } = await app.finished
sampling = false
await sampler
const logs = server.experiment(prefix)?.logs ?? []
await server.close()
rmSync(cache, { recursive: true, force: true })

const problems = []
if (code !== 0) problems.push(`the app exited with ${code}`)
if (logs.length !== N)
  problems.push(`the server holds ${logs.length} records, not ${N}`)
for (let i = 0; i < logs.length; i++)
  if (logs[i].message !== `record ${i}`) {
    problems.push(`record ${i} is "${logs[i].message}" (order or duplicates)`)
    break
  }
const growth = peakInOutage - atOutage
if (growth > LIMIT_MB)
  problems.push(
    `RSS grew ${Math.round(growth)} MB in the outage (limit ${LIMIT_MB} MB)`,
  )
console.log(
  `outage soak: ${N} records at ${RATE}/s, ${OUTAGE_MS / 1000} s down; app RSS ${Math.round(atOutage)} MB at the outage, peak ${Math.round(peakInOutage)} MB in it (+${Math.round(growth)} MB, limit ${LIMIT_MB}), ${Math.round(recoveredAt)} MB as it ended; peak RSS of the whole run ${Math.round(report.peakRssMb)} MB (before the outbox: 383 MB for a million records); ${report.seconds.toFixed(1)} s; counters ${JSON.stringify(report.stats)}`,
)
if (problems.length > 0) {
  console.error(`outage soak FAILED:\n- ${problems.join('\n- ')}`)
  process.exit(1)
}
console.log(
  'outage soak passed: memory flat through the outage, every record delivered once, in order',
)
