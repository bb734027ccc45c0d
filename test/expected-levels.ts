/**
 * The ml-dash level each winston level name should map to, written out once
 * for the tests (independently of src/core/level-tables.ts, which they check).
 */
export const EXPECTED_WINSTON_LEVELS = {
  npm: {
    error: 'error',
    warn: 'warn',
    info: 'info',
    http: 'info',
    verbose: 'debug',
    debug: 'debug',
    silly: 'debug',
  },
  syslog: {
    emerg: 'fatal',
    alert: 'fatal',
    crit: 'error',
    error: 'error',
    warning: 'warn',
    notice: 'info',
    info: 'info',
    debug: 'debug',
  },
  cli: {
    error: 'error',
    warn: 'warn',
    help: 'info',
    data: 'info',
    info: 'info',
    debug: 'debug',
    prompt: 'debug',
    verbose: 'debug',
    input: 'debug',
    silly: 'debug',
  },
} as const
