// A plain OTLP/HTTP sink on loopback for the benchmark: answers 200 to every
// POST and counts the records it received (GET /count). Prints its URL.
import { createServer } from 'node:http'
import { decodeOtlpProtobuf } from 'ml-dash-logs/receiver'

let received = 0
const server = createServer((req, res) => {
  if (req.method === 'GET') return res.end(String(received))
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    received += decodeOtlpProtobuf(Buffer.concat(chunks)).length
    res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
  })
})
server.listen(0, '127.0.0.1', () =>
  process.stdout.write(`http://127.0.0.1:${server.address().port}\n`),
)
process.on('SIGTERM', () => server.close(() => process.exit(0)))
