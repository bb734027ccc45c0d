// One run of the record-size curve: N records of about SIZE bytes through
// pino's worker transport into the local store (or pino/file, for the
// same records' ceiling). The record's text is spread over fields of at
// most 1 KiB, so no value is cut by maxStringLength. Prints { total,
// delivered, bytes }.
import {
  closeSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'

const [variant, count, size] = process.argv.slice(2)
const N = Number(count)
const dir = mkdtempSync(join(tmpdir(), 'ml-dash-curve-'))
const file =
  variant === 'pino/file'
    ? join(dir, 'app.log')
    : join(dir, '.dash/bench/size/run/logs/logs.jsonl')
const transport = pino.transport(
  variant === 'pino/file'
    ? { target: 'pino/file', options: { destination: file } }
    : {
        target: 'ml-dash-logs/pino',
        options: { dashRoot: join(dir, '.dash'), prefix: 'bench/size/run' },
      },
)
await new Promise((resolve) => transport.once('ready', resolve))
const logger = pino(transport)
// Fields of at most 1 KiB adding up to about `size` bytes of line.
const fields = {}
let left = Math.max(0, Number(size) - 90)
for (let k = 0; left > 0; k++) {
  const length = Math.min(1024, left)
  fields[`f${k}`] = 'x'.repeat(Math.max(1, length - 8))
  left -= length
}
const start = performance.now()
for (let i = 0; i < N; i += 100) {
  for (let j = i; j < i + 100; j++)
    logger.info({ i: j, ...fields }, 'request handled')
  await new Promise((resolve) => setImmediate(resolve))
}
await new Promise((resolve) => {
  transport.ref()
  transport.once('close', resolve)
  transport.end()
})
const total = performance.now() - start
const bytes = statSync(file).size
// Lines counted a chunk at a time (a 16 KB curve's file passes a string's limit).
let delivered = 0
const fd = openSync(file, 'r')
const chunk = Buffer.allocUnsafe(1 << 20)
for (let read; (read = readSync(fd, chunk)) > 0;)
  for (
    let at = chunk.indexOf(10);
    at >= 0 && at < read;
    at = chunk.indexOf(10, at + 1)
  )
    delivered++
closeSync(fd)
rmSync(dir, { recursive: true, force: true })
process.stdout.write(`${JSON.stringify({ total, delivered, bytes })}\n`)
