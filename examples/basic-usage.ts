// ml-dash Logging page, "Basic Usage".
import { Experiment } from 'ml-dash-logs'

await new Experiment({ prefix: 'alice/project/my-experiment' }).run((exp) => {
  exp.log('Training started')
  exp.log('Model architecture: ResNet-50', { level: 'info' })
  exp.log('GPU memory low', { level: 'warn' })
  exp.log('Failed to load checkpoint', { level: 'error' })
})
