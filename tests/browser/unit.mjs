// unit.mjs - the dashboard's pure functions (format.js, api.js) against
// hand-checked values, in node (loaded through Vite, as the build resolves
// them: tests/frontend/load.mjs), printing TAP.  No browser, no server: run
// first by run-tests.  TAP_START numbers the first test.  The contract
// itself (every field against docs/API.md) is tests/frontend's; the real
// server's replies are checked by acceptance.mjs.
import { loadFrontend } from '../frontend/load.mjs'

const [format, api] = await loadFrontend('src/format.js', 'src/api.js')
const { humanBytes, exactBytes, percent, hexAddr, clockTime, residentTitle, percentOrDash } = format
const { toProcess, toCall, fromProcess, fromTop, fromStats, fromCalls, fromHosts, fromGroups, fromOom, groupSlices, mergeNewestFirst } = api
const { hostFromSearch, searchWithHost, hostChoices, groupByFromSearch, searchWithGroupBy, groupFromSearch } = api

let n = Number(process.env.TAP_START || 0)
let failed = 0
function check(name, got, want) {
  n++
  const ok = JSON.stringify(got) === JSON.stringify(want)
  if (!ok) failed++
  console.log(`${ok ? 'ok' : 'not ok'} ${n} - ${name}`)
  if (!ok) console.log(`# got  ${JSON.stringify(got)}\n# want ${JSON.stringify(want)}`)
}

check('humanBytes uses IEC units with 3 significant digits',
  [0, 1023, 1024, 1536, 10 * 1024 ** 2, 123.4 * 1024 ** 3, 32 * 1024 ** 4].map(humanBytes),
  ['0 B', '1023 B', '1.00 KiB', '1.50 KiB', '10.0 MiB', '123 GiB', '32.0 TiB'])
check('exactBytes keeps every digit above 2^53 (hover text)', exactBytes('18446744073709551615', 'en'),
  '18,446,744,073,709,551,615 bytes')
check('percent shows a fraction as percent', percent(0.12345, 2), '12.35 %')
check('hexAddr pads, and takes decimal or the server\'s hex strings', [hexAddr(4096), hexAddr('0x7f0000001000')],
  ['0x000000001000', '0x7f0000001000'])
check('clockTime shows milliseconds', clockTime('1000000123456789', 'en').slice(-4), '.123')
// The hour after midnight is 00, as a browser shows it: node's ICU writes
// '24:12:30' for { hour12: false } (CI at 00:12 UTC: the time-travel banner
// said 00:12:30, the test's own clockTime 24:12:30).
const afterMidnight = String(BigInt(new Date(2026, 11, 8, 0, 12, 30, 5).getTime()) * 1000000n)
check('clockTime writes the first hour of a day as 00, not 24', [clockTime(afterMidnight, 'en'), clockTime(afterMidnight, 'es')],
  ['00:12:30.005', '0:12:30.005'])

// Rows as server/ writes them (docs/API.md), the fields the dashboard reads.
const MEM = { rss_bytes: 7 << 20, rss_anon_bytes: 4 << 20, rss_file_bytes: 2 << 20, rss_shmem_bytes: 1 << 20, swap_bytes: 3 << 20 }
const CG = { cgroup_id: '18446744073709551615', cgroup: '/system.slice/a.service', group: 'a.service', group_kind: 'systemd' }
const P = { host: 'h', pid: 7, start_ns: '99', name: 'a"b', last_seen_ns: 1795633912650875000, state: 'exited',
  memory_held_bytes: 4096, mapped_bytes: 8192, vm_size_bytes: 12288, requested_bytes: 4096, pct_of_system_vm: 2.5,
  n_mmap: 3, n_munmap: 1, n_mremap: 1, n_brk: 2, ...MEM, rss_ts_ns: 1795633912650875000, pct_of_ram: 12.5, ...CG }
const C = { id: 5, host: 'h', ts_ns: 1795633912650875000, pid: 3, name: 'x', call: 'mmap', addr: '0x0',
  len_bytes: 4096, new_len_bytes: 0 }
