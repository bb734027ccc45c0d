// `node bench/peers.mjs`: each logger's transports side by side, this
// library's ("ours") among the peers people use, each shipping to a real
// protocol endpoint on loopback. Every case is a fresh child process, with
// a fresh counting sink process of its own when it ships over HTTP
// (bench/peers/sink.mjs: OTLP, Loki, Elasticsearch or ml-dash, each
// counting records without decoding them; `ml-dash-logs serve` for the
// receiver; the file and local-store
// variants count lines), the same record, N records (BENCH_RECORDS,
// 200 000), timed from the first call until the sink (or the file) holds
// every record; ROUNDS runs (BENCH_ROUNDS, 3), variants alternated; medians.
//   pino:     pino/file (ceiling), ours local and remote, pino-loki,
//             pino-opentelemetry-transport, pino-elasticsearch
//   winston:  File (ceiling), ours local and remote, winston-loki,
//             @opentelemetry/winston-transport
//   otel:     sdk-logs' batch processor into the OTLP/proto exporter, ours
//             local and remote, ours remote to the full test server (every
//             request parsed and kept), a no-op exporter (ceiling)
//   receiver: the OTLP/proto exporter into the counting sink, and into
//             `ml-dash-logs serve` (local store)
//   http:     the server path: Experiment against raw node:http
// Peers run with their defaults; where the defaults drop records (or send
// tiny batches), a second variant raises that one setting and names it.
// A run that delivered fewer than N is not compared (printed apart).
// BENCH_ONLY=pino|winston|otel|receiver|http runs one group.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const N = Number(process.env.BENCH_RECORDS ?? 200_000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3)
const only = process.env.BENCH_ONLY
// A child that neither finishes nor gives up is killed after this long.
const TIMEOUT_MS = Number(process.env.BENCH_TIMEOUT_MS ?? 300_000)
const here = (path) => fileURLToPath(new URL(path, import.meta.url))
const CLI = here('../bin/ml-dash-logs.cjs')

// role: 'ceiling' (the floor of cost: a plain file, a no-op exporter),
// 'local' / 'remote' / 'ours' (this library), or a peer (no role).
const groups = {
  pino: {
    child: 'pino-child.mjs',
    showInCalls: true,
    variants: [
      { name: 'pino/file', role: 'ceiling' },
      { name: 'ml-dash-logs/pino local', role: 'local' },
      { name: 'ml-dash-logs/pino remote', role: 'remote', sink: 'ml-dash' },
      { name: 'pino-loki', sink: 'loki' },
      { name: 'pino-loki (maxBufferSize: 0, unbounded)', sink: 'loki' },
      { name: 'pino-opentelemetry-transport', sink: 'otlp' },
      {
        name: 'pino-opentelemetry-transport (maxQueueSize: N+1)',
        sink: 'otlp',
      },
      { name: 'pino-elasticsearch (flushBytes: 5 MB)', sink: 'elastic' },
    ],
  },
  winston: {
    child: 'winston-child.mjs',
    showInCalls: true,
    variants: [
      { name: 'winston/file', role: 'ceiling' },
      { name: 'ml-dash-logs/winston local', role: 'local' },
      { name: 'ml-dash-logs/winston remote', role: 'remote', sink: 'ml-dash' },
      { name: 'winston-loki', sink: 'loki' },
      { name: '@opentelemetry/winston-transport', sink: 'otlp' },
      {
        name: '@opentelemetry/winston-transport (maxQueueSize: N+1)',
        sink: 'otlp',
      },
    ],
  },
  otel: {
    child: 'otel-child.mjs',
    variants: [
      { name: 'otlp-proto', sink: 'otlp' },
      { name: 'ml-dash-logs/otel local', role: 'local' },
      { name: 'ml-dash-logs/otel remote', role: 'remote', sink: 'ml-dash' },
      {
        name: 'ml-dash-logs/otel remote → full test server',
        child: 'ml-dash-logs/otel remote',
        role: 'remote-full',
        sink: 'ml-dash-full',
      },
      { name: 'no-op exporter', role: 'ceiling' },
    ],
  },
  receiver: {
    child: 'otel-child.mjs',
    variants: [
      { name: 'otlp-proto → counting sink', child: 'otlp-proto', sink: 'otlp' },
      {
        name: 'otlp-proto → ml-dash-logs serve',
        child: 'otlp-proto',
        role: 'ours',
        sink: 'serve',
      },
    ],
  },
  http: {
    child: 'http-child.mjs',
    variants: [
      { name: 'raw node:http', sink: 'ml-dash' },
      { name: 'ml-dash-logs Experiment', role: 'ours', sink: 'ml-dash' },
    ],
  },
}

