/**
 * `require` for this package's own dependencies, usable synchronously from
 * both builds: the local store must load its flock binding inside the
 * process `exit` event, where nothing asynchronous (such as `import()`)
 * ever finishes.
 *
 * This file is the ES module build's; `scripts/build.mjs` replaces its
 * CommonJS output with `exports.nativeRequire = require`, because the
 * CommonJS build has its own `require` and cannot parse `import.meta`.
 */
import { createRequire } from 'node:module'

// eslint-disable-next-line @typescript-eslint/ban-ts-comment -- the CommonJS compile rejects import.meta; its output is replaced (see above)
// @ts-ignore
export const nativeRequire: NodeJS.Require = createRequire(import.meta.url)
