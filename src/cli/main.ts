/**
 * The `ml-dash-logs` command. A thin shell over the library:
 * `bin/ml-dash-logs.cjs` calls {@link runCli} with the process's streams.
 *
 * `serve` and `logs` are in ./commands.ts. Pipe mode (no command):
 * reads pino NDJSON from standard input, the way pino's classic transports
 * work (`node app.js | ml-dash-logs --prefix alice/proj/run`), and exits
 * after delivering everything at the end of input, echoing the input to
 * standard output unless `--no-stdout`. A line that is not JSON
 * is kept as an info entry. Flags are checked per command. Exit code 0 when everything was delivered, 1
 * when something was not (the counts go to standard error), 2 for usage.
 */
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { isLevel, LEVELS_BY_SEVERITY } from '../core/levels.js'
import type { MlDashOptions } from '../core/options.js'
import { nearestName } from '../core/options.js'
import type { SinkStats } from '../delivery/sink.js'
import { TOKEN_HELP } from '../store/remote/token.js'
import { createPinoDestination } from '../pino/destination.js'
import { LineSplitter } from '../pino/line-splitter.js'
import type {
  CommandIo,
  LogsOptions,
  ServeOptions,
  SyncOptions,
} from './commands.js'
import { onStopSignals, printLogs, serve, sync } from './commands.js'

/** The `--help` text. */
export const USAGE = `Usage: ml-dash-logs [options]               read pino NDJSON from stdin
       ml-dash-logs serve [options]         OTLP/HTTP logs receiver
       ml-dash-logs logs <prefix> [options] print an experiment's logs
       ml-dash-logs sync [options]          send what outboxes of ended processes hold
       ml-dash-logs --help | --version

  node app.js | ml-dash-logs --prefix alice/project/run-7
  ml-dash-logs serve --port 4318 --prefix alice/project/collected
  ml-dash-logs logs alice/project/run-7 --level warn,error --follow

The stdin pipe and serve:
  --prefix <owner/project/name>  experiment (default: env ML_DASH_PREFIX);
                                 for serve, where records without
                                 ml_dash.prefix go
  --dash-root <dir>              local store root (default: .dash)
  --no-local                     no local store (needs --dash-url)
  --dash-url <url>               also send to this ml-dash server
                                 (token: env ML_DASH_TOKEN or \`ml-dash login\`)
  --close-timeout <ms>           at the end, how long to wait for delivery
                                 (default: 10000)
The stdin pipe:
  --no-stdout                    do not echo the input to stdout
serve:
  --port <n>                     port (default: 4318)
  --host <address>               address (default: 127.0.0.1)
  --auth-token-file <path>       require Authorization: Bearer <token>, the
                                 token read from this file (or from env
                                 ML_DASH_RECEIVER_TOKEN, which a flag
                                 overrides; --auth-token <token>
                                 also works, but every user of the machine
                                 can read a command line)
logs:
  --dash-root <dir>              read this local store (default: .dash)
  --dash-url <url>               read from this ml-dash server instead
                                 (the same token sources)
  --level <list>                 only these levels, e.g. warn,error
  --json                         print the stored lines as they are
  --follow                       keep printing new entries
sync:
  --dash-url <url>               the server (default: as dashUrl: true, env
                                 ML_DASH_API_URL, config.json remote_url)
  --dash-root <dir>              send the outboxes kept beside this store
                                 (default: the user's cache folder)
  --spool-dir <dir>              send the outboxes kept in this folder

  -h, --help                     show this help
  -v, --version                  show the version
`

/** The streams and environment the CLI runs with (injected for tests). */
export interface CliIo extends CommandIo {
  stdin: NodeJS.ReadableStream
  env: Readonly<Record<string, string | undefined>>
  version: string
}

type Flag = { type: 'string' | 'boolean'; short?: string; multiple?: boolean }

