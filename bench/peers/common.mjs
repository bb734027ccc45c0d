// Shared by the children of bench/peers.mjs: the arguments, the record, the
// logging loop (chunks of 1000, a setImmediate between them, time inside the
// calls), the counters (a sink's count URL, or the lines of a file) and the
// wait until every record is there. Measures nothing itself.
import { closeSync, existsSync, openSync, readSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'

export const MESSAGE = 'request handled'
export const fields = (i) => ({ i, route: '/api/items', status: 200, ms: 1.25 })

/** `node <child> <variant> <N> <config JSON>`: the config comes from the runner. */
export function childArgs() {
  const [variant, count, config] = process.argv.slice(2)
  return { variant, N: Number(count), ...JSON.parse(config ?? '{}') }
}

/** Logs records 0..N-1; resolves with the milliseconds spent in the calls. */
export async function logAll(N, logOne) {
  let inCalls = 0
  for (let i = 0; i < N; i += 1000) {
    const t = performance.now()
    const end = Math.min(i + 1000, N)
    for (let j = i; j < end; j++) logOne(j)
    inCalls += performance.now() - t
    // Let transports and sockets run, as a real service's event loop would.
    await new Promise((resolve) => setImmediate(resolve))
  }
  return inCalls
}

/** A sink's count URL: the records it received so far, as plain text. */
export const urlCounter = (url) => async () =>
  Number(await (await fetch(url)).text())

/** The lines of a file (one record each), read incrementally. */
export function fileCounter(file) {
  const buffer = Buffer.allocUnsafe(1 << 20)
  let fd
  let offset = 0
  let lines = 0
  const count = async () => {
    if (fd === undefined) {
      if (!existsSync(file)) return 0
      fd = openSync(file, 'r')
    }
    for (;;) {
      const read = readSync(fd, buffer, 0, buffer.length, offset)
      if (read === 0) return lines
      offset += read
      const chunk = buffer.subarray(0, read)
      for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1))
        lines++
    }
  }
  count.close = () => fd !== undefined && closeSync(fd)
  return count
}

/** The counter the runner's config names: a count URL or a file. */
export const counterFor = (config) =>
  config.count !== undefined
    ? urlCounter(config.count)
    : fileCounter(config.countFile)

/**
 * Polls `count` every 10 ms (up to 60 s) until it reaches N or has not grown
 * for 6 s (pino-loki pushes every 5 s). `total` runs from `start` to the last change seen (or the first
 * look, when everything was already there).
 */
export async function waitDelivered(count, N, start) {
  let delivered = await count()
  let changedAt = performance.now()
  const deadline = changedAt + 60_000
  while (delivered < N) {
    const now = performance.now()
    if (now - changedAt >= 6_000 || now >= deadline) break
    await sleep(10)
    const next = await count()
    if (next !== delivered) {
      delivered = next
      changedAt = performance.now()
    }
  }
  count.close?.()
  return { delivered, total: changedAt - start }
}

/** Prints the run's one JSON line and exits (some peers keep handles open). */
export function report(result) {
  process.stdout.write(
    JSON.stringify({
      ...result,
      maxRssMb: process.resourceUsage().maxRSS / 1024,
    }) + '\n',
  )
  process.exit(0)
}
