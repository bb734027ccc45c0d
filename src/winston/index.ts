/** `ml-dash-logs/winston`: the winston transport and its pure mapping. */
export { MlDashTransport } from './transport.js'
export type { MlDashTransportOptions } from './transport.js'
export { mapWinstonInfo, resolveWinstonLevel } from './map.js'
export type { WinstonLevels } from './map.js'
