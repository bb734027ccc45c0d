/**
 * The README's generated tables (the options and the error codes), made
 * from the tables in src/core and written between `<!-- generated:NAME -->`
 * and `<!-- /generated:NAME -->`. `npm run docs:tables` writes them;
 * test/core/option-table.test.ts fails when the README and the tables
 * disagree. Prettier pads the tables afterwards; the check ignores padding.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ERROR_CODES } from '../src/core/error-codes.js'
import type { OptionSpec, OptionTable } from '../src/core/option-table.js'
import {
  EXPERIMENT_OPTIONS,
  MiB,
  RECEIVER_OPTIONS,
  SHARED_OPTIONS,
} from '../src/core/option-table.js'

/** The README's default cell of an option. */
export function defaultCell(spec: OptionSpec): string {
  if (spec.defaultText !== undefined) return spec.defaultText
  const parts: string[] = []
  if (spec.env !== undefined) parts.push(`env \`${spec.env}\``)
  if (spec.configKey !== undefined)
    parts.push(`\`config.json\` \`${spec.configKey}\``)
  if (spec.default !== undefined) parts.push(showDefault(spec.default))
  return parts.length === 0 ? 'none' : parts.join(', ')
}

/** `134217728 (128 MiB)`, `` `false` ``, `` `".dash"` ``, `100`. */
export function showDefault(value: number | string | boolean): string {
  if (typeof value === 'boolean') return `\`${value}\``
  if (typeof value === 'string') return `\`${JSON.stringify(value)}\``
  if (value >= MiB && value % MiB === 0) return `${value} (${value / MiB} MiB)`
  return String(value)
}

function optionRows(table: OptionTable): string[][] {
  return Object.entries(table).map(([name, spec]) => [
    `\`${name}\``,
    defaultCell(spec),
    spec.doc,
  ])
}

function markdown(rows: readonly (readonly string[])[]): string {
  return rows.map((cells) => `| ${cells.join(' | ')} |`).join('\n')
}

/** Each generated table by its marker name, as markdown rows. */
export function generatedTables(): Record<string, string[][]> {
  return {
    options: [
      ['option', 'default', ''],
      ['---', '---', '---'],
      ...optionRows(SHARED_OPTIONS),
      ...optionRows(EXPERIMENT_OPTIONS),
    ],
    'receiver-options': [
      ['option', 'default', ''],
      ['---', '---', '---'],
      ...optionRows(RECEIVER_OPTIONS),
    ],
    'error-codes': [
      ['`code`', 'when'],
      ['---', '---'],
      ...Object.entries(ERROR_CODES).map(([code, when]) => [
        `\`${code}\``,
        when,
      ]),
    ],
  }
}

/** The text between `name`'s markers in `text` (undefined when it has none). */
export function generatedPart(text: string, name: string): string | undefined {
  const open = `<!-- generated:${name} -->`
  const close = `<!-- /generated:${name} -->`
  const start = text.indexOf(open)
  const end = text.indexOf(close)
  if (start < 0 || end < start) return undefined
  return text.slice(start + open.length, end)
}

/** A table's cells, white space around them ignored, the `---` row ignored. */
export function tableCells(part: string): string[][] {
  return part
    .split('\n')
    .filter((line) => line.trim().startsWith('|'))
    .map((line) =>
      line
        .trim()
        .replace(/^\||\|$/g, '')
        .split(' | ')
        .map((cell) => cell.trim()),
    )
    .filter((cells) => !cells.every((cell) => /^-+$/.test(cell)))
}

/** `text` with `name`'s part replaced by `rows`. @throws Error when the markers are missing */
export function replaceGenerated(
  text: string,
  name: string,
  rows: readonly (readonly string[])[],
): string {
  const part = generatedPart(text, name)
  if (part === undefined)
    throw new Error(`README.md has no <!-- generated:${name} --> markers`)
  const open = `<!-- generated:${name} -->`
  return text.replace(`${open}${part}`, `${open}\n\n${markdown(rows)}\n\n`)
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const file = new URL('../README.md', import.meta.url)
  const before = readFileSync(file, 'utf8')
  let after = before
  for (const [name, rows] of Object.entries(generatedTables()))
    after = replaceGenerated(after, name, rows)
  writeFileSync(file, after)
  console.log(
    after === before ? 'README.md is up to date' : 'README.md tables written',
  )
}
