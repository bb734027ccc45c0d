// `node bench/curves.mjs`: how the cost grows. Each run a fresh process,
// medians of BENCH_ROUNDS (3), N = BENCH_RECORDS (200 000) records:
//   experiments: OpenTelemetry records routed by `ml_dash.prefix` over 1,
//                16 and 256 experiments (local store), each experiment
//                opened first and timed apart (its folders, experiment.json,
//                lock file: a cost once per experiment, not per record);
//   sizes:       pino records of about 100 B, 1 KB and 16 KB through the
//                worker transport into the local store, against pino/file
//                with the same records (records/s and MB/s of stored lines);
//   receiver:    `ml-dash-logs serve` (local store) taking OTLP/protobuf
//                requests of 512 records from 1 and from 64 concurrent
//                senders, each answered once its records are written.
// BENCH_ONLY=experiments|sizes|receiver runs one curve.
import { execFileSync } from 'node:child_process'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'

const N = Number(process.env.BENCH_RECORDS ?? 200_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const only = process.env.BENCH_ONLY
const here = (path) => fileURLToPath(new URL(path, import.meta.url))
const median = (values) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

/** Medians over ROUNDS of each case's runs (cases alternated); refuses a run that lost records. */
function measure(script, cases, expected = () => N) {
  const runs = cases.map(() => [])
  for (let round = 0; round < ROUNDS; round++) {
    const order = cases.map((_, i) => i)
    if (round % 2) order.reverse()
    for (const i of order) {
      const result = JSON.parse(
        execFileSync(process.execPath, [here(script), ...cases[i]], {
          encoding: 'utf8',
        }),
      )
      if (result.delivered < expected(cases[i]))
        throw new Error(
          `${cases[i].join(' ')}: delivered ${result.delivered} of ${expected(cases[i])}`,
        )
      runs[i].push(result)
    }
  }
  return runs.map((results) => ({
    total: median(results.map((r) => r.total)),
    open:
      results[0].open === undefined
        ? undefined
        : median(results.map((r) => r.open)),
    bytes: results[0].bytes,
    records: results[0].records ?? N,
  }))
}

const us = (ms, records) => ((ms * 1000) / records).toFixed(2)
console.log(
  `${N} records per run, medians of ${ROUNDS}; ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}\n`,
)

if (only === undefined || only === 'experiments') {
  const counts = [1, 16, 256]
  const results = measure(
    './curves/experiments-child.mjs',
    counts.map((k) => [String(N), String(k)]),
  )
  console.table(
    counts.map((k, i) => ({
      experiments: k,
      'records/s': Math.round(N / (results[i].total / 1000)),
      'us per record': us(results[i].total, N),
      'ms opening them': Math.round(results[i].open),
    })),
  )
  console.log(
    `256 experiments : 1, per record = ${(results[2].total / results[0].total).toFixed(2)}x (target <= 1.5x)\n`,
  )
}

if (only === undefined || only === 'sizes') {
  const sizes = [100, 1024, 16384]
  // At most about 320 MB of records per run.
  const countOf = (size) => Math.min(N, Math.floor(320e6 / size))
  const cases = sizes.flatMap((size) => [
    ['pino/file', String(countOf(size)), String(size)],
    ['ml-dash-logs/pino', String(countOf(size)), String(size)],
  ])
  const results = measure('./curves/sizes-child.mjs', cases, (c) =>
    Number(c[1]),
  )
  console.table(
    cases.map(([variant, count, size], i) => ({
      variant,
      'record bytes': Number(size),
      records: Number(count),
      'records/s': Math.round(Number(count) / (results[i].total / 1000)),
      'MB/s stored': (
        results[i].bytes /
        1e6 /
        (results[i].total / 1000)
      ).toFixed(1),
    })),
  )
  for (let i = 0; i < sizes.length; i++)
    console.log(
      `${sizes[i]} B records: ours : pino/file = ${(results[2 * i].total / results[2 * i + 1].total).toFixed(2)}x (records/s)`,
    )
  console.log()
}

if (only === undefined || only === 'receiver') {
  const senders = [1, 64]
  const results = measure(
    './curves/receiver-senders.mjs',
    senders.map((c) => [String(N), String(c)]),
    () => Math.ceil(N / 512) * 512,
  )
  console.table(
    senders.map((c, i) => ({
      senders: c,
      'records/s': Math.round(results[i].records / (results[i].total / 1000)),
      'us per record': us(results[i].total, results[i].records),
    })),
  )
  console.log(
    `64 senders : 1, records/s = ${(results[0].total / results[1].total).toFixed(2)}x`,
  )
}
