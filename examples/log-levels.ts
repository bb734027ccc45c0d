// ml-dash Logging page, "Log Levels": all five.
import { Experiment } from 'ml-dash-logs'

await new Experiment({ prefix: 'alice/project/log-levels' }).run((exp) => {
  exp.log('Detailed debugging info', { level: 'debug' })
  exp.log('Training epoch 1', { level: 'info' })
  exp.log('Learning rate decreased', { level: 'warn' })
  exp.log('Gradient exploded', { level: 'error' })
  exp.log('Out of memory - aborting', { level: 'fatal' })
})
