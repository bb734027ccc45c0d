/**
 * pino record → ml-dash entry: a pure mapping.
 *
 * - level: pino's number through the core table (custom numbers bucketed by
 *   threshold), `levelMap` first (keyed by the label or the number); a
 *   label written by `formatters.level` is read too. The source level is
 *   kept in metadata under `source_level` (the label when pino's config
 *   names one, else the number).
 * - message: the `messageKey` field (default `msg`); a non-string is
 *   serialized.
 * - time: `time` in epoch milliseconds (pino's default), epoch seconds
 *   (`stdTimeFunctions.unixTime`), or a string a custom timestamp wrote;
 *   one that cannot be read stays in metadata and the entry gets the
 *   time it was mapped.
 * - metadata: every other field (bindings and call fields, `err` as pino
 *   serialized it, `trace_id`/`span_id`/`trace_flags` as given), minus the
 *   routing attribute `ml_dash.prefix`, which is returned apart.
 */
import type { EntryInput, MappedRecord } from '../core/entry.js'
import type { LevelMap } from '../core/level-tables.js'
import {
  PINO_LEVELS,
  SOURCE_LEVEL_KEY,
  levelFromText,
  mapLevel,
  own,
  pinoLevel,
} from '../core/level-tables.js'
import { PREFIX_ATTRIBUTE } from '../core/prefix.js'

/** What pino tells a transport about its configuration (`PINO_CONFIG`). */
export interface PinoConfig {
  levels?: { labels?: Record<string, string>; values?: Record<string, number> }
  messageKey?: string
  errorKey?: string
}

/** Epoch values below this are seconds (this is 5138 AD in milliseconds). */
export const SECONDS_BELOW = 1e11

/** Maps one parsed pino line. Never throws. */
export function mapPinoRecord(
  record: Record<string, unknown>,
  config: PinoConfig = {},
  levelMap?: LevelMap,
): MappedRecord {
  const messageKey = config.messageKey ?? 'msg'
  const {
    level: rawLevel,
    time: rawTime,
    [messageKey]: message,
    [PREFIX_ATTRIBUTE]: prefix,
    ...rest
  } = record
  const metadata: Record<string, unknown> = rest
  const { level, source } = resolveLevel(rawLevel, config, levelMap)
  if (source !== undefined) metadata[SOURCE_LEVEL_KEY] = source
  const time = readTime(rawTime)
  if (time === undefined && rawTime !== undefined) metadata.time = rawTime
  // The rest copy is made here, data properties only.
  const input: EntryInput = {
    level,
    message,
    metadata,
    time,
    ownMetadata: true,
  }
  return prefix === undefined ? { input } : { input, prefix }
}

/** The ml-dash level of a pino level (number or label), and the source level to keep. */
export function resolveLevel(
  raw: unknown,
  config: PinoConfig,
  levelMap: LevelMap | undefined,
): { level: EntryInput['level']; source: string | number | undefined } {
  if (typeof raw === 'number') {
    const label = own(config.levels?.labels, String(raw))
    return {
      level: mapLevel([label, raw], pinoLevel(raw), levelMap),
      source: label ?? raw,
    }
  }
  if (typeof raw === 'string') {
    const value =
      own(config.levels?.values, raw) ?? own<number>(PINO_LEVELS, raw)
    const fallback =
      value !== undefined ? pinoLevel(value) : (levelFromText(raw) ?? 'info')
    return { level: mapLevel(raw, fallback, levelMap), source: raw }
  }
  return { level: 'info', source: undefined }
}

function readTime(raw: unknown): number | undefined {
  if (typeof raw === 'number' && Number.isFinite(raw))
    return raw < SECONDS_BELOW ? raw * 1000 : raw
  if (typeof raw === 'string') {
    // A custom timestamp writes `,"time":"..."`; pino.stdTimeFunctions.isoTime is the common one.
    const parsed = Date.parse(raw)
    return Number.isNaN(parsed) ? undefined : parsed
  }
  return undefined
}

/** A JSON object line as is; anything else as an info record with the line as message. */
export function parseRecord(line: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(line)
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>
    }
  } catch {
    // kept below as text
  }
  return { level: 30, time: Date.now(), msg: line }
}
