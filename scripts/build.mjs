// Builds dist/esm (ES modules) and dist/cjs (CommonJS) from src/ with tsc,
// each with its own type declarations, so both `import` and `require`
// resolve to code and types of the matching module kind.
import { execFileSync } from 'node:child_process'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const run = (args) =>
  execFileSync(process.execPath, [tsc, ...args], { stdio: 'inherit' })

rmSync('dist', { recursive: true, force: true })
run(['-p', 'tsconfig.build.json', '--outDir', 'dist/esm', '--noCheck'])
run([
  '-p',
  'tsconfig.build.json',
  '--outDir',
  'dist/cjs',
  '--module',
  'CommonJS',
  '--moduleResolution',
  'Node10',
  '--ignoreDeprecations',
  '5.0',
  '--noCheck',
])
mkdirSync('dist/cjs', { recursive: true })
writeFileSync('dist/cjs/package.json', '{ "type": "commonjs" }\n')
// The CommonJS build has its own require (see src/store/native-require.ts).
writeFileSync(
  'dist/cjs/store/native-require.js',
  '"use strict";\n// CommonJS: the module\'s own require.\nexports.nativeRequire = require;\n',
)
