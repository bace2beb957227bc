// load.mjs - the dashboard's plain modules (api.js, format.js) in node, for
// tests: loaded through Vite with frontend/vite.config.js, so the
// virtual:memprobe-abi module (the call names and host charset read from
// the C headers) resolves exactly as in the build.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export const TOP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const FRONTEND = path.join(TOP, 'frontend')

// loadFrontend('src/api.js', ...): the modules, in that order.
export async function loadFrontend(...files) {
  // Vite's ES module entry (its package.json "exports"): Node 18's
  // require.resolve finds the CommonJS one, whose named exports import()
  // does not see there.
  const dir = path.join(FRONTEND, 'node_modules/vite')
  const entry = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).exports['.'].import
  const { createServer } = await import(pathToFileURL(path.join(dir, entry)).href)
  const server = await createServer({
    root: FRONTEND,
    configFile: path.join(FRONTEND, 'vite.config.js'),
    mode: 'test',
    logLevel: 'error',
    appType: 'custom',
    server: { middlewareMode: true, hmr: false, ws: false, watch: null },
    optimizeDeps: { noDiscovery: true, include: [] }
  })
  try {
    const out = []
    for (const f of files) out.push(await server.ssrLoadModule('/' + f))
    return out
  } finally {
    await server.close()
  }
}
