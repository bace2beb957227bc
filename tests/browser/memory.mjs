// memory.mjs - the browser suite's tests of real memory (run by
// acceptance.mjs, on its stack and page): the Resident and % of RAM
// columns, the "group by" switch (table and pie) and the OOM kills (header
// link, list, process view).  The rows are another host's, inserted into
// the stack's MariaDB as that host's lector would store them, so every
// figure is known exactly and nothing this machine runs meanwhile (other
// tests' processes, cgroups or OOM kills) can change them.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { loadFrontend } from '../frontend/load.mjs'
import { BIN } from './stack.mjs'
import { openForensics } from './timetravel.mjs'

const [{ humanBytes }] = await loadFrontend('src/format.js')

export const MEM_HOST = 'mpb-mem'
const MIB = 1024 * 1024
const GIB = 1024 * MIB
const MEM_TOTAL = 8 * GIB
const NOW_NS = `${Date.now()}000000`

// cgroups rows: [id, path, name, kind].  Id 103 has no row (lector could
// not resolve it): the server names it "cgroup:103", kind unknown.
const CGROUPS = [
  [101, '/system.slice/mpb-web.service', 'mpb-web.service', 'systemd'],
  [102, '/system.slice/docker-0123456789ab' + 'c'.repeat(52) + '.scope', 'docker:0123456789ab', 'docker'],
  ...Array.from({ length: 12 }, (_, i) => [111 + i, `/mpb/g${String(i + 1).padStart(2, '0')}`, `mpb-g${String(i + 1).padStart(2, '0')}`, 'cgroup'])
]
// processes rows: the resident parts, swap, when read (0: never), cgroup.
const P = (pid, comm, cg, anon, file = 0, shmem = 0, swap = 0, ts = NOW_NS, exited = 0) =>
  ({ pid, comm, cg, anon, file, shmem, swap, ts, exited })
const PROCS = [
  P(7001, 'mpb-web1', 101, 2 * GIB, 768 * MIB, 256 * MIB, 512 * MIB), // 3 GiB resident
  P(7002, 'mpb-web2', 101, GIB), // its group: 4 GiB, 2 live processes
  P(7003, 'mpb-never', 103, 0, 0, 0, 0, '0'), // never read: a dash, not 0
  P(7004, 'mpb-box', 102, 512 * MIB),
  P(7005, 'mpb-web-old', 101, 0, 0, 0, 0, NOW_NS, 1), // exited: not in the group's sums
  // twelve small groups: the pie shows 10 groups and Others
  ...Array.from({ length: 12 }, (_, i) => P(7101 + i, `mpb-g${i + 1}`, 111 + i, (i + 1) * 16 * MIB))
]
const rssOf = (p) => p.anon + p.file + p.shmem
// oom_kills rows: the newest first once listed.
const OOMS = [
  { seq: 1, ts: `${Date.now() - 3600000}000000`, pid: 7201, comm: 'mpb-oldvictim', cg: 102, anon: 64 * MIB, swap: 0 },
  { seq: 2, ts: NOW_NS, pid: 7003, comm: 'mpb-never', cg: 101, anon: 900 * MIB, swap: 100 * MIB }
]

function sql(st, text) {
  return execFileSync('mariadb', ['--no-defaults', '-uroot', `--socket=${st.dir}/mysqld.sock`, 'memprobe', '-e', text],
    { encoding: 'utf8' })
}
const HOST_ID = `(SELECT host_id FROM hosts WHERE name = '${MEM_HOST}')`

