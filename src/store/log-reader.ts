/**
 * Reading a local experiment's log, beside the store that writes it: where
 * the file is (the store's layout, `<dashRoot>/<prefix>/logs/logs.jsonl`)
 * and its whole lines from an offset, for the CLI's `logs` command.
 */
import { closeSync, openSync, readSync } from 'node:fs'
import { join } from 'node:path'
import type { ExperimentPrefix } from '../core/prefix.js'
import { experimentDirectory } from './local-store.js'

/** The log file of `prefix` under `dashRoot`. @throws Error when the prefix leads outside the root */
export function logFile(dashRoot: string, prefix: ExperimentPrefix): string {
  return join(experimentDirectory(dashRoot, prefix), 'logs', 'logs.jsonl')
}

/**
 * Hands each whole line from byte `start` to `onLine`, while `more()`;
 * returns the offset after the last whole line (a partial line at the end,
 * still being written, waits for the next call). Lines are split at newline
 * bytes, so no UTF-8 character is cut in two; 1 MiB is read at a time.
 */
export function readLinesFrom(
  file: string,
  start: number,
  onLine: (line: string) => void,
  more: () => boolean = () => true,
): number {
  const fd = openSync(file, 'r')
  try {
    let offset = start
    let pending = Buffer.alloc(0)
    const chunk = Buffer.alloc(1 << 20)
    while (more()) {
      const read = readSync(fd, chunk, 0, chunk.length, offset + pending.length)
      if (read === 0) return offset
      const bytes = Buffer.concat([pending, chunk.subarray(0, read)])
      const end = bytes.lastIndexOf(0x0a)
      if (end < 0) {
        pending = bytes
        continue
      }
      for (const line of bytes.toString('utf8', 0, end).split('\n')) {
        if (!more()) break
        onLine(line)
      }
      offset += end + 1
      pending = Buffer.from(bytes.subarray(end + 1))
    }
    return offset
  } finally {
    closeSync(fd)
  }
}
