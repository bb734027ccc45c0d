// pino → ml-dash: one transport target. First into the local store, then to
// an ml-dash server (here the in-memory test server, so this runs anywhere;
// point dashUrl at https://api.dash.ml and drop `token` after `ml-dash login`).
import pino from 'pino'
import type { PinoTransportOptions } from 'ml-dash-logs/pino'
import { signTestToken, startTestServer } from 'ml-dash-logs/testing'

function logSome(logger: pino.Logger): void {
  logger.info('data loader started')
  const shard = logger.child({ shard: 3 })
  shard.warn({ latency_ms: 812 }, 'slow shard')
  shard.error({ err: new Error('checksum mismatch') }, 'shard skipped')
  // A record can name another experiment.
  logger
    .child({ 'ml_dash.prefix': 'alice/loader/run-8' })
    .info('for the next run')
}

/** logger.flush(cb) waits until the transport has delivered what was logged. */
function flushed(logger: pino.Logger): Promise<void> {
  return new Promise((resolve, reject) =>
    logger.flush((error) => (error ? reject(error) : resolve())),
  )
}

// 1. The local store: .dash/alice/loader/run-7/logs/logs.jsonl
// pino.transport<PinoTransportOptions> type-checks the target's options.
const local = pino(
  pino.transport<PinoTransportOptions>({
    target: 'ml-dash-logs/pino',
    options: { prefix: 'alice/loader/run-7' },
  }),
)
logSome(local)
await flushed(local)
console.log('pino → .dash/alice/loader/run-7/logs/logs.jsonl')

// 2. An ml-dash server.
const server = await startTestServer()
const options: PinoTransportOptions = {
  prefix: 'alice/loader/run-7',
  dashUrl: server.url,
  token: signTestToken({ username: 'alice' }),
  dashRoot: false,
}
const remote = pino(
  pino.transport<PinoTransportOptions>({
    target: 'ml-dash-logs/pino',
    options,
  }),
)
logSome(remote)
await flushed(remote)
console.log(
  `pino → server: ${server.experiment('alice/loader/run-7')?.logs.length} entries in alice/loader/run-7`,
)
await server.close()
// On exit pino ends both transports; each delivers what is left and closes.
