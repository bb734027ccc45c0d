/** `ml-dash-logs/receiver`: the OTLP/HTTP logs receiver (`ml-dash-logs serve` as a library). */
export { startReceiver } from './server.js'
export type { Receiver, ReceiverOptions } from './server.js'
