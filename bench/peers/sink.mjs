// A counting sink for bench/peers.mjs, one process per case, on 127.0.0.1
// and a free port: `node bench/peers/sink.mjs <otlp|loki|elastic|ml-dash>`.
// Counts the records it receives, cheaply (protobuf nesting walked, JSON
// scanned for its structure; records never decoded), answers as the real
// service would, and prints one JSON line { url, count } (ml-dash: and a
// token); GET <count> answers the number of records received so far, as
// plain text. `ml-dash-full` is the library's test server itself (every
// request parsed, checked and kept), for comparison. Measures nothing itself.
import { createServer, request } from 'node:http'
import { createRequire } from 'node:module'
import { gunzipSync } from 'node:zlib'
import { signTestToken, startTestServer } from 'ml-dash-logs/testing'

const kind = process.argv[2]
const COUNT_PATH = '/__count'
let received = 0

/**
 * Counts the length-delimited fields at `path` (field numbers, outermost
 * first) in the protobuf message buf[start, end), skipping everything else.
 */
function countFields(buf, start, end, path, depth = 0) {
  let pos = start
  let count = 0
  const varint = () => {
    let value = 0
    for (let shift = 0; ; shift += 7) {
      if (pos >= end) throw new Error('truncated protobuf')
      const byte = buf[pos++]
      value += (byte & 0x7f) * 2 ** shift
      if (byte < 0x80) return value
    }
  }
  while (pos < end) {
    const tag = varint()
    const wire = tag % 8
    if (wire === 0) varint()
    else if (wire === 1) pos += 8
    else if (wire === 5) pos += 4
    else if (wire === 2) {
      const length = varint()
      if (pos + length > end) throw new Error('truncated protobuf')
      if (Math.floor(tag / 8) === path[depth]) {
        count +=
          depth === path.length - 1
            ? 1
            : countFields(buf, pos, pos + length, path, depth + 1)
      }
      pos += length
    } else throw new Error(`protobuf wire type ${wire}`)
  }
  return count
}

/**
 * Counts the objects or arrays (`open`: `{` or `[`) that open at nesting
 * `depth` in the JSON text in buf (`{"logs":[{…},{…}]}`, `{` at 2 → 2),
 * walking its structure and jumping over strings; not a validator.
 */
function countJsonOpenings(buf, depth, open) {
  const wanted = open.charCodeAt(0)
  let at = 0
  let count = 0
  for (let pos = 0; pos < buf.length; pos++) {
    const byte = buf[pos]
    if (byte === 0x22) {
      // A string: on to its closing quote, one not escaped by a backslash.
      for (;;) {
        pos = buf.indexOf(0x22, pos + 1)
        if (pos < 0) throw new Error('unterminated JSON string')
        let backslashes = 0
        while (buf[pos - 1 - backslashes] === 0x5c) backslashes++
        if (backslashes % 2 === 0) break
      }
    } else if (byte === 0x7b || byte === 0x5b) {
      if (at === depth && byte === wanted) count++
      at++
    } else if (byte === 0x7d || byte === 0x5d) at--
  }
  if (at !== 0) throw new Error('unbalanced JSON')
  return count
}

const isJson = (req) =>
  (req.headers['content-type'] ?? '').includes('application/json')

// OTLP/HTTP logs: ExportLogsServiceRequest.resource_logs (1) →
// ResourceLogs.scope_logs (2) → ScopeLogs.log_records (2).
function otlp(req, res, body) {
  if (req.method !== 'POST' || req.url.split('?')[0] !== '/v1/logs')
    return res.writeHead(404).end()
  if (isJson(req)) {
    const request = JSON.parse(body.toString('utf8'))
    for (const resource of request.resourceLogs ?? request.resource_logs ?? [])
      for (const scope of resource.scopeLogs ?? resource.scope_logs ?? [])
        received += (scope.logRecords ?? scope.log_records ?? []).length
    return res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
  }
  received += countFields(body, 0, body.length, [1, 2, 2])
  res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end()
}

// Loki's push API: JSON { streams: [{ stream, values }] }, or protobuf
// compressed with snappy: PushRequest.streams (1) → StreamAdapter.entries (2).
let snappy
function loki(req, res, body) {
  if (req.method !== 'POST' || req.url.split('?')[0] !== '/loki/api/v1/push')
    return res.writeHead(404).end()
  if (isJson(req)) {
    // { streams: [{ stream: {…}, values: [[time, line], …] }] }
    received += countJsonOpenings(body, 4, '[')
  } else {
    snappy ??= createRequire(import.meta.url)('snappy')
    const raw = snappy.uncompressSync(body)
    received += countFields(raw, 0, raw.length, [1, 2])
  }
  res.writeHead(204).end()
}