const COMMON = {
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const satisfies Record<string, Flag>

/** The flags that write an experiment (the pipe and serve). */
const WRITING = {
  prefix: { type: 'string' },
  'dash-root': { type: 'string' },
  'no-local': { type: 'boolean' },
  'dash-url': { type: 'string' },
  'close-timeout': { type: 'string' },
} as const satisfies Record<string, Flag>

/** Each command's flags; a flag of another command is an error naming it. */
const COMMAND_FLAGS = {
  pipe: { ...COMMON, ...WRITING, 'no-stdout': { type: 'boolean' } },
  serve: {
    ...COMMON,
    ...WRITING,
    port: { type: 'string' },
    host: { type: 'string' },
    'auth-token': { type: 'string' },
    'auth-token-file': { type: 'string' },
  },
  logs: {
    ...COMMON,
    'dash-root': { type: 'string' },
    'dash-url': { type: 'string' },
    level: { type: 'string', multiple: true },
    json: { type: 'boolean' },
    follow: { type: 'boolean' },
  },
  sync: {
    ...COMMON,
    'dash-url': { type: 'string' },
    'dash-root': { type: 'string' },
    'spool-dir': { type: 'string' },
  },
} as const satisfies Record<string, Record<string, Flag>>
type CommandName = keyof typeof COMMAND_FLAGS

/** Every flag of any command: the first pass, which finds the command. */
const ALL_FLAGS: Record<string, Flag> = Object.assign(
  {},
  ...Object.values(COMMAND_FLAGS),
) as Record<string, Flag>

/** A parsed command line. */
export type CliCommand =
  | { command: 'help' | 'version' }
  | { command: 'pipe'; options: PipeOptions }
  | { command: 'serve'; options: ServeOptions }
  | { command: 'logs'; options: LogsOptions }
  | { command: 'sync'; options: Omit<SyncOptions, 'env' | 'tty'> }

/** The pipe's options: the library's, and whether input is echoed. */
export interface PipeOptions extends MlDashOptions {
  /** Echo the input to standard output (`--no-stdout`: off). @default true */
  stdout: boolean
}

/**
 * The first word that names a command: in the first pass an unknown flag
 * is taken as a boolean, so its value (`--prot 4318 serve`) may come first.
 */
function commandOf(positionals: readonly string[]): CommandName {
  const named = positionals.find(
    (word): word is CommandName =>
      word !== 'pipe' && Object.hasOwn(COMMAND_FLAGS, word),
  )
  return named ?? 'pipe'
}

function commandLabel(command: CommandName): string {
  return command === 'pipe' ? 'the stdin pipe' : `\`${command}\``
}

/**
 * node:util's parse, twice: with every command's flags, to find the command
 * (a flag's value is never taken for it), then with that command's own, so
 * that a flag of another command is named as such and an unknown one gets
 * the nearest known name.
 */
function parseFlags(argv: readonly string[]) {
  const args = [...argv]
  let words: string[] = []
  try {
    words = parseArgs({
      args,
      options: ALL_FLAGS,
      allowPositionals: true,
      strict: false,
    }).positionals
  } catch {
    // A value missing at the end: the second pass says so.
  }
  const command = commandOf(words)
  const own: Record<string, Flag> = COMMAND_FLAGS[command]
  let parsed: ReturnType<
    typeof parseArgs<{
      options: Record<string, Flag>
      allowPositionals: true
      tokens: true
    }>
  >
  try {
    parsed = parseArgs({
      args,
      options: own,
      allowPositionals: true,
      tokens: true,
    })
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    const message = (error as Error).message
    // node:util names the flag only in its message.
    const flag = /'(--?[^'\s=<]+)/.exec(message)?.[1]
    if (code !== 'ERR_PARSE_ARGS_UNKNOWN_OPTION' || flag === undefined)
      throw usageError(parseProblem(message, flag), error)
    const name = flag.replace(/^--?/, '')
    const owners = (Object.keys(COMMAND_FLAGS) as CommandName[]).filter(
      (other) => Object.hasOwn(COMMAND_FLAGS[other], name),
    )
    if (command === 'logs' && name === 'prefix')
      throw usageError(
        '`logs` takes the prefix as its argument: ml-dash-logs logs <owner/project/name>',
        error,
      )
    if (owners.length > 0)
      throw usageError(
        `${flag} is not an option of ${commandLabel(command)} (it is one of ${owners.map(commandLabel).join(' and ')})`,
        error,
      )
    const nearest = nearestName(name, Object.keys(own))
    throw usageError(
      nearest === undefined
        ? `unknown option ${flag} for ${commandLabel(command)}`
        : `unknown option ${flag} (did you mean --${nearest}?)`,
      error,
    )
  }
  // node:util keeps the last of a repeated flag: refuse the repeat instead
  // (`--prefix a/b/c --prefix a/b/d` would write only one of them).
  const seen = new Set<string>()
  for (const token of parsed.tokens)
    if (token.kind === 'option' && own[token.name]?.multiple !== true) {
      if (seen.has(token.name))
        throw usageError(`--${token.name} is given twice: give it once`)
      seen.add(token.name)
    }
  return { command, values: parsed.values, positionals: parsed.positionals }
}

