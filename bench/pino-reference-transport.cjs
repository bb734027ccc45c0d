// A reference pino transport for the benchmark: pino-abstract-transport
// with nothing after it. It splits the stream into lines (and, unless
// `lines` is set, parses each with JSON.parse, as a transport does by
// default), counts them, and stores nothing. It measures what any transport
// built on pino-abstract-transport pays before doing its own work.
'use strict'
const build = require('pino-abstract-transport')

module.exports = function referenceTransport({ lines = false } = {}) {
  let count = 0
  return build(
    (source) => {
      source.on('data', () => {
        count++
      })
    },
    {
      parse: lines ? 'lines' : undefined,
      metadata: false,
      close: async () => {
        if (count < 0) throw new Error('unreachable')
      },
    },
  )
}