const proc = toProcess(P)
check('toProcess reads the server row: held bytes, % as a fraction, calls summed, exited',
  [proc.netBytes, proc.pctVirtual, proc.calls, proc.alive, proc.comm, proc.lastSeenNs],
  [4096, 0.025, 7, false, 'a"b', '1795633912650875000'])
check('toProcess: a null % (unknown host memory) is 0, not NaN', toProcess({ ...P, pct_of_system_vm: null }).pctVirtual, 0)
check('toProcess reads resident memory: its parts, swap, % of RAM as a fraction, the reading\'s time as a decimal string',
  [proc.rssBytes, proc.rssAnonBytes, proc.rssFileBytes, proc.rssShmemBytes, proc.swapBytes, proc.pctRam, proc.rssTsNs],
  [7 << 20, 4 << 20, 2 << 20, 1 << 20, 3 << 20, 0.125, '1795633912650875000'])
check('toProcess: % of RAM unknown (host MemTotal 0) stays null, shown as a dash',
  [toProcess({ ...P, pct_of_ram: null }).pctRam, percentOrDash(null), percentOrDash(0.125)], [null, '—', '12.50 %'])
check('toProcess reads its group: name, kind, path (null when unresolved), 64-bit id as a string',
  [proc.group, proc.groupKind, proc.cgroup, proc.cgroupId, toProcess({ ...P, cgroup: null }).cgroup],
  ['a.service', 'systemd', '/system.slice/a.service', '18446744073709551615', null])
const tEn = (k, p) => (k === 'rss.parts' ? `anon ${p.anon} · file ${p.file} · shmem ${p.shmem} · swap ${p.swap}` : k)
check('residentTitle: exact bytes, then the parts and swap', residentTitle(proc, tEn, 'en'),
  '7,340,032 bytes\nanon 4.00 MiB · file 2.00 MiB · shmem 1.00 MiB · swap 3.00 MiB')

const bad = toCall({ ...C, ok: false, error: 22 })
check('toCall marks a failed call with -errno', [bad.failed, bad.result, bad.key], [true, -22, 'id5'])
const good = toCall({ ...C, id: 6, ok: true, result: '0x7f00' })
check('toCall keeps a good result as the server\'s hex', [good.failed, good.result], [false, '0x7f00'])
const refused = toCall({ ...C, call: 'brk', addr: '0x5000', ok: false, result: '0x4000' })
check('toCall: a refused brk fails with the old break as its result', [refused.failed, refused.result], [true, '0x4000'])

const top = fromTop({ total_requested_bytes: 100, top: [{ host: 'h', pid: 1, name: 'a', requested_bytes: 60, share: 0.6 }],
  others: { processes: 3, requested_bytes: 40, share: 0.4 } })
check('fromTop: slices then Others (pid null) with their shares', top.map((s) => [s.pid, s.bytes, s.fraction, !!s.others]),
  [[1, 60, 0.6, false], [null, 40, 0.4, true]])
check('fromTop: no Others slice when the top holds everything',
  fromTop({ top: [{ host: 'h', pid: 1, name: 'a', requested_bytes: 5, share: 1 }], others: { requested_bytes: 0, share: 0 } }).length, 1)
const S = { source: 'bpf', events_per_second: 0, drops: 0, lost: 0, lost_before: 0, gap_before_ms: 0, lag_ms: 0, skipped: 0 }
const stats = (...sessions) => fromStats({ sessions, server: { sse_last_id: 77 }, oom_kills: 0 })
check('fromStats reads the first session listed and the stream\'s newest id', stats({ ...S, events_per_second: 12.5,
  drops: 3, lag_ms: 9 }, { ...S, source: 'stap', drops: 100 }),
  { stats: { source: 'bpf', eventsPerS: 12.5, drops: 3, lost: 0, gapMs: 0, lagMs: 9, skipped: 0, oomKills: 0 }, sseLastId: 77 })
check('fromStats: lost adds the spill-full losses and what a killed lector left uncommitted; the gap before the session',
  stats({ ...S, lost: 5, lost_before: 7, gap_before_ms: 1319 }).stats,
  { source: 'bpf', eventsPerS: 0, drops: 0, lost: 12, gapMs: 1319, lagMs: 0, skipped: 0, oomKills: 0 })
