/**
 * The runtimes users run (Node 22, 24, 26, Bun, Deno) and the CommonJS and
 * TypeScript consumers: scripts/test-runtimes.mjs installs the packed
 * package in a scratch project and runs its checks there. Inside the suite,
 * so that vitest's other worker goes on beside it (vitest.config.ts starts
 * it first). Needs `npm run build`.
 */
import { expect, it } from 'vitest'
import { REPO_ROOT, run } from '../helpers.js'

it(
  'works on every runtime of the support table, from the packed package',
  { timeout: 600_000 },
  async () => {
    // One check at a time: the suite's other files run beside it.
    const { code, stdout, stderr } = await run(
      process.execPath,
      ['scripts/test-runtimes.mjs'],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, RUNTIME_JOBS: '1' },
      },
    )
    console.log(stdout)
    expect(code, stderr).toBe(0)
    expect(stdout).toMatch(/^TypeScript, tsconfig.node16.json: ok$/m)
    expect(stdout).toMatch(/^TypeScript, tsconfig.bundler.json: ok$/m)
    for (const runtime of ['Node 22', 'Node 24', 'Node 26', 'Bun', 'Deno'])
      expect(stdout).toMatch(
        new RegExp(`^${runtime} \\(.*\\) +(ok +){6}ok *$`, 'm'),
      )
  },
)
