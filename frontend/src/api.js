// api.js - the wire format, the dashboard's side: the server's JSON (written
// by server/, described in docs/API.md) turned into the shapes the views
// use.  Each field the dashboard reads is named here once, in CONTRACT, with
// its type, and checked on every reply and event: a field missing or of
// another type throws a ContractError that names the endpoint and the field
// (useApi.js shows it on the page and logs it), never a silent default.
// Fields the dashboard does not read are not looked at.  The call names and
// the host id charset come from the C headers (virtual:memprobe-abi, made by
// vite-abi.js at build time).
import { CALLS, HOST_RE } from 'virtual:memprobe-abi'

export { CALLS }
// exec, exit and oom_kill are records of a process's life, not memory
// calls: the requests table lists (and filters by) the others.
export const LIFECYCLE_CALLS = ['exec', 'exit', 'oom_kill']
export const MEMORY_CALLS = CALLS.filter((c) => !LIFECYCLE_CALLS.includes(c))

export class ContractError extends Error {
  constructor(where, field, want, got) {
    const seen = got === undefined ? 'is missing' : `is ${JSON.stringify(got)?.slice(0, 40) ?? typeof got}`
    super(`${where}: field "${field}" ${seen}, expected ${want} (docs/API.md)`)
    this.name = 'ContractError'
    this.where = where
    this.field = field
  }
}

// Field types.  Nanosecond times are JSON integers (JSON.parse rounds them
// above 2^53; the dashboard keeps them as decimal strings), start_ns a
// decimal string, addresses and results hex strings.
const TYPES = {
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  integer: (v) => Number.isInteger(v),
  string: (v) => typeof v === 'string',
  decimal: (v) => typeof v === 'string' && /^\d+$/.test(v),
  hex: (v) => typeof v === 'string' && /^0x[0-9a-f]+$/.test(v),
  boolean: (v) => typeof v === 'boolean',
  array: (v) => Array.isArray(v),
  object: (v) => v !== null && typeof v === 'object' && !Array.isArray(v),
  'number|null': (v) => v === null || (typeof v === 'number' && Number.isFinite(v)),
  'string|null': (v) => v === null || typeof v === 'string',
  'decimal|null': (v) => v === null || (typeof v === 'string' && /^\d+$/.test(v)),
  'object|null': (v) => v === null || (v !== null && typeof v === 'object' && !Array.isArray(v)),
  'state at': (v) => v === 'alive' || v === 'exited' || v === 'unseen',
  state: (v) => v === 'alive' || v === 'exited',
  'call name': (v) => CALLS.includes(v),
  point: (v) => Array.isArray(v) && v.length === 4 && Number.isInteger(v[0]) && v.slice(1).every(TYPES.number)
}
const WANT = {
  number: 'a number', integer: 'an integer', string: 'a string', decimal: 'a string of decimal digits',
  hex: 'a hex string "0x..."', boolean: 'true or false', array: 'an array', object: 'an object',
  'number|null': 'a number or null', 'string|null': 'a string or null',
  'decimal|null': 'a string of decimal digits or null', 'object|null': 'an object or null',
  'state at': '"alive", "exited" or "unseen"', state: '"alive" or "exited"', 'call name': `one of ${CALLS.join(' ')}`,
  point: '[ts_ns, net, mapped, vm_size] (integer, then numbers)'
}

// Resident memory and the cgroup, as processes, groups and OOM kills all
// carry them.
const RESIDENT = {
  rss_bytes: 'number', rss_anon_bytes: 'number', rss_file_bytes: 'number', rss_shmem_bytes: 'number', swap_bytes: 'number'
}
// The three measures time travel compares (a process at an instant, a
// diff's ends and growth, a group's sums).
const MEASURES = { memory_held_bytes: 'number', mapped_bytes: 'number', vm_size_bytes: 'number' }
const GROUP = { cgroup_id: 'decimal', cgroup: 'string|null', group: 'string', group_kind: 'string' }

