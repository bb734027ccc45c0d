// A CommonJS TypeScript module (.cts) of the same project as consumer.ts:
// under `module: node16` its imports resolve to the package's `require`
// declarations (dist/cjs), which must give the same types.
import { Experiment } from 'ml-dash-logs'
import type { ExperimentStatus, MlDashOptions } from 'ml-dash-logs'
import { MlDashLogRecordExporter } from 'ml-dash-logs/otel'
import { createPinoDestination } from 'ml-dash-logs/pino'
import { startReceiver } from 'ml-dash-logs/receiver'
import { MlDashTransport } from 'ml-dash-logs/winston'

const options: MlDashOptions = { prefix: 'alice/typed/cjs' }
const status: ExperimentStatus = 'FAILED'

export async function typedCommonJs(): Promise<void> {
  const exp = await new Experiment(options).start()
  exp.log('typed')
  createPinoDestination(options).write('{"level":30,"msg":"typed"}\n')
  new MlDashTransport(options).close?.()
  await new MlDashLogRecordExporter(options).shutdown()
  await (await startReceiver({ port: 0 })).close()
  await exp.close(status)
}
