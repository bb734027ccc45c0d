/**
 * The `ml-dash-logs` command. A thin shell over the library:
 * `bin/ml-dash-logs.cjs` calls {@link runCli} with the process's streams.
 *
 * `serve` and `logs` are in ./commands.ts. Pipe mode (no command):
 * reads pino NDJSON from standard input, the way pino's classic transports
 * work (`node app.js | ml-dash-logs --prefix alice/proj/run`), and exits
 * after delivering everything at the end of input. A line that is not JSON
 * is kept as an info entry. Exit code 0 when everything was delivered, 1
 * when something was not (the counts go to standard error), 2 for usage.
 */
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import type { MlDashOptions } from '../core/options.js'
import { nearestName } from '../core/options.js'
import type { SinkStats } from '../delivery/sink.js'
import { createPinoDestination } from '../pino/destination.js'
import type {
  CommandIo,
  LogsOptions,
  ServeOptions,
  SyncOptions,
} from './commands.js'
import { printLogs, serve, sync } from './commands.js'

/** The `--help` text. */
export const USAGE = `Usage: ml-dash-logs [options]               read pino NDJSON from stdin
       ml-dash-logs serve [options]         OTLP/HTTP logs receiver
       ml-dash-logs logs <prefix> [options] print a local experiment's logs
       ml-dash-logs sync [options]          send what outboxes of ended processes hold
       ml-dash-logs --help | --version

  node app.js | ml-dash-logs --prefix alice/project/run-7
  ml-dash-logs serve --port 4318 --prefix alice/project/collected
  ml-dash-logs logs alice/project/run-7 --level warn,error --follow

Options:
  --prefix <owner/project/name>  experiment (default: env ML_DASH_PREFIX);
                                 for serve, where records without
                                 ml_dash.prefix go
  --dash-root <dir>              local store root (default: .dash)
  --no-local                     no local store (needs --dash-url)
  --dash-url <url>               also send to this ml-dash server
                                 (token: env ML_DASH_TOKEN or \`ml-dash login\`)
serve:
  --port <n>                     port (default: 4318)
  --host <address>               address (default: 127.0.0.1)
  --auth-token-file <path>       require Authorization: Bearer <token>, the
                                 token read from this file (or from env
                                 ML_DASH_RECEIVER_TOKEN, which a flag
                                 overrides; --auth-token <token>
                                 also works, but every user of the machine
                                 can read a command line)
sync:
  --dash-url <url>               the server (default: as dashUrl: true, env
                                 ML_DASH_API_URL, config.json remote_url)
  --dash-root <dir>              send the outboxes kept beside this store
                                 (default: the user's cache folder)
  --spool-dir <dir>              send the outboxes kept in this folder
logs:
  --level <list>                 only these levels, e.g. warn,error
  --json                         print the stored lines as they are
  --follow                       keep printing new entries
  -h, --help                     show this help
  -v, --version                  show the version
`

/** The streams and environment the CLI runs with (injected for tests). */
export interface CliIo extends CommandIo {
  stdin: NodeJS.ReadableStream
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
  'spool-dir': { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  'auth-token': { type: 'string' },
  'auth-token-file': { type: 'string' },
  level: { type: 'string' },
  json: { type: 'boolean' },
  follow: { type: 'boolean' },
} as const

/** A parsed command line. */
export type CliCommand =
  | { command: 'help' | 'version' }
  | { command: 'pipe'; options: MlDashOptions }
  | { command: 'serve'; options: ServeOptions }
  | { command: 'logs'; options: LogsOptions }
  | { command: 'sync'; options: Omit<SyncOptions, 'env' | 'tty'> }

/** node:util's parse, with the nearest known flag named for an unknown one. */
function parseFlags(argv: readonly string[]) {
  try {
    return parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: true,
    })
  } catch (error) {
    // node:util names the flag only in its message.
    const unknown =
      (error as NodeJS.ErrnoException).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
    const flag = unknown
      ? /'--?([^']+)'/.exec((error as Error).message)?.[1]
      : undefined
    const nearest =
      flag === undefined ? undefined : nearestName(flag, Object.keys(OPTIONS))
    if (nearest === undefined) throw error
    throw new Error(`unknown option --${flag} (did you mean --${nearest}?)`, {
      cause: error,
    })
  }
}

