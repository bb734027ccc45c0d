/**
 * An in-memory ml-dash server for tests, over real HTTP on 127.0.0.1.
 *
 * It speaks the API of ml-dash-spec §5: the GraphQL project lookup, PROJECT,
 * FOLDER and EXPERIMENT nodes (upserted), log batches numbered in arrival
 * order, reading logs back, and status PATCHes. Every request must carry an
 * HS256 JWT signed with the server's secret (see {@link signTestToken}).
 *
 * Faults are injected on demand: answer the next requests with a status
 * (503 bursts, 429 with Retry-After, 401, 400), drop their connections
 * before they are processed, answer slowly, or go down entirely (the port
 * refuses connections) for a while. Requests are recorded for assertions.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import type { Socket } from 'node:net'

/** One stored log entry, as the server keeps it. */
export interface StoredLog {
  sequenceNumber: number
  timestamp: string
  level: string
  message: string
  metadata?: Record<string, unknown>
}

/** One experiment as the server knows it. */
export interface TestExperiment {
  id: string
  nodeId: string
  namespace: string
  projectId: string
  parentId: string
  name: string
  /** owner/project/folders.../name, rebuilt from the nodes. */
  prefix: string
  status: string
  description?: string
  tags?: string[]
  metadata?: Record<string, unknown>
  logs: StoredLog[]
}

/** A request the server received (body parsed when JSON). */
export interface RecordedRequest {
  method: string
  path: string
  body: unknown
}

/** A fault applied to the next `count` matching requests. */
export type Fault =
  | {
      kind: 'status'
      status: number
      count: number
      retryAfter?: string
      match?: RegExp
    }
  | { kind: 'drop'; count: number; match?: RegExp }
  | { kind: 'delay'; ms: number; count: number; match?: RegExp }
  /** Never answers and stores nothing: a server that went silent (the client must give up). */
  | { kind: 'hold'; count: number; match?: RegExp }

/** Options of {@link startTestServer}. */
export interface TestServerOptions {
  /** HS256 secret tokens are verified with. @default "ml-dash-test-secret" */
  secret?: string
  /** Namespaces that exist. @default ["alice"] */
  namespaces?: string[]
}

/** A running test server. */
export interface TestServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  readonly secret: string
  readonly requests: RecordedRequest[]
  /** Experiments by id. */
  readonly experiments: Map<string, TestExperiment>
  /** The experiment with this prefix, if created. */
  experiment(prefix: string): TestExperiment | undefined
  /** Queues a fault. */
  inject(fault: Fault): void
  /** Drops the faults still queued: the server answers normally again. */
  clearFaults(): void
  /** Refuses connections for `ms` milliseconds (the port is closed, then reopened). */
  down(ms: number): Promise<void>
  close(): Promise<void>
}

/** Signs an HS256 JWT with a `username` claim, as the SDK's test setup does. */
export function signTestToken(
  claims: { username: string; exp?: number },
  secret = 'ml-dash-test-secret',
): string {
  const encode = (value: object) =>
    Buffer.from(JSON.stringify(value)).toString('base64url')
  const body = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}`
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`
}

/** Starts a server on 127.0.0.1 and a free port. */
export async function startTestServer(
  options: TestServerOptions = {},
): Promise<TestServer> {
  const state = new ServerState(
    options.secret ?? 'ml-dash-test-secret',
    options.namespaces ?? ['alice'],
  )
  await state.listen(0)
  return state
}

interface Project {
  id: string
  slug: string
  namespace: string
}

interface FolderNode {
  id: string
  projectId: string
  parentId: string
  name: string
}

class ServerState implements TestServer {
  readonly secret: string
  readonly requests: RecordedRequest[] = []
  readonly experiments = new Map<string, TestExperiment>()
  readonly #namespaces: Set<string>
  readonly #projects: Project[] = []
  readonly #folders: FolderNode[] = []
  readonly #faults: Fault[] = []
  readonly #sockets = new Set<Socket>()
  #server: Server | undefined
  #port = 0
  #nextId = 1

