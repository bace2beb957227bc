// api.js - the shape the dashboard works with, made from the server's JSON.
// The server (server/, issue 5) owns the wire format; this file is the one
// place that knows it, so a renamed field is fixed here and nowhere else.
// Large integers may come as JSON numbers or decimal strings: both work.

const pick = (o, ...keys) => {
  for (const k of keys) if (o && o[k] !== undefined && o[k] !== null) return o[k]
  return undefined
}
const num = (v) => (v === undefined || v === null || v === '' ? 0 : Number(v))

export const CALLS = ['mmap', 'munmap', 'mremap', 'brk']

// A process row: totals as of its last event.
export function toProcess(o) {
  const calls = pick(o, 'calls', 'n_calls')
  const exited = pick(o, 'exited')
  return {
    host: String(pick(o, 'host') ?? ''),
    pid: num(pick(o, 'pid')),
    startNs: String(pick(o, 'start_ns') ?? '0'),
    comm: String(pick(o, 'comm', 'name') ?? ''),
    uid: num(pick(o, 'uid')),
    netBytes: Math.max(0, num(pick(o, 'memory_held_bytes', 'net_bytes'))),
    mappedBytes: num(pick(o, 'mapped_bytes')),
    vmSizeBytes: num(pick(o, 'vm_size_bytes', 'total_vm_bytes')),
    requestedBytes: num(pick(o, 'requested_bytes')),
    pctVirtual: pctField(o),
    calls:
      calls !== undefined
        ? num(calls)
        : num(o.n_mmap) + num(o.n_munmap) + num(o.n_mremap) + num(o.n_brk),
    failed: num(pick(o, 'n_failed', 'failed')),
    lastSeenNs: String(pick(o, 'last_seen_ns', 'last_seen') ?? '0'),
    alive:
      o.state !== undefined
        ? o.state === 'alive'
        : pick(o, 'alive') !== undefined
          ? Boolean(o.alive)
          : !Number(exited ?? 0)
  }
}

// Percent of system virtual memory as a fraction 0..1 whatever the server
// calls it ("pct_virtual" in percent, or a fraction).
function pctField(o) {
  const frac = pick(o, 'frac_virtual', 'virtual_fraction')
  if (frac !== undefined) return num(frac)
  const pct = pick(o, 'pct_of_system_vm', 'pct_virtual', 'pct_virtual_memory', 'percent_virtual', 'pct')
  return pct !== undefined ? num(pct) / 100 : 0
}

// A call row.  `key` is unique per call (session + seq).
// The server sends a failed call as {ok: false, error: errno} and a good
// one's result as a hex string.
export function toCall(o) {
  const failed = o.ok === false || (o.ok === undefined && Number(pick(o, 'result', 'ret')) < 0)
  // A refused brk is ok: false with a result (the old break), not an errno.
  const result = o.ok === false && o.error !== undefined ? -num(o.error) : pick(o, 'result', 'ret')
  const session = String(pick(o, 'session') ?? '0')
  const seq = String(pick(o, 'seq') ?? '0')
  return {
    key: o.id !== undefined ? `id${o.id}` : `${session}:${seq}`,
    id: o.id,
    session,
    seq,
    tsNs: String(pick(o, 'ts_ns', 'time_ns') ?? '0'),
    pid: num(pick(o, 'pid')),
    comm: String(pick(o, 'comm', 'name') ?? ''),
    call: String(pick(o, 'call', 'syscall') ?? ''),
    lenBytes: num(pick(o, 'len_bytes', 'length', 'len')),
    newLenBytes: num(pick(o, 'new_len_bytes')),
    addr: pick(o, 'addr') ?? 0,
    result: result === undefined ? 0 : result,
    failed,
    totalVmBytes: num(pick(o, 'total_vm_bytes', 'vm_size_bytes'))
  }
}