// What the dashboard reads, object by object (the tables of docs/API.md).
// tests/frontend checks every name here against those tables, and the
// browser suite against the replies of a real server.
export const CONTRACT = {
  process: {
    host: 'string', pid: 'number', start_ns: 'decimal', name: 'string', last_seen_ns: 'integer', state: 'state',
    memory_held_bytes: 'number', mapped_bytes: 'number', vm_size_bytes: 'number', requested_bytes: 'number',
    pct_of_system_vm: 'number|null', n_mmap: 'number', n_munmap: 'number', n_mremap: 'number', n_brk: 'number',
    ...RESIDENT, rss_ts_ns: 'integer', pct_of_ram: 'number|null', ...GROUP
  },
  processList: { processes: 'array' },
  processOne: { series: 'array' },
  call: {
    id: 'number', host: 'string', ts_ns: 'integer', pid: 'number', name: 'string', call: 'call name', addr: 'hex',
    len_bytes: 'number', new_len_bytes: 'number', ok: 'boolean'
  },
  // A call has "error" (the errno) when it returned one, else "result".
  callError: { error: 'number' },
  callResult: { result: 'hex' },
  callPage: { calls: 'array', next_before: 'number|null' },
  top: { top: 'array', others: 'object' },
  topRow: { host: 'string', pid: 'number', name: 'string', requested_bytes: 'number', share: 'number' },
  topOthers: { requested_bytes: 'number', share: 'number' },
  groupList: { total: 'number', groups: 'array' },
  group: {
    host: 'string', ...GROUP, processes: 'number', ...RESIDENT, memory_held_bytes: 'number', vm_size_bytes: 'number',
    pct_of_ram: 'number|null'
  },
  oomList: { total: 'number', oom_kills: 'array' },
  oom: {
    host: 'string', ts_ns: 'integer', pid: 'number', start_ns: 'decimal', name: 'string', ...GROUP, ...RESIDENT,
    vm_size_bytes: 'number', session: 'hex', seq: 'decimal'
  },
  stats: { sessions: 'array', server: 'object', oom_kills: 'number' },
  statsServer: { sse_last_id: 'number' },
  session: {
    source: 'string', events_per_second: 'number', drops: 'number', lost: 'number', lost_before: 'number',
    gap_before_ms: 'number', lag_ms: 'number', skipped: 'number'
  },
  hosts: { hosts: 'array' },
  // Time travel (?at=), the diff, the ledger and the OOM forensics.
  // Instants are decimal strings of ns.
  processListAt: { at_ns: 'decimal' },
  processAt: { exact: 'boolean' },
  processOneAt: { at_ns: 'decimal', exact: 'boolean' },
  diff: { from_ns: 'decimal', to_ns: 'decimal', sort: 'string', total: 'number', processes: 'array', groups: 'array' },
  diffRow: {
    host: 'string', pid: 'number', start_ns: 'decimal', name: 'string', group: 'string', group_kind: 'string',
    from: 'object', to: 'object', growth: 'object', exact: 'boolean'
  },
  diffEnd: { state: 'state at', ...MEASURES },
  diffGroup: { group: 'string', group_kind: 'string', processes: 'number', from: 'object', to: 'object', growth: 'object' },
  diffSums: MEASURES,
  mappingPage: {
    host: 'string', pid: 'number', start_ns: 'decimal', name: 'string', at_ns: 'decimal|null', coverage: 'object',
    total: 'number', ledger_bytes: 'number', mappings: 'array', next: 'string|null'
  },
  coverage: { ledger_bytes: 'number', vm_size_bytes: 'number', ratio: 'number|null' },
  mapping: {
    addr: 'hex', end: 'hex', size_bytes: 'number', prot: 'string', flags: 'array', file: 'object|null',
    offset_bytes: 'number', created_ns: 'decimal|null', age_ns: 'number|null', via: 'string'
  },
  mappingFile: { dev: 'string', ino: 'decimal', path: 'string|null' },
  forensics: {
    kill: 'object', window_ns: 'number', calls: 'array', calls_total: 'number', growing: 'array', curve: 'array', truncated: 'boolean'
  },
  curvePoint: { ts_ns: 'decimal', ...MEASURES, rss_bytes: 'number' },
  host: { name: 'string' },
  reset: { last_event_id: 'number', live_from: 'number' }
}
// Where each object comes from, for the error message and the tests.
export const SOURCES = {
  process: ['GET /api/processes', 'GET /api/processes/{pid}', 'event process'],
  call: ['GET /api/calls', 'event call'],
  top: ['GET /api/top'],
  group: ['GET /api/groups'],
  oom: ['GET /api/oom'],
  stats: ['GET /api/stats'],
  hosts: ['GET /api/hosts'],
  processListAt: ['GET /api/processes?at='],
  processAt: ['GET /api/processes?at=', 'GET /api/processes/{pid}?at='],
  processOneAt: ['GET /api/processes/{pid}?at='],
  diff: ['GET /api/diff'],
  mapping: ['GET /api/processes/{pid}/mappings', 'GET /api/oom/forensics'],
  forensics: ['GET /api/oom/forensics'],
  reset: ['event reset']
}

