// load.mjs - the dashboard's plain modules (api.js, format.js) in node, for
// tests: loaded through Vite with frontend/vite.config.js, so the
// virtual:memprobe-abi module (the call names and host charset read from
// the C headers) resolves exactly as in the build.
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

export const TOP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const FRONTEND = path.join(TOP, 'frontend')
const require = createRequire(path.join(FRONTEND, 'package.json'))

// loadFrontend('src/api.js', ...): the modules, in that order.
export async function loadFrontend(...files) {
  const { createServer } = await import(require.resolve('vite'))
  const server = await createServer({
    root: FRONTEND,
    configFile: path.join(FRONTEND, 'vite.config.js'),
    mode: 'test',
    logLevel: 'error',
    appType: 'custom',
    server: { middlewareMode: true, hmr: false, watch: null },
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
