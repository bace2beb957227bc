// browser.mjs - Debian's Chromium driven by playwright-core (from
// frontend/node_modules): a fresh profile per run, headless, no network
// beyond what the page asks.  Collects console errors and failed requests
// so every test can assert there were none.
import { createRequire } from 'node:module'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const require = createRequire(path.resolve(here, '../../frontend/package.json'))
const { chromium } = require('playwright-core')

export const CHROMIUM = process.env.MEMPROBE_CHROMIUM || '/usr/bin/chromium'
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage']

export async function openBrowser({ width = 1366, height = 800 } = {}) {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing: run scripts/deps.sh browser`)
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'memprobe-chromium-'))
  // The stack serves HTTPS with a self-signed certificate (make run TLS=1).
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width, height }, ignoreHTTPSErrors: true
  })
  const problems = { console: [], failed: [], http: [] }
  ctx.on('console', (m) => m.type() === 'error' && problems.console.push(m.text()))
  ctx.on('weberror', (e) => problems.console.push(String(e.error())))
  ctx.on('requestfailed', (r) => problems.failed.push(`${r.url()} ${r.failure()?.errorText}`))
  ctx.on('response', (r) => r.status() >= 400 && problems.http.push(`${r.status()} ${r.url()}`))
  const page = ctx.pages()[0] || (await ctx.newPage())
  return {
    ctx, page, problems,
    async close() {
      await ctx.close()
      fs.rmSync(profile, { recursive: true, force: true })
    }
  }
}
