// unit.mjs - the dashboard's pure functions (format.js, api.js) against
// hand-checked values, in plain node, printing TAP.  No browser, no
// server: run first by run-tests.  TAP_START numbers the first test.
import { humanBytes, exactBytes, percent, hexAddr, clockTime } from '../../frontend/src/format.js'
import { toProcess, toCall, toTop, toStats, toSeries, nextCursor } from '../../frontend/src/api.js'
import { toHosts, hostFromSearch, searchWithHost, hostChoices } from '../../frontend/src/api.js'

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

const proc = toProcess({ pid: 7, start_ns: '99', name: 'a"b', state: 'exited', memory_held_bytes: 4096,
  mapped_bytes: 8192, vm_size_bytes: 12288, requested_bytes: 16384, pct_of_system_vm: 2.5,
  n_mmap: 3, n_munmap: 1, n_mremap: 1, n_brk: 2, n_failed: 1, last_seen_ns: 1795633912650875000 })
check('toProcess reads the server row: held bytes, % as a fraction, calls summed, exited',
  [proc.netBytes, proc.pctVirtual, proc.calls, proc.alive, proc.comm, proc.lastSeenNs],
  [4096, 0.025, 7, false, 'a"b', '1795633912650875000'])
check('toProcess: a null % (unknown host memory) is 0, not NaN', toProcess({ pct_of_system_vm: null }).pctVirtual, 0)

const bad = toCall({ id: 5, session: '0x1', seq: 9, pid: 3, name: 'x', call: 'mmap', len_bytes: 0, ok: false, error: 22 })
check('toCall marks a failed call with -errno', [bad.failed, bad.result, bad.key], [true, -22, 'id5'])
const good = toCall({ id: 6, call: 'mmap', len_bytes: 4096, ok: true, result: '0x7f00', addr: '0x0' })
check('toCall keeps a good result as the server\'s hex', [good.failed, good.result], [false, '0x7f00'])

const top = toTop({ total_requested_bytes: 100, top: [{ pid: 1, name: 'a', requested_bytes: 60, share: 0.6 }],
  others: { processes: 3, requested_bytes: 40, share: 0.4 } })
check('toTop: slices then Others (pid null) with their shares', top.map((s) => [s.pid, s.bytes, s.fraction]),
  [[1, 60, 0.6], [null, 40, 0.4]])
check('toTop: no Others slice when the top holds everything',
  toTop({ total_requested_bytes: 5, top: [{ pid: 1, requested_bytes: 5, share: 1 }], others: { requested_bytes: 0 } }).length, 1)
check('toStats reads the newest capture session', toStats({ sessions: [{ source: 'bpf', events_per_second: 12.5,
  drops: 3, lag_ms: 9 }, { source: 'ring', drops: 100 }] }), { source: 'bpf', eventsPerS: 12.5, drops: 3, lost: 0, gapMs: 0, lagMs: 9, skipped: 0 })
check('toStats: lost adds the spill-full losses and what a killed lector left uncommitted; the gap before the session',
  toStats({ sessions: [{ source: 'bpf', lost: 5, lost_before: 7, gap_before_ms: 1319 }] }),
  { source: 'bpf', eventsPerS: 0, drops: 0, lost: 12, gapMs: 1319, lagMs: 0, skipped: 0 })
check('toStats: skipped probe runs (upper bound) are their own field, not added to drops or lost',
  toStats({ sessions: [{ source: 'stap', drops: 2, lost: 1, skipped: 7 }, { source: 'stap', skipped: 99 }] }),
  { source: 'stap', eventsPerS: 0, drops: 2, lost: 1, gapMs: 0, lagMs: 0, skipped: 7 })
check('toSeries turns [ts_ns, net, mapped, vm] rows into net, mapped and VmSize points',
  toSeries({ series: [[2e6, 4096, 8192, 12288], [3e6, 0, 4096, 8192]] }),
  [{ tsMs: 2, net: 4096, mapped: 8192, vmSize: 12288 }, { tsMs: 3, net: 0, mapped: 4096, vmSize: 8192 }])
check('nextCursor: the keyset cursor, null at the start of history',
  [nextCursor({ next_before: 42 }), nextCursor({ next_before: null })], [42, null])

// Many hosts: the header's selector and the URL that remembers it.
check('toHosts reads /api/hosts', toHosts({ hosts: [{ name: 'a', active: true, processes_alive: 3, calls_committed: 9 }] }),
  [{ name: 'a', active: true, processesAlive: 3, callsCommitted: 9 }])
check('toProcess keeps the host: the same pid on two hosts is two rows',
  [toProcess({ host: 'a', pid: 1 }).host, toProcess({ host: 'b', pid: 1 }).host], ['a', 'b'])
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
process.exit(failed ? 1 : 0)
