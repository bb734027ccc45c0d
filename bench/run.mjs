// `npm run bench`: peers measured in the same run, reported as ratios.
// Each run is a fresh process; variants alternate; medians of ROUNDS runs.
//   pino:    pino + pino/file          vs pino + ml-dash-logs/pino (local store);
//            for reference, pino-abstract-transport alone (parsing lines, or
//            just splitting them; nothing stored): the cost any transport
//            built on it starts from (ours reads thread-stream's chunks)
//   winston: winston + File transport  vs winston + MlDashTransport (local store)
//   otel:    sdk-logs + OTLP/proto exporter to a loopback sink (own process)
//            vs sdk-logs + MlDashLogRecordExporter (local store)
import { execFileSync, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

const N = Number(process.env.BENCH_RECORDS ?? 200_000)
// BENCH_ONLY=pino (or winston, otel) runs one comparison.
const only = process.env.BENCH_ONLY
const runs = (name) => only === undefined || only === name
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5)
const median = (values) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

function measure(script, variants, extra = []) {
  const child = fileURLToPath(new URL(script, import.meta.url))
  const results = Object.fromEntries(variants.map((v) => [v, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of round % 2 ? [...variants].reverse() : variants) {
      const args = [child, variant, String(N), ...extra]
      const result = JSON.parse(
        execFileSync(process.execPath, args, { encoding: 'utf8' }),
      )
      // A run that lost records would look faster: refuse to compare it.
      if (result.delivered !== undefined && result.delivered !== N) {
        throw new Error(
          `${variant} delivered ${result.delivered} of ${N} records`,
        )
      }
      results[variant].push(result)
    }
  }
  return variants.map((variant) => {
    const runs = results[variant]
    const row = {
      variant,
      recordsPerSecond: Math.round(
        N / (median(runs.map((r) => r.total)) / 1000),
      ),
    }
    if ('inCalls' in runs[0])
      row.mainThreadMsInCalls = Math.round(median(runs.map((r) => r.inCalls)))
    if ('maxRssMb' in runs[0])
      row.peakRssMb = Math.round(median(runs.map((r) => r.maxRssMb)))
    return row
  })
}

const ratio = (a, b) => (a / b).toFixed(2)
console.log(
  `${N} records per run, median of ${ROUNDS} runs each, end to end (until every record is written)\n`,
)

if (runs('pino')) {
  const [pinoFile, pinoOurs, ...references] = measure('./pino-child.mjs', [
    'pino/file',
    'ml-dash-logs/pino',
    'abstract-transport (JSON.parse, no store)',
    'abstract-transport (lines, no store)',
  ])
  console.table([pinoFile, pinoOurs, ...references])
  for (const reference of references) {
    console.log(
      `reference: ${reference.variant} : pino/file = ${ratio(reference.recordsPerSecond, pinoFile.recordsPerSecond)}x`,
    )
  }
  console.log(
    `pino throughput ratio (ours : pino/file) = ${ratio(pinoOurs.recordsPerSecond, pinoFile.recordsPerSecond)}x (target >= 0.9x)`,
  )
  console.log(
    `pino main-thread time ratio (ours : pino/file) = ${ratio(pinoOurs.mainThreadMsInCalls, pinoFile.mainThreadMsInCalls)}x (target <= 1.0x)\n`,
  )
}

if (runs('winston')) {
  const [winstonFile, winstonOurs] = measure('./winston-child.mjs', [
    'winston/file',
    'ml-dash-logs/winston',
  ])
  console.table([winstonFile, winstonOurs])
  console.log(
    `winston throughput ratio (ours : File) = ${ratio(winstonOurs.recordsPerSecond, winstonFile.recordsPerSecond)}x (target >= 1.0x)`,
  )
  console.log(
    `winston peak memory ratio (ours : File) = ${ratio(winstonOurs.peakRssMb, winstonFile.peakRssMb)}x (target <= 1.0x)`,
  )
}

if (runs('otel')) {
  const sink = spawn(process.execPath, [
    fileURLToPath(new URL('./otlp-sink.mjs', import.meta.url)),
  ])
  const [sinkUrl] = await once(sink.stdout, 'data')
  const [otlp, otelOurs] = measure(
    './otel-child.mjs',
    ['otlp-proto', 'ml-dash-logs/otel'],
    [String(sinkUrl).trim()],
  )
  sink.kill('SIGTERM')
  console.log()
  console.table([otlp, otelOurs])
  console.log(
    `OpenTelemetry throughput ratio (ours : OTLP/proto to a loopback sink) = ${ratio(otelOurs.recordsPerSecond, otlp.recordsPerSecond)}x (target >= 1.0x)`,
  )
}
