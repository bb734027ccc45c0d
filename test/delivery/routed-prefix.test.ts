/**
 * A routed prefix may not break another experiment (issue 12, item 3):
 * records naming an existing experiment's files, or going through it, are
 * refused and kept in the router's own experiment, marked; the other
 * experiment is left as it was, starts again, and the SDK's discovery and
 * validator (test/fixtures/sdk_validate.py, run by the real python3) still
 * read the store.
 */
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { resolveOptions } from '../../src/core/options.js'
import type { Router } from '../../src/delivery/router.js'
import { PREFIX_REFUSED_KEY } from '../../src/core/prefix.js'
import { createRouter } from '../../src/delivery/router.js'
import { Experiment } from '../../src/experiment.js'
import { FIXTURES, run, useTempDir } from '../helpers.js'

// Registered first, so the folder is removed after the router closes.
const temp = useTempDir()
let router: Router | undefined
afterEach(async () => {
  await router?.close()
  router = undefined
})

const VICTIM = 'alice/rt/victim'
const OWN = 'alice/rt/receiver'

/** Every spelling that names the victim's files or goes through it. */
const HOSTILE = [
  `${VICTIM}/experiment.json`,
  `${VICTIM}/Experiment.JSON`,
  `${VICTIM}/.experiment.lock`,
  `${VICTIM}/parameters.json`,
  `${VICTIM}/logs`,
  `${VICTIM}/logs/logs.jsonl`,
  `${VICTIM}/logs/.log_sequence`,
  `${VICTIM}/logs/.log_sequence.lock`,
  `${VICTIM}/logs/logs.jsonl.torn`,
  `${VICTIM}/files/x`,
  `${VICTIM}/tracks`,
  `${VICTIM}/sub/x`,
  `${VICTIM}/sub/deeper/y`,
]

/** Every file and folder below `folder`, as relative paths, sorted. */
function tree(folder: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: 'utf8' }).sort()
}

async function validate(): Promise<string[]> {
  const result = await run('python3', [
    join(FIXTURES, 'sdk_validate.py'),
    temp.dir,
  ])
  expect(result.stderr).toBe('')
  expect(result.code).toBe(0)
  return result.stdout.split('\n').filter((line) => line !== '')
}

it('refuses every routed prefix into or through an existing experiment, keeping and marking the record, and leaves that experiment whole', async () => {
  await new Experiment({ prefix: VICTIM, dashRoot: temp.dir }).run((exp) =>
    exp.log('victim 1'),
  )
  const before = tree(join(temp.dir, VICTIM))

  router = createRouter(resolveOptions({ prefix: OWN, dashRoot: temp.dir }))
  for (const prefix of HOSTILE)
    router.enqueue({ level: 'info', message: `to ${prefix}` }, prefix)
  router.enqueue({ level: 'info', message: 'beside' }, 'alice/rt/beside')
  await router.flush()

  const own = temp.lines(OWN)
  expect(own.map((line) => [line.message, line.metadata])).toEqual(
    HOSTILE.map((prefix) => [`to ${prefix}`, { [PREFIX_REFUSED_KEY]: prefix }]),
  )
  expect(router.stats.refusedPrefixes).toBe(HOSTILE.length)
  expect(Object.keys(router.stats.experiments).sort()).toEqual([
    'alice/rt/beside',
    OWN,
  ])
  expect(tree(join(temp.dir, VICTIM))).toEqual(before)

  // The victim still starts, and its log goes on.
  await new Experiment({ prefix: VICTIM, dashRoot: temp.dir }).run((exp) =>
    exp.log('victim 2'),
  )
  expect(temp.lines(VICTIM).map((l) => [l.sequenceNumber, l.message])).toEqual([
    [0, 'victim 1'],
    [1, 'victim 2'],
  ])

  await router.close()
  expect(await validate()).toEqual([
    'alice/rt/beside\trt/beside',
    `${OWN}\trt/receiver`,
    `${VICTIM}\trt/victim`,
  ])
})

it("refuses a routed prefix below one of the router's own experiments before its folder exists, and one above them", async () => {
  router = createRouter(resolveOptions({ prefix: OWN, dashRoot: temp.dir }))
  // Same tick: no store is open yet, so nothing of OWN is on disk.
  router.enqueue({ level: 'info', message: 'below own' }, `${OWN}/sub/x`)
  router.enqueue({ level: 'info', message: 'routed' }, 'alice/rt/a/b/c')
  router.enqueue({ level: 'info', message: 'above routed' }, 'alice/rt/a')
  router.enqueue({ level: 'info', message: 'below routed' }, 'alice/rt/a/b/c/d')
  await router.flush()

  expect(
    temp.lines(OWN).map((line) => line.metadata?.[PREFIX_REFUSED_KEY]),
  ).toEqual([`${OWN}/sub/x`, 'alice/rt/a', 'alice/rt/a/b/c/d'])
  expect(temp.lines('alice/rt/a/b/c').map((line) => line.message)).toEqual([
    'routed',
  ])
  await router.close()
  expect(await validate()).toEqual([
    'alice/rt/a/b/c\trt/c',
    `${OWN}\trt/receiver`,
  ])
})

it("refuses a prefix naming an experiment's files before that experiment exists, so its first start still works", async () => {
  router = createRouter(resolveOptions({ prefix: OWN, dashRoot: temp.dir }))
  const named = HOSTILE.filter((prefix) => !prefix.includes('/sub/'))
  for (const prefix of named)
    router.enqueue({ level: 'info', message: `to ${prefix}` }, prefix)
  await router.flush()
  expect(router.stats.refusedPrefixes).toBe(named.length)
  expect(Object.keys(router.stats.experiments)).toEqual([OWN])

  // Before the fix, this start met folders at experiment.json and logs/logs.jsonl (EISDIR).
  await new Experiment({ prefix: VICTIM, dashRoot: temp.dir }).run((exp) =>
    exp.log('victim 1'),
  )
  expect(temp.lines(VICTIM).map((line) => line.message)).toEqual(['victim 1'])
  await router.close()
  expect(await validate()).toEqual([
    `${OWN}\trt/receiver`,
    `${VICTIM}\trt/victim`,
  ])
})

it('refuses a routed prefix above an experiment already in the store', async () => {
  const inner = await new Experiment({
    prefix: 'alice/rt/later/sub',
    dashRoot: temp.dir,
  }).start()
  inner.log('inner')
  await inner.close()
  router = createRouter(resolveOptions({ prefix: OWN, dashRoot: temp.dir }))
  router.enqueue({ level: 'info', message: 'above' }, 'alice/rt/later')
  await router.flush()
  expect(
    temp
      .lines(OWN)
      .map((line) => [line.message, line.metadata?.[PREFIX_REFUSED_KEY]]),
  ).toEqual([['above', 'alice/rt/later']])
  await router.close()
  expect(await validate()).toEqual([
    'alice/rt/later/sub\trt/sub',
    `${OWN}\trt/receiver`,
  ])
})