// Enough of Elasticsearch 8 for @elastic/elasticsearch: the product header
// on every answer, GET /, and _bulk answered item by item.
let nextId = 0
function elastic(req, res, body) {
  const path = req.url.split('?')[0]
  const answer = (status, value) =>
    res
      .writeHead(status, {
        'content-type': 'application/json',
        'x-elastic-product': 'Elasticsearch',
      })
      .end(req.method === 'HEAD' ? undefined : JSON.stringify(value))
  if (path === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
    return answer(200, {
      name: 'bench-sink',
      cluster_name: 'bench',
      cluster_uuid: 'bench',
      version: {
        number: '8.19.0',
        build_flavor: 'default',
        lucene_version: '9.12.0',
        minimum_wire_compatibility_version: '7.17.0',
        minimum_index_compatibility_version: '7.0.0',
      },
      tagline: 'You Know, for Search',
    })
  }
  const bulk = /^(?:\/([^/]+))?\/_bulk$/.exec(path)
  if (bulk && (req.method === 'POST' || req.method === 'PUT')) {
    const started = Date.now()
    const lines = body.toString('utf8').split('\n')
    const items = []
    for (let i = 0; i < lines.length; i++) {
      if (lines[i] === '') continue
      const action = JSON.parse(lines[i])
      const op = Object.keys(action)[0]
      if (op !== 'delete') i++ // the document line
      items.push({
        [op]: {
          _index: action[op]?._index ?? bulk[1],
          _id: action[op]?._id ?? String(nextId++),
          _version: 1,
          result: op === 'delete' ? 'deleted' : 'created',
          status: op === 'delete' ? 200 : 201,
        },
      })
    }
    received += items.length
    return answer(200, { took: Date.now() - started, errors: false, items })
  }
  if (/\/_refresh$|\/_flush$/.test(path))
    return answer(200, { _shards: { total: 1, successful: 1, failed: 0 } })
  if (req.method === 'HEAD') return answer(200)
  answer(200, { acknowledged: true })
}

const handlers = { otlp, loki, elastic }

// ml-dash: the library's test server answers the spec's calls (lookups,
// creation, status); a front counts the log batches itself, as the other
// sinks count theirs, and answers them as the server would (ml-dash-spec
// section 5), numbering each experiment's entries in arrival order.
async function mlDash(full) {
  const server = await startTestServer()
  const token = signTestToken({ username: 'alice' })
  const next = new Map()
  const target = new URL(server.url)
  const front = createServer((req, res) => {
    if (req.method === 'GET' && req.url === COUNT_PATH) {
      let total = received
      for (const experiment of server.experiments.values())
        total += experiment.logs.length
      return res.end(String(total))
    }
    const logs = /^\/api\/experiments\/([^/?]+)\/logs$/.exec(req.url)
    if (full || logs === null || req.method !== 'POST') {
      // Everything else, as the test server answers it.
      const forward = request(
        {
          hostname: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (answer) => {
          res.writeHead(answer.statusCode, answer.headers)
          answer.on('error', () => res.destroy())
          answer.pipe(res)
        },
      )
      // Before the answer's head: a 502; after it, the answer is cut off.
      forward.on('error', () =>
        res.headersSent ? res.destroy() : res.writeHead(502).end(),
      )
      req.on('error', () => forward.destroy())
      return req.pipe(forward)
    }
    const chunks = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', () => {
      const id = logs[1]
      let created
      try {
        created = countJsonOpenings(Buffer.concat(chunks), 2, '{')
      } catch (error) {
        process.stderr.write(`sink ml-dash: ${req.url}: ${error.message}\n`)
        return res.writeHead(400).end()
      }
      const startSequence = next.get(id) ?? 0
      next.set(id, startSequence + created)
      received += created
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          created,
          startSequence,
          endSequence: startSequence + created - 1,
          experimentId: id,
        }),
      )
    })
  })
  await new Promise((resolve) => front.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${front.address().port}`
  process.stdout.write(
    JSON.stringify({ url, count: url + COUNT_PATH, token }) + '\n',
  )
  process.on('SIGTERM', () => {
    front.closeAllConnections()
    Promise.all([
      server.close(),
      new Promise((resolve) => front.close(resolve)),
    ]).then(() => process.exit(0))
  })
}

async function start() {
  if (kind === 'ml-dash' || kind === 'ml-dash-full')
    return mlDash(kind === 'ml-dash-full')
  const handle = handlers[kind]
  if (handle === undefined) throw new Error(`unknown sink kind ${kind}`)
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url === COUNT_PATH)
      return res.end(String(received))
    const chunks = []
    req.on('data', (chunk) => chunks.push(chunk))
    req.on('end', () => {
      try {
        let body = Buffer.concat(chunks)
        if ((req.headers['content-encoding'] ?? '').includes('gzip'))
          body = gunzipSync(body)
        handle(req, res, body)
      } catch (error) {
        process.stderr.write(`sink ${kind}: ${req.url}: ${error.message}\n`)
        res.writeHead(400).end()
      }
    })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${server.address().port}`
  process.stdout.write(JSON.stringify({ url, count: url + COUNT_PATH }) + '\n')
  process.on('SIGTERM', () => {
    server.closeAllConnections()
    server.close(() => process.exit(0))
  })
}

await start()
