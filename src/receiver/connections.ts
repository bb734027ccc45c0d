/**
 * The receiver's bound on open connections, kept without locking real
 * clients out. Node's own `server.maxConnections` refuses every new
 * connection once the bound is reached, so a few hundred sockets that
 * connect and send nothing (or a header a byte at a time) shut the door
 * until each is cut at its time limit. Here a new connection past the
 * bound takes the place of the oldest one that has no request in progress
 * (still sending its headers, or idle between keep-alive requests); only
 * when every connection is busy with a request is the new one refused.
 * A slow header is still cut by the header deadline; a connection that
 * never sends a byte is not (Node starts that deadline at the first byte),
 * so it is only ever closed to make room.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

/** Counters of the connection bound. */
export interface ConnectionStats {
  /** Connections closed to make room for a new one. */
  evicted: number
  /** New connections refused because every open one had a request in progress. */
  refused: number
}

/** Keeps at most `max` connections open on `server`; call before it listens. */
export function boundConnections(server: Server, max: number): ConnectionStats {
  const stats: ConnectionStats = { evicted: 0, refused: 0 }
  // Insertion order is age order: the first idle one found is the oldest.
  const open = new Map<Socket, { busy: number }>()
  server.on('connection', (socket: Socket) => {
    if (open.size >= max) {
      const idle = oldestIdle(open)
      if (idle === undefined) {
        stats.refused++
        socket.destroy()
        return
      }
      stats.evicted++
      open.delete(idle)
      idle.destroy()
    }
    open.set(socket, { busy: 0 })
    socket.once('close', () => open.delete(socket))
  })
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const state = open.get(req.socket)
    if (state === undefined) return
    state.busy++
    res.once('close', () => {
      state.busy--
    })
  })
  return stats
}

function oldestIdle(open: Map<Socket, { busy: number }>): Socket | undefined {
  for (const [socket, state] of open) if (state.busy === 0) return socket
  return undefined
}
