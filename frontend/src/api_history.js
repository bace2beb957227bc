// api_history.js - the wire format of the replies about the past, the
// dashboard's side (api.js's other half; api.js re-exports it): processes
// and one process as of an instant (?at=), the diff between two instants,
// a process's ledger of mappings, an OOM kill's forensics (docs/API.md).
// Each reply is checked against api.js's CONTRACT, as every other one.
// Also the pie and the groups the processes view sums from rows as of an
// instant, where /api/top and /api/groups cannot answer.
import { check, ContractError, fromProcessList, fromProcess, toCall, toOom } from './api.js'

// GET /api/processes?at=T: the rows as of T (each says whether it is
// exact: false when the calls after its checkpoint were purged), and T.
export function fromProcessListAt(body) {
  const where = 'GET /api/processes?at='
  check(body, 'processListAt', where)
  const rows = fromProcessList(body, where).map((p, i) => ({
    ...p,
    exact: check(body.processes[i], 'processAt', `${where}: processes[${i}]`).exact
  }))
  return { atNs: body.at_ns, total: body.total, rows }
}

// GET /api/processes/{pid}?at=T: the row as of T (its series cut at T).
export function fromProcessAt(body) {
  const where = 'GET /api/processes/{pid}?at='
  check(body, 'processOneAt', where)
  const got = fromProcess(body, where)
  return { ...got, process: { ...got.process, exact: body.exact }, atNs: body.at_ns }
}

// The measures of the diff by their ?sort= name, and the fields they read.
export const DIFF_MEASURES = { held: 'memory_held_bytes', mapped: 'mapped_bytes', vm: 'vm_size_bytes' }
function measures(o, kind, where) {
  check(o, kind, where)
  const out = {}
  for (const [k, f] of Object.entries(DIFF_MEASURES)) out[k] = o[f]
  return out
}

// GET /api/diff: processes ranked by growth of the sort measure, and the
// groups' growth.  Each end is {state, held, mapped, vm}; growth is to -
// from (signed).
export function fromDiff(body) {
  const where = 'GET /api/diff'
  check(body, 'diff', where)
  const rows = body.processes.map((o, i) => {
    const w = `${where}: processes[${i}]`
    check(o, 'diffRow', w)
    return {
      key: `${o.host}:${o.pid}:${o.start_ns}`,
      host: o.host,
      pid: o.pid,
      startNs: o.start_ns,
      comm: o.name,
      group: o.group,
      groupKind: o.group_kind,
      from: { state: check(o.from, 'diffEnd', `${w}.from`).state, ...measures(o.from, 'diffEnd', `${w}.from`) },
      to: { state: check(o.to, 'diffEnd', `${w}.to`).state, ...measures(o.to, 'diffEnd', `${w}.to`) },
      growth: measures(o.growth, 'diffSums', `${w}.growth`),
      exact: o.exact
    }
  })
  const groups = body.groups.map((o, i) => {
    const w = `${where}: groups[${i}]`
    check(o, 'diffGroup', w)
    return {
      key: `${o.group_kind}:${o.group}`,
      group: o.group,
      groupKind: o.group_kind,
      processes: o.processes,
      from: measures(o.from, 'diffSums', `${w}.from`),
      to: measures(o.to, 'diffSums', `${w}.to`),
      growth: measures(o.growth, 'diffSums', `${w}.growth`)
    }
  })
  return { fromNs: body.from_ns, toNs: body.to_ns, sort: body.sort, total: body.total, rows, groups }
}

// One live range of a process's ledger (GET .../mappings, and the
// forensics' growing ones).  file: null (anonymous) or {dev, ino, path}
// (path null when lector did not learn it); createdNs/ageNs null when the
// range was made before capture (via 'unknown').
export function toMapping(o, where) {
  check(o, 'mapping', where)
  if (o.file !== null) check(o.file, 'mappingFile', `${where}.file`)
  if (!o.flags.every((f) => typeof f === 'string')) throw new ContractError(where, 'flags', 'an array of strings', o.flags)
  return {
    key: o.addr,
    addr: o.addr,
    end: o.end,
    sizeBytes: o.size_bytes,
    prot: o.prot,
    flags: o.flags,
    file: o.file === null ? null : { dev: o.file.dev, ino: o.file.ino, path: o.file.path },
    offsetBytes: o.offset_bytes,
    createdNs: o.created_ns,
    ageNs: o.age_ns,
    via: o.via
  }
}

