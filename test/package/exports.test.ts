/**
 * The public surface, entry point by entry point: what `import` and
 * `require` of the built package give at run time, and every name its type
 * declarations export (values and types), read with the TypeScript
 * compiler. A change here is a change of the package's API: make it on
 * purpose, and say it in the README.
 */
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join, posix } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { REPO_ROOT } from '../helpers.js'

const root = REPO_ROOT
const require = createRequire(import.meta.url)
const packageJson = require('../../package.json') as {
  exports: Record<
    string,
    | string
    | {
        import: { types: string; default: string }
        require: { default: string }
      }
  >
}

/** Each entry point: its run-time values, then the names its types add. */
const SURFACE: Record<string, { values: string[]; types: string[] }> = {
  '.': {
    values: [
      'ERROR_CODES',
      'Experiment',
      'LEVELS',
      'PREFIX_ATTRIBUTE',
      'isLevel',
      'isMlDashError',
    ],
    types: [
      'ChannelReport',
      'ChannelStats',
      'DeliveryReport',
      'EntryLimits',
      'ExperimentOptions',
      'ExperimentState',
      'ExperimentStatus',
      'JsonValue',
      'Level',
      'LevelMap',
      'LogBuilder',
      'LogEntry',
      'LogOptions',
      'MlDashError',
      'MlDashErrorCode',
      'MlDashOptions',
      'RouterStats',
      'SinkStats',
    ],
  },
  './pino': {
    values: ['createPinoDestination', 'default'],
    types: ['PinoDestination', 'PinoTransportOptions'],
  },
  './winston': {
    values: ['MlDashTransport'],
    types: ['MlDashTransportOptions'],
  },
  './otel': {
    values: ['MlDashLogRecordExporter'],
    types: ['ExportResult', 'MlDashLogRecordExporterOptions'],
  },
  './receiver': {
    values: ['startReceiver'],
    types: ['Receiver', 'ReceiverOptions'],
  },
  './testing': {
    values: ['signTestToken', 'startTestServer'],
    types: [
      'Fault',
      'RecordedRequest',
      'StoredLog',
      'TestExperiment',
      'TestServer',
      'TestServerOptions',
    ],
  },
}

const entryPoints = Object.entries(packageJson.exports).flatMap(
  ([path, target]) =>
    typeof target === 'string' ? [] : [[path, target] as const],
)

describe('the package exports', () => {
  it('has exactly the entry points the surface lists', () => {
    expect(entryPoints.map(([path]) => path).sort()).toEqual(
      Object.keys(SURFACE).sort(),
    )
  })

  it.each(entryPoints)(
    '%s gives the same values to import and require, and no others',
    async (path, target) => {
      const esm = (await import(join(root, target.import.default))) as Record<
        string,
        unknown
      >
      const cjs = require(join(root, target.require.default)) as Record<
        string,
        unknown
      >
      const names = (module: Record<string, unknown>) =>
        Object.keys(module)
          .filter((name) => name !== '__esModule' && name !== 'module.exports')
          .sort()
      expect(names(esm)).toEqual(SURFACE[path]!.values)
      expect(names(cjs)).toEqual(SURFACE[path]!.values)
    },
  )

  // One program for every declaration file: the compiler reads each once.
  const program = ts.createProgram(
    entryPoints.map(([, target]) => join(root, target.import.types)),
    {
      module: ts.ModuleKind.Node16,
      moduleResolution: ts.ModuleResolutionKind.Node16,
      noEmit: true,
    },
  )
  const checker = program.getTypeChecker()

  it.each(entryPoints)(
    '%s declares exactly its values and types',
    (path, target) => {
      const source = program.getSourceFile(join(root, target.import.types))!
      const names = checker
        .getExportsOfModule(checker.getSymbolAtLocation(source)!)
        .map((symbol) => symbol.getName())
        .sort()
      expect(names).toEqual(
        [...SURFACE[path]!.values, ...SURFACE[path]!.types].sort(),
      )
    },
  )
})

describe('the packed package', () => {
  it('ships LICENSE and every file its source maps point at', () => {
    const [packed] = JSON.parse(
      execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: root,
        encoding: 'utf8',
      }),
    ) as [{ files: { path: string }[] }]
    const files = new Set(packed.files.map((file) => file.path))
    expect(files).toContain('LICENSE')
    const maps = [...files].filter((path) => path.endsWith('.map'))
    expect(maps.length).toBeGreaterThan(0)
    const missing = maps.flatMap((map) => {
      const { sources } = JSON.parse(readFileSync(join(root, map), 'utf8')) as {
        sources: string[]
      }
      return sources
        .map((source) => posix.join(posix.dirname(map), source))
        .filter((source) => !files.has(source))
        .map((source) => `${map} -> ${source}`)
    })
    expect(missing).toEqual([])
  })
})
