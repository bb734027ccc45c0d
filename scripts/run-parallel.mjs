// Runs npm scripts side by side (`node scripts/run-parallel.mjs typecheck
// lint`): each one's output is printed whole once it ends, in the order
// given; the exit code is 1 when any failed. For the checks of `npm test`
// that need no build and do not share files.
import { spawn } from 'node:child_process'

const names = process.argv.slice(2)
const runs = names.map(
  (name) =>
    new Promise((resolve) => {
      const child = spawn('npm', ['run', '--silent', name], {
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      let output = ''
      child.stdout.on('data', (chunk) => (output += chunk))
      child.stderr.on('data', (chunk) => (output += chunk))
      child.on('close', (code) => resolve({ name, code, output }))
    }),
)
let failed = false
for (const run of runs) {
  const { name, code, output } = await run
  process.stdout.write(
    `> ${name}${code === 0 ? '' : ` (exit ${code})`}\n${output}`,
  )
  if (code !== 0) failed = true
}
process.exitCode = failed ? 1 : 0
