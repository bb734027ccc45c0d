/** `ml-dash-logs/receiver`: the OTLP/HTTP logs receiver and its decoders. */
export { startReceiver } from './server.js'
export type { Receiver, ReceiverOptions } from './server.js'
export {
  OtlpDecodeError,
  decodeOtlpJson,
  decodeOtlpProtobuf,
} from './decode-otlp.js'