/** Relays a child's stderr, each line labelled, as it comes. */
function relay(stream, label) {
  createInterface({ input: stream }).on('line', (line) =>
    process.stderr.write(`  [${label}] ${line}\n`),
  )
}

/** Resolves with the first line of `stream` that `match` accepts. */
function firstLine(proc, stream, match, label) {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: stream })
    let found = false
    lines.on('line', (line) => {
      const value = found ? undefined : match(line)
      if (value !== undefined) {
        found = true
        resolve(value)
      } else if (
        stream === proc.stderr &&
        !/: SIGTERM: delivering/.test(line)
      ) {
        // (serve's own line for the SIGTERM that ends each case is left out)
        process.stderr.write(`  [${label}] ${line}\n`)
      }
    })
    proc.once('exit', (code) =>
      reject(new Error(`${label} exited (${code}) before it was ready`)),
    )
  })
}

/** The case's sink process: { proc, info } (info: url, count or countFile). */
async function startSink(kind, dir, env, label) {
  if (kind === 'serve') {
    const proc = spawn(
      process.execPath,
      [
        CLI,
        'serve',
        '--port',
        '0',
        '--prefix',
        'bench/receiver/run',
        '--dash-root',
        join(dir, '.dash'),
      ],
      { env, stdio: 'pipe' },
    )
    relay(proc.stdout, `${label} serve`)
    const url = await firstLine(
      proc,
      proc.stderr,
      (line) => /receiving OTLP\/HTTP logs at (\S+)\/v1\/logs/.exec(line)?.[1],
      `${label} serve`,
    )
    const countFile = join(dir, '.dash/bench/receiver/run/logs/logs.jsonl')
    return { proc, info: { url, countFile } }
  }
  const proc = spawn(process.execPath, [here('./peers/sink.mjs'), kind], {
    env,
    stdio: 'pipe',
  })
  relay(proc.stderr, `${label} sink`)
  const info = await firstLine(
    proc,
    proc.stdout,
    (line) => JSON.parse(line),
    `${label} sink`,
  )
  return { proc, info }
}

async function stop(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return
  const exited = once(proc, 'exit')
  proc.kill('SIGTERM')
  await exited
}

/** One case: a fresh folder, sink and child; resolves with the child's result. */
async function runCase(group, variant, round) {
  const label = `${variant.name} #${round + 1}`
  const dir = mkdtempSync(join(tmpdir(), 'ml-dash-peers-'))
  // The remote variants' outbox (no local store): kept in the case's folder.
  const env = { ...process.env, XDG_CACHE_HOME: join(dir, 'cache') }
  let sink
  try {
    sink = variant.sink && (await startSink(variant.sink, dir, env, label))
    const config = { dir, ...sink?.info }
    const child = spawn(
      process.execPath,
      [
        here(`./peers/${group.child}`),
        variant.child ?? variant.name,
        String(N),
        JSON.stringify(config),
      ],
      { env, stdio: ['ignore', 'pipe', 'pipe'], timeout: TIMEOUT_MS },
    )
    let stdout = ''
    child.stdout.setEncoding('utf8').on('data', (chunk) => (stdout += chunk))
    relay(child.stderr, label)
    const [code, signal] = await once(child, 'close')
    const line = stdout.trim().split('\n').at(-1)
    if (code !== 0 || !line) {
      const why = signal
        ? `${signal}: no result within ${TIMEOUT_MS / 1000} s`
        : `exit code ${code}`
      return { failed: why }
    }
    return JSON.parse(line)
  } catch (error) {
    return { failed: error.message }
  } finally {
    if (sink) await stop(sink.proc)
    rmSync(dir, { recursive: true, force: true })
  }
}

const median = (values) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]
const ratio = (a, b) => `${(a / b).toFixed(2)}x`

