// stack.mjs - the real memprobe stack for the browser suite, private to
// one run: MariaDB under a fresh directory (scripts/db-start.sh, a free
// TCP port), lector on the eBPF source, memprobe-server serving
// frontend/dist on a free port, as make run TLS=1 starts it: behind a
// token (a file of mode 0600) and HTTPS with a self-signed certificate.
// st.tokenUrl is the URL make run prints; st.get() is a script's request
// (bearer token, the certificate trusted).  The server can be stopped and
// started again on the same port (reconnect test).  stop() tears all of
// it down.  startStack({dist}) serves another build of the dashboard (the
// benchmark's, frontend/dist-bench).
import { spawn, execFileSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import https from 'node:https'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
export const TOP = path.resolve(here, '../..')
const BUILD = process.env.BUILD || path.join(TOP, 'build')
export const BIN = {
  lector: path.join(BUILD, 'bin/lector'),
  server: path.join(BUILD, 'memprobe-server'),
  hold: path.join(BUILD, 'tests/browser-hold'),
  memFields: path.join(BUILD, 'workload/mem-fields'), // its hog: the OOM test's victim
  dist: path.join(TOP, 'frontend/dist/index.html')
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

export async function waitFor(what, fn, timeoutMs, stepMs = 100) {
  const end = Date.now() + timeoutMs
  let last
  while (Date.now() < end) {
    try {
      last = await fn()
      if (last) return last
    } catch (e) {
      last = e
    }
    await sleep(stepMs)
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`)
}

function start(name, bin, args, dir) {
  const log = fs.openSync(path.join(dir, `${name}.log`), 'a')
  const child = spawn(bin, args, { stdio: ['ignore', log, log], cwd: dir })
  fs.closeSync(log)
  child.exitedP = new Promise((r) => child.on('exit', (code, sig) => r({ code, sig })))
  return child
}

async function stopChild(child, timeoutMs = 10000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return
  child.kill('SIGTERM')
  const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
  await child.exitedP
  clearTimeout(t)
}

// The token and the certificate, as scripts/run.sh makes them.
function credentials(dir) {
  const token = crypto.randomBytes(32).toString('base64url')
  fs.writeFileSync(path.join(dir, 'api-token'), token + '\n', { mode: 0o600 })
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', path.join(dir, 'tls-key.pem'), '-out', path.join(dir, 'tls-cert.pem')], { stdio: 'ignore' })
  fs.chmodSync(path.join(dir, 'tls-key.pem'), 0o600)
  return { token, ca: fs.readFileSync(path.join(dir, 'tls-cert.pem')) }
}

// GET url: {status, headers, text, json()}; the bearer token unless auth is false.
function request(st, url, { auth = true, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const h = { ...headers, ...(auth ? { Authorization: `Bearer ${st.token}` } : {}) }
    // agent: false, one connection per request: a kept-alive one the server
    // closed after its 2 s keep-alive timeout ends in 'socket hang up'.
    const req = https.get(url, { ca: st.ca, headers: h, timeout: 10000, agent: false }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d) => (text += d))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) }))
    })
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer in 10 s`)))
    req.on('error', reject)
  })
}