/** node:util's sentence about a flag's value, in the CLI's words. */
function parseProblem(message: string, flag: string | undefined): string {
  if (flag !== undefined && /argument missing/.test(message))
    return `${flag} needs a value`
  if (flag !== undefined && /argument is ambiguous/.test(message))
    return `${flag} needs a value, and what follows it is a flag (write ${flag}=<value> for a value that starts with "-")`
  if (flag !== undefined && /does not take an argument/.test(message))
    return `${flag} takes no value`
  return message.replace(/\.$/, '').split('. ')[0]!
}

/** A usage mistake: exit code 2, one sentence. */
class UsageError extends Error {}

function usageError(message: string, cause?: unknown): UsageError {
  return new UsageError(message, cause === undefined ? undefined : { cause })
}

/** Parses argv (without node and script). @throws Error for bad usage. */
export function parseCliArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = {},
): CliCommand {
  const parsed = parseFlags(argv)
  const values = parsed.values as Record<string, string | boolean | undefined>
  const text = (name: string): string | undefined =>
    values[name] as string | undefined
  if (values.help) return { command: 'help' }
  if (values.version) return { command: 'version' }
  const positionals = parsed.positionals
  const options: MlDashOptions = {}
  if (text('prefix') !== undefined) options.prefix = text('prefix')
  if (text('dash-root') !== undefined) options.dashRoot = text('dash-root')
  if (values['no-local']) options.dashRoot = false
  if (text('dash-url') !== undefined) options.dashUrl = text('dash-url')
  if (text('close-timeout') !== undefined)
    options.closeTimeoutMs = wholeNumber(
      '--close-timeout',
      text('close-timeout')!,
      86_400_000,
      'takes milliseconds, 0 to 86400000',
    )
  if (parsed.command !== 'pipe' && positionals[0] !== parsed.command)
    throw usageError(
      `unexpected ${JSON.stringify(positionals[0])} before the command ${parsed.command}`,
    )
  const extra = (from: number): void => {
    if (positionals.length > from)
      throw usageError(
        from === 2
          ? `\`logs\` takes one prefix; ${JSON.stringify(positionals[from])} is one too many`
          : `${commandLabel(parsed.command)} takes no argument ${JSON.stringify(positionals[from])}`,
      )
  }
  switch (parsed.command) {
    case 'serve': {
      extra(1)
      const serveOptions: ServeOptions = { ...options }
      if (text('port') !== undefined)
        serveOptions.port = wholeNumber(
          '--port',
          text('port')!,
          65_535,
          'must be 0 to 65535',
        )
      if (text('host') !== undefined) serveOptions.host = text('host')
      const authToken = receiverToken(
        text('auth-token'),
        text('auth-token-file'),
        env,
      )
      if (authToken !== undefined) serveOptions.authToken = authToken
      return { command: 'serve', options: serveOptions }
    }
    case 'sync': {
      extra(1)
      const syncOptions: Omit<SyncOptions, 'env' | 'tty'> = {}
      if (text('dash-url') !== undefined) syncOptions.dashUrl = text('dash-url')
      if (text('dash-root') !== undefined)
        syncOptions.dashRoot = text('dash-root')
      if (text('spool-dir') !== undefined)
        syncOptions.spoolDir = text('spool-dir')
      if (
        syncOptions.dashRoot !== undefined &&
        syncOptions.spoolDir !== undefined
      )
        throw usageError(
          'give --dash-root or --spool-dir, not both (the outboxes are beside a store, or in a folder of their own)',
        )
      return { command: 'sync', options: syncOptions }
    }
    case 'logs': {
      extra(2)
      const prefix = positionals[1]
      if (prefix === undefined)
        throw usageError(
          "`logs` needs the experiment's prefix: ml-dash-logs logs <owner/project/name>",
        )
      const logs: LogsOptions = {
        prefix,
        dashRoot: text('dash-root') ?? '.dash',
        json: values.json === true,
        follow: values.follow === true,
      }
      if (text('dash-url') !== undefined) logs.dashUrl = text('dash-url')
      const levels = values.level as unknown as string[] | undefined
      if (levels !== undefined) logs.levels = levelList(levels.join(','))
      return { command: 'logs', options: logs }
    }
    case 'pipe':
      if (positionals.length > 0)
        throw usageError(
          `unknown command ${JSON.stringify(positionals[0])} (the commands are serve, logs and sync; with none, stdin is read)`,
        )
      return {
        command: 'pipe',
        options: { ...options, stdout: values['no-stdout'] !== true },
      }
  }
}

