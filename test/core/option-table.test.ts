/**
 * The one option table and the one list of error codes against what users
 * read: the README's generated tables, and each option's `@default` in the
 * doc comment their editor shows. Each default is written once, in
 * src/core/option-table.ts; these fail when another place says otherwise.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import { ERROR_CODES } from '../../src/core/error-codes.js'
import type { OptionTable } from '../../src/core/option-table.js'
import {
  EXPERIMENT_OPTIONS,
  RECEIVER_OPTIONS,
  SHARED_OPTIONS,
} from '../../src/core/option-table.js'
import {
  generatedPart,
  generatedTables,
  tableCells,
} from '../../scripts/docs-tables.js'

const ROOT = join(import.meta.dirname, '..', '..')
const README = readFileSync(join(ROOT, 'README.md'), 'utf8')

describe("the README's generated tables", () => {
  it.each(Object.entries(generatedTables()))(
    '%s: the README holds the table the code makes (npm run docs:tables writes it)',
    (name, rows) => {
      const part = generatedPart(README, name)
      expect(part, `README.md has no ${name} markers`).toBeDefined()
      const expected = rows.filter((cells) => !cells.every((c) => c === '---'))
      expect(tableCells(part!)).toEqual(expected)
    },
  )

  it('tells a table that differs in one cell (the check can fail)', () => {
    const [name, rows] = Object.entries(generatedTables())[0]!
    const part = generatedPart(README, name)!
    const changed = part.replace('ML_DASH_LOG_BATCH_SIZE`, 100', '…`, 50')
    expect(changed).not.toBe(part)
    expect(tableCells(changed)).not.toEqual(
      rows.filter((cells) => !cells.every((c) => c === '---')),
    )
  })
})

/** `@default` of each property of `interfaceName` in `file`, by property name. */
function jsdocDefaults(
  file: string,
  interfaceName: string,
): Map<string, string> {
  const source = ts.createSourceFile(
    file,
    readFileSync(join(ROOT, file), 'utf8'),
    ts.ScriptTarget.Latest,
    true,
  )
  const found = new Map<string, string>()
  const visit = (node: ts.Node): void => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === interfaceName) {
      for (const member of node.members) {
        if (!ts.isPropertySignature(member)) continue
        const tag = ts
          .getJSDocTags(member)
          .find((t) => t.tagName.text === 'default')
        const text =
          typeof tag?.comment === 'string'
            ? tag.comment
            : (tag?.comment?.map((part) => part.text).join('') ?? '')
        found.set(member.name.getText(source), text)
      }
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

const DOCUMENTED: [string, string, string, OptionTable][] = [
  ['shared', 'src/core/options.ts', 'MlDashOptions', SHARED_OPTIONS],
  ['Experiment', 'src/experiment.ts', 'ExperimentOptions', EXPERIMENT_OPTIONS],
  ['receiver', 'src/receiver/server.ts', 'ReceiverOptions', RECEIVER_OPTIONS],
]

describe('the doc comments editors show', () => {
  it.each(DOCUMENTED)(
    '%s options: every option of the table is declared, with a @default that names its variable and its value',
    (_, file, interfaceName, table) => {
      const defaults = jsdocDefaults(file, interfaceName)
      expect([...defaults.keys()].sort()).toEqual(Object.keys(table).sort())
      for (const [name, spec] of Object.entries(table)) {
        const text = defaults.get(name) ?? ''
        expect(text, `${name} has no @default`).not.toBe('')
        if (spec.env !== undefined)
          expect(text, `${name}'s @default`).toContain(spec.env)
        if (spec.default !== undefined) {
          const shown =
            typeof spec.default === 'string'
              ? JSON.stringify(spec.default)
              : String(spec.default)
          // The value as a word: a table default of 100 is not the doc's 1000.
          const word = new RegExp(
            `(^|[^0-9A-Za-z])${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^0-9A-Za-z])`,
          )
          expect(text, `${name}'s @default`).toMatch(word)
        }
      }
    },
  )

  it('every integer, duration, flag and host option has a default', () => {
    for (const table of [SHARED_OPTIONS, EXPERIMENT_OPTIONS, RECEIVER_OPTIONS])
      for (const [name, spec] of Object.entries(table as OptionTable))
        if (['integer', 'duration', 'flag', 'host'].includes(spec.kind))
          expect(spec.default, name).toBeDefined()
  })
})

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sources(path)
    return path.endsWith('.ts') ? [path] : []
  })
}

describe('error codes', () => {
  it('every ML_DASH_ name quoted in the source is a documented code or an environment variable', () => {
    const variables = new Set<string>()
    for (const table of [SHARED_OPTIONS, EXPERIMENT_OPTIONS, RECEIVER_OPTIONS])
      for (const spec of Object.values(table as OptionTable))
        if (spec.env !== undefined) variables.add(spec.env)
    const quoted = new Set<string>()
    for (const file of sources(join(ROOT, 'src'))) {
      const text = readFileSync(file, 'utf8')
      for (const [, name] of text.matchAll(/\benv\.(ML_DASH_[A-Z_]+)/g))
        variables.add(name!)
      for (const [, name] of text.matchAll(/'(ML_DASH_[A-Z_]+)'/g))
        quoted.add(name!)
    }
    const codes = [...quoted].filter((name) => !variables.has(name))
    expect(codes).toContain('ML_DASH_CONFIG')
    for (const code of codes)
      expect(
        Object.keys(ERROR_CODES),
        `${code} is not in ERROR_CODES`,
      ).toContain(code)
  })
})
