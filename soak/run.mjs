// `npm run soak`: a million records through the pino transport to the test
// server while it injects a retryable fault every FAULT_EVERY_MS: 503
// bursts, 429 with Retry-After, dropped connections, and a short outage.
// Checks that the server ends with exactly the records logged, in order and
// once each, that the counters add up (accepted = delivered + dropped +
// failed, with dropped = failed = 0), and that the app's peak memory stays
// under PEAK_RSS_LIMIT_MB. Exits non-zero on any difference.
//   SOAK_RECORDS (1000000), SOAK_RATE (records/s, 100000), FAULT_EVERY_MS (2000), PEAK_RSS_LIMIT_MB (600)
import { startTestServer } from 'ml-dash-logs/testing'
import { startApp } from './start-app.mjs'

const N = Number(process.env.SOAK_RECORDS ?? 1_000_000)
const RATE = Number(process.env.SOAK_RATE ?? 100_000)
const FAULT_EVERY_MS = Number(process.env.FAULT_EVERY_MS ?? 2000)
const PEAK_RSS_LIMIT_MB = Number(process.env.PEAK_RSS_LIMIT_MB ?? 600)
const prefix = 'alice/soak/run'

const server = await startTestServer()
const faults = [
  () =>
    server.inject({ kind: 'status', status: 503, count: 3, match: /logs$/ }),
  () =>
    server.inject({
      kind: 'status',
      status: 429,
      count: 1,
      retryAfter: '1',
      match: /logs$/,
    }),
  () => server.inject({ kind: 'drop', count: 2, match: /logs$/ }),
  () =>
    server.inject({ kind: 'status', status: 502, count: 2, match: /logs$/ }),
  () => server.down(700),
]
// One fault at a time: an outage ends before the next fault starts.
let injected = 0
let running = true
const faultLoop = (async () => {
  while (running) {
    await new Promise((resolve) => setTimeout(resolve, FAULT_EVERY_MS))
    if (running) await faults[injected++ % faults.length]()
  }
})()

const { finished } = startApp(server, prefix, N, RATE)
const { code, report } = await finished
running = false
await faultLoop

const logs = server.experiment(prefix)?.logs ?? []
await server.close()

const problems = []
if (code !== 0) problems.push(`the app exited with ${code}`)
if (logs.length !== N)
  problems.push(`the server holds ${logs.length} records, not ${N}`)
for (let i = 0; i < logs.length; i++) {
  if (logs[i].message !== `record ${i}`) {
    problems.push(`record ${i} is "${logs[i].message}" (order or duplicates)`)
    break
  }
}
const { accepted, delivered, dropped, failed } = report.stats ?? {}
if (accepted !== delivered + dropped + failed)
  problems.push(`counters do not add up: ${JSON.stringify(report.stats)}`)
if (accepted !== N || dropped !== 0 || failed !== 0)
  problems.push(
    `expected ${N} accepted, 0 dropped, 0 failed: ${JSON.stringify(report.stats)}`,
  )
if (report.peakRssMb > PEAK_RSS_LIMIT_MB)
  problems.push(
    `peak memory ${Math.round(report.peakRssMb)} MB over ${PEAK_RSS_LIMIT_MB} MB`,
  )

console.log(
  `soak: ${N} records at ${RATE}/s, ${injected} faults (one every ${FAULT_EVERY_MS} ms), ${report.seconds.toFixed(1)} s`,
)
console.log(
  `counters: ${JSON.stringify(report.stats)}; failures reported: ${report.errors.length}; app peak RSS ${Math.round(report.peakRssMb)} MB (limit ${PEAK_RSS_LIMIT_MB} MB)`,
)
if (problems.length > 0) {
  console.error(`soak FAILED:\n- ${problems.join('\n- ')}`)
  process.exit(1)
}
console.log('soak passed: the server holds every record exactly once, in order')
