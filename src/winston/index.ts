/** `ml-dash-logs/winston`: the winston transport. */
export { MlDashTransport } from './transport.js'
export type { MlDashTransportOptions } from './transport.js'