// o, checked against CONTRACT[kind]; `where` names it in an error.
export function check(o, kind, where) {
  if (!TYPES.object(o)) throw new ContractError(where, '(the object itself)', 'a JSON object', o)
  const spec = CONTRACT[kind]
  for (const field in spec) {
    if (!TYPES[spec[field]](o[field])) throw new ContractError(where, field, WANT[spec[field]], o[field])
  }
  return o
}

// A process row: its totals as of its last event.
export function toProcess(o, where = 'event process') {
  check(o, 'process', where)
  return {
    host: o.host,
    pid: o.pid,
    startNs: o.start_ns,
    comm: o.name,
    netBytes: o.memory_held_bytes,
    mappedBytes: o.mapped_bytes,
    vmSizeBytes: o.vm_size_bytes,
    // percent of the host's MemTotal+SwapTotal, as a fraction; null when
    // that is unknown
    pctVirtual: o.pct_of_system_vm === null ? 0 : o.pct_of_system_vm / 100,
    calls: o.n_mmap + o.n_munmap + o.n_mremap + o.n_brk,
    requestedBytes: o.requested_bytes,
    lastSeenNs: String(o.last_seen_ns),
    alive: o.state === 'alive',
    ...resident(o),
    // wall-clock ns of the reading (a record or lector's sampler); '0':
    // never read, so the resident figures mean nothing yet
    rssTsNs: String(o.rss_ts_ns),
    // percent of the host's MemTotal, as a fraction; null when unknown
    pctRam: o.pct_of_ram === null ? null : o.pct_of_ram / 100,
    ...group(o)
  }
}

// The resident fields of a process, group or OOM kill (docs/API.md):
// rss = anon + file + shmem; swap apart.
function resident(o) {
  return {
    rssBytes: o.rss_bytes,
    rssAnonBytes: o.rss_anon_bytes,
    rssFileBytes: o.rss_file_bytes,
    rssShmemBytes: o.rss_shmem_bytes,
    swapBytes: o.swap_bytes
  }
}
// Its cgroup: the display name, which rule named it, the path (null when
// lector could not resolve it) and the 64-bit id (a decimal string).
function group(o) {
  return { group: o.group, groupKind: o.group_kind, cgroup: o.cgroup, cgroupId: o.cgroup_id }
}

// GET /api/processes: the rows.
export function fromProcessList(body, where = 'GET /api/processes') {
  return check(body, 'processList', where).processes.map((o, i) => toProcess(o, `${where}: processes[${i}]`))
}

// GET /api/processes/{pid}: the row and its memory over time, [{tsMs, net,
// mapped, vmSize}]: the server's [ts_ns, net_bytes, mapped_bytes,
// vm_size_bytes] points, its calls replayed through lector's accounting.
export function fromProcess(body, where = 'GET /api/processes/{pid}') {
  const process = toProcess(check(body, 'processOne', where), where)
  const series = body.series.map((p, i) => {
    if (!TYPES.point(p)) throw new ContractError(where, `series[${i}]`, WANT.point, p)
    return { tsMs: p[0] / 1e6, net: p[1], mapped: p[2], vmSize: p[3] }
  })
  return { process, series }
}

