// vite.config.js - builds the dashboard into frontend/dist (served by
// memprobe-server).  The call names and the host id charset come from the C
// headers that define them (vite-abi.js, the module "virtual:memprobe-abi").
// `vite build --mode bench` builds the benchmark's copy (frontend/dist-bench,
// make bench-browser): the same dashboard plus the hooks bench/browser reads
// (import.meta.env.MODE === 'bench'), which the production build leaves out.
// `npm run dev` proxies /api to a running server on MEMPROBE_URL so the UI
// can be worked on without rebuilding.  The proxy adds the server's token
// (MEMPROBE_TOKEN_FILE, default: the var/api-token of make run) only when
// MEMPROBE_DEV_TOKEN=1 says so: whoever reaches the dev server then reads
// the API as its owner (every local user can connect to 127.0.0.1), so it
// is the developer's explicit choice, said at start.  The dev server
// listens on 127.0.0.1 only and sends no CORS headers, so a page of
// another origin cannot read through it.  Not in mode "test" (tests/frontend).
import fs from 'node:fs'
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import { memprobeAbi } from './vite-abi.js'

function devProxy() {
  const target = process.env.MEMPROBE_URL || 'http://127.0.0.1:8080'
  const file = process.env.MEMPROBE_TOKEN_FILE || new URL('../var/api-token', import.meta.url).pathname
  let token = ''
  if (process.env.MEMPROBE_DEV_TOKEN === '1') {
    try {
      token = fs.readFileSync(file, 'utf8').trim()
      console.warn(`memprobe: the dev proxy sends the token of ${file}: any local user who connects to this dev server reads the API`)
    } catch (e) {
      console.warn(`memprobe: no token from ${file} (${e.code}): the server will answer 401; set MEMPROBE_TOKEN_FILE`)
    }
  } else {
    console.warn('memprobe: the dev proxy sends no token (the server answers 401); MEMPROBE_DEV_TOKEN=1 makes it send var/api-token, readable then by any local user through this dev server')
  }
  // changeOrigin: the server checks Host against its own names.
  return {
    '/api': { target, changeOrigin: true, secure: false, headers: token ? { Authorization: `Bearer ${token}` } : {} }
  }
}

export default defineConfig(({ command, mode }) => ({
  plugins: [vue(), memprobeAbi()],
  base: './',
  build: { outDir: mode === 'bench' ? 'dist-bench' : 'dist', emptyOutDir: true, chunkSizeWarningLimit: 900 },
  server: command === 'serve' && mode !== 'test' ? { host: '127.0.0.1', cors: false, proxy: devProxy() } : {}
}))
