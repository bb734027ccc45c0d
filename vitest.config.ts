import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { defineConfig } from 'vitest/config'

// Outboxes of remote-only tests go to the user's cache folder: one of this
// run's own, not the machine's.
const cache = mkdtempSync(join(tmpdir(), 'ml-dash-logs-cache-'))

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    env: { XDG_CACHE_HOME: cache },
  },
})
