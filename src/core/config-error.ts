/** Errors about the configuration: an option, a variable, a prefix or its template, the network settings. */
import type { MlDashError } from './error-codes.js'
import { mlDashError } from './error-codes.js'

/** The `code` every configuration error carries. */
export const CONFIG_ERROR_CODE = 'ML_DASH_CONFIG'

/** `ml-dash-logs: <sentence>`, with `code` {@link CONFIG_ERROR_CODE}. */
export function configError(sentence: string, cause?: unknown): MlDashError {
  return mlDashError(CONFIG_ERROR_CODE, sentence, cause)
}