/** Parses argv (without node and script). @throws Error for bad usage. */
export function parseCliArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): CliCommand {
  const { values, positionals } = parseFlags(argv)
  if (values.help) return { command: 'help' }
  if (values.version) return { command: 'version' }
  const options: MlDashOptions = {}
  if (values.prefix !== undefined) options.prefix = values.prefix
  if (values['dash-root'] !== undefined) options.dashRoot = values['dash-root']
  if (values['no-local']) options.dashRoot = false
  if (values['dash-url'] !== undefined) options.dashUrl = values['dash-url']
  const [command, ...rest] = positionals
  if (command === 'serve' && rest.length === 0) {
    const serveOptions: ServeOptions = { ...options }
    if (values.port !== undefined) serveOptions.port = portNumber(values.port)
    if (values.host !== undefined) serveOptions.host = values.host
    const authToken = receiverToken(
      values['auth-token'],
      values['auth-token-file'],
      env,
    )
    if (authToken !== undefined) serveOptions.authToken = authToken
    return { command: 'serve', options: serveOptions }
  }
  if (command === 'sync' && rest.length === 0) {
    const syncOptions: Omit<SyncOptions, 'env' | 'tty'> = {}
    if (values['dash-url'] !== undefined)
      syncOptions.dashUrl = values['dash-url']
    if (values['dash-root'] !== undefined)
      syncOptions.dashRoot = values['dash-root']
    if (values['spool-dir'] !== undefined)
      syncOptions.spoolDir = values['spool-dir']
    return { command: 'sync', options: syncOptions }
  }
  if (command === 'logs' && rest.length === 1) {
    const dashRoot = values['dash-root'] ?? '.dash'
    const logs: LogsOptions = {
      prefix: rest[0]!,
      dashRoot,
      json: values.json === true,
      follow: values.follow === true,
    }
    if (values.level !== undefined)
      logs.levels = values.level
        .split(',')
        .map((level) => level.trim().toLowerCase())
    return { command: 'logs', options: logs }
  }
  if (command !== undefined)
    throw new Error(`unknown command or arguments: ${positionals.join(' ')}`)
  return { command: 'pipe', options }
}

/**
 * The receiver's token: `--auth-token`, `--auth-token-file` (its first
 * line), or `ML_DASH_RECEIVER_TOKEN`, at most one of the flags; a flag
 * wins over the variable.
 * @throws Error naming the source, never the token
 */
function receiverToken(
  flag: string | undefined,
  file: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  if (flag !== undefined && file !== undefined)
    throw new Error('give --auth-token or --auth-token-file, not both')
  if (flag !== undefined) return flag
  if (file !== undefined) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (error) {
      throw new Error(
        `cannot read --auth-token-file ${file}: ${(error as Error).message}`,
        { cause: error },
      )
    }
    const token = text.split(/\r?\n/)[0]?.trim() ?? ''
    if (token === '')
      throw new Error(
        `--auth-token-file ${file} holds no token on its first line`,
      )
    return token
  }
  const fromEnv = env.ML_DASH_RECEIVER_TOKEN
  // Set but empty would otherwise turn the check off without a word.
  if (fromEnv !== undefined && fromEnv.trim() === '')
    throw new Error(
      'ML_DASH_RECEIVER_TOKEN is set but empty: give it the token, or unset it to run without one',
    )
  return fromEnv
}

function portNumber(text: string): number {
  // Decimal digits only: '' (an unset $PORT) or 0x10 would pass Number().
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be 0 to 65535 (got ${text})`)
  return port
}

/** Runs the CLI; resolves to the exit code. */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  ignoreClosedStdout(io.stdout)
  let parsed: CliCommand
  try {
    parsed = parseCliArgs(argv, io.env)
  } catch (error) {
    io.stderr.write(`ml-dash-logs: ${(error as Error).message}\n\n${USAGE}`)
    return 2
  }
  switch (parsed.command) {
    case 'help':
      io.stdout.write(USAGE)
      return 0
    case 'version':
      io.stdout.write(`${io.version}\n`)
      return 0
    case 'serve':
    case 'logs':
    case 'sync':
      return runCommand(parsed, io)
    case 'pipe':
      if (parsed.options.prefix === undefined && !io.env.ML_DASH_PREFIX) {
        io.stderr.write(
          `ml-dash-logs: --prefix is required (or env ML_DASH_PREFIX)\n\n${USAGE}`,
        )
        return 2
      }
      return pipe(parsed.options, io)
  }
}

/**
 * A reader that stops early (`ml-dash-logs logs … | head -1`) closes the
 * pipe, and the next write fails with EPIPE, emitted as an 'error' event
 * that would crash the command with a stack trace. Stopping is the reader's
 * choice, not a failure: EPIPE is ignored (the commands stop writing once
 * stdout is no longer writable, and exit 0). Other write errors stay loud.
 */
function ignoreClosedStdout(stdout: NodeJS.WritableStream): void {
  stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error
  })
}

async function runCommand(
  parsed: Extract<CliCommand, { command: 'serve' | 'logs' | 'sync' }>,
  io: CliIo,
): Promise<number> {
  try {
    if (parsed.command === 'sync')
      return await sync(
        {
          ...parsed.options,
          env: io.env,
          tty: (io.stderr as { isTTY?: boolean }).isTTY === true,
        },
        io,
      )
    return parsed.command === 'serve'
      ? await serve(parsed.options, io)
      : await printLogs(parsed.options, io)
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n`)
    return 2
  }
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
