/**
 * OTLP/HTTP answers in the request's content type: an
 * `ExportLogsServiceResponse` (empty on full success, `partial_success`
 * { rejected_log_records = 1, error_message = 2 } otherwise) and, for
 * failures, a `google.rpc.Status` { code = 1, message = 2 }.
 */

/** The two encodings OTLP/HTTP uses. */
export type OtlpEncoding = 'protobuf' | 'json'

/** Content types of the two encodings. */
export const CONTENT_TYPES: Readonly<Record<OtlpEncoding, string>> = {
  protobuf: 'application/x-protobuf',
  json: 'application/json',
}

/** The success answer; with rejected records, a partial success. */
export function exportResponse(
  encoding: OtlpEncoding,
  rejected: number,
  message: string,
): Buffer {
  if (encoding === 'json') {
    const body =
      rejected === 0
        ? {}
        : {
            partialSuccess: {
              rejectedLogRecords: String(rejected),
              errorMessage: message,
            },
          }
    return Buffer.from(JSON.stringify(body))
  }
  if (rejected === 0) return Buffer.alloc(0)
  return lengthField(
    1,
    Buffer.concat([varintField(1, rejected), stringField(2, message)]),
  )
}

/** A `google.rpc.Status` with an HTTP-like code and a message. */
export function statusResponse(
  encoding: OtlpEncoding,
  code: number,
  message: string,
): Buffer {
  if (encoding === 'json') return Buffer.from(JSON.stringify({ code, message }))
  return Buffer.concat([varintField(1, code), stringField(2, message)])
}

function varint(value: number): Buffer {
  const bytes: number[] = []
  let rest = value
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80)
    rest = Math.floor(rest / 0x80)
  }
  bytes.push(rest)
  return Buffer.from(bytes)
}

function varintField(field: number, value: number): Buffer {
  return Buffer.concat([varint(field * 8), varint(value)])
}

function lengthField(field: number, bytes: Buffer): Buffer {
  return Buffer.concat([varint(field * 8 + 2), varint(bytes.length), bytes])
}

function stringField(field: number, text: string): Buffer {
  return lengthField(field, Buffer.from(text))
}
