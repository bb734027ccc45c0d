/**
 * How an experiment ended, as the ml-dash server records it
 * (`PATCH /api/nodes/{id}`, ml-dash-spec §5): the one status type that the
 * Experiment's `close(status)`, the delivery channel and the remote store
 * share.
 */
export type ExperimentStatus = 'COMPLETED' | 'FAILED' | 'CANCELLED'

/** Every {@link ExperimentStatus}, for checking a value from outside. */
export const EXPERIMENT_STATUSES: readonly ExperimentStatus[] = [
  'COMPLETED',
  'FAILED',
  'CANCELLED',
]