/** `--level warn,error`: each one of the five levels, in any case. */
function levelList(text: string): string[] {
  const levels = text.split(',').map((level) => level.trim().toLowerCase())
  for (const level of levels) {
    if (isLevel(level)) continue
    // `warning`, `err`: a level the word starts with, or that starts with it.
    const nearest =
      LEVELS_BY_SEVERITY.find(
        (known) =>
          level.startsWith(known) || (level !== '' && known.startsWith(level)),
      ) ?? nearestName(level, LEVELS_BY_SEVERITY)
    throw usageError(
      `--level ${JSON.stringify(level)} is not a level${nearest === undefined ? '' : ` (did you mean ${nearest}?)`}: give a comma list of ${LEVELS_BY_SEVERITY.join(', ')}`,
    )
  }
  return levels
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

/**
 * A number flag: decimal digits only ('' from an unset $PORT, 0x10 or 1e3
 * would pass Number()), 0 to `max`; `range` says so in the error.
 */
function wholeNumber(
  flag: string,
  text: string,
  max: number,
  range: string,
): number {
  const value = /^\d{1,9}$/.test(text) ? Number(text) : NaN
  if (!(value <= max))
    throw usageError(`${flag} ${range} (got ${JSON.stringify(text)})`)
  return value
}

/** Where a usage mistake's sentence sends the user. */
const HELP_HINT = 'ml-dash-logs --help shows every command and option'

/** Runs the CLI; resolves to the exit code. */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
): Promise<number> {
  let parsed: CliCommand | undefined
  ignoreClosedStdout(io.stdout, io.stderr, () => parsed?.command === 'pipe')
  try {
    parsed = parseCliArgs(argv, io.env)
  } catch (error) {
    io.stderr.write(
      error instanceof UsageError
        ? `ml-dash-logs: ${error.message}\n${HELP_HINT}\n`
        : `ml-dash-logs: ${(error as Error).message}\n`,
    )
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
          `ml-dash-logs: --prefix is required (or env ML_DASH_PREFIX)\n${HELP_HINT}\n`,
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
 * stdout is no longer writable, and exit 0). Any other write error (a
 * terminal gone, EIO; a full disk under `> out.log`) is said once on
 * stderr, and stdout is written no more: the pipe goes on storing.
 */
function ignoreClosedStdout(
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream,
  piping: () => boolean,
): void {
  let said = false
  stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || said) return
    said = true
    stderr.write(
      `ml-dash-logs: cannot write to stdout (${error.code ?? error.message}): nothing more is printed there${piping() ? ', and the input is still stored' : ''}\n`,
    )
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
    if (parsed.command === 'serve') return await serve(parsed.options, io)
    const color =
      (io.stdout as { isTTY?: boolean }).isTTY === true &&
      (io.env.NO_COLOR ?? '') === '' &&
      io.env.TERM !== 'dumb'
    return await printLogs({ ...parsed.options, color, env: io.env }, io)
  } catch (error) {
    io.stderr.write(`${cliMessage(error, parsed)}\n`)
    return 2
  }
}

