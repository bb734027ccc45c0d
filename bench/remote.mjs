// `node bench/remote.mjs`: the server path with the outbox against the
// same path with entries waiting in memory (as before outboxes), in the
// same run: BENCH_RECORDS (200 000) entries through an Experiment to the
// test server on 127.0.0.1, each run a fresh process, variants alternated,
// medians of BENCH_ROUNDS (3).
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { signTestToken, startTestServer } from 'ml-dash-logs/testing'

const N = Number(process.env.BENCH_RECORDS ?? 200_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const child = fileURLToPath(new URL('./remote-child.mjs', import.meta.url))
const run = promisify(execFile)
const median = (values) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

const results = { outbox: [], memory: [] }
for (let round = 0; round < ROUNDS; round++) {
  for (const variant of round % 2
    ? ['memory', 'outbox']
    : ['outbox', 'memory']) {
    const server = await startTestServer()
    const prefix = `alice/bench/${variant}-${round}`
    const { stdout } = await run(process.execPath, [
      child,
      variant,
      String(N),
      server.url,
      signTestToken({ username: 'alice' }),
      prefix,
    ])
    const result = JSON.parse(stdout)
    const stored = server.experiment(prefix)?.logs.length
    await server.close()
    if (result.delivered !== N || stored !== N)
      throw new Error(
        `${variant}: ${result.delivered} delivered, ${stored} stored of ${N}`,
      )
    results[variant].push(N / result.seconds)
  }
}
const outbox = median(results.outbox)
const memory = median(results.memory)
console.log(
  `server path, ${N} entries, medians of ${ROUNDS}: with the outbox ${Math.round(outbox)} entries/s, in memory ${Math.round(memory)} entries/s: the outbox costs ${((1 - outbox / memory) * 100).toFixed(1)}%`,
)
