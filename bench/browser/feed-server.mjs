// feed-server.mjs - a synthetic stand-in for memprobe-server, for the
// rendering benchmark only: serves the bench build of the dashboard
// (frontend/dist-bench) and the same JSON shapes as server/ (processes, top,
// calls, one process, stats, hosts: docs/API.md) from memory, and
// streams calls over SSE at a fixed rate (--eps).  It measures the
// browser, not the capture path: no kernel, no database.
//
//   node feed-server.mjs [--port=N] [--eps=5000] [--procs=40]
import http from 'node:http'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
export const BENCH_DIST = path.resolve(here, '../../frontend/dist-bench')
const CALLS_KEPT = 5000
const MIME = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml' }

export function parseArgs(argv) {
  const a = { port: 0, eps: 5000, procs: 40 }
  for (const s of argv) {
    const m = /^--(\w+)=(\d+)$/.exec(s)
    if (s === '--help') {
      console.log('feed-server.mjs [--port=N] [--eps=5000] [--procs=40]: synthetic SSE feed for bench/browser')
      process.exit(0)
    }
    if (!m || !(m[1] in a)) throw new Error(`feed-server: bad argument '${s}' (see --help)`)
    a[m[1]] = Number(m[2])
  }
  return a
}

function makeWorld(nProcs) {
  const now = BigInt(Date.now()) * 1000000n
  const procs = []
  for (let i = 0; i < nProcs; i++) {
    procs.push({
      host: 'bench', pid: 1000 + i * 7, start_ns: String(now), uid: 1000, name: `worker-${i}`,
      first_seen_ns: Number(now), last_seen_ns: Number(now), state: 'alive',
      memory_held_bytes: 0, net_bytes_raw: 0, mapped_bytes: 0, vm_size_bytes: 8 << 20,
      requested_bytes: 0, pct_of_system_vm: 0, pct_denominator_bytes: 16 * 2 ** 30,
      n_mmap: 0, n_munmap: 0, n_mremap: 0, n_brk: 0, n_failed: 0, live: [],
      // resident: the binary's pages, then half of what it holds (touched)
      rss_bytes: 4 << 20, rss_anon_bytes: 0, rss_file_bytes: 4 << 20, rss_shmem_bytes: 0, swap_bytes: 0,
      rss_ts_ns: Number(now), pct_of_ram: (100 * (4 << 20)) / (16 * 2 ** 30),
      cgroup_id: String(1000 + (i % 5)), cgroup: `/system.slice/bench-${i % 5}.service`,
      group: `bench-${i % 5}.service`, group_kind: 'systemd'
    })
  }
  return { procs, calls: [], nextId: 1, dirty: new Set() }
}

// One synthetic call: mostly mmap/munmap pairs, some brk, a few failures.
function step(w) {
  const p = w.procs[Math.floor(Math.random() ** 2 * w.procs.length)]
  const ts = Date.now() * 1e6
  const id = w.nextId++
  let call = 'mmap', len = 4096 * (1 + Math.floor(Math.random() * 512)), ok = true, addr = 0
  if (p.live.length > 20 || (p.live.length && Math.random() < 0.45)) {
    call = 'munmap'
    const m = p.live.shift()
    addr = m.addr
    len = m.len
    p.memory_held_bytes -= len
    p.n_munmap++
  } else if (Math.random() < 0.02) {
    ok = false
    p.n_failed++
    p.n_mmap++
  } else {
    addr = 0x7f0000000000 + id * 4096 * 600
    p.live.push({ addr, len })
    p.memory_held_bytes += len
    p.requested_bytes += len
    p.n_mmap++
  }
  p.vm_size_bytes = (8 << 20) + p.memory_held_bytes
  p.mapped_bytes = p.memory_held_bytes
  p.net_bytes_raw = p.memory_held_bytes
  p.pct_of_system_vm = (100 * p.memory_held_bytes) / p.pct_denominator_bytes
  p.rss_anon_bytes = Math.floor(p.memory_held_bytes / 2 / 4096) * 4096
  p.rss_bytes = p.rss_anon_bytes + p.rss_file_bytes
  p.rss_ts_ns = ts
  p.pct_of_ram = (100 * p.rss_bytes) / (16 * 2 ** 30)
  p.last_seen_ns = ts
  const row = {
    id, host: 'bench', session: '0x1', seq: id, ts_ns: ts, pid: p.pid, tid: p.pid, uid: 1000,
    start_ns: p.start_ns, name: p.name, thread_name: p.name, call,
    addr: '0x' + addr.toString(16), len_bytes: len, new_addr: '0x0', new_len_bytes: 0,
    offset_bytes: 0, prot: 3, flags: 34, fd: -1, ok, vm_size_bytes: p.vm_size_bytes
  }
  if (ok) row.result = call === 'mmap' ? row.addr : '0x0'
  else row.error = 12
  w.calls.push(row)
  if (w.calls.length > CALLS_KEPT) w.calls.splice(0, w.calls.length - CALLS_KEPT)
  w.dirty.add(p)
  return row
}

const procJson = (p) => {
  const { live, ...rest } = p
  return rest
}