check('fromStats: skipped probe runs (upper bound) are their own field, not added to drops or lost',
  stats({ ...S, source: 'stap', drops: 2, lost: 1, skipped: 7 }, { ...S, skipped: 99 }).stats,
  { source: 'stap', eventsPerS: 0, drops: 2, lost: 1, gapMs: 0, lagMs: 0, skipped: 7, oomKills: 0 })
check('fromStats: no session yet is all zeros', stats().stats,
  { source: '', eventsPerS: 0, drops: 0, lost: 0, gapMs: 0, lagMs: 0, skipped: 0, oomKills: 0 })
check('fromStats: the OOM kills stored, with or without a session (the header\'s link)',
  [fromStats({ sessions: [S], server: { sse_last_id: 1 }, oom_kills: 3 }).stats.oomKills,
    fromStats({ sessions: [], server: { sse_last_id: 1 }, oom_kills: 2 }).stats.oomKills], [3, 2])
check('fromProcess turns [ts_ns, net, mapped, vm] rows into net, mapped and VmSize points',
  fromProcess({ ...P, series: [[2e6, 4096, 8192, 12288], [3e6, 0, 4096, 8192]] }).series,
  [{ tsMs: 2, net: 4096, mapped: 8192, vmSize: 12288 }, { tsMs: 3, net: 0, mapped: 4096, vmSize: 8192 }])
check('fromCalls: the rows and the keyset cursor, null at the start of history',
  [fromCalls({ calls: [{ ...C, ok: true, result: '0x0' }], next_before: 42 }).next, fromCalls({ calls: [], next_before: null }).next],
  [42, null])
const ids = (list) => list.map((c) => c.id)
const calls = (from, to) => Array.from({ length: from - to + 1 }, (_, i) => ({ id: from - i }))
check('mergeNewestFirst: live calls newer than the rows go on top; an older page goes below',
  [ids(mergeNewestFirst(calls(5, 3), calls(8, 6))), ids(mergeNewestFirst(calls(2, 1), calls(5, 3)))], [[8, 7, 6, 5, 4, 3], [5, 4, 3, 2, 1]])
// The requests table of a busy machine (tests/browser/acceptance.mjs, the
// paging test, failed at its order check: "row 59: id 16309 after 16114"):
// the first page (ids 409..309) landed before the lagging stream delivered
// 114..100, which were stacked on top of it.
check('mergeNewestFirst: calls a lagging stream delivers after a newer page are merged into their place, not stacked on top',
  ids(mergeNewestFirst(calls(409, 400), calls(114, 110))), [409, 408, 407, 406, 405, 404, 403, 402, 401, 400, 114, 113, 112, 111, 110])
check('mergeNewestFirst: an older page that overlaps calls a lagging stream delivered is merged by id',
  ids(mergeNewestFirst(calls(308, 305), calls(409, 408).concat(calls(114, 113)))), [409, 408, 308, 307, 306, 305, 114, 113])

// Many hosts: the header's selector and the URL that remembers it.
check('fromHosts reads /api/hosts', fromHosts({ hosts: [{ name: 'a', active: true, processes_alive: 3, calls_committed: 9 }] }),
  [{ name: 'a' }])
check('toProcess keeps the host: the same pid on two hosts is two rows',
  [toProcess({ ...P, host: 'a' }).host, toProcess({ ...P, host: 'b' }).host], ['a', 'b'])
check('hostFromSearch reads ?host=, and a name the server would refuse reads as all hosts',
  [hostFromSearch('?host=web-1.lan'), hostFromSearch('?x=1'), hostFromSearch("?host=a'b"), hostFromSearch('')],
  ['web-1.lan', '', '', ''])
check('searchWithHost sets and clears ?host= and keeps other parameters',
  [searchWithHost('?x=1', 'b'), searchWithHost('?x=1&host=b', ''), searchWithHost('', '')], ['?x=1&host=b', '?x=1', ''])
