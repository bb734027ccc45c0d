// ml-dash Logging page, "Error tracking". The operation fails on purpose;
// the error is logged, and run() closes the experiment as FAILED and rethrows.
import { Experiment } from 'ml-dash-logs'

function riskyOperation(): never {
  throw new RangeError('checkpoint shard 3 is missing')
}

try {
  await new Experiment({ prefix: 'alice/project/error-tracking' }).run(
    (exp) => {
      try {
        riskyOperation()
        exp.log('Operation succeeded', { level: 'info' })
      } catch (error) {
        const e = error as Error
        exp.log(`Operation failed: ${e.message}`, {
          level: 'error',
          metadata: { error_type: e.name, error_message: e.message, error: e },
        })
        throw e
      }
    },
  )
} catch (error) {
  console.log(
    `error-tracking: logged and rethrown as expected: ${(error as Error).message}`,
  )
}
