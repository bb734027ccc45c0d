// One run of bench/remote.mjs: N entries through an Experiment to the
// server at <url>, remote only, with the outbox (`outbox`) or with the
// entries waiting in memory as before outboxes (`memory`: the outbox
// cannot be made under a file). Prints { seconds, delivered }.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Experiment } from 'ml-dash-logs'

const [variant, count, url, token, prefix] = process.argv.slice(2)
const N = Number(count)
const folder = mkdtempSync(join(tmpdir(), 'bench-remote-'))
const file = join(folder, 'a-file')
writeFileSync(file, '')
const exp = await new Experiment({
  prefix,
  dashUrl: url,
  token,
  dashRoot: false,
  batchSize: 1000,
  flushIntervalMs: 50,
  silenceErrors: true,
  spoolDir: variant === 'outbox' ? join(folder, 'outbox') : join(file, 'x'),
}).start()
const started = process.hrtime.bigint()
for (let i = 0; i < N; i++) {
  exp.log(`record ${i}`, { metadata: { i, payload: 'x'.repeat(64) } })
  if (i % 1000 === 999) await new Promise((resolve) => setImmediate(resolve))
}
const report = await exp.close('COMPLETED', 120_000)
const seconds = Number(process.hrtime.bigint() - started) / 1e9
rmSync(folder, { recursive: true, force: true })
process.stdout.write(
  `${JSON.stringify({ seconds, delivered: report.remote?.delivered })}\n`,
)