export async function startStack({ dist = BIN.dist } = {}) {
  for (const [k, f] of Object.entries({ ...BIN, dist }))
    if (!fs.existsSync(f)) throw new Error(`${f} missing (${k}): run make first`)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-browser-'))
  const st = { dir, procs: {}, port: await freePort(), ...credentials(dir) }
  const env = { ...process.env, MEMPROBE_DB_PORT: String(await freePort()) }
  execFileSync(path.join(TOP, 'scripts/db-start.sh'), [dir], { env, stdio: ['ignore', 'ignore', 'inherit'] })
  execFileSync(BIN.lector, ['--migrate', `--config=${dir}/lector.conf`], { stdio: 'pipe' })
  st.procs.lector = start('lector', BIN.lector,
    ['--source=bpf', `--config=${dir}/lector.conf`, `--spill=${dir}/lector.spill`], dir)
  st.url = `https://127.0.0.1:${st.port}/`
  st.tokenUrl = `${st.url}?token=${st.token}`
  st.get = (p, opts) => request(st, st.url + p, opts)
  // A memprobe-server on this stack's database and token: `name` (its log
  // file and st.procs entry) on `port`, with `extra` options.
  const serve = async (name, port, extra) => {
    st.procs[name] = start(name, BIN.server,
      ['--port', String(port), '--config', `${dir}/reader.conf`, '--static', path.dirname(dist),
        '--token-file', `${dir}/api-token`, '--tls-cert', `${dir}/tls-cert.pem`, '--tls-key', `${dir}/tls-key.pem`,
        ...extra], dir)
    const url = `https://127.0.0.1:${port}/`
    await waitFor(`memprobe-server ${name} /healthz`, async () => {
      if (st.procs[name].exitCode !== null) throw new Error(`server exited; see ${dir}/${name}.log:\n${tail(dir, name)}`)
      return (await request(st, url + 'healthz', { auth: false })).status === 200
    }, 15000)
    return { url, get: (p, opts) => request(st, url + p, opts), stop: () => stopChild(st.procs[name]) }
  }
  st.startServer = () => serve('server', st.port, [])
  // A second server beside the first (other options, e.g. --sse-resume-max).
  st.extraServer = async (extra) => serve('server2', await freePort(), extra)
  st.stopServer = () => stopChild(st.procs.server)
  st.log = (name) => tail(dir, name)
  st.stop = async () => {
    await stopChild(st.procs.server2)
    await stopChild(st.procs.server)
    await stopChild(st.procs.lector)
    try {
      execFileSync(path.join(TOP, 'scripts/db-stop.sh'), [dir], { stdio: 'ignore' })
    } finally {
      if (!process.env.KEEP_STACK) fs.rmSync(dir, { recursive: true, force: true })
    }
  }
  try {
    await st.startServer()
    await waitFor('lector capturing', () => {
      if (st.procs.lector.exitCode !== null) throw new Error(`lector exited; see its log:\n${tail(dir, 'lector')}`)
      return /capturing from bpf/.test(tail(dir, 'lector'))
    }, 30000)
  } catch (e) {
    await st.stop()
    throw e
  }
  return st
}

function tail(dir, name) {
  try {
    return fs.readFileSync(path.join(dir, `${name}.log`), 'utf8').split('\n').slice(-15).join('\n')
  } catch {
    return ''
  }
}

// The workload under a name unique to this run (comm = file name).
export async function startHold(dir, reserveGib) {
  const name = 'mpb-' + Math.random().toString(36).slice(2, 8)
  const bin = path.join(dir, name)
  fs.copyFileSync(BIN.hold, bin)
  fs.chmodSync(bin, 0o755)
  const child = spawn(bin, [String(reserveGib)], { stdio: ['pipe', 'pipe', 'inherit'] })
  let out = ''
  const lines = []
  child.stdout.on('data', (d) => {
    out += d
    let i
    while ((i = out.indexOf('\n')) >= 0) {
      lines.push(out.slice(0, i))
      out = out.slice(i + 1)
    }
  })
  child.exitedP = new Promise((r) => child.on('exit', r))
  const ready = await waitFor('workload ready', () => lines.find((l) => l.startsWith('ready ')), 5000, 20)
  return {
    name,
    pid: Number(ready.split(' ')[1]),
    heapBytes: Number(ready.split(' ')[2]),
    // One more 4 MiB mmap; resolves once the workload has made it.
    async step() {
      const n = lines.filter((l) => l.startsWith('mapped ')).length
      child.stdin.write('x\n')
      await waitFor('workload step', () => lines.filter((l) => l.startsWith('mapped ')).length > n, 5000, 2)
    },
    async exit() {
      child.stdin.end()
      await child.exitedP
    },
    kill: () => child.kill('SIGKILL')
  }
}