/** The library's option names, as the CLI's flags. */
const OPTION_FLAGS: readonly (readonly [RegExp, string])[] = [
  [/\bdashRoot is false\b/g, '--no-local is given'],
  [/\bdashUrl\b/g, '--dash-url'],
  [/\bdashRoot\b/g, '--dash-root'],
  [/\bcloseTimeoutMs\b/g, '--close-timeout'],
  [/\bspoolDir\b/g, '--spool-dir'],
]

const NETWORK_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'nothing listens there (connection refused)',
  ENOTFOUND: 'its host name does not resolve',
  EAI_AGAIN: 'its host name does not resolve (DNS did not answer)',
  EHOSTUNREACH: 'the host cannot be reached',
  ENETUNREACH: 'the network cannot be reached',
}

/**
 * A failure of a command as one sentence in the CLI's words: the flags a
 * user typed rather than the library's option names, the CLI's own ways to
 * give a token, a busy port or a server out of reach said plainly. What it
 * cannot say better (a timeout, TLS, a proxy) is left as the library says it.
 */
function cliMessage(error: unknown, parsed: CliCommand): string {
  const failure = error as Error & { code?: string; cause?: unknown }
  const lower = (failure.cause ?? {}) as { code?: string }
  const code = failure.code?.startsWith('ML_DASH_') ? failure.code : undefined
  if (parsed.command === 'serve' && lower.code === 'EADDRINUSE') {
    const { host = '127.0.0.1', port = 4318 } = parsed.options
    return `ml-dash-logs: ${host}:${port} is in use by another program: give serve another --port (0 takes any free one) [ML_DASH_CONFIG]`
  }
  const reason = NETWORK_REASONS[lower.code ?? '']
  const given =
    'options' in parsed && 'dashUrl' in parsed.options
      ? parsed.options.dashUrl
      : undefined
  const url = /\b(https?:\/\/[^/\s]+)/.exec(failure.message)?.[1]
  if (
    reason !== undefined &&
    url !== undefined &&
    !/\bproxy\b/i.test(failure.message)
  ) {
    const flag = given === undefined ? '' : ' (--dash-url)'
    return `ml-dash-logs: cannot reach the ml-dash server at ${url}${flag}: ${reason} [${code ?? 'ML_DASH_NETWORK'}]`
  }
  let message = failure.message.replace(TOKEN_HELP, CLI_TOKEN_HELP)
  for (const [option, flag] of OPTION_FLAGS)
    message = message.replace(option, flag)
  const prefix = message.startsWith('ml-dash-logs: ') ? '' : 'ml-dash-logs: '
  return `${prefix}${message}${code === undefined || message.endsWith(']') ? '' : ` [${code}]`}`
}

/** How to give the CLI a token (it has no token flag). */
const CLI_TOKEN_HELP = 'run `ml-dash login`, or set ML_DASH_TOKEN'