function insertHost(st) {
  const procs = PROCS.map((p) => `(${HOST_ID}, ${p.pid}, 1, 0, '${p.comm}', ${NOW_NS}, ${NOW_NS}, ${p.exited}, 8192, 8192,
    8192, ${64 * GIB}, ${1 << 30} * 1024, 0, 0, 0, 1, 0, 0, 0, 0, ${p.anon}, ${p.file}, ${p.shmem}, ${p.swap}, ${p.ts}, ${p.cg})`)
  sql(st, `INSERT INTO hosts (name, mem_total_bytes, swap_total_bytes) VALUES ('${MEM_HOST}', ${MEM_TOTAL}, 0);
    INSERT INTO cgroups (host_id, cgroup_id, path, name, kind, resolved_ns) VALUES
      ${CGROUPS.map(([id, p, n, k]) => `(${HOST_ID}, ${id}, '${p}', '${n}', '${k}', ${NOW_NS})`).join(',\n')};
    INSERT INTO processes (host_id, pid, start_ns, uid, comm, first_seen_ns, last_seen_ns, exited, net_bytes,
      net_bytes_raw, mapped_bytes, vm_size_bytes, requested_bytes, heap_bytes, heap_base_bytes, heap_known,
      n_mmap, n_munmap, n_mremap, n_brk, n_failed, rss_anon_bytes, rss_file_bytes, rss_shmem_bytes, swap_bytes,
      rss_ts_ns, cgroup_id) VALUES ${procs.join(',\n')}`)
}

// The kills, and a newer process with the victim's pid (the pid reused):
// the list must open the victim, not it.
function insertOoms(st) {
  sql(st, `INSERT INTO processes (host_id, pid, start_ns, uid, comm, first_seen_ns, last_seen_ns, exited, net_bytes,
      net_bytes_raw, mapped_bytes, vm_size_bytes, requested_bytes, heap_bytes, heap_base_bytes, heap_known,
      n_mmap, n_munmap, n_mremap, n_brk, n_failed, rss_anon_bytes, rss_ts_ns, cgroup_id)
    VALUES (${HOST_ID}, 7003, 2, 0, 'mpb-reused', ${NOW_NS}, ${NOW_NS}, 0, 4096, 4096, 4096, 4096, 4096, 0, 0, 0,
      1, 0, 0, 0, 0, ${MIB}, ${NOW_NS}, 102);
    INSERT INTO oom_kills (host_id, session, seq, ts_ns, pid, start_ns, uid, comm, cgroup_id, rss_anon_bytes,
      rss_file_bytes, rss_shmem_bytes, swap_bytes, total_vm_bytes) VALUES
    ${OOMS.map((o) => `(${HOST_ID}, 26, ${o.seq}, ${o.ts}, ${o.pid}, 1, 0, '${o.comm}', ${o.cg}, ${o.anon}, 0, 0,
      ${o.swap}, ${GIB})`).join(',\n')}`)
}

// The cells of `row` by their column's header text: {Resident: {text, title}, ...}.
export async function cellsByHeader(page, table, row) {
  const heads = await page.$$eval(`${table} thead th`, (ths) => ths.map((th) => th.textContent.replace(/[?▲▼]/g, '').trim()))
  const cells = await page.$$eval(`${table} ${row} td`, (tds) => tds.map((td) => ({ text: td.textContent.trim(), title: td.title })))
  return Object.fromEntries(heads.map((h, i) => [h, cells[i]]))
}

