// `npm run bench`: peers measured in the same run, reported as ratios.
// pino + pino/file vs pino + ml-dash-logs/pino (local store), same records,
// runs alternated, each in a fresh process; medians of ROUNDS runs.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const N = Number(process.env.BENCH_RECORDS ?? 200_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const child = fileURLToPath(new URL('./pino-child.mjs', import.meta.url))
const variants = ['pino/file', 'ml-dash-logs/pino']
const results = Object.fromEntries(variants.map((v) => [v, []]))

for (let round = 0; round < ROUNDS; round++) {
  for (const variant of round % 2 ? [...variants].reverse() : variants) {
    const out = execFileSync(process.execPath, [child, variant, String(N)], {
      encoding: 'utf8',
    })
    results[variant].push(JSON.parse(out))
  }
}

const median = (values) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const rows = variants.map((variant) => {
  const total = median(results[variant].map((r) => r.total))
  const inCalls = median(results[variant].map((r) => r.inCalls))
  return {
    variant,
    recordsPerSecond: Math.round(N / (total / 1000)),
    mainThreadMsInCalls: Math.round(inCalls),
  }
})
console.log(
  `pino, ${N} records, median of ${ROUNDS} runs each (end to end: until the transport closed)`,
)
console.table(rows)
const [file, ours] = rows
console.log(
  `throughput ratio ml-dash-logs/pino : pino/file = ${(ours.recordsPerSecond / file.recordsPerSecond).toFixed(2)}x (target >= 0.9x)`,
)
console.log(
  `main-thread time ratio ml-dash-logs/pino : pino/file = ${(ours.mainThreadMsInCalls / file.mainThreadMsInCalls).toFixed(2)}x (target <= 1.0x)`,
)
