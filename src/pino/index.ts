/**
 * `ml-dash-logs/pino`: the pino transport (default export, for
 * `transport: { target: 'ml-dash-logs/pino' }`) and the main-thread
 * destination (`pino(createPinoDestination(options))`).
 */
import pinoTransport from './transport.js'

export default pinoTransport
export type { PinoTransportOptions } from './transport.js'
export { createPinoDestination } from './destination.js'
export type { PinoDestination } from './destination.js'
