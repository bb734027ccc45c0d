/**
 * What option resolution needs from the running process, kept out of the
 * pure core (src/core/options.ts takes it as a parameter): the server URL
 * that `dashUrl: true` names (env, then the official clients' config.json),
 * the network settings (their PEM files read and checked), and the run a prefix template is expanded for (the SDK's `RUN`: its time,
 * taken once per process, the entry script, the project root, the job
 * counter).
 */
import { existsSync, statSync } from 'node:fs'
import type { OptionsContext } from './core/options.js'
import { findProjectRoot } from './core/prefix-template.js'
import { resolveServerUrl } from './store/remote/client-config.js'
import { resolveNetwork } from './store/remote/network.js'

/** The SDK's `RUN.now`: one time for every run of the process. */
let processNow: Date | undefined

/** The context for resolving options in this process; `jobCounter` is the SDK's `RUN.job_counter`. */
export function processContext(
  env: Readonly<Record<string, string | undefined>> = process.env,
  jobCounter = 0,
): OptionsContext {
  processNow ??= new Date()
  const entry = process.argv[1]
  const cwd = workingDirectory()
  return {
    serverUrl: () => resolveServerUrl(env),
    network: resolveNetwork,
    template: {
      now: processNow,
      entry,
      cwd,
      jobCounter,
      projectRoot: () =>
        findProjectRoot(entry, {
          // Only {path_stem} asks; without a working directory it cannot be found.
          cwd: cwd ?? process.cwd(),
          exists: existsSync,
          isFile,
        }),
    },
  }
}

/** The working directory, undefined when it was removed (a plain prefix needs none). */
function workingDirectory(): string | undefined {
  try {
    return process.cwd()
  } catch {
    return undefined
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}