// Pie slices: [{pid, comm, bytes, fraction}] with "Others" last (pid null).
export function toTop(o) {
  const rows = pick(o, 'top', 'slices') || []
  const total = num(pick(o, 'total_bytes', 'total_requested_bytes'))
  const sum = rows.reduce((s, r) => s + num(pick(r, 'requested_bytes', 'bytes')), 0)
  const denom = total || sum || 1
  const out = rows.map((r) => {
    const bytes = num(pick(r, 'requested_bytes', 'bytes'))
    const share = pick(r, 'share')
    return {
      host: String(pick(r, 'host') ?? ''),
      pid: num(r.pid),
      comm: String(pick(r, 'comm', 'name') ?? ''),
      bytes,
      fraction: share ?? bytes / denom
    }
  })
  const others = pick(o, 'others', 'others_bytes')
  const othersBytes = typeof others === 'object' ? num(pick(others, 'requested_bytes', 'bytes')) : num(others)
  if (othersBytes > 0) out.push({ pid: null, comm: '', bytes: othersBytes, fraction: othersBytes / denom })
  return out
}

// Capture health for the header.  The server lists capture sessions,
// newest first: the header shows the newest one.
export function toStats(o) {
  const cur = Array.isArray(o.sessions) ? o.sessions[0] || {} : o
  return {
    source: String(pick(cur, 'source') ?? ''),
    eventsPerS: num(pick(cur, 'events_per_second', 'events_per_s', 'rate_eps')),
    drops: num(pick(cur, 'drops')),
    // lost: refused by a full spill disk in this session, plus what the
    // lector before it read but never committed (killed); gap: how long
    // nothing was captured before this session began.
    lost: num(pick(cur, 'lost')) + num(pick(cur, 'lost_before')),
    gapMs: num(pick(cur, 'gap_before_ms')),
    lagMs: num(pick(cur, 'lag_ms')),
    // skipped: probe runs SystemTap or the kernel skipped (reentrancy,
    // recursion): an upper bound on events missing, outside seq.
    skipped: num(pick(cur, 'skipped'))
  }
}

// One process's memory over time: [{tsMs, net, mapped, vmSize}].
// The server's series is [[ts_ns, net_bytes, mapped_bytes, vm_size_bytes],
// ...]: the process's calls replayed through lector's accounting, so all
// three measures cover its whole life (net already clamped at 0).
export function toSeries(o) {
  const rows = pick(o, 'series') || []
  return rows.map(([ts, net, mapped, vm]) => ({
    tsMs: num(ts) / 1e6,
    net: Math.max(0, num(net)),
    mapped: num(mapped),
    vmSize: num(vm)
  }))
}

// Keyset cursor for the next (older) page of /api/calls.
export function nextCursor(o) {
  return pick(o, 'next', 'next_before', 'before', 'cursor') ?? null
}

export function listOf(o, ...keys) {
  if (Array.isArray(o)) return o
  return pick(o, ...keys) || []
}

// GET /api/hosts: [{name, active, processesAlive, callsCommitted}] by name.
export function toHosts(o) {
  return listOf(o, 'hosts').map((h) => ({
    name: String(pick(h, 'name') ?? ''),
    active: Boolean(h.active),
    processesAlive: num(pick(h, 'processes_alive')),
    callsCommitted: num(pick(h, 'calls_committed'))
  }))
}

// The host filter lives in the URL query (?host=NAME, '' = all hosts);
// names the server would refuse (its charset) read as all.
const HOST_RE = /^[A-Za-z0-9._-]{1,64}$/
export function hostFromSearch(search) {
  const h = new URLSearchParams(search).get('host') || ''
  return HOST_RE.test(h) ? h : ''
}
export function searchWithHost(search, host) {
  const q = new URLSearchParams(search)
  if (host) q.set('host', host)
  else q.delete('host')
  const s = q.toString()
  return s ? `?${s}` : ''
}
// The selector is worth showing only when there is a choice (or the URL
// names a host that is not in the list any more: the user must get out).
export function hostChoices(hosts, selected) {
  const names = hosts.map((h) => h.name)
  if (selected && !names.includes(selected)) names.push(selected)
  return names.length > 1 || (selected && names.length === 1 && hosts.length === 0) ? names.sort() : []
}
