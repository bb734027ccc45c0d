import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach } from 'vitest'
import type { EncodedEntry, EntryInput } from '../src/core/entry.js'
import { DEFAULT_ENTRY_LIMITS, encodeEntry } from '../src/core/entry.js'
import type { Router } from '../src/delivery/router.js'
import type { PinoConfig } from '../src/pino/map.js'
import { mapPinoRecord } from '../src/pino/map.js'

/** test/fixtures, for scripts run in child processes. */
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url))

/** The repository's root folder. */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url))

/** A fresh temporary folder and its clean-up. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ml-dash-logs-'))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
}

/**
 * A fresh temporary folder for each test of the file (or `describe`) that
 * calls this: made before the test, removed after it. `lines(prefix)` reads
 * the store lines of an experiment whose store root is that folder.
 */
export function useTempDir(): {
  readonly dir: string
  lines: (prefix: string) => StoredLine[]
} {
  let current: ReturnType<typeof tempDir> | undefined
  beforeEach(() => {
    current = tempDir()
  })
  afterEach(() => {
    current?.remove()
    current = undefined
  })
  const dir = (): string => {
    if (current === undefined) throw new Error('useTempDir: no test is running')
    return current.dir
  }
  return {
    get dir() {
      return dir()
    },
    lines: (prefix) => readLines(join(dir(), prefix, 'logs', 'logs.jsonl')),
  }
}

export interface StoredLine {
  sequenceNumber: number
  timestamp: string
  level: string
  message: string
  metadata?: Record<string, unknown>
}

/** Every line of a logs.jsonl, parsed strictly (throws on a bad line). */
export function readLines(file: string): StoredLine[] {
  const text = readFileSync(file, 'utf8')
  if (text === '') return []
  if (!text.endsWith('\n'))
    throw new Error(`${file} does not end with a newline`)
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as StoredLine)
}

export interface Finished {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

/** Runs a command to its end, collecting its output. */
export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...options,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code, signal) =>
      resolve({ code, signal, stdout, stderr }),
    )
  })
}

/** What a pino line encoder queued, and by which path. */
export interface Queued {
  path: 'spliced' | 'general'
  /** The encoded entry's text. */
  text: string
  /** The same, parsed. */
  entry: Record<string, unknown>
  /** The routed prefix the general path passed on, if any. */
  prefix?: unknown
}

const parseEntry = (text: string) => JSON.parse(text) as Record<string, unknown>

/** A router that records what it is given (only the calls a line encoder makes). */
export function recordingRouter(limits = DEFAULT_ENTRY_LIMITS): {
  router: Router
  queued: Queued[]
} {
  const queued: Queued[] = []
  const router = {
    enqueueEncoded(text: EncodedEntry) {
      queued.push({ path: 'spliced', text, entry: parseEntry(text) })
      return true
    },
    enqueue(input: EntryInput, prefix?: unknown) {
      const text = encodeEntry(input, limits)
      queued.push({ path: 'general', text, entry: parseEntry(text), prefix })
      return true
    },
  } as unknown as Router
  return { router, queued }
}

/**
 * What the pino encoder's general path stores for a JSON line no longer
 * than the limits (JSON.parse, map, encode without a second walk), parsed:
 * the oracle for its fast path.
 */
export function pinoGeneralPathEntry(
  line: string,
  config: PinoConfig = {},
): unknown {
  const { input } = mapPinoRecord(
    JSON.parse(line) as Record<string, unknown>,
    config,
  )
  input.parsedJson = true
  return parseEntry(encodeEntry(input))
}

/** How deep a JSON value's containers nest (a flat object is 1, a scalar 0). */
export function nesting(value: unknown): number {
  return typeof value === 'object' && value !== null
    ? 1 + Math.max(0, ...Object.values(value).map(nesting))
    : 0
}
