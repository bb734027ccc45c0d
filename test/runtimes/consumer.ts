// A TypeScript project's use of every entry point, type-checked (not run)
// by scripts/test-runtimes.mjs with `module: node16` and with
// `moduleResolution: bundler`: the declarations the package ships must
// give these types, and refuse the mistakes marked @ts-expect-error.
import {
  LoggerProvider,
  SimpleLogRecordProcessor,
} from '@opentelemetry/sdk-logs'
import pino from 'pino'
import winston from 'winston'
import type {
  ChannelReport,
  ExperimentStatus,
  Level,
  MlDashOptions,
} from 'ml-dash-logs'
import { Experiment, isMlDashError, LEVELS } from 'ml-dash-logs'
import { MlDashLogRecordExporter } from 'ml-dash-logs/otel'
import type { PinoTransportOptions } from 'ml-dash-logs/pino'
import { createPinoDestination } from 'ml-dash-logs/pino'
import { startReceiver } from 'ml-dash-logs/receiver'
import { startTestServer } from 'ml-dash-logs/testing'
import { MlDashTransport } from 'ml-dash-logs/winston'

const options: MlDashOptions = { prefix: 'alice/typed/run', dashRoot: '.dash' }
const level: Level = LEVELS[0]
const status: ExperimentStatus = 'COMPLETED'

export async function typed(): Promise<ChannelReport> {
  const exp = await new Experiment(options).start()
  exp.log('typed', { level, metadata: { step: 1 } })
  exp.logs.warn('typed', { step: 2 })
  // @ts-expect-error: not one of the five levels
  const wrong: Level = 'warning'
  void wrong

  // The typed pino options pattern: the target's options are checked.
  const transport = pino.transport<PinoTransportOptions>({
    target: 'ml-dash-logs/pino',
    options: { prefix: 'alice/typed/pino', flushIntervalMs: 100 },
  })
  pino(transport).info('typed')
  pino(createPinoDestination(options)).info('typed')
  pino.transport<PinoTransportOptions>({
    target: 'ml-dash-logs/pino',
    // @ts-expect-error: flushIntervalMs is a number of milliseconds
    options: { prefix: 'alice/typed/pino', flushIntervalMs: '100' },
  })

  winston
    .createLogger({ transports: [new MlDashTransport(options)] })
    .info('typed')
  new LoggerProvider({
    processors: [
      new SimpleLogRecordProcessor({
        exporter: new MlDashLogRecordExporter(options),
      }),
    ],
  })
  const receiver = await startReceiver({ port: 0, prefix: 'alice/typed/otlp' })
  await receiver.close()
  const server = await startTestServer()
  await server.close()
  try {
    return await exp.close(status)
  } catch (error) {
    if (isMlDashError(error)) console.error(error.code)
    throw error
  }
}
