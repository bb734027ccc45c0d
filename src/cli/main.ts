/**
 * The `ml-dash-logs` command. A thin shell over the library: this version
 * prints help and the version; `serve`, the stdin pipe and `logs` come with
 * the receiver and adapters. `bin/ml-dash-logs.cjs` calls {@link runCli}.
 */
import { parseArgs } from 'node:util'

/** The `--help` text. */
export const USAGE = `Usage: ml-dash-logs [--help] [--version]

Bridges Node logs (pino, winston, OpenTelemetry) into ml-dash experiments.
Library use: import { Experiment } from 'ml-dash-logs'.

Options:
  -h, --help     show this help
  -v, --version  show the version
`

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export function runCli(
  argv: readonly string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
  version: string,
): number {
  let values: { help?: boolean; version?: boolean }
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      options: {
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
      allowPositionals: false,
    }))
  } catch (error) {
    err.write(`ml-dash-logs: ${(error as Error).message}\n\n${USAGE}`)
    return 2
  }
  if (values.version) {
    out.write(`${version}\n`)
    return 0
  }
  out.write(USAGE)
  return 0
}
