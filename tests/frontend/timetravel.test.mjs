// timetravel.test.mjs - the dashboard's pure functions for issue 16's views
// (frontend/src/route.js, format.js, api.js): the URL state of each view
// (the instant, the diff's two ends, a kill's forensics) read and written
// back, the bounds a hand-edited URL falls back from, the date input's
// round trip, durations and signed growth, and the pie and the groups the
// processes view builds from rows as of an instant.
import test from 'node:test'
import assert from 'node:assert/strict'
import { loadFrontend } from './load.mjs'

const [route, format, apiCore, apiHistory] = await loadFrontend('src/route.js', 'src/format.js', 'src/api.js', 'src/api_history.js')
const api = { ...apiCore, ...apiHistory }
const { parseRoute, routeHash, nsParam } = route

test('the processes view keeps its instant in the hash (?at=NS); no instant is now', () => {
  assert.deepEqual(parseRoute('#/processes?at=1795633912650875000'), { view: 'processes', at: '1795633912650875000' })
  assert.deepEqual(parseRoute('#/processes'), { view: 'processes', at: null })
  assert.deepEqual(parseRoute(''), { view: 'processes', at: null })
  assert.deepEqual(parseRoute('#/?at=5'), { view: 'processes', at: '5' })
  assert.equal(routeHash({ view: 'processes', at: null }), '#/processes')
  assert.equal(routeHash({ view: 'processes', at: '1795633912650875000' }), '#/processes?at=1795633912650875000')
})

test('an instant the server would refuse reads as now: not decimal, 0, above 2^64-1, more than 20 digits', () => {
  for (const bad of ['abc', '-5', '0', '1e18', '18446744073709551616', '123456789012345678901', ' 5', ''])
    assert.equal(parseRoute(`#/processes?at=${encodeURIComponent(bad)}`).at, null, bad)
  assert.equal(nsParam('18446744073709551615'), '18446744073709551615')
  assert.equal(nsParam('007'), '7')
  assert.equal(nsParam(null), null)
})

test('a process: pid, incarnation, tab (overview or mappings) and instant, and back', () => {
  const r = parseRoute('#/process/4242/123456789/mappings?at=1795633912650875000')
  assert.deepEqual(r, { view: 'process', pid: 4242, startNs: '123456789', tab: 'mappings', at: '1795633912650875000' })
  assert.deepEqual(parseRoute('#/process/7'), { view: 'process', pid: 7, startNs: '', tab: 'overview', at: null })
  assert.deepEqual(parseRoute('#/process/7/mappings'), { view: 'process', pid: 7, startNs: '', tab: 'mappings', at: null })
  for (const h of ['#/process/4242/123456789/mappings?at=1795633912650875000', '#/process/7', '#/process/7/mappings',
    '#/process/7/1?at=9'])
    assert.equal(routeHash(parseRoute(h)), h)
  // the hash the views have always used for a process stays the same
  assert.equal(routeHash({ view: 'process', pid: 7003, startNs: '1', tab: 'overview', at: null }), '#/process/7003/1')
})

test('the diff: two instants and the measure; absent or bad ones read as null (the view\'s defaults), held is the default', () => {
  assert.deepEqual(parseRoute('#/diff?from=10&to=20&sort=vm'), { view: 'diff', from: '10', to: '20', sort: 'vm' })
  assert.deepEqual(parseRoute('#/diff'), { view: 'diff', from: null, to: null, sort: 'held' })
  assert.deepEqual(parseRoute('#/diff?from=x&sort=rss'), { view: 'diff', from: null, to: null, sort: 'held' })
  assert.equal(routeHash({ view: 'diff', from: '10', to: '20', sort: 'held' }), '#/diff?from=10&to=20')
  assert.equal(routeHash({ view: 'diff', from: '10', to: '20', sort: 'mapped' }), '#/diff?from=10&to=20&sort=mapped')
})

test('a kill\'s forensics: host, session, seq and the window in minutes (1, 5, 15, 30, 60; default 5)', () => {
  assert.deepEqual(parseRoute('#/oom/web-1.lan/0x1a/7?minutes=15'),
    { view: 'forensics', host: 'web-1.lan', session: '0x1a', seq: '7', minutes: 15 })
  assert.equal(parseRoute('#/oom/web1/0x1a/7?minutes=7').minutes, 5)
  assert.equal(parseRoute('#/oom/web1/0x1a/7').minutes, 5)
  assert.equal(routeHash({ view: 'forensics', host: 'web1', session: '0x1a', seq: '7', minutes: 5 }), '#/oom/web1/0x1a/7')
  assert.equal(routeHash({ view: 'forensics', host: 'web1', session: '0x1a', seq: '7', minutes: 60 }), '#/oom/web1/0x1a/7?minutes=60')
  // a host the server would refuse, or a session that is not hex: the list
  assert.equal(parseRoute("#/oom/a'b/0x1a/7").view, 'processes')
  assert.equal(parseRoute('#/oom/web1/1a/7').view, 'processes')
  assert.deepEqual(parseRoute('#/oom'), { view: 'oom' })
  assert.deepEqual(parseRoute('#/requests'), { view: 'requests' })
})

