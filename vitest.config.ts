import { mkdtempSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { defineConfig } from 'vitest/config'

// Outboxes of remote-only tests go to the user's cache folder: one of this
// run's own, not the machine's.
const cache = mkdtempSync(join(tmpdir(), 'ml-dash-logs-cache-'))

export default defineConfig({
  test: {
    // Most cases wait on child processes and sockets, not on a core: two
    // files at a time even on two cores (vitest's default would be one).
    maxWorkers: Math.max(2, availableParallelism() - 1),
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    env: { XDG_CACHE_HOME: cache },
  },
})
