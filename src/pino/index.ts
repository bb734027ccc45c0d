/**
 * `ml-dash-logs/pino`: the pino transport (default export, for
 * `transport: { target: 'ml-dash-logs/pino' }`), the main-thread
 * destination, and the pure record mapping.
 */
import pinoTransport from './transport.js'

export default pinoTransport
export type { PinoTransportOptions } from './transport.js'
export { createPinoDestination } from './destination.js'
export type { PinoDestination } from './destination.js'
export { mapPinoRecord } from './map.js'
export type { PinoConfig } from './map.js'
