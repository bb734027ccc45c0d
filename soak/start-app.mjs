// Starts the soaks' application (./app.mjs) against `server`; resolves,
// once it exits, to its exit code and its report (the JSON it prints).
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { signTestToken } from 'ml-dash-logs/testing'

export function startApp(server, prefix, records, rate, env = {}) {
  const app = spawn(
    process.execPath,
    [
      fileURLToPath(new URL('./app.mjs', import.meta.url)),
      server.url,
      signTestToken({ username: 'alice' }),
      prefix,
      String(records),
      String(rate),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } },
  )
  let output = ''
  app.stdout.on('data', (chunk) => (output += chunk))
  const finished = new Promise((resolve) =>
    app.on('close', (code) =>
      resolve({ code, report: code === 0 ? JSON.parse(output) : {} }),
    ),
  )
  return { pid: app.pid, finished }
}
