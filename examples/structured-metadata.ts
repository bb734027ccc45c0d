// ml-dash Logging page, "Structured Metadata".
import { Experiment } from 'ml-dash-logs'

await new Experiment({ prefix: 'alice/project/structured-metadata' }).run(
  (exp) => {
    exp.log('Epoch completed', {
      level: 'info',
      metadata: {
        epoch: 5,
        train_loss: 0.234,
        val_loss: 0.456,
        learning_rate: 0.001,
      },
    })
    exp.log('System status', {
      level: 'info',
      metadata: { gpu_memory: '8GB', cpu_percent: 45.2 },
    })
  },
)