export async function memoryTests({ st, page, test, assert, api, waitFor, navigate, SETTLE_MS }) {
  const exact = (n) => `${n.toLocaleString('en')} bytes`
  const parts = (p) => `anon ${humanBytes(p.anon)} · file ${humanBytes(p.file)} · shmem ${humanBytes(p.shmem)} · swap ${humanBytes(p.swap)}`
  const table = '[data-testid=proc-table]'

  await test('Resident and % of RAM columns: resident bytes (exact and parts on hover), share of MemTotal, a dash when never read; sortable by resident', async () => {
    insertHost(st)
    await navigate(() => page.goto(st.url + `?host=${MEM_HOST}#/processes`))
    const row = (pid) => `tr[data-pid="${pid}"]`
    await page.waitForSelector(`${table} ${row(7001)}`, { timeout: SETTLE_MS })
    const srv = (await api(st, `processes?host=${MEM_HOST}&pid=7001`)).processes[0]
    const p1 = PROCS[0]
    assert(srv.rss_bytes === rssOf(p1) && srv.pct_of_ram === (100 * rssOf(p1)) / MEM_TOTAL,
      `server: rss ${srv.rss_bytes} pct_of_ram ${srv.pct_of_ram}`)
    const c = await cellsByHeader(page, table, row(7001))
    assert(c.Resident.text === '3.00 GiB', `Resident '${c.Resident.text}'`)
    assert(c.Resident.title === `${exact(rssOf(p1))}\n${parts(p1)}`, `Resident hover '${c.Resident.title}'`)
    assert(c['% of RAM'].text === '37.50 %', `% of RAM '${c['% of RAM'].text}'`)
    assert(c['% of virtual memory'], 'the course\'s % of virtual memory column is gone')
    const never = await cellsByHeader(page, table, row(7003))
    assert(never.Resident.text === '—' && never['% of RAM'].text === '—', `never read: '${never.Resident.text}' '${never['% of RAM'].text}'`)
    assert(/not read yet/i.test(never.Resident.title), `never-read hover '${never.Resident.title}'`)
    const pids = () => page.$$eval(`${table} tbody tr[data-pid]`, (trs) => trs.map((tr) => Number(tr.dataset.pid)))
    await page.click(`${table} th:has-text("Resident") button`)
    assert((await page.getAttribute(`${table} th:has-text("Resident")`, 'aria-sort')) === 'descending', 'not sorted by Resident')
    const want = PROCS.slice().sort((a, b) => rssOf(b) - rssOf(a) || a.pid - b.pid).map((p) => p.pid)
    const got = await pids()
    assert(JSON.stringify(got) === JSON.stringify(want), `order ${got}, want ${want}`)
    return `${got.length} rows by resident: ${got.slice(0, 4).join(', ')}, ...`
  })

  await test('resident memory that lector\'s sampler read after a process\'s last call reaches the open table without a reload (no event carries it)', async () => {
    const row = `${table} tr[data-pid="7004"]`
    const resident = async () => (await cellsByHeader(page, table, 'tr[data-pid="7004"]')).Resident.text
    await page.waitForSelector(row, { timeout: SETTLE_MS })
    const before = await resident()
    const setAnon = (bytes) => sql(st, `UPDATE processes SET rss_anon_bytes = ${bytes}, rss_ts_ns = ${Date.now()}000000
      WHERE host_id = ${HOST_ID} AND pid = 7004`)
    setAnon(3 * 512 * MIB)
    const t0 = Date.now()
    await waitFor('the new resident value in the table', async () => (await resident()) === humanBytes(3 * 512 * MIB), 15000)
    const tookMs = Date.now() - t0
    setAnon(512 * MIB)
    await waitFor('the value set back', async () => (await resident()) === humanBytes(512 * MIB), 15000)
    return `${before} -> ${humanBytes(3 * 512 * MIB)} in ${tookMs} ms, and back`
  })

  await test('group switch: the table lists /api/groups (sums of live processes), the pie the 10 most resident groups and Others; ?by=group survives a reload', async () => {
    await page.click('[data-testid=group-by-group]')
    await waitFor('?by=group', async () => new URL(page.url()).searchParams.get('by') === 'group', SETTLE_MS)
    const gt = '[data-testid=grp-table]'
    const web = 'tr[data-group="mpb-web.service"]'
    await page.waitForSelector(`${gt} ${web}`, { timeout: SETTLE_MS })
    const srv = (await api(st, `groups?host=${MEM_HOST}&limit=1000`)).groups
    const shown = await page.$$eval(`${gt} tbody tr[data-group]`, (trs) => trs.map((tr) => [tr.dataset.group, Number(tr.dataset.rssBytes)]))
    const want = srv.map((g) => [g.group, g.rss_bytes])
    assert(JSON.stringify(shown) === JSON.stringify(want), `table ${JSON.stringify(shown)}\nserver ${JSON.stringify(want)}`)
    const live = PROCS.filter((p) => p.cg === 101 && !p.exited)
    const sum = live.reduce((n, p) => n + rssOf(p), 0)
    const c = await cellsByHeader(page, gt, web)
    assert(c.Processes.text === String(live.length), `Processes '${c.Processes.text}', want ${live.length} (the exited one left out)`)
    assert(c.Resident.text === humanBytes(sum) && c.Resident.title.startsWith(exact(sum)), `Resident '${c.Resident.text}' '${c.Resident.title}'`)
    assert(c['% of RAM'].text === `${((100 * sum) / MEM_TOTAL).toFixed(2)} %`, `% of RAM '${c['% of RAM'].text}'`)
    assert(c.Swap.text === '512 MiB' && c.Kind.text === 'systemd unit', `Swap '${c.Swap.text}', Kind '${c.Kind.text}'`)
    assert(c.Group.title === '/system.slice/mpb-web.service', `Group hover '${c.Group.title}'`)
    const unresolved = await cellsByHeader(page, gt, 'tr[data-group="cgroup:103"]')
    assert(unresolved.Kind.text === 'unknown' && unresolved.Group.title === 'cgroup path unknown (id 103)',
      `unresolved cgroup: '${unresolved.Kind.text}' '${unresolved.Group.title}'`)
    // The pie: groups holding resident memory, the 10 largest, then Others.
    const pie = '[data-testid=pie-data]'
    await waitFor('group pie', async () => (await page.getAttribute(pie, 'data-by')) === 'group', SETTLE_MS)
    const slices = await page.$$eval(`${pie} tr`, (trs) => trs.map((tr) => [tr.dataset.group, Number(tr.dataset.bytes)]))
    const held = srv.filter((g) => g.rss_bytes > 0).sort((a, b) => b.rss_bytes - a.rss_bytes)
    const wantPie = held.slice(0, 10).map((g) => [g.group, g.rss_bytes])
      .concat([['others', held.slice(10).reduce((n, g) => n + g.rss_bytes, 0)]])
    assert(held.length === 14, `${held.length} groups hold resident memory, the test made 14`)
    assert(JSON.stringify(slices) === JSON.stringify(wantPie), `pie ${JSON.stringify(slices)}\nwant ${JSON.stringify(wantPie)}`)
    assert((await page.textContent('#pie-title')) === 'Resident memory by group', 'pie title')
    await navigate(() => page.reload())
    await page.waitForSelector(`${gt} ${web}`, { timeout: SETTLE_MS })
    assert(await page.isChecked('[data-testid=group-by-group]'), 'the switch is back on Process after a reload')
    await page.click('[data-testid=group-by-process]')
    await page.waitForSelector(`${table} tr[data-pid="7001"]`, { timeout: SETTLE_MS })
    assert(!new URL(page.url()).searchParams.has('by'), `URL ${page.url()} still says by`)
    assert((await page.getAttribute(pie, 'data-by')) === 'process', 'the pie stayed by group')
    return `${shown.length} groups; pie: ${slices.length - 1} groups + Others (${humanBytes(wantPie[10][1])})`
  })

  await test('a group row opens its processes (?group= in the URL, a chip to clear it), exited ones included', async () => {
    await page.click('[data-testid=group-by-group]')
    await page.click('[data-testid=grp-table] tr[data-group="mpb-web.service"]', { timeout: SETTLE_MS })
    await waitFor('?group=', async () => new URL(page.url()).searchParams.get('group') === 'mpb-web.service', SETTLE_MS)
    assert(!new URL(page.url()).searchParams.has('by'), `URL ${page.url()}: not back to processes`)
    const pids = () => page.$$eval(`${table} tbody tr[data-pid]`, (trs) => trs.map((tr) => Number(tr.dataset.pid)).sort())
    const want = PROCS.filter((p) => p.cg === 101).map((p) => p.pid).sort()
    await waitFor('the group\'s processes', async () => JSON.stringify(await pids()) === JSON.stringify(want), SETTLE_MS)
    assert((await page.textContent('[data-testid=proc-group]')).includes('Group: mpb-web.service'), 'no chip naming the group')
    await page.click('[data-testid=proc-group]')
    await waitFor('every process again', async () => (await pids()).length === PROCS.length, SETTLE_MS)
    assert(!new URL(page.url()).searchParams.has('group'), `URL ${page.url()} still names the group`)
    return `pids ${want.join(', ')}`
  })

  await test('OOM kills: none, no header link; once stored, "2 OOM kills" links to their list (newest first, the victim\'s memory); a PID opens the victim, though its pid was reused since', async () => {
    assert(!(await page.$('[data-testid=oom-link]')), 'an OOM link before any kill of this host')
    insertOoms(st)
    const stats = await api(st, `stats?host=${MEM_HOST}`)
    assert(stats.oom_kills === 2, `/api/stats?host= says ${stats.oom_kills} OOM kills`)
    // No call of this host flows, so nothing re-reads /api/stats: reload.
    await navigate(() => page.reload())
    await page.waitForSelector('[data-testid=oom-link]', { timeout: SETTLE_MS })
    assert((await page.textContent('[data-testid=oom-link]')).trim() === '2 OOM kills', 'link text')
    await page.click('[data-testid=oom-link]')
    await waitFor('#/oom', async () => (await page.evaluate(() => location.hash)) === '#/oom', SETTLE_MS)
    const ot = '[data-testid=oom-table]'
    await page.waitForSelector(`${ot} tbody tr[data-pid]`, { timeout: SETTLE_MS })
    const rows = await page.$$eval(`${ot} tbody tr[data-pid]`, (trs) => trs.map((tr) => Number(tr.dataset.pid)))
    assert(JSON.stringify(rows) === JSON.stringify([7003, 7201]), `rows ${rows}, want newest first 7003, 7201`)
    const c = await cellsByHeader(page, ot, 'tr[data-pid="7003"]')
    const want = { Host: MEM_HOST, PID: '7003', Name: 'mpb-never', Group: 'mpb-web.service', Resident: '900 MiB', Swap: '100 MiB' }
    for (const [k, v] of Object.entries(want)) assert(c[k]?.text === v, `${k} '${c[k]?.text}', want '${v}'`)
    assert(c.Resident.title.startsWith(exact(900 * MIB)), `Resident hover '${c.Resident.title}'`)
    await page.selectOption('[data-testid=lang]', 'es')
    await waitFor('es link', async () => (await page.textContent('[data-testid=oom-link]')).trim() === '2 muertes por OOM', SETTLE_MS)
    assert((await page.textContent('#oom-title')) === 'Muertes por OOM', 'the list\'s title in Spanish')
    await page.selectOption('[data-testid=lang]', 'en')
    await page.click(`${ot} tr[data-pid="7003"] a`)
    await waitFor('process view', async () => (await page.evaluate(() => location.hash)) === '#/process/7003/1', SETTLE_MS)
    await waitFor('its title', async () => (await page.textContent('#pv-title')) === 'Process 7003: mpb-never', SETTLE_MS)
    assert((await page.textContent('[data-testid=pv-group]')) === 'cgroup:103', 'process view group')
    assert(new URL(page.url()).searchParams.get('host') === MEM_HOST, `URL ${page.url()} lost the host`)
  })

  await test('an OOM kill\'s forensics opens in one click from the list (#/oom/HOST/SESSION/SEQ); a victim with no stored call says so', async () => {
    await navigate(() => page.goto(st.url + `?host=${MEM_HOST}#/oom`))
    const fx = await openForensics({ page, st, api, assert, waitFor, SETTLE_MS, host: MEM_HOST, pid: 7201, name: 'mpb-oldvictim' })
    assert(fx.calls.length === 0 && fx.growing.length === 0 && fx.curve.length === 0, `forensics of a victim with no call: ${JSON.stringify(fx).slice(0, 200)}`)
    assert((await page.textContent('[data-testid=fx-calls] tbody')).includes('no call in this window'), 'no word that it made no call')
    assert((await page.textContent('[data-testid=fx-rss]')) === '64.0 MiB', 'resident at the kill')
  })
}

