/**
 * The `ml-dash-logs` command. A thin shell over the library:
 * `bin/ml-dash-logs.cjs` calls {@link runCli} with the process's streams.
 *
 * Pipe mode (the default when `--prefix` or `ML_DASH_PREFIX` is given):
 * reads pino NDJSON from standard input, the way pino's classic transports
 * work (`node app.js | ml-dash-logs --prefix alice/proj/run`), and exits
 * after delivering everything at the end of input. A line that is not JSON
 * is kept as an info entry. Exit code 0 when everything was delivered, 1
 * when something was not (the counts go to standard error), 2 for usage.
 */
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import type { MlDashOptions } from '../core/options.js'
import type { SinkStats } from '../delivery/sink.js'
import { createPinoDestination } from '../pino/destination.js'

/** The `--help` text. */
export const USAGE = `Usage: ml-dash-logs [options]            read pino NDJSON from stdin
       ml-dash-logs --help | --version

Pipe a program's pino output into an ml-dash experiment:
  node app.js | ml-dash-logs --prefix alice/project/run-7

Options:
  --prefix <owner/project/name>  experiment (default: env ML_DASH_PREFIX)
  --dash-root <dir>              local store root (default: .dash)
  --no-local                     no local store (needs --dash-url)
  --dash-url <url>               also send to this ml-dash server
                                 (token: env ML_DASH_TOKEN or \`ml-dash login\`)
  -h, --help                     show this help
  -v, --version                  show the version
`

/** The streams and environment the CLI runs with (injected for tests). */
export interface CliIo {
  stdin: NodeJS.ReadableStream
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  env: Readonly<Record<string, string | undefined>>
  version: string
}

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
  prefix: { type: 'string' },
  'dash-root': { type: 'string' },
  'no-local': { type: 'boolean' },
  'dash-url': { type: 'string' },
} as const

/** Parses argv (without node and script) into library options. @throws Error for bad usage. */
export function parseCliArgs(argv: readonly string[]): {
  command: 'help' | 'version' | 'pipe'
  options: MlDashOptions
} {
  const { values } = parseArgs({
    args: [...argv],
    options: OPTIONS,
    allowPositionals: false,
  })
  if (values.help) return { command: 'help', options: {} }
  if (values.version) return { command: 'version', options: {} }
  const options: MlDashOptions = {}
  if (values.prefix !== undefined) options.prefix = values.prefix
  if (values['dash-root'] !== undefined) options.dashRoot = values['dash-root']
  if (values['no-local']) options.dashRoot = false
  if (values['dash-url'] !== undefined) options.dashUrl = values['dash-url']
  return { command: 'pipe', options }
}

/** Runs the CLI; resolves to the exit code. */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  let parsed: ReturnType<typeof parseCliArgs>
  try {
    parsed = parseCliArgs(argv)
  } catch (error) {
    io.stderr.write(`ml-dash-logs: ${(error as Error).message}\n\n${USAGE}`)
    return 2
  }
  if (parsed.command === 'help') {
    io.stdout.write(USAGE)
    return 0
  }
  if (parsed.command === 'version') {
    io.stdout.write(`${io.version}\n`)
    return 0
  }
  if (parsed.options.prefix === undefined && !io.env.ML_DASH_PREFIX) {
    io.stderr.write(
      `ml-dash-logs: --prefix is required (or env ML_DASH_PREFIX)\n\n${USAGE}`,
    )
    return 2
  }
  return pipe(parsed.options, io)
}

async function pipe(options: MlDashOptions, io: CliIo): Promise<number> {
  let destination: ReturnType<typeof createPinoDestination>
  try {
    destination = createPinoDestination(options)
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n`)
    return 2
  }
  for await (const line of createInterface({
    input: io.stdin,
    crlfDelay: Infinity,
  })) {
    destination.write(line)
  }
  await new Promise((resolve) => {
    destination.once('close', resolve)
    destination.end()
  })
  const undelivered = Object.entries(destination.stats.experiments).flatMap(
    ([prefix, stores]) =>
      Object.entries<SinkStats | undefined>({ ...stores }).flatMap(
        ([store, stats]) =>
          stats !== undefined &&
          stats.delivered < stats.accepted + stats.dropped
            ? [
                `${prefix} (${store}): ${stats.failed} failed, ${stats.dropped} dropped of ${stats.accepted + stats.dropped}`,
              ]
            : [],
      ),
  )
  for (const line of undelivered)
    io.stderr.write(`ml-dash-logs: not delivered: ${line}\n`)
  return undelivered.length === 0 ? 0 : 1
}
