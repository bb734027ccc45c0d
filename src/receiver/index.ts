/** `ml-dash-logs/receiver`: the OTLP/HTTP logs receiver and its decoders. */
export { startReceiver } from './server.js'
export type { Receiver, ReceiverOptions } from './server.js'
export {
  DecodeBudget,
  OtlpDecodeError,
  OtlpTooLargeError,
  decodeOtlpProtobuf,
} from './decode-otlp.js'
export { decodeOtlpJson } from './decode-otlp-json.js'