async function runGroup(name, group) {
  const { variants } = group
  const runs = new Map(variants.map((v) => [v, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of round % 2 ? [...variants].reverse() : variants)
      runs
        .get(variant)
        .push({ round, ...(await runCase(group, variant, round)) })
  }

  const rows = []
  const problems = []
  const stats = new Map()
  for (const variant of variants) {
    const all = runs.get(variant)
    const complete = all.filter((r) => r.delivered === N)
    const kinds = {
      failed: (r) => r.failed !== undefined,
      lost: (r) => r.delivered < N,
      duplicated: (r) => r.delivered > N,
      // Reported by the child, records delivered or not.
      error: (r) => r.error !== undefined,
    }
    for (const [kind, test] of Object.entries(kinds)) {
      const bad = all.filter(test)
      if (bad.length === 0) continue
      const rounds = bad.map((r) => r.round + 1).join(', ')
      const distinct = (key) => [...new Set(bad.map((r) => r[key]))].join('; ')
      const what =
        kind === 'failed' || kind === 'error'
          ? `(${distinct(kind)})`
          : `delivered ${bad.map((r) => r.delivered).join(', ')} of ${N}`
      problems.push(`${kind}: ${variant.name} ${what} (rounds ${rounds})`)
    }
    if (complete.length === 0) continue
    const recordsPerSecond = Math.round(
      N / (median(complete.map((r) => r.total)) / 1000),
    )
    stats.set(variant, {
      recordsPerSecond,
      lossless: complete.length === all.length,
    })
    const row = { variant: variant.name, 'records/s': recordsPerSecond }
    if (group.showInCalls)
      row['main-thread ms in calls'] = Math.round(
        median(complete.map((r) => r.inCalls)),
      )
    row['peak RSS MB'] = Math.round(median(complete.map((r) => r.maxRssMb)))
    if (complete.length !== all.length)
      row['complete runs'] = `${complete.length}/${all.length}`
    rows.push(row)
  }

  console.log(`\n${name}`)
  console.table(rows)
  for (const line of problems) console.log(line)

  // Ratios of records/s: above 1 means the first is faster.
  const byRole = (role) => variants.find((v) => v.role === role)
  const peers = variants.filter(
    (v) => v.role === undefined && stats.get(v)?.lossless,
  )
  const bestPeer = peers.sort(
    (a, b) => stats.get(b).recordsPerSecond - stats.get(a).recordsPerSecond,
  )[0]
  const compare = (label, a, b) => {
    if (a === undefined || b === undefined) return
    const [sa, sb] = [stats.get(a), stats.get(b)]
    if (!sa?.lossless || !sb?.lossless) {
      const lossy = [a, b].filter((v) => !stats.get(v)?.lossless)
      console.log(
        `${label}: not compared (${lossy.map((v) => v.name).join(', ')} did not deliver every record in every run)`,
      )
      return
    }
    console.log(`${label} = ${ratio(sa.recordsPerSecond, sb.recordsPerSecond)}`)
  }
  const [local, remote, ours, ceiling] = [
    'local',
    'remote',
    'ours',
    'ceiling',
  ].map(byRole)
  const peerName = bestPeer ? ` (${bestPeer.name})` : ''
  if (bestPeer === undefined)
    console.log('no peer delivered every record in every run')
  if (name === 'otel') {
    compare('ours local : otlp-proto', local, bestPeer)
    compare('ours remote : otlp-proto', remote, bestPeer)
    compare(
      'ours remote, full test server : otlp-proto',
      byRole('remote-full'),
      bestPeer,
    )
  } else if (name === 'receiver') {
    compare('serve : exporter into the counting sink', ours, bestPeer)
  } else if (name === 'http') {
    compare('Experiment : raw node:http', ours, bestPeer)
  } else {
    compare(`ours local : best lossless peer${peerName}`, local, bestPeer)
    compare(`ours remote : best lossless peer${peerName}`, remote, bestPeer)
  }
  compare(`ours local : ceiling (${ceiling?.name})`, local, ceiling)
  compare(`ours remote : ceiling (${ceiling?.name})`, remote, ceiling)
  if (group.showInCalls && local !== undefined && ceiling !== undefined) {
    const inCalls = (variant) =>
      median(
        runs
          .get(variant)
          .filter((r) => r.delivered === N)
          .map((r) => r.inCalls),
      )
    console.log(
      `main-thread time in logging calls, ours local : ${ceiling.name} = ${ratio(inCalls(local), inCalls(ceiling))}`,
    )
  }
}

const cpu = cpus()
console.log(
  `machine: ${cpu.length} cores, ${cpu[0]?.model ?? 'unknown CPU'}, Node ${process.version}`,
)
console.log(
  `${N} records per run, median of ${ROUNDS} run${ROUNDS === 1 ? '' : 's'} each, end to end (until the sink or the file holds every record)`,
)
for (const [name, group] of Object.entries(groups)) {
  if (only === undefined || only === name) await runGroup(name, group)
}
