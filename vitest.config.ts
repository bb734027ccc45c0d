import { mkdtempSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestSpecification } from 'vitest/node'
import { BaseSequencer } from 'vitest/node'
import { defineConfig } from 'vitest/config'

/**
 * vitest's order (the slowest first, by the last run's times, or by size on
 * a clean clone), with the runtime checks at the head: they take a minute
 * or more of installs and child processes, and should not start last.
 */
class RuntimesFirst extends BaseSequencer {
  override async sort(
    files: TestSpecification[],
  ): Promise<TestSpecification[]> {
    const sorted = await super.sort(files)
    const first = (file: TestSpecification) =>
      file.moduleId.includes('/test/runtimes/') ? 0 : 1
    return sorted.sort((a, b) => first(a) - first(b))
  }
}

// Outboxes of remote-only tests go to the user's cache folder: one of this
// run's own, not the machine's.
const cache = mkdtempSync(join(tmpdir(), 'ml-dash-logs-cache-'))

export default defineConfig({
  test: {
    // Most cases wait on child processes, sockets and deadlines, not on a
    // core: one file more than the cores (vitest's default is one fewer).
    // On two cores: 166 s with three, 200-240 s with two, 300 s with one.
    maxWorkers: availableParallelism() + 1,
    sequence: { sequencer: RuntimesFirst },
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    env: { XDG_CACHE_HOME: cache },
  },
})
