/**
 * `ml-dash-logs serve` as a real process, fed by the official OpenTelemetry
 * OTLP exporters (protobuf and JSON, plain and gzip) from another process.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { FIXTURES, run, useTempDir } from '../helpers.js'

const BIN = fileURLToPath(
  new URL('../../bin/ml-dash-logs.cjs', import.meta.url),
)
// Registered first, so the folder is removed after the process is killed.
const temp = useTempDir()
let serveProcess: ChildProcessWithoutNullStreams | undefined
afterEach(() => {
  serveProcess?.kill('SIGKILL')
  serveProcess = undefined
})

/** Starts `ml-dash-logs serve --port 0`; resolves with its URL and its exit. */
async function serve(): Promise<{
  url: string
  exited: Promise<number | null>
}> {
  const child = spawn(process.execPath, [
    BIN,
    'serve',
    '--port',
    '0',
    '--dash-root',
    temp.dir,
    '--prefix',
    'alice/serve/default',
  ])
  serveProcess = child
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => resolve(code)),
  )
  const url = await new Promise<string>((resolve, reject) => {
    let text = ''
    child.stderr.on('data', (chunk: Buffer) => {
      text += chunk.toString()
      const match = /at (http:\/\/[^\s]+)\/v1\/logs/.exec(text)
      if (match) resolve(match[1]!)
    })
    child.on('close', () => reject(new Error(`serve exited: ${text}`)))
  })
  return { url, exited }
}

describe('ml-dash-logs serve with the official OTLP exporters', () => {
  it.each([
    ['proto', 'none'],
    ['proto', 'gzip'],
    ['http', 'none'],
    ['http', 'gzip'],
  ])(
    'stores every record sent by the %s exporter (compression %s) in its experiment',
    async (protocol, compression) => {
      const { url, exited } = await serve()
      const prefix = `alice/serve/${protocol}-${compression}`
      const sent = await run(process.execPath, [
        join(FIXTURES, 'otlp-send.mjs'),
        url,
        protocol,
        '200',
        compression,
        prefix,
      ])
      expect(sent.stdout).toContain('acknowledged 200')
      serveProcess!.kill('SIGTERM')
      expect(await exited).toBe(0)
      const lines = temp.lines(prefix)
      expect(lines.map((l) => l.message)).toEqual(
        Array.from({ length: 200 }, (_, i) => `record ${i}`),
      )
      expect(lines[0]?.metadata).toMatchObject({
        i: 0,
        'otel.resource': { 'service.name': 'sender' },
      })
    },
  )

  it('loses none of the records it acknowledged when SIGTERM arrives while records flow', async () => {
    const { url, exited } = await serve()
    const prefix = 'alice/serve/sigterm'
    const sender = spawn(process.execPath, [
      join(FIXTURES, 'otlp-send.mjs'),
      url,
      'proto',
      '20000',
      'none',
      prefix,
    ])
    let output = ''
    sender.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
      if (output.includes('first batch acknowledged'))
        serveProcess?.kill('SIGTERM')
    })
    await new Promise((resolve) => sender.on('close', resolve))
    expect(await exited).toBe(0)
    const acknowledged = Number(/acknowledged (\d+)/.exec(output)?.[1])
    expect(acknowledged).toBeGreaterThan(0)
    const stored = temp.lines(prefix).map((l) => l.message)
    expect(stored.slice(0, acknowledged)).toEqual(
      Array.from({ length: acknowledged }, (_, i) => `record ${i}`),
    )
    console.log(
      `SIGTERM during the flow: ${acknowledged} acknowledged, ${stored.length} stored`,
    )
  })
})