test('the date and time input round-trips an instant to the second, in local time, in the form the browser reads back', () => {
  const ns = (BigInt(Date.UTC(2026, 11, 7, 14, 2, 5)) * 1000000n + 123456789n).toString()
  const v = format.localInputFromNs(ns)
  assert.match(v, /^2026-12-0[67]T\d\d:02:05$/)
  assert.equal(format.nsFromLocalInput(v), (BigInt(Date.UTC(2026, 11, 7, 14, 2, 5)) * 1000000n).toString())
  assert.equal(format.nsFromLocalInput('2026-12-07T14:02'), format.nsFromLocalInput('2026-12-07T14:02:00'))
  // a whole minute in the form the browser reads back (Chromium drops ":00";
  // tests/browser's fill of "19:36:00" failed with "Malformed value")
  const minute = (BigInt(Date.UTC(2026, 11, 7, 19, 36, 0)) * 1000000n).toString()
  assert.match(format.localInputFromNs(minute), /^2026-12-0[78]T\d\d:36$/)
  assert.equal(format.nsFromLocalInput(format.localInputFromNs(minute)), minute)
  for (const bad of ['', 'yesterday', '2026-12-07', null]) assert.equal(format.nsFromLocalInput(bad), '')
  assert.equal(format.nowNs(1795633912650.9), '1795633912650000000')
})

test('durations show their two largest units; unknown is a dash; growth is signed', () => {
  const S = 1000000000n
  assert.deepEqual([180000000n, 999999999n, 45n * S, 60n * S, 725n * S, 3n * 3600n * S + 5n * 60n * S, 2n * 86400n * S + 4n * 3600n * S]
    .map((n) => format.durationText(n.toString())), ['180 ms', '999 ms', '45 s', '1 min', '12 min 05 s', '3 h 05 min', '2 d 4 h'])
  assert.deepEqual([format.durationText(null), format.durationText(0), format.durationText(5e9)], ['—', '0 ms', '5 s'])
  assert.deepEqual([4 << 20, -1536, 0].map(format.signedBytes), ['+4.00 MiB', '−1.50 KiB', '0 B'])
  assert.deepEqual([0.4567, null, 1].map(format.coverageText), ['45.7 %', '—', '100.0 %'])
})

const P = (pid, requested, rss, extra = {}) => ({
  host: 'h', pid, startNs: String(pid), comm: `p${pid}`, requestedBytes: requested, rssBytes: rss, rssAnonBytes: rss,
  rssFileBytes: 0, rssShmemBytes: 0, swapBytes: 1, netBytes: 10, vmSizeBytes: 100, pctRam: 0.01, alive: true,
  group: 'g', groupKind: 'systemd', cgroup: '/g', cgroupId: '5', ...extra
})

test('the pie as of an instant: the 10 processes that requested most, then Others; shares of the rows\' sum', () => {
  const rows = Array.from({ length: 12 }, (_, i) => P(i + 1, (i + 1) * 100, 0)).concat([P(99, 0, 0)])
  const s = api.requestedSlices(rows)
  assert.equal(s.length, 11)
  assert.deepEqual(s.slice(0, 2).map((x) => [x.pid, x.bytes, x.startNs]), [[12, 1200, '12'], [11, 1100, '11']])
  assert.deepEqual([s[10].others, s[10].bytes, s[10].pid], [true, 300, null])
  assert.equal(s.reduce((n, x) => n + x.fraction, 0).toFixed(12), (1).toFixed(12))
  assert.deepEqual(api.requestedSlices([P(1, 0, 0)]), [])
})

test('the groups as of an instant: sums of the live rows per host and cgroup, most resident first; exited rows left out', () => {
  const rows = [P(1, 0, 300), P(2, 0, 200), P(3, 0, 999, { alive: false }), P(4, 0, 50, { cgroupId: '6', group: 'k', pctRam: null }),
    P(5, 0, 1000, { host: 'k' })]
  const g = api.groupsOfRows(rows)
  assert.equal(g.total, 3)
  assert.deepEqual(g.rows.map((x) => [x.key, x.processes, x.rssBytes, x.swapBytes, x.netBytes, x.vmSizeBytes]),
    [['k:5', 1, 1000, 1, 10, 100], ['h:5', 2, 500, 2, 20, 200], ['h:6', 1, 50, 1, 10, 100]])
  assert.equal(g.rows[1].pctRam.toFixed(6), (0.02).toFixed(6))
  assert.equal(g.rows[2].pctRam, null)
})

test('a mapping\'s file: its path, else its device and inode; anonymous is null', () => {
  assert.equal(api.fileText({ dev: '8:1', ino: '1234', path: '/usr/lib/libc.so.6' }), '/usr/lib/libc.so.6')
  assert.equal(api.fileText({ dev: '8:1', ino: '1234', path: null }), 'dev 8:1 inode 1234')
  assert.equal(api.fileText({ dev: '8:1', ino: '1234', path: null }, (k, p) => `${k} ${p.dev} ${p.ino}`), 'map.devIno 8:1 1234')
  assert.equal(api.fileText(null), null)
})

test('the ledger and the forensics say when the server\'s replay stopped short (truncated, only sent when it applies)', () => {
  const page = (extra) => ({ host: 'h', pid: 1, start_ns: '1', name: 'a', at_ns: '5', total: 0, ledger_bytes: 0,
    coverage: { ledger_bytes: 0, vm_size_bytes: 0, ratio: null }, mappings: [], next: null, ...extra })
  assert.deepEqual([api.fromMappings(page({})).truncated, api.fromMappings(page({ truncated: true })).truncated], [false, true])
})
