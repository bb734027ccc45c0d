/**
 * What option resolution needs from the running process, kept out of the
 * pure core (src/core/options.ts takes it as a parameter): the server URL
 * that `dashUrl: true` names (env, then the official clients' config.json),
 * and the run a prefix template is expanded for (the SDK's `RUN`: its time,
 * taken once per process, the entry script, the project root, the job
 * counter).
 */
import { existsSync, statSync } from 'node:fs'
import type { OptionsContext } from './core/options.js'
import { findProjectRoot } from './core/prefix-template.js'
import { resolveServerUrl } from './store/remote/client-config.js'

/** The SDK's `RUN.now`: one time for every run of the process. */
let processNow: Date | undefined

/** The context for resolving options in this process; `jobCounter` is the SDK's `RUN.job_counter`. */
export function processContext(
  env: Readonly<Record<string, string | undefined>> = process.env,
  jobCounter = 0,
): OptionsContext {
  processNow ??= new Date()
  const entry = process.argv[1]
  const cwd = process.cwd()
  return {
    serverUrl: () => resolveServerUrl(env),
    template: {
      now: processNow,
      entry,
      cwd,
      jobCounter,
      projectRoot: () =>
        findProjectRoot(entry, { cwd, exists: existsSync, isFile }),
    },
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}