// A call row; `key` is unique per call (its commit-ordered id).  A failed
// call's result is -errno; a refused brk fails with a result (the old
// break), not an errno.
export function toCall(o, where = 'event call') {
  check(o, 'call', where)
  const errno = 'error' in o
  check(o, errno ? 'callError' : 'callResult', where)
  return {
    key: `id${o.id}`,
    id: o.id,
    host: o.host,
    tsNs: String(o.ts_ns),
    pid: o.pid,
    comm: o.name,
    call: o.call,
    lenBytes: o.len_bytes,
    newLenBytes: o.new_len_bytes,
    addr: o.addr,
    result: errno ? -o.error : o.result,
    failed: !o.ok
  }
}

// GET /api/calls: one page, newest first, and the keyset cursor for the
// next (older) one, null at the start of history.
export function fromCalls(body) {
  const where = 'GET /api/calls'
  check(body, 'callPage', where)
  return { calls: body.calls.map((o, i) => toCall(o, `${where}: calls[${i}]`)), next: body.next_before }
}

// Calls newest first (by id, their commit order): `fresh` (newest first)
// put together with `rows` (newest first).  Live calls are usually newer
// than every row shown, and go on top; but a stream that lags behind the
// database (a busy machine) delivers calls that a history page loaded
// meanwhile has overtaken: those are merged into their place, not stacked
// on top.
export function mergeNewestFirst(rows, fresh) {
  if (!fresh.length) return rows
  if (!rows.length || fresh[fresh.length - 1].id > rows[0].id) return fresh.concat(rows)
  return fresh.concat(rows).sort((a, b) => b.id - a.id)
}

// GET /api/top: pie slices [{key, host, pid, comm, bytes, fraction}],
// "Others" last (pid null, others: true) when it holds anything.
export function fromTop(body) {
  const where = 'GET /api/top'
  check(body, 'top', where)
  const out = body.top.map((r, i) => {
    check(r, 'topRow', `${where}: top[${i}]`)
    return { key: `${r.host}:${r.pid}`, host: r.host, pid: r.pid, comm: r.name, bytes: r.requested_bytes, fraction: r.share }
  })
  const others = check(body.others, 'topOthers', `${where}: others`)
  if (others.requested_bytes > 0)
    out.push({ key: 'others', host: '', pid: null, comm: '', bytes: others.requested_bytes, fraction: others.share, others: true })
  return out
}

// GET /api/groups: {total, rows}, one row per (host, cgroup) in the
// server's order; `key` is unique per row.
export function fromGroups(body) {
  const where = 'GET /api/groups'
  check(body, 'groupList', where)
  const rows = body.groups.map((o, i) => {
    check(o, 'group', `${where}: groups[${i}]`)
    return {
      key: `${o.host}:${o.cgroup_id}`,
      host: o.host,
      ...group(o),
      processes: o.processes,
      ...resident(o),
      netBytes: o.memory_held_bytes,
      vmSizeBytes: o.vm_size_bytes,
      pctRam: o.pct_of_ram === null ? null : o.pct_of_ram / 100
    }
  })
  return { total: body.total, rows }
}

// The group pie: the `max` groups holding most resident memory, then
// "Others" (others: true) when the rest holds any, each with its share of
// the resident bytes of all `rows`.  Slices as fromTop's, pid null.
export function groupSlices(rows, max = 10) {
  const sorted = rows.filter((r) => r.rssBytes > 0).sort((a, b) => b.rssBytes - a.rssBytes || a.key.localeCompare(b.key))
  const total = sorted.reduce((n, r) => n + r.rssBytes, 0)
  const share = (b) => (total > 0 ? b / total : 0)
  const out = sorted.slice(0, max).map((r) => ({
    key: r.key, host: r.host, pid: null, group: r.group, comm: '', bytes: r.rssBytes, fraction: share(r.rssBytes)
  }))
  const rest = sorted.slice(max).reduce((n, r) => n + r.rssBytes, 0)
  if (rest > 0) out.push({ key: 'others', host: '', pid: null, group: null, comm: '', bytes: rest, fraction: share(rest), others: true })
  return out
}

// GET /api/oom: {total, rows}, newest first.  `key` is unique per kill
// (its record: host, session, seq).
export function fromOom(body) {
  const where = 'GET /api/oom'
  check(body, 'oomList', where)
  const rows = body.oom_kills.map((o, i) => toOom(o, `${where}: oom_kills[${i}]`))
  return { total: body.total, rows }
}

