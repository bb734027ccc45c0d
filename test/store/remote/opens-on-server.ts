/** Opens a remote experiment the way the channel does, and closes it: whether the test server saw it. */
import { parsePrefix } from '../../../src/core/prefix.js'
import { createRemoteStore } from '../../../src/store/remote/remote-store.js'
import type { StoreResult } from '../../../src/core/result.js'

export async function openAndClose(options: {
  url: string
  token: string
  tokenSource: string
  prefix: string
}): Promise<StoreResult> {
  const store = createRemoteStore({
    ...options,
    prefix: parsePrefix(options.prefix),
    requestTimeoutMs: 5000,
  })
  try {
    return await store.open()
  } finally {
    store.close()
  }
}