  constructor(secret: string, namespaces: string[]) {
    this.secret = secret
    this.#namespaces = new Set(namespaces)
  }

  get url(): string {
    return `http://127.0.0.1:${this.#port}`
  }

  experiment(prefix: string): TestExperiment | undefined {
    return [...this.experiments.values()].find((e) => e.prefix === prefix)
  }

  inject(fault: Fault): void {
    this.#faults.push({ ...fault })
  }

  clearFaults(): void {
    this.#faults.length = 0
  }

  async down(ms: number): Promise<void> {
    await this.#stop()
    await new Promise((resolve) => setTimeout(resolve, ms))
    await this.listen(this.#port)
  }

  close(): Promise<void> {
    return this.#stop()
  }

  listen(port: number): Promise<void> {
    const server = createServer((req, res) => this.#handle(req, res))
    server.keepAliveTimeout = 5000
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket)
      socket.on('close', () => this.#sockets.delete(socket))
    })
    this.#server = server
    return new Promise((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, '127.0.0.1', () => {
        this.#port = (server.address() as { port: number }).port
        resolve()
      })
    })
  }

  #stop(): Promise<void> {
    const server = this.#server
    this.#server = undefined
    for (const socket of this.#sockets) socket.destroy()
    return new Promise((resolve) =>
      server ? server.close(() => resolve()) : resolve(),
    )
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const path = req.url ?? '/'
      const fault = this.#takeFault(`${req.method} ${path}`)
      if (fault?.kind === 'drop') {
        req.socket.destroy()
        return
      }
      if (fault?.kind === 'hold') return
      const respond = () =>
        this.#respond(
          req,
          res,
          path,
          Buffer.concat(chunks).toString('utf8'),
          fault,
        )
      if (fault?.kind === 'delay') setTimeout(respond, fault.ms)
      else respond()
    })
  }

  #takeFault(target: string): Fault | undefined {
    const index = this.#faults.findIndex(
      (f) => f.match === undefined || f.match.test(target),
    )
    if (index < 0) return undefined
    const fault = this.#faults[index]!
    fault.count -= 1
    if (fault.count <= 0) this.#faults.splice(index, 1)
    return fault
  }

  #respond(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    text: string,
    fault: Fault | undefined,
  ): void {
    if (fault?.kind === 'status') {
      const headers: Record<string, string> = {
        'content-type': 'application/json',
      }
      if (fault.retryAfter !== undefined)
        headers['retry-after'] = fault.retryAfter
      res
        .writeHead(fault.status, headers)
        .end(JSON.stringify({ error: `injected ${fault.status}` }))
      return
    }
    const user = this.#authenticate(req.headers.authorization)
    if (user === undefined) {
      res
        .writeHead(401, { 'content-type': 'application/json' })
        .end('{"error":"invalid or missing token"}')
      return
    }
    let body: unknown
    try {
      body = text === '' ? undefined : JSON.parse(text)
    } catch {
      res.writeHead(400).end('{"error":"body is not JSON"}')
      return
    }
    this.requests.push({ method: req.method ?? '', path, body })
    const [status, answer] = this.#route(
      req.method ?? '',
      new URL(path, 'http://x'),
      body,
    )
    res
      .writeHead(status, { 'content-type': 'application/json' })
      .end(JSON.stringify(answer))
  }

  /** The token's username when it is a valid, unexpired HS256 JWT. */
  #authenticate(header: string | undefined): string | undefined {
    const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined
    const parts = token?.split('.')
    if (parts?.length !== 3) return undefined
    const expected = createHmac('sha256', this.secret)
      .update(`${parts[0]}.${parts[1]}`)
      .digest()
    const given = Buffer.from(parts[2]!, 'base64url')
    if (given.length !== expected.length || !timingSafeEqual(given, expected))
      return undefined
    try {
      const claims = JSON.parse(
        Buffer.from(parts[1]!, 'base64url').toString(),
      ) as { username?: unknown; exp?: unknown }
      if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now())
        return undefined
      return typeof claims.username === 'string' ? claims.username : undefined
    } catch {
      return undefined
    }
  }

  #route(method: string, url: URL, body: unknown): [number, unknown] {
    const path = url.pathname
    if (method === 'POST' && path === '/graphql') return this.#graphql(body)
    let match = /^\/api\/namespaces\/([^/]+)\/nodes$/.exec(path)
    if (method === 'POST' && match)
      return this.#createNode(
        decodeURIComponent(match[1]!),
        body as Record<string, unknown>,
      )
    match = /^\/api\/experiments\/([^/]+)\/logs$/.exec(path)
    if (match && method === 'POST') return this.#appendLogs(match[1]!, body)
    if (match && method === 'GET')
      return this.#readLogs(match[1]!, url.searchParams)
    match = /^\/api\/nodes\/([^/]+)$/.exec(path)
    if (match && method === 'PATCH')
      return this.#patchNode(match[1]!, body as { status?: unknown })
    return [404, { error: `no route ${method} ${path}` }]
  }

  #graphql(body: unknown): [number, unknown] {
    const { query, variables } = (body ?? {}) as {
      query?: string
      variables?: { namespace?: string }
    }
    if (
      typeof query !== 'string' ||
      !query.includes('namespace(slug: $namespace)')
    ) {
      return [200, { errors: [{ message: 'unsupported query' }] }]
    }
    const namespace = variables?.namespace ?? ''
    if (!this.#namespaces.has(namespace))
      return [200, { data: { namespace: null } }]
    const projects = this.#projects
      .filter((p) => p.namespace === namespace)
      .map(({ id, slug }) => ({ id, slug }))
    return [200, { data: { namespace: { projects } } }]
  }

  #createNode(
    namespace: string,
    body: Record<string, unknown>,
  ): [number, unknown] {
    if (!this.#namespaces.has(namespace))
      return [404, { error: `namespace ${namespace} not found` }]
    switch (body?.type) {
      case 'PROJECT': {
        const project = this.#project(namespace, String(body.slug ?? body.name))
        return [201, { project }]
      }
      case 'FOLDER': {
        const [projectId, parentId, name] = [
          String(body.projectId),
          String(body.parentId),
          String(body.name),
        ]
        let folder = this.#folders.find(
          (f) =>
            f.projectId === projectId &&
            f.parentId === parentId &&
            f.name === name,
        )
        if (folder === undefined) {
          folder = { id: this.#id('folder'), projectId, parentId, name }
          this.#folders.push(folder)
        }
        return [201, { node: { id: folder.id } }]
      }
      case 'EXPERIMENT':
        return this.#createExperiment(namespace, body)
      default:
        return [400, { error: 'type must be PROJECT, FOLDER or EXPERIMENT' }]
    }
  }

  #createExperiment(
    namespace: string,
    body: Record<string, unknown>,
  ): [number, unknown] {
    const project =
      typeof body.projectId === 'string'
        ? this.#projects.find((p) => p.id === body.projectId)
        : this.#project(namespace, String(body.projectSlug))
    if (project === undefined) return [400, { error: 'unknown projectId' }]
    const parentId = typeof body.parentId === 'string' ? body.parentId : 'ROOT'
    const name = String(body.name)
    let experiment = [...this.experiments.values()].find(
      (e) =>
        e.projectId === project.id &&
        e.parentId === parentId &&
        e.name === name,
    )
    if (experiment === undefined) {
      experiment = {
        id: this.#id('exp'),
        nodeId: this.#id('node'),
        namespace,
        projectId: project.id,
        parentId,
        name,
        prefix: [
          namespace,
          project.slug,
          ...this.#folderPath(parentId),
          name,
        ].join('/'),
        status: 'RUNNING',
        logs: [],
      }
      this.experiments.set(experiment.id, experiment)
    }
    if (typeof body.description === 'string')
      experiment.description = body.description
    if (Array.isArray(body.tags)) experiment.tags = body.tags as string[]
    if (typeof body.metadata === 'object' && body.metadata !== null)
      experiment.metadata = body.metadata as Record<string, unknown>
    return [
      201,
      { experiment: { id: experiment.id }, node: { id: experiment.nodeId } },
    ]
  }

  #appendLogs(id: string, body: unknown): [number, unknown] {
    const experiment = this.experiments.get(id)
    if (experiment === undefined)
      return [404, { error: 'experiment not found' }]
    const logs = (body as { logs?: unknown } | undefined)?.logs
    if (!Array.isArray(logs) || logs.some((entry) => !isEntry(entry))) {
      return [
        400,
        {
          error:
            'logs must be an array of {timestamp, level, message, metadata?}',
        },
      ]
    }
    const start = experiment.logs.length
    for (const entry of logs as Omit<StoredLog, 'sequenceNumber'>[]) {
      experiment.logs.push({ sequenceNumber: experiment.logs.length, ...entry })
    }
    return [
      201,
      {
        created: logs.length,
        startSequence: start,
        endSequence: start + logs.length - 1,
        experimentId: id,
      },
    ]
  }

  #readLogs(id: string, query: URLSearchParams): [number, unknown] {
    const experiment = this.experiments.get(id)
    if (experiment === undefined)
      return [404, { error: 'experiment not found' }]
    const levels = query.get('level')?.split(',')
    let logs = experiment.logs.filter(
      (l) => levels === undefined || levels.includes(l.level),
    )
    if (query.get('orderBy') === 'timestamp')
      logs = [...logs].sort((a, b) => a.timestamp.localeCompare(b.timestamp))
    if (query.get('order') === 'desc') logs = [...logs].reverse()
    const offset = Number(query.get('offset') ?? 0)
    const limit = Number(query.get('limit') ?? 1000)
    return [
      200,
      {
        logs: logs.slice(offset, offset + limit),
        hasMore: offset + limit < logs.length,
      },
    ]
  }

  #patchNode(nodeId: string, body: { status?: unknown }): [number, unknown] {
    const experiment = [...this.experiments.values()].find(
      (e) => e.nodeId === nodeId,
    )
    if (experiment === undefined) return [404, { error: 'node not found' }]
    if (
      !['RUNNING', 'COMPLETED', 'FAILED', 'CANCELLED'].includes(
        String(body?.status),
      )
    ) {
      return [400, { error: 'invalid status' }]
    }
    experiment.status = String(body.status)
    return [200, { node: { id: nodeId, status: experiment.status } }]
  }

  #project(namespace: string, slug: string): Project {
    let project = this.#projects.find(
      (p) => p.namespace === namespace && p.slug === slug,
    )
    if (project === undefined) {
      project = { id: this.#id('project'), slug, namespace }
      this.#projects.push(project)
    }
    return project
  }

  #folderPath(parentId: string): string[] {
    const path: string[] = []
    for (let id = parentId; id !== 'ROOT';) {
      const folder = this.#folders.find((f) => f.id === id)
      if (folder === undefined) break
      path.unshift(folder.name)
      id = folder.parentId
    }
    return path
  }

  #id(kind: string): string {
    return `${kind}-${this.#nextId++}`
  }
}

function isEntry(value: unknown): boolean {
  const entry = value as Record<string, unknown> | null
  return (
    typeof entry === 'object' &&
    entry !== null &&
    typeof entry.timestamp === 'string' &&
    typeof entry.level === 'string' &&
    typeof entry.message === 'string' &&
    !('sequenceNumber' in entry)
  )
}
