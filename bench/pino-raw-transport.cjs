// A design alternative, measured for reference only: the same line encoder
// and local store as ml-dash-logs/pino, but on a plain Writable that takes
// thread-stream's text chunks as they come, instead of
// pino-abstract-transport's line stream (no split2, no string-to-Buffer-to-
// string round trip). No config message handling, no flush: not a product.
'use strict'
const { Writable } = require('node:stream')
const { resolveOptions } = require('../dist/cjs/core/options.js')
const { createRouter } = require('../dist/cjs/delivery/router.js')
const { PinoLineEncoder } = require('../dist/cjs/pino/encode-line.js')

module.exports = function rawTransport(options) {
  const resolved = resolveOptions(options, process.env)
  const router = createRouter(resolved)
  const encoder = new PinoLineEncoder(router, resolved)
  let partial = ''
  return new Writable({
    decodeStrings: false,
    write(chunk, _encoding, callback) {
      const text = partial + chunk
      let start = 0
      for (let end; (end = text.indexOf('\n', start)) >= 0; start = end + 1) {
        if (end > start) encoder.enqueue(text.slice(start, end))
      }
      partial = text.slice(start)
      callback()
    },
    final(callback) {
      router.close(9000).then(() => callback(), callback)
    },
  })
}
