// The soak's application: pino with this transport (worker thread) sending
// N records to an ml-dash server at a steady pace, then ending the transport
// and printing the transport's final counters and this process's peak memory.
//   app.mjs <url> <token> <prefix> <records> <recordsPerSecond>
import pino from 'pino'

const [dashUrl, token, prefix, count, rate] = process.argv.slice(2)
const N = Number(count)
const transport = pino.transport({
  target: 'ml-dash-logs/pino',
  options: {
    prefix,
    dashUrl,
    token,
    dashRoot: false,
    batchSize: 1000,
    flushIntervalMs: 200,
    ...(process.env.SOAK_UNLIMITED_RETRIES ? {} : { maxQueueSize: 500_000 }),
    // The outage soak: unlimited (the default), the batches waiting in the outbox.
    ...(process.env.SOAK_UNLIMITED_RETRIES ? {} : { maxRetries: 50 }),
    retryBaseDelayMs: 50,
    retryMaxDelayMs: 1000,
    closeTimeoutMs: 120_000,
  },
})
let stats
const errors = []
transport.on('ml-dash-logs:stats', (value) => (stats = value))
transport.on('ml-dash-logs:error', (value) => errors.push(value))
const logger = pino(transport)

const chunk = Math.max(1, Math.round(Number(rate) / 20))
const started = Date.now()
for (let i = 0; i < N; i += chunk) {
  for (let j = i; j < Math.min(N, i + chunk); j++)
    logger.info({ i: j, payload: 'x'.repeat(64) }, `record ${j}`)
  // Pace: chunk every 50 ms.
  const due = started + ((i + chunk) / chunk) * 50
  await new Promise((resolve) =>
    setTimeout(resolve, Math.max(0, due - Date.now())),
  )
}
// logger.flush() waits for delivery without pino's 10 s end() limit; then end.
await new Promise((resolve, reject) =>
  logger.flush((error) => (error ? reject(error) : resolve())),
)
transport.ref()
await new Promise((resolve) => {
  transport.once('close', resolve)
  transport.end()
})
const seconds = (Date.now() - started) / 1000
process.stdout.write(
  JSON.stringify({
    stats: stats?.experiments?.[prefix]?.remote,
    errors,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    pid: process.pid,
    seconds,
  }) + '\n',
)