// GET /api/processes/{pid}/mappings: one page of the ledger, the coverage
// of VmSize, and the cursor of the next page (null: the last).
export function fromMappings(body) {
  const where = 'GET /api/processes/{pid}/mappings'
  check(body, 'mappingPage', where)
  const c = check(body.coverage, 'coverage', `${where}: coverage`)
  return {
    host: body.host,
    pid: body.pid,
    startNs: body.start_ns,
    comm: body.name,
    atNs: body.at_ns,
    coverage: { ledgerBytes: c.ledger_bytes, vmSizeBytes: c.vm_size_bytes, ratio: c.ratio },
    total: body.total,
    ledgerBytes: body.ledger_bytes,
    rows: body.mappings.map((o, i) => toMapping(o, `${where}: mappings[${i}]`)),
    next: body.next,
    // sent only with at= (so not in CONTRACT, which lists what every
    // reply has): the replay stopped at the server's --series-max-calls
    // before T, so this is the ledger of an earlier instant
    truncated: body.truncated === true
  }
}

// GET /api/oom/forensics: the kill, the victim's calls in the window
// before it (newest first), its mappings that grew there (largest first)
// and its memory curve (oldest first).
export function fromForensics(body) {
  const where = 'GET /api/oom/forensics'
  check(body, 'forensics', where)
  return {
    kill: toOom(body.kill, `${where}: kill`),
    windowNs: body.window_ns,
    calls: body.calls.map((o, i) => toCall(o, `${where}: calls[${i}]`)),
    callsTotal: body.calls_total,
    growing: body.growing.map((o, i) => toMapping(o, `${where}: growing[${i}]`)),
    // the replay behind growing and curve stopped before the kill
    truncated: body.truncated,
    curve: body.curve.map((o, i) => {
      check(o, 'curvePoint', `${where}: curve[${i}]`)
      return { tsMs: Number(BigInt(o.ts_ns) / 1000n) / 1000, ...measures(o, 'curvePoint', `${where}: curve[${i}]`), rss: o.rss_bytes }
    })
  }
}

// The pie of requested memory from process rows (as of an instant, when
// /api/top cannot answer): the `max` that requested most, then "Others"
// with the rest of `rows`.  Slices as fromTop's.
export function requestedSlices(rows, max = 10) {
  const sorted = rows.filter((r) => r.requestedBytes > 0)
    .sort((a, b) => b.requestedBytes - a.requestedBytes || a.host.localeCompare(b.host) || a.pid - b.pid)
  const total = sorted.reduce((n, r) => n + r.requestedBytes, 0)
  const share = (b) => (total > 0 ? b / total : 0)
  const out = sorted.slice(0, max).map((r) => ({
    key: `${r.host}:${r.pid}:${r.startNs}`, host: r.host, pid: r.pid, startNs: r.startNs, comm: r.comm,
    bytes: r.requestedBytes, fraction: share(r.requestedBytes)
  }))
  const rest = sorted.slice(max).reduce((n, r) => n + r.requestedBytes, 0)
  if (rest > 0) out.push({ key: 'others', host: '', pid: null, comm: '', bytes: rest, fraction: share(rest), others: true })
  return out
}

// The groups of process rows (as of an instant, when /api/groups cannot
// answer): per host and cgroup, the sums of its live processes, as
// fromGroups' rows.  % of RAM adds up too: one host, one MemTotal.
export function groupsOfRows(rows) {
  const by = new Map()
  for (const p of rows) {
    if (!p.alive) continue
    const key = `${p.host}:${p.cgroupId}`
    let g = by.get(key)
    if (!g) {
      g = {
        key, host: p.host, group: p.group, groupKind: p.groupKind, cgroup: p.cgroup, cgroupId: p.cgroupId, processes: 0,
        rssBytes: 0, rssAnonBytes: 0, rssFileBytes: 0, rssShmemBytes: 0, swapBytes: 0, netBytes: 0, vmSizeBytes: 0, pctRam: null
      }
      by.set(key, g)
    }
    g.processes++
    for (const f of ['rssBytes', 'rssAnonBytes', 'rssFileBytes', 'rssShmemBytes', 'swapBytes', 'netBytes', 'vmSizeBytes']) g[f] += p[f]
    if (p.pctRam !== null) g.pctRam = (g.pctRam ?? 0) + p.pctRam
  }
  const out = [...by.values()].sort((a, b) => b.rssBytes - a.rssBytes || a.key.localeCompare(b.key))
  return { total: out.length, rows: out }
}

// A mapping's file: its path, else its device and inode in the words of
// `t` (i18n's; "dev MAJ:MIN inode N" without it); null for anonymous memory.
export function fileText(file, t = null) {
  if (file === null) return null
  if (file.path !== null) return file.path
  return t ? t('map.devIno', { dev: file.dev, ino: file.ino }) : `dev ${file.dev} inode ${file.ino}`
}
