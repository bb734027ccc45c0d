import { PassThrough } from 'node:stream'
import { expect, it } from 'vitest'
import { USAGE, runCli } from '../../src/cli/main.js'

function call(argv: string[]): { code: number; out: string; err: string } {
  const out = new PassThrough()
  const err = new PassThrough()
  const code = runCli(argv, out, err, '1.2.3')
  return { code, out: String(out.read() ?? ''), err: String(err.read() ?? '') }
}

it('prints help and the version', () => {
  expect(call(['--help'])).toEqual({ code: 0, out: USAGE, err: '' })
  expect(call(['-v'])).toEqual({ code: 0, out: '1.2.3\n', err: '' })
})

it('refuses an unknown flag with exit code 2 and the usage', () => {
  const result = call(['--bogus'])
  expect(result.code).toBe(2)
  expect(result.err).toContain("Unknown option '--bogus'")
  expect(result.err).toContain('Usage: ml-dash-logs')
})