// A real OOM kill on this machine: the hog of tests/workload/mem-fields in a
// 48 MiB memory cgroup (oom-hog.sh), recorded by the stack's lector from
// oom:mark_victim, listed by /api/oom and shown by the dashboard of `host`
// (this machine).  Other OOM kills on the machine may be listed too: the
// assertions are about this hog's pid.
export async function oomEndToEnd({ st, page, test, assert, api, waitFor, navigate, SETTLE_MS, host }) {
  await test('a real OOM kill in a 48 MiB memory cgroup: /api/oom lists the victim\'s pid and cgroup, the header links to it, the list shows it, its forensics (last calls, growing mappings, curve) one click away', async () => {
    const tmp = fs.mkdtempSync(path.join(st.dir, 'oom-'))
    const hogSh = path.join(path.dirname(fileURLToPath(import.meta.url)), 'oom-hog.sh')
    const out = execFileSync(hogSh, [BIN.memFields, tmp], { encoding: 'utf8', timeout: 60000 }).trim()
    const [pid, status, cgroupId] = out.split(' ')
    assert(status === '137', `the hog exited with ${status}, not killed (SIGKILL): ${out}`)
    let kill
    await waitFor('/api/oom lists the hog', async () =>
      (kill = (await api(st, `oom?host=${host}&pid=${pid}`)).oom_kills[0]), SETTLE_MS, 250)
    assert(kill.cgroup_id === cgroupId, `cgroup_id ${kill.cgroup_id}, the hog's cgroup is ${cgroupId}`)
    // The limit charges the hog's anonymous pages (its file pages may be
    // another cgroup's page cache): they fill it, and cannot exceed it.
    assert(kill.rss_anon_bytes > 32 * MIB && kill.rss_anon_bytes <= 48 * MIB,
      `anonymous resident at the kill ${kill.rss_anon_bytes} bytes, limit 48 MiB`)
    await navigate(() => page.goto(st.url + `?host=${host}#/processes`))
    await page.waitForSelector('[data-testid=oom-link]', { timeout: SETTLE_MS })
    await page.click('[data-testid=oom-link]')
    const ot = '[data-testid=oom-table]'
    const row = `tr[data-pid="${pid}"]`
    await page.waitForSelector(`${ot} ${row}`, { timeout: SETTLE_MS })
    const c = await cellsByHeader(page, ot, row)
    assert(c.Name.text === 'mem-fields' && c.Group.text === kill.group, `row: name '${c.Name.text}', group '${c.Group.text}' (server: ${kill.group})`)
    assert(Number(await page.getAttribute(`${ot} ${row}`, 'data-rss-bytes')) === kill.rss_bytes, 'resident differs from /api/oom')
    // Its forensics, one click away: the hog's 1 MiB mmaps, its curve.
    const fx = await openForensics({ page, st, api, assert, waitFor, SETTLE_MS, host, pid: Number(pid), name: 'mem-fields' })
    const mibMaps = fx.calls.filter((c) => c.call === 'mmap' && c.len_bytes === MIB).length
    assert(mibMaps >= 32, `${mibMaps} 1 MiB mmaps among the victim's last calls; it filled 48 MiB with them`)
    assert(fx.growing.length > 0 && fx.growing.every((m) => m.size_bytes >= fx.growing[fx.growing.length - 1].size_bytes) &&
      fx.growing.some((m) => m.size_bytes === MIB && m.prot === 'rw-'), `growing ${JSON.stringify(fx.growing.map((m) => [m.size_bytes, m.prot]))}`)
    assert(fx.curve.length > 0, 'no memory curve')
    await page.click('[data-testid=fx-open]')
    // ts_ns is a JSON integer: read as the page reads it (a double), minus 1 ns
    const before = (BigInt(String(kill.ts_ns)) - 1n).toString()
    await waitFor('the victim as of just before the kill', async () =>
      (await page.evaluate(() => location.hash)) === `#/process/${pid}/${kill.start_ns}?at=${before}`, SETTLE_MS)
    await waitFor('its totals then', async () => (await page.textContent('#pv-title').catch(() => '')) === `Process ${pid}: mem-fields`, SETTLE_MS)
    return `pid ${pid}, ${humanBytes(kill.rss_bytes)} resident at the kill, group ${kill.group} (${kill.group_kind}); ` +
      `forensics: ${fx.calls_total} calls, ${fx.growing.length} growing mappings, ${fx.curve.length} curve points`
  })
}
