// Runs every seed example into ./.dash (no server) and prints what each wrote.
import { readFileSync } from 'node:fs'

const examples = {
  './basic-usage.js': 'alice/project/my-experiment',
  './log-levels.js': 'alice/project/log-levels',
  './structured-metadata.js': 'alice/project/structured-metadata',
  './training-loop.js': 'alice/ml/mnist-training',
  './error-tracking.js': 'alice/project/error-tracking',
  './progress-tracking.js': 'alice/etl/data-processing',
}

for (const [module, prefix] of Object.entries(examples)) {
  await import(module)
  const file = `.dash/${prefix}/logs/logs.jsonl`
  const lines = readFileSync(file, 'utf8').trimEnd().split('\n')
  console.log(
    `${module.slice(2, -3).padEnd(20)} ${String(lines.length).padStart(3)} entries in ${file}`,
  )
}

// pino, to the local store and to a (test) server.
await import('./pino.js')

// winston, to the local store.
await import('./winston.js')

// OpenTelemetry, to the local store.
await import('./otel.js')
