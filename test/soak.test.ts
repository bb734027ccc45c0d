/** The soak's short version: the same checks as `npm run soak`, on 50 000 records with frequent faults. */
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { run } from './helpers.js'

it('delivers every record exactly once through faults, with counters that add up and bounded memory', async () => {
  const script = fileURLToPath(new URL('../soak/run.mjs', import.meta.url))
  const result = await run(process.execPath, [script], {
    env: {
      ...process.env,
      SOAK_RECORDS: '50000',
      SOAK_RATE: '20000',
      FAULT_EVERY_MS: '1000',
      PEAK_RSS_LIMIT_MB: '400',
    },
  })
  console.log(result.stdout.trim())
  // Only the default failure lines (one per kind of fault), nothing else.
  for (const line of result.stderr.split('\n').filter(Boolean))
    expect(line).toMatch(
      /^ml-dash-logs: remote alice\/soak\/run: delivery failing, retrying: /,
    )
  expect(result.code).toBe(0)
  expect(result.stdout).toContain('soak passed')
  expect(result.stdout).toMatch(
    /"accepted":50000,"delivered":50000,"dropped":0,"failed":0/,
  )
  expect(result.stdout).not.toMatch(/ 0 faults/)
})
