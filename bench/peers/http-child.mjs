// One run of bench/peers.mjs's http group, in its own process: N entries to
// the ml-dash test server through this library's Experiment (remote only,
// default delivery options), or through raw node:http (the same entries,
// batches of 1000, one request in flight, a keep-alive agent), then the
// server polled until it holds every entry. Prints { variant, total,
// delivered, maxRssMb }.
import { Agent, request } from 'node:http'
import {
  MESSAGE,
  childArgs,
  counterFor,
  fields,
  logAll,
  report,
  waitDelivered,
} from './common.mjs'

const config = childArgs()
const { variant, N, url, token } = config

async function experiment() {
  const { Experiment } = await import('ml-dash-logs')
  const exp = await new Experiment({
    prefix: 'alice/bench/http-experiment',
    dashUrl: url,
    token,
    dashRoot: false,
  }).start()
  return {
    log: (i) => exp.log(MESSAGE, { metadata: fields(i) }),
    close: () => exp.close('COMPLETED'),
  }
}

// The server path by hand: the spec's calls (ml-dash-spec section 5) as the
// test server needs them for a prefix without folders, then the log batches.
async function raw() {
  const agent = new Agent({ keepAlive: true })
  const { hostname, port } = new URL(url)
  const call = (method, path, value) =>
    new Promise((resolve, reject) => {
      const body = Buffer.from(JSON.stringify(value))
      const req = request(
        {
          agent,
          hostname,
          port,
          method,
          path,
          headers: {
            authorization: `Bearer ${token}`,
            'content-type': 'application/json',
            'content-length': body.length,
          },
        },
        (res) => {
          const chunks = []
          res.on('data', (chunk) => chunks.push(chunk))
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8')
            if (res.statusCode >= 200 && res.statusCode < 300)
              resolve(JSON.parse(text))
            else
              reject(new Error(`${method} ${path}: ${res.statusCode} ${text}`))
          })
        },
      )
      req.on('error', reject)
      req.end(body)
    })
  await call('POST', '/graphql', {
    query:
      'query GetProject($namespace: String!) { namespace(slug: $namespace) { projects { id slug } } }',
    variables: { namespace: 'alice' },
  })
  const created = await call('POST', '/api/namespaces/alice/nodes', {
    type: 'EXPERIMENT',
    name: 'http-raw',
    parentId: 'ROOT',
    projectSlug: 'bench',
  })
  const logsPath = `/api/experiments/${created.experiment.id}/logs`

  const waiting = []
  let inFlight
  let failure
  // One request in flight; a batch goes once 1000 entries wait (or at close).
  const pump = (closing) => {
    if (inFlight !== undefined || waiting.length === 0) return inFlight
    if (!closing && waiting.length < 1000) return undefined
    inFlight = call('POST', logsPath, { logs: waiting.splice(0, 1000) })
      .catch((error) => (failure ??= error))
      .finally(() => {
        inFlight = undefined
        pump(closing)
      })
    return inFlight
  }
  return {
    log: (i) => {
      waiting.push({
        timestamp: new Date().toISOString(),
        level: 'info',
        message: MESSAGE,
        metadata: fields(i),
      })
      pump(false)
    },
    close: async () => {
      while (inFlight !== undefined || waiting.length > 0) await pump(true)
      if (failure !== undefined) throw failure
      await call('PATCH', `/api/nodes/${created.node.id}`, {
        status: 'COMPLETED',
      })
      agent.destroy()
    },
  }
}

const setups = { 'ml-dash-logs Experiment': experiment, 'raw node:http': raw }
const sender = await setups[variant]()
const count = counterFor(config)

const start = performance.now()
await logAll(N, sender.log)
await sender.close()
const { delivered, total } = await waitDelivered(count, N, start)
report({ variant, total, delivered })
