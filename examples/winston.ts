// winston → ml-dash: add one transport. Levels, splat, defaultMeta, child
// metadata and errors (with their cause) all arrive as ml-dash entries.
import winston from 'winston'
import { MlDashTransport } from 'ml-dash-logs/winston'

const transport = new MlDashTransport({ prefix: 'alice/evaluator/run-3' })
const logger = winston.createLogger({
  level: 'debug',
  format: winston.format.combine(
    winston.format.errors({ stack: true, cause: true }),
    winston.format.splat(),
  ),
  defaultMeta: { service: 'evaluator' },
  transports: [
    new winston.transports.Console({ format: winston.format.simple() }),
    transport,
  ],
})

logger.info('evaluating %d checkpoints', 3)
const batch = logger.child({ batch: 17 })
batch.debug('batch loaded', { items: 512 })
batch.warn('slow batch', { latency_ms: 950 })
logger.error(
  new Error('metric failed', { cause: new RangeError('empty predictions') }),
)

// In a serverless handler: `await transport.flush()` before returning.
// Here: end the logger; 'finish' comes once everything is delivered.
logger.on('finish', () =>
  console.log('winston → .dash/alice/evaluator/run-3/logs/logs.jsonl'),
)
logger.end()
