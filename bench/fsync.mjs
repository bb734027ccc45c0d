// What an fsync per outbox write would cost: one write of a turn's batch
// (100 entries of about 200 bytes) to a file in the outbox's folder, with
// and without fdatasync after it. `node bench/fsync.mjs [folder]`.
import {
  closeSync,
  fdatasyncSync,
  mkdtempSync,
  openSync,
  rmSync,
  writeSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const folder = mkdtempSync(join(process.argv[2] ?? tmpdir(), 'fsync-'))
const entry = JSON.stringify({
  timestamp: new Date().toISOString(),
  level: 'info',
  message: 'x'.repeat(120),
  metadata: { step: 1 },
})
const batch = Buffer.from(`${Array(100).fill(entry).join('\n')}\n`)
const writes = 2000

function run(sync) {
  const fd = openSync(join(folder, `${sync}.log`), 'a')
  const start = process.hrtime.bigint()
  for (let i = 0; i < writes; i++) {
    writeSync(fd, batch)
    if (sync) fdatasyncSync(fd)
  }
  const us = Number(process.hrtime.bigint() - start) / 1000 / writes
  closeSync(fd)
  return us
}

run(false) // warm up
const plain = run(false)
const synced = run(true)
rmSync(folder, { recursive: true, force: true })
console.log(
  `write of ${batch.length} bytes: ${plain.toFixed(1)} us; with fdatasync: ${synced.toFixed(1)} us (${(synced / plain).toFixed(0)}x); ${(1e6 / synced).toFixed(0)} synced writes/s at most`,
)