// One OOM kill (a row of /api/oom, or the kill of its forensics); session
// and seq name it for GET /api/oom/forensics.
export function toOom(o, where) {
  check(o, 'oom', where)
  return {
    key: `${o.host}:${o.session}:${o.seq}`,
    host: o.host,
    tsNs: String(o.ts_ns),
    pid: o.pid,
    startNs: o.start_ns,
    comm: o.name,
    ...group(o),
    ...resident(o),
    vmSizeBytes: o.vm_size_bytes,
    session: o.session,
    seq: o.seq
  }
}

// GET /api/stats: capture health for the header (the first session listed:
// the newest of the first host) and the newest call id the event stream
// handed out.
export function fromStats(body) {
  const where = 'GET /api/stats'
  check(body, 'stats', where)
  const sseLastId = check(body.server, 'statsServer', `${where}: server`).sse_last_id
  // OOM kills stored (of the host shown): the header links to their list.
  const oomKills = body.oom_kills
  if (!body.sessions.length)
    return { stats: { source: '', eventsPerS: 0, drops: 0, lost: 0, gapMs: 0, lagMs: 0, skipped: 0, oomKills }, sseLastId }
  const s = check(body.sessions[0], 'session', `${where}: sessions[0]`)
  return {
    stats: {
      source: s.source,
      eventsPerS: s.events_per_second,
      drops: s.drops,
      // lost: refused by a full spill disk in this session, plus what the
      // lector before it read but never committed (killed); gap: how long
      // nothing was captured before this session began.
      lost: s.lost + s.lost_before,
      gapMs: s.gap_before_ms,
      lagMs: s.lag_ms,
      // skipped: probe runs SystemTap or the kernel skipped (reentrancy,
      // recursion): an upper bound on events missing, outside seq.
      skipped: s.skipped,
      oomKills
    },
    sseLastId
  }
}

// GET /api/hosts: [{name}] in the server's order (by name).
export function fromHosts(body) {
  const where = 'GET /api/hosts'
  return check(body, 'hosts', where).hosts.map((h, i) => ({ name: check(h, 'host', `${where}: hosts[${i}]`).name }))
}

// The "reset" event: how many calls the stream skipped (they stay in the
// database; the views reload through the REST API).
export function fromReset(d) {
  check(d, 'reset', 'event reset')
  return Math.max(0, d.live_from - d.last_event_id)
}

// The host filter lives in the URL query (?host=NAME, '' = all hosts);
// names the server would refuse (its charset) read as all.
export function hostFromSearch(search) {
  const h = new URLSearchParams(search).get('host') || ''
  return HOST_RE.test(h) ? h : ''
}
export function searchWithHost(search, host) {
  return searchWith(search, 'host', host)
}
// search with ?name=value set, or removed when value is ''.
export function searchWith(search, name, value) {
  const q = new URLSearchParams(search)
  if (value) q.set(name, value)
  else q.delete(name)
  const s = q.toString()
  return s ? `?${s}` : ''
}

// The processes view lists processes, or their cgroups: ?by=group in the
// URL (anything else reads as processes, the default, which the URL omits).
export const GROUP_BY = ['process', 'group']
export function groupByFromSearch(search) {
  return new URLSearchParams(search).get('by') === 'group' ? 'group' : 'process'
}
export function searchWithGroupBy(search, by) {
  return searchWith(search, 'by', by === 'group' ? 'group' : '')
}
// The group the processes table is narrowed to (?group=NAME, '' = none);
// a name longer than the server takes (255 bytes, cgroups.name) reads as
// none.
export function groupFromSearch(search) {
  const g = new URLSearchParams(search).get('group') || ''
  return new TextEncoder().encode(g).length <= 255 ? g : ''
}
// The selector is worth showing only when there is a choice (or the URL
// names a host that is not in the list any more: the user must get out).
export function hostChoices(hosts, selected) {
  const names = hosts.map((h) => h.name)
  if (selected && !names.includes(selected)) names.push(selected)
  return names.length > 1 || (selected && names.length === 1 && hosts.length === 0) ? names.sort() : []
}

// The replies about the past (as of an instant, the diff, the ledger, an
// OOM kill's forensics) are read in api_history.js, against CONTRACT above:
// it builds on this file, so views import those readers from it directly.
