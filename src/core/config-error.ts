/** Errors about the configuration: an option, a variable, a prefix or its template, the network settings. */

/** The `code` every configuration error carries. */
export const CONFIG_ERROR_CODE = 'ML_DASH_CONFIG'

/** `ml-dash-logs: <sentence>`, with `code` {@link CONFIG_ERROR_CODE}. */
export function configError(
  sentence: string,
  cause?: unknown,
): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(
    `ml-dash-logs: ${sentence}`,
    cause === undefined ? undefined : { cause },
  )
  error.code = CONFIG_ERROR_CODE
  return error
}