/**
 * A line of the pipe's input is kept up to this many characters; the rest
 * of a longer one is skipped (a stored entry holds at most 32 768
 * characters of message and 256 KiB of metadata anyway), so that input
 * without newlines costs bounded memory.
 */
const MAX_PIPE_LINE = 8 * 1024 * 1024

/** Resolves once `output` drains, errors or closes. */
function drained(output: NodeJS.WritableStream): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      output.off('drain', done)
      output.off('error', done)
      output.off('close', done)
      resolve()
    }
    output.once('drain', done)
    output.once('error', done)
    output.once('close', done)
  })
}

/** The library's default `closeTimeoutMs`, the pipe's wait for its input after a signal. */
const CLOSE_TIMEOUT_MS = 10_000

/**
 * Ctrl-C reaches the app and this pipe at once (one process group), and the
 * app's last lines, its shutdown messages, are still on their way. So the
 * first SIGINT or SIGTERM lets the input run to its end, for at most the
 * close deadline; a second one ends it at once. Everything read is
 * delivered. `cut()` says whether the input was ended that way.
 */
function untilInputEnds(
  io: CliIo,
  deadlineMs: number,
): { cut(): boolean; done(): void } {
  let received = 0
  let cut = false
  let timer: NodeJS.Timeout | undefined
  const stop = (): void => {
    cut = true
    ;(io.stdin as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.()
  }
  const off = onStopSignals(io.signals, () => {
    received += 1
    if (received > 1) return stop()
    timer = setTimeout(stop, deadlineMs)
    timer.unref()
  })
  return {
    cut: () => cut,
    done: () => {
      clearTimeout(timer)
      off()
    },
  }
}

async function pipe(
  { stdout, ...options }: PipeOptions,
  io: CliIo,
): Promise<number> {
  let destination: ReturnType<typeof createPinoDestination>
  try {
    destination = createPinoDestination(options)
  } catch (error) {
    io.stderr.write(
      `${cliMessage(error, { command: 'pipe', options: { ...options, stdout } })}\n`,
    )
    return 2
  }
  // Each chunk is stored, then echoed to stdout byte for byte, as
  // pino-loki and pino-elasticsearch do; a slow reader holds the input
  // back. A reader that stops (`| head -1`: EPIPE) stops only the echo.
  const lines = new LineSplitter(
    (line) => destination.write(line),
    MAX_PIPE_LINE,
  )
  const signals = untilInputEnds(io, options.closeTimeoutMs ?? CLOSE_TIMEOUT_MS)
  try {
    try {
      for await (const chunk of io.stdin as AsyncIterable<Buffer | string>) {
        lines.write(chunk)
        if (stdout && io.stdout.writable && !io.stdout.write(chunk))
          await drained(io.stdout)
      }
    } catch (error) {
      // The input ended by a second signal or the deadline after the first.
      if (!signals.cut()) throw error
    }
    lines.end()
    await new Promise((resolve) => {
      destination.once('close', resolve)
      destination.end()
    })
  } finally {
    signals.done()
  }
  const undelivered = Object.entries(destination.stats.experiments).flatMap(
    ([prefix, stores]) =>
      Object.entries<SinkStats | undefined>({ ...stores }).flatMap(
        ([store, stats]) =>
          stats !== undefined &&
          stats.delivered < stats.accepted + stats.dropped
            ? [
                `${prefix} (${store}): ${stats.failed} failed, ${stats.dropped} dropped of ${stats.accepted + stats.dropped}${stats.pending > 0 ? `, ${stats.pending} not sent yet (${store === 'remote' ? 'kept in the outbox, said above' : 'still waiting'})` : ''}`,
              ]
            : [],
      ),
  )
  for (const line of undelivered)
    io.stderr.write(`ml-dash-logs: not delivered: ${line}\n`)
  return undelivered.length === 0 ? 0 : 1
}