function top(w) {
  const sorted = w.procs.filter((p) => p.requested_bytes > 0).sort((a, b) => b.requested_bytes - a.requested_bytes)
  const total = sorted.reduce((s, p) => s + p.requested_bytes, 0)
  const t10 = sorted.slice(0, 10)
  const topBytes = t10.reduce((s, p) => s + p.requested_bytes, 0)
  return {
    total_requested_bytes: total, processes: sorted.length,
    top: t10.map((p) => ({ host: 'bench', pid: p.pid, name: p.name, requested_bytes: p.requested_bytes, start_ns: p.start_ns, share: p.requested_bytes / (total || 1) })),
    others: { processes: sorted.length - t10.length, requested_bytes: total - topBytes, share: (total - topBytes) / (total || 1) }
  }
}

function api(w, url, res, opts) {
  const send = (code, body) => {
    res.writeHead(code, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify(body))
  }
  const q = url.searchParams
  if (url.pathname === '/api/processes')
    return send(200, { total: w.procs.length, limit: 1000, offset: 0, sort: 'requested', order: 'desc', processes: w.procs.map(procJson) })
  if (url.pathname === '/api/hosts')
    return send(200, { hosts: [{ name: 'bench', active: true, processes_alive: w.procs.length }], active_within_s: 10 })
  if (url.pathname === '/api/top') return send(200, top(w))
  if (url.pathname === '/api/stats')
    return send(200, {
      sessions: [{ host: 'bench', session: '0x1', source: 'bpf', events_per_second: opts.eps, drops: 0, lag_ms: 3,
        lost: 0, lost_before: 0, gap_before_ms: 0, skipped: 0 }],
      server: { sse_last_id: w.nextId - 1 },
      oom_kills: 0
    })
  if (url.pathname === '/api/calls') {
    const before = Number(q.get('before') || Infinity)
    const pid = Number(q.get('pid') || 0)
    const limit = Number(q.get('limit') || 100)
    const rows = []
    for (let i = w.calls.length - 1; i >= 0 && rows.length < limit; i--) {
      const c = w.calls[i]
      if (c.id < before && (!pid || c.pid === pid)) rows.push(c)
    }
    return send(200, { calls: rows, limit, next_before: rows.length === limit ? rows[rows.length - 1].id : null })
  }
  const m = /^\/api\/processes\/(\d+)$/.exec(url.pathname)
  if (m) {
    const p = w.procs.find((x) => x.pid === Number(m[1]))
    if (!p) return send(404, { error: 'no such process', parameter: 'pid' })
    // Same shape as the server's series: [ts_ns, net, mapped, vm_size];
    // the synthetic feed keeps no history of net/mapped, so those are flat.
    const series = w.calls.filter((c) => c.pid === p.pid)
      .map((c) => [c.ts_ns, p.memory_held_bytes, p.mapped_bytes, c.vm_size_bytes])
    return send(200, { ...procJson(p), series, calls: series.length })
  }
  send(404, { error: 'not found' })
}

export function startFeed(opts) {
  const w = makeWorld(opts.procs)
  // History before the page opens, so an idle stream still has a table,
  // a pie and calls to show.
  for (let i = 0; i < 3000; i++) step(w)
  w.dirty.clear()
  const clients = new Set()
  const tickMs = 10
  let carry = 0
  const timer = setInterval(() => {
    carry += (opts.eps * tickMs) / 1000
    const n = Math.floor(carry)
    carry -= n
    let out = ''
    for (let i = 0; i < n; i++) {
      const row = step(w)
      out += `id: ${row.id}\nevent: call\ndata: ${JSON.stringify(row)}\n\n`
    }
    // process events before the calls, and without an id, as server/ sends them
    let procs = ''
    for (const p of w.dirty) procs += `event: process\ndata: ${JSON.stringify(procJson(p))}\n\n`
    out = procs + out
    w.dirty.clear()
    if (out) for (const c of clients) c.write(out)
  }, tickMs)
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x')
    if (url.pathname === '/api/events') {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store' })
      res.write('retry: 1000\n\n')
      clients.add(res)
      req.on('close', () => clients.delete(res))
      return
    }
    if (url.pathname.startsWith('/api/')) return api(w, url, res, opts)
    const rel = url.pathname === '/' ? 'index.html' : url.pathname.slice(1)
    const file = path.join(BENCH_DIST, path.normalize(rel))
    if (!file.startsWith(BENCH_DIST) || !fs.existsSync(file)) {
      res.writeHead(404)
      return res.end()
    }
    res.writeHead(200, { 'Content-Type': MIME[path.extname(file)] || 'application/octet-stream' })
    fs.createReadStream(file).pipe(res)
  })
  return new Promise((resolve) =>
    server.listen(opts.port, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}/`,
        setEps: (e) => (opts.eps = e),
        close: () => {
          clearInterval(timer)
          for (const c of clients) c.destroy()
          server.close()
        }
      })
    )
  )
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const f = await startFeed(parseArgs(process.argv.slice(2)))
  console.log(`feed-server: ${f.url}`)
}