const H = (...names) => names.map((name) => ({ name }))
check('hostChoices: no selector for one host, sorted names for several',
  [hostChoices(H('a'), ''), hostChoices(H('b', 'a'), ''), hostChoices(H('b', 'a'), 'b')], [[], ['a', 'b'], ['a', 'b']])
check('hostChoices: a host in the URL that is gone still shows, so the user can go back to all',
  hostChoices(H('a'), 'old'), ['a', 'old'])
// Groups and OOM kills.
const G = (host, id, name, rss) => ({ host, ...CG, cgroup_id: id, group: name, processes: 1, ...MEM, rss_bytes: rss,
  memory_held_bytes: 1, vm_size_bytes: 2, pct_of_ram: null })
const groups = fromGroups({ total: 3, groups: [G('h', '1', 'a', 30), G('h', '2', 'b', 0), G('k', '1', 'a', 10)] })
check('fromGroups: total, rows keyed by host and cgroup id, resident and % of RAM (null kept)',
  [groups.total, groups.rows.map((g) => [g.key, g.group, g.rssBytes, g.pctRam])],
  [3, [['h:1', 'a', 30, null], ['h:2', 'b', 0, null], ['k:1', 'a', 10, null]]])
const many = Array.from({ length: 13 }, (_, i) => fromGroups({ total: 1, groups: [G('h', String(i), `g${i}`, (i + 1) * 100)] }).rows[0])
const gs = groupSlices(many)
check('groupSlices: the 10 most resident groups, then Others with the rest; shares of the sum of all',
  [gs.length, gs[0].group, gs[0].bytes, gs[9].group, gs[10].others, gs[10].bytes, gs.reduce((n, s) => n + s.fraction, 0).toFixed(12)],
  [11, 'g12', 1300, 'g3', true, 100 + 200 + 300, (1).toFixed(12)])
check('groupSlices: groups with no resident memory are left out; no Others when 10 or fewer remain',
  groupSlices(groups.rows).map((s) => [s.key, s.bytes, s.fraction]), [['h:1', 30, 0.75], ['k:1', 10, 0.25]])
check('groupSlices: nothing resident is no slice at all', groupSlices([]), [])
const O = { host: 'h', ts_ns: 1795633912650875000, pid: 9, start_ns: '5', uid: 0, name: 'victim', ...CG, ...MEM,
  vm_size_bytes: 9, session: '0x1a', seq: '7' }
const ooms = fromOom({ total: 4, oom_kills: [O, { ...O, seq: '8', cgroup: null }] })
check('fromOom: total, rows keyed by their record (host, session, seq), the victim\'s memory at the kill',
  [ooms.total, ooms.rows.map((k) => [k.key, k.pid, k.comm, k.rssBytes, k.swapBytes, k.group, k.cgroup, k.tsNs])],
  [4, [['h:0x1a:7', 9, 'victim', 7 << 20, 3 << 20, 'a.service', '/system.slice/a.service', '1795633912650875000'],
    ['h:0x1a:8', 9, 'victim', 7 << 20, 3 << 20, 'a.service', null, '1795633912650875000']]])
check('groupByFromSearch reads ?by=group; anything else is by process',
  [groupByFromSearch('?by=group'), groupByFromSearch('?by=x'), groupByFromSearch('?host=a')], ['group', 'process', 'process'])
check('searchWithGroupBy sets ?by=group, and leaves it out for process (the default), keeping other parameters',
  [searchWithGroupBy('?host=a', 'group'), searchWithGroupBy('?host=a&by=group', 'process'), searchWithGroupBy('', 'process')],
  ['?host=a&by=group', '?host=a', ''])
check('groupFromSearch reads ?group=NAME; a name longer than 255 bytes (cgroups.name) reads as none',
  [groupFromSearch('?group=docker%3A0123456789ab'), groupFromSearch(''), groupFromSearch(`?group=${'é'.repeat(128)}`),
    groupFromSearch(`?group=${'é'.repeat(127)}`).length], ['docker:0123456789ab', '', '', 127])
process.exit(failed ? 1 : 0)
