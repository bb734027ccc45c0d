// ml-dash Logging page, "Progress tracking".
import { Experiment } from 'ml-dash-logs'

const processItem = (i: number) => i * i

await new Experiment({ prefix: 'alice/etl/data-processing' }).run((exp) => {
  const total = 10000
  exp.log(`Processing ${total} items`, { level: 'info' })
  for (let i = 0; i < total; i++) {
    processItem(i)
    if ((i + 1) % (total / 10) === 0) {
      const percent = ((i + 1) / total) * 100
      exp.log(`Progress: ${percent.toFixed(0)}%`, {
        level: 'info',
        metadata: { processed: i + 1, total },
      })
    }
  }
  exp.log('Processing complete', { level: 'info' })
})
