import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** test/fixtures, for scripts run in child processes. */
export const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url))

/** A fresh temporary folder and its clean-up. */
export function tempDir(): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'ml-dash-logs-'))
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) }
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
