// ml-dash Logging page, "Training loop".
import { Experiment } from 'ml-dash-logs'

/** Stand-ins for a real model: losses that fall with the epoch. */
const trainOneEpoch = (epoch: number) => 1 / (epoch + 1) + Math.random() * 0.01
const validate = (epoch: number) => 1.2 / (epoch + 1) + Math.random() * 0.01

await new Experiment({ prefix: 'alice/ml/mnist-training' }).run((exp) => {
  exp.log('Starting training', { level: 'info' })
  for (let epoch = 0; epoch < 10; epoch++) {
    const trainLoss = trainOneEpoch(epoch)
    const valLoss = validate(epoch)
    exp.log(`Epoch ${epoch + 1} complete`, {
      level: 'info',
      metadata: { epoch: epoch + 1, train_loss: trainLoss, val_loss: valLoss },
    })
  }
  exp.log('Training complete', { level: 'info' })
})
