/**
 * The entry text of a winston info with flat values, made in one pass
 * without the mapping's copy: the transport's fast path (issue 15).
 *
 * An info is flat when it is not an Error, its message is a string (or
 * absent), its timestamp (if any) is one `Date` can read, and its other
 * fields are strings, finite numbers, booleans or null, with no
 * `source_level` or `__proto__` among them, and the entry lies well within
 * every limit (see `withinFlatLimits`). Its text is then exactly what
 * {@link mapWinstonInfo} and `encodeEntry` make of it, character for
 * character (a property test holds the two together); any other info, and
 * any info whose fields throw, gets undefined here and takes the mapping.
 * Each field is read once here, as the mapping's spread reads it; when
 * this gives up, the mapping reads them again. The members are written in
 * the order `for…in` gives them: the mapping's order for every ordinary
 * object (winston makes each info with `Object.assign`); a Proxy whose
 * `ownKeys` trap lists them in another order is stored in that order.
 */
import type { EntryLimits } from '../core/entry.js'
import type { FlatEntry } from '../core/flat-json.js'
import {
  MemberKeys,
  flatEntryText,
  stringJson,
  withinFlatLimits,
  valueJson,
} from '../core/flat-json.js'
import type { LevelMap } from '../core/level-tables.js'
import { SOURCE_LEVEL_KEY } from '../core/level-tables.js'
import { PREFIX_ATTRIBUTE } from '../core/prefix.js'
import type { WinstonLevels } from './map.js'
import {
  isTakenField,
  levelName,
  readTime,
  resolveWinstonLevel,
} from './map.js'

/** Fields kept as they are: all but the one the mapping writes itself, and the prototype's name. */
const MEMBER_KEYS = new MemberKeys(
  (key) => key === SOURCE_LEVEL_KEY || key === '__proto__',
)

/** The flat info's entry, or undefined when it takes the mapping. Never throws. */
export function flatWinstonEntry(
  info: Record<string | symbol, unknown>,
  limits: EntryLimits,
  levels?: WinstonLevels,
  levelMap?: LevelMap,
): FlatEntry | undefined {
  try {
    return encodeFlat(info, limits, levels, levelMap)
  } catch {
    // A getter or a proxy trap that throws: the mapping reads what it can.
    return undefined
  }
}

function encodeFlat(
  info: Record<string | symbol, unknown>,
  limits: EntryLimits,
  levels: WinstonLevels | undefined,
  levelMap: LevelMap | undefined,
): FlatEntry | undefined {
  const { maxStringLength } = limits
  if (maxStringLength < SOURCE_LEVEL_KEY.length || info instanceof Error)
    return undefined
  const name = levelName(info)
  const { message, timestamp } = info
  const prefix = info[PREFIX_ATTRIBUTE]
  let messageJson = '""'
  if (message !== undefined) {
    messageJson = stringJson(message, limits.maxMessageLength)
    if (messageJson === '') return undefined
  }
  let time: number | undefined
  if (timestamp !== undefined) {
    time = readTime(timestamp)
    // An unreadable one stays in the metadata: the mapping places it.
    if (time === undefined) return undefined
  }
  let text = ''
  let members = 0
  for (const key in info) {
    if (isTakenField(key) || !Object.hasOwn(info, key)) continue
    const keyJson = MEMBER_KEYS.json(key, maxStringLength)
    if (keyJson === undefined) return undefined
    const json = valueJson(info[key], maxStringLength)
    if (json === '') return undefined
    text += members++ === 0 ? keyJson + json : `,${keyJson}${json}`
  }
  const source = stringJson(name, maxStringLength)
  if (source === '') return undefined
  text += `${members++ === 0 ? '' : ','}"${SOURCE_LEVEL_KEY}":${source}`
  if (!withinFlatLimits(text, members, limits)) return undefined
  const level = resolveWinstonLevel(name, levels, levelMap)
  return { entry: flatEntryText(time, level, messageJson, text), prefix }
}
