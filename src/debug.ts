/**
 * Diagnostics through `node:util` debuglog: silent unless
 * `NODE_DEBUG=ml-dash-logs`. Never pass a token to it.
 */
import { debuglog } from 'node:util'

/** Writes a diagnostic line when `NODE_DEBUG` includes `ml-dash-logs`. */
export const debug = debuglog('ml-dash-logs')
