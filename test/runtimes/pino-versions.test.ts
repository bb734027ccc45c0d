/**
 * The pino transport under pino 8 and 9 (pino 10 is in the main suite):
 * scripts/test-pino-versions.sh installs the packed package with each in a
 * scratch project, logs 10 000 records and calls process.exit(0), in both
 * orders. Needs `npm run build`.
 */
import { expect, it } from 'vitest'
import { REPO_ROOT, run } from '../helpers.js'

it(
  'keeps every record with pino 8 and 9, from the packed package',
  { timeout: 600_000 },
  async () => {
    const { code, stdout, stderr } = await run(
      'bash',
      ['scripts/test-pino-versions.sh'],
      { cwd: REPO_ROOT },
    )
    console.log(stdout)
    expect(code, stderr).toBe(0)
    expect(stdout.match(/10000 records stored/g)).toHaveLength(4)
  },
)
