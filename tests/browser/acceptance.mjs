// acceptance.mjs - the dashboard against the real stack in Debian's
// Chromium, printing TAP, behind the token and HTTPS as make run TLS=1
// serves it: the page opens the token URL once and lives on its session
// cookie.  A workload with a name unique to this run maps a known amount
// of memory; each test pins down one thing the user sees.
import { openBrowser } from './browser.mjs'
import { startStack, startHold, waitFor, sleep } from './stack.mjs'
import { checkReplies } from './contract.mjs'
import { memoryTests, oomEndToEnd, cellsByHeader, MEM_HOST } from './memory.mjs'
import { timeTravelTests } from './timetravel.mjs'
import { execFileSync } from 'node:child_process'

const MIB = 1024 * 1024
// 32 TiB of PROT_NONE: no RAM used, and more than anything else here
// reserves (a private MariaDB reserves 8 TiB for its buffer pool, Chromium
// 1.4 TiB), so the workload is in the pie's top 10.
const RESERVE_GIB = 32768
// Held (net_bytes, the design's formula) = mmap - munmap lengths: the
// reservation + 64 MiB.  mapped_bytes also covers the brk heap, which the
// workload reports.
const HELD_BYTES = RESERVE_GIB * 1024 * MIB + 64 * MIB
const REQUESTED_BYTES = RESERVE_GIB * 1024 * MIB + 72 * MIB
const STEP_BYTES = 4 * MIB
// How long the stack may take to show something when the spec sets no
// bound (a loaded 2-core machine: lector batches, the DB commits).  The
// one bound the issue sets, a call in the table within a second, is kept.
const SETTLE_MS = 20000

let n = Number(process.env.TAP_START || 0)
let failed = 0
function report(ok, name, diag) {
  n++
  if (!ok) failed++
  console.log(`${ok ? 'ok' : 'not ok'} ${n} - ${name}`)
  if (diag) for (const l of String(diag).split('\n')) console.log(`# ${l}`)
}
async function test(name, fn) {
  try {
    const note = await fn()
    report(true, name, note)
  } catch (e) {
    report(false, name, e.stack || e.message)
  }
}
const assert = (cond, msg) => {
  if (!cond) throw new Error(msg)
}
const api = async (st, p) => {
  const r = await st.get('api/' + p)
  assert(r.status === 200, `GET /api/${p}: ${r.status}`)
  return r.json()
}

let st
try {
  st = await startStack()
  report(true, 'stack starts: private MariaDB, lector on eBPF, memprobe-server answering /healthz')
} catch (e) {
  report(false, 'stack starts: private MariaDB, lector on eBPF, memprobe-server answering /healthz', e.message)
  process.exit(1)
}

const b = await openBrowser({ width: 1366, height: 860 })
const { page } = b
let hold
const outage = { from: 0, to: 0 } // failed requests allowed only while the server is down
// Navigations a test makes (goto, reload) through navigate(): the browser
// aborts the page's requests in flight then (ERR_ABORTED), which is not a
// failure of the dashboard.
const navigations = []
async function navigate(fn) {
  const w = { from: Date.now(), to: Infinity }
  navigations.push(w)
  try {
    return await fn()
  } finally {
    w.to = Date.now()
  }
}
const inNavigation = (t) => navigations.some((w) => t >= w.from && t <= w.to)
b.problems.failedT = []
b.ctx.on('requestfailed', (r) => b.problems.failedT.push({ t: Date.now(), what: `${r.url()} ${r.failure()?.errorText}` }))
b.problems.consoleT = []
b.ctx.on('console', (m) => m.type() === 'error' && b.problems.consoleT.push({ t: Date.now(), what: `${m.text()} (${m.location()?.url})` }))

try {
  await test('without the token the dashboard and the API answer 401 (HTTPS); /healthz alone is open', async () => {
    const paths = ['', 'index.html', 'api/processes', 'api/events', 'api/stats', 'metrics']
    const got = []
    for (const p of paths) got.push((await st.get(p, { auth: false })).status)
    assert(got.every((s) => s === 401), `statuses ${paths.map((p, i) => `/${p} ${got[i]}`)}`)
    assert((await st.get('healthz', { auth: false })).status === 200, '/healthz is not 200')
  })

  await test('the token URL becomes a session cookie (HttpOnly, SameSite=Strict, Secure) and a clean URL; the event stream goes live on it; header names the eBPF source', async () => {
    await page.goto(st.tokenUrl)
    assert(!page.url().includes('token'), `the address bar still holds the token: ${page.url()}`)
    const c = (await b.ctx.cookies(st.url)).find((x) => x.name === 'memprobe_session')
    assert(c && c.httpOnly && c.secure && c.sameSite === 'Strict', `session cookie ${JSON.stringify(c)}`)
    assert(!c.value.includes(st.token), 'the cookie holds the token itself')
    assert(!(await page.evaluate(() => document.cookie)).includes('memprobe_session'), 'scripts can read the cookie')
    await waitFor('connection live', async () => (await page.textContent('[data-testid=connection]')).includes('live'), SETTLE_MS)
    const src = await page.textContent('[data-testid=source]')
    assert(src.trim() === 'eBPF', `source shows '${src}'`)
  })

  await test('capture keeps up before the workload starts: lector commit lag under 1 s', async () => {
    // Everything below is timed from the workload's calls: if the machine
    // is flooded by something else, say so here rather than only through
    // timeouts further down.
    let cur = {}
    try {
      await waitFor('lector lag < 1 s', async () => {
        cur = (await api(st, 'stats')).sessions[0] || {}
        return cur.lag_ms !== undefined && cur.lag_ms < 1000
      }, SETTLE_MS, 500)
    } catch {
      throw new Error(`lector lag ${cur.lag_ms} ms at ${Math.round(cur.events_per_second)} events/s: the machine makes calls faster than the capture stores them`)
    }
    return `lag ${cur.lag_ms} ms at ${Math.round(cur.events_per_second)} events/s`
  })

  // The diff's start: before the workload existed (it is "unseen" there).
  const beforeHoldNs = (BigInt(Date.now()) * 1000000n).toString()
  await sleep(1100) // the diff's inputs name whole seconds
  hold = await startHold(st.dir, RESERVE_GIB)

  await test('workload appears in the processes table with its exact memory (bytes on hover, human units shown)', async () => {
    await page.fill('[data-testid=proc-search]', hold.name)
    const row = `[data-testid=proc-table] tr[data-pid="${hold.pid}"]`
    const t0 = Date.now()
    await page.waitForSelector(row, { timeout: SETTLE_MS })
    await waitFor('exact memory', async () => Number(await page.getAttribute(row, 'data-net-bytes')) === HELD_BYTES, SETTLE_MS)
    const cells = await cellsByHeader(page, '[data-testid=proc-table]', `tr[data-pid="${hold.pid}"]`)
    assert(cells.Name.text === hold.name, `name cell '${cells.Name.text}'`)
    assert(cells['Memory held'].text === '32.0 TiB', `memory cell '${cells['Memory held'].text}'`)
    assert(cells['Memory held'].title === `${HELD_BYTES.toLocaleString('en')} bytes`, `hover '${cells['Memory held'].title}'`)
    const srv = (await api(st, `processes?pid=${hold.pid}`)).processes[0]
    assert(srv.memory_held_bytes === HELD_BYTES, `server says ${srv.memory_held_bytes}`)
    const pct = ((100 * HELD_BYTES) / srv.pct_denominator_bytes).toFixed(3)
    const pctCell = cells['% of virtual memory'].text
    assert(pctCell === `${pct} %`, `% cell '${pctCell}', want ${pct} %`)
    // Resident: a dash until a record or lector's sampler read it, then
    // bytes (its exact value: tests/browser/memory.mjs).
    const rss = cells.Resident.text
    assert(srv.rss_ts_ns === 0 ? rss === '—' : /^\d[\d.]* (B|KiB|MiB|GiB)$/.test(rss), `Resident '${rss}' (read at ${srv.rss_ts_ns})`)
    assert(cells.State.text === 'alive', `state '${cells.State.text}'`)
    return `visible ${Date.now() - t0} ms after the workload was ready`
  })

  await test('pie has the workload (in /api/top\'s top 10) with its exact requested bytes; top 10 + Others', async () => {
    await waitFor('pie has the workload', () => page.$(`[data-testid=pie-data] tr[data-pid="${hold.pid}"]`), SETTLE_MS)
    const top = await api(st, 'top')
    const mine = top.top.find((r) => r.pid === hold.pid)
    assert(mine, 'workload not in /api/top: something else reserves more than 32 TiB')
    assert(mine.requested_bytes === REQUESTED_BYTES, `requested ${mine.requested_bytes}`)
    const bytes = Number(await page.getAttribute(`[data-testid=pie-data] tr[data-pid="${hold.pid}"]`, 'data-bytes'))
    assert(bytes === REQUESTED_BYTES, `pie slice ${bytes} bytes, want ${REQUESTED_BYTES}`)
    const slices = await page.$$eval('[data-testid=pie-data] tr', (trs) => trs.map((t) => t.dataset.pid))
    assert(slices.length <= 11 && slices.length >= Math.min(10, top.processes), `${slices.length} slices`)
    if (top.others.requested_bytes > 0) assert(slices[slices.length - 1] === 'others', 'no Others slice last')
  })

  await test('a new call shows in the requests table within a second; the failed mmap is marked', async () => {
    await page.goto(st.url + '#/requests')
    await page.fill('[data-testid=req-pid]', String(hold.pid))
    const failedRow = '[data-testid=req-table] tr.failed[data-call="mmap"]'
    await page.waitForSelector(failedRow, { timeout: SETTLE_MS })
    const res = await page.textContent(`${failedRow} td:last-child`)
    assert(/failed \(-22\)/.test(res), `failed row result '${res}'`)
    const sel = `[data-testid=req-table] tr[data-pid="${hold.pid}"][data-len="${STEP_BYTES}"]`
    assert(!(await page.$(sel)), 'step row present before the step')
    const t0 = Date.now()
    await hold.step()
    try {
      await page.waitForSelector(sel, { timeout: 1000 })
    } catch (e) {
      // Say where the time went: lector's commit lag is the usual culprit
      // when something else floods the machine with calls.
      const cur = (await api(st, 'stats')).sessions[0] || {}
      throw new Error(`${e.message}\nlector: lag ${cur.lag_ms} ms at ${Math.round(cur.events_per_second)} events/s`)
    }
    return `call to row: ${Date.now() - t0} ms`
  })

  await test('pause buffers new calls instead of dropping them; resume shows them', async () => {
    const rows = `[data-testid=req-table] tr[data-len="${STEP_BYTES}"]`
    const before = (await page.$$(rows)).length
    await page.click('[data-testid=req-pause]')
    await hold.step()
    await waitFor('buffered count', async () => (await page.textContent('[data-testid=req-buffered]')).startsWith('1 '), SETTLE_MS)
    assert((await page.$$(rows)).length === before, 'row shown while paused')
    await page.click('[data-testid=req-pause]')
    await waitFor('row after resume', async () => (await page.$$(rows)).length === before + 1, SETTLE_MS)
  })

  await test('requests table caps DOM rows and pages backwards through history: in order, none skipped, none twice', async () => {
    await page.fill('[data-testid=req-pid]', '')
    await page.click('[data-testid=req-pause]') // hold the top still while paging
    const ids = () => page.$$eval('[data-testid=req-table] tbody tr[data-id]', (trs) => trs.map((t) => Number(t.dataset.id)))
    // The first page: up to 100 calls (exec/exit records are not listed).
    await waitFor('first page', async () => (await ids()).length >= 50, SETTLE_MS)
    await sleep(300)
    assert((await ids()).length <= 100, `${(await ids()).length} rows in the DOM, cap is 100`)
    for (let i = 0; i < 2; i++) {
      const n = (await ids()).length
      await page.click('[data-testid=req-older]')
      await waitFor('older page', async () => (await ids()).length > n, SETTLE_MS)
    }
    const got = await ids()
    assert(got.length >= 150 && got.length <= 300, `${got.length} rows after two pages back`)
    for (let i = 1; i < got.length; i++) assert(got[i] < got[i - 1], `row ${i}: id ${got[i]} after ${got[i - 1]}`)
    // Nothing skipped: the same range straight from the API, minus the
    // exec/exit records the table does not list.
    const want = (await api(st, `calls?before=${got[0] + 1}&limit=1000`)).calls
      .filter((c) => c.id >= got[got.length - 1] && c.call !== 'exec' && c.call !== 'exit').map((c) => c.id)
    assert(JSON.stringify(want) === JSON.stringify(got), `table ids differ from /api/calls over the same range`)
    await page.click('[data-testid=req-pause]')
    return `${got.length} rows, ids ${got[0]} down to ${got[got.length - 1]}`
  })

  await test('clicking its row opens the process view; its chart has the workload points; totals match', async () => {
    await page.goto(st.url + '#/processes')
    await page.fill('[data-testid=proc-search]', hold.name)
    await page.click(`[data-testid=proc-table] tr[data-pid="${hold.pid}"]`, { timeout: SETTLE_MS })
    await waitFor('process view url', async () => (await page.evaluate(() => location.hash)) === `#/process/${hold.pid}`, SETTLE_MS)
    assert((await page.textContent('#pv-title')) === `Process ${hold.pid}: ${hold.name}`, 'process view title')
    await page.waitForSelector('[data-testid=pv-chart] [data-points]')
    // Once lector has stored both steps, the replayed series ends at the row.
    let one = {}
    await waitFor('server row has both steps', async () =>
      (one = await api(st, `processes/${hold.pid}`)).memory_held_bytes === HELD_BYTES + 2 * STEP_BYTES, SETTLE_MS)
    const n = one.series.length
    // Net, mapped and VmSize lines each get every server point (its whole life).
    await waitFor('chart points', async () =>
      Number(await page.getAttribute('[data-testid=pv-chart] [data-points]', 'data-points')) >= 3 * n, SETTLE_MS)
    assert(n >= 6, `server series has ${n} points`)
    const last = one.series[n - 1]
    assert(last[1] === one.memory_held_bytes && last[2] === one.mapped_bytes && last[3] === one.vm_size_bytes,
      `series ends at ${last.slice(1)}, the row holds ${[one.memory_held_bytes, one.mapped_bytes, one.vm_size_bytes]}`)
    assert(BigInt(one.series[0][0]) <= BigInt(one.first_seen_ns), 'series starts at the first call')
    const net = await page.getAttribute('[data-testid=pv-net]', 'title')
    assert(net === `${(HELD_BYTES + 2 * STEP_BYTES).toLocaleString('en')} bytes`, `net '${net}'`)
    const mapped = await page.getAttribute('[data-testid=pv-mapped]', 'title')
    const wantMapped = HELD_BYTES + 2 * STEP_BYTES + hold.heapBytes
    assert(mapped === `${wantMapped.toLocaleString('en')} bytes`, `mapped '${mapped}', want ${wantMapped} (heap ${hold.heapBytes})`)
    const canvas = await page.$('[data-testid=pv-chart] canvas')
    assert(canvas, 'no canvas drawn')
    return `${one.series.length} server points x 3 lines, last = row (net ${last[1]}, mapped ${last[2]})`
  })

  await test('server restart: the page reconnects by itself and resumes, calls made while down included', async () => {
    outage.from = Date.now()
    await st.stopServer()
    await waitFor('reconnecting state', async () => !(await page.textContent('[data-testid=connection]')).includes('live'), SETTLE_MS)
    await hold.step() // made while the server is down
    await sleep(500)
    await st.startServer()
    const t0 = Date.now()
    await waitFor('live again', async () => (await page.textContent('[data-testid=connection]')).includes('live'), SETTLE_MS)
    outage.to = Date.now() + 3000
    const rows = `[data-testid=req-table] tr[data-pid="${hold.pid}"][data-len="${STEP_BYTES}"]`
    await waitFor('call made during the outage', async () => (await page.$$(rows)).length === 3, SETTLE_MS)
    await hold.step()
    try {
      await waitFor('call made after the restart', async () => (await page.$$(rows)).length === 4, SETTLE_MS)
    } catch (e) {
      const srv = (await api(st, `calls?pid=${hold.pid}&call=mmap`)).calls.filter((c) => c.len_bytes === STEP_BYTES)
      const conn = await page.textContent('[data-testid=connection]')
      throw new Error(`${e.message}\nserver has ${srv.length} step calls, page shows ${(await page.$$(rows)).length}; connection '${conn}'`)
    }
    return `live again ${Date.now() - t0} ms after the server came back`
  })

  await timeTravelTests({ st, page, test, assert, api, waitFor, navigate, SETTLE_MS, hold,
    reserveBytes: RESERVE_GIB * 1024 * MIB, beforeHoldNs })

  await test('Spanish UI switch translates the page and keeps the data', async () => {
    await page.goto(st.url + '#/processes')
    await page.selectOption('[data-testid=lang]', 'es')
    await waitFor('spanish', async () => (await page.textContent('#proc-title')) === 'Procesos', SETTLE_MS)
    await page.fill('[data-testid=proc-search]', hold.name)
    await page.waitForSelector(`[data-testid=proc-table] tr[data-pid="${hold.pid}"]`)
    await page.selectOption('[data-testid=lang]', 'en')
  })

  await test('workload exit shows as exited; the alive-only filter hides it', async () => {
    await hold.exit()
    const row = `[data-testid=proc-table] tr[data-pid="${hold.pid}"]`
    try {
      await waitFor('exited', async () => (await page.textContent(`${row} td:last-child`)).includes('exited'), SETTLE_MS)
    } catch (e) {
      const srv = (await api(st, `processes?pid=${hold.pid}`)).processes[0]
      const cur = (await api(st, 'stats')).sessions[0] || {}
      throw new Error(`${e.message}\nserver says state ${srv?.state}; lector lag ${cur.lag_ms} ms at ${Math.round(cur.events_per_second)} events/s`)
    }
    await page.check('[data-testid=proc-alive]')
    await waitFor('hidden', async () => !(await page.$(row)), SETTLE_MS)
    await page.uncheck('[data-testid=proc-alive]')
  })

  await test('a second host in the database: the header offers All + each host; choosing one filters the table (URL keeps it)', async () => {
    // Another machine's lector, as rows: a process with the workload's own
    // pid, so only the host tells the two apart.  It requested 1 TiB, so it
    // is among the 1000 rows the page loads (by requested bytes) however
    // many processes this shared machine ran meanwhile.
    const other = 'mpb-other'
    execFileSync('mariadb', ['--no-defaults', '-uroot', `--socket=${st.dir}/mysqld.sock`, 'memprobe', '-e',
      `INSERT INTO hosts (name, mem_total_bytes, swap_total_bytes) VALUES ('${other}', 1 << 30, 0);
       INSERT INTO processes (host_id, pid, start_ns, uid, comm, first_seen_ns, last_seen_ns, exited, net_bytes,
         net_bytes_raw, mapped_bytes, vm_size_bytes, requested_bytes, heap_bytes, heap_base_bytes, heap_known,
         n_mmap, n_munmap, n_mremap, n_brk, n_failed)
       SELECT host_id, ${hold.pid}, 1, 0, 'other-proc', ${Date.now()}000000, ${Date.now()}000000, 0, 8192, 8192,
         8192, 8192, 1 << 40, 0, 0, 0, 1, 0, 0, 0, 0 FROM hosts WHERE name = '${other}'`])
    const mine = (await api(st, 'hosts')).hosts.map((h) => h.name).find((h) => h !== other)
    const rowsOf = () => page.$$eval(`[data-testid=proc-table] tr[data-pid="${hold.pid}"]`,
      (trs) => trs.map((tr) => tr.dataset.host).sort())
    await page.goto(st.url + '?x=1#/processes')
    await page.waitForSelector('[data-testid=host]', { timeout: SETTLE_MS })
    await page.fill('[data-testid=proc-search]', String(hold.pid))
    await waitFor('both hosts\' rows under All', async () => (await rowsOf()).join() === [mine, other].sort().join(), SETTLE_MS)
    await page.selectOption('[data-testid=host]', other)
    await waitFor('only the other host', async () => (await rowsOf()).join() === other, SETTLE_MS)
    const names = await page.$$eval('[data-testid=proc-table] tbody tr[data-pid]', (trs) => trs.map((tr) => tr.dataset.host))
    assert(names.every((h) => h === other), `rows of other hosts shown: ${names}`)
    assert(new URL(page.url()).searchParams.get('host') === other && page.url().includes('x=1'), `URL ${page.url()}`)
    await page.reload()
    await page.waitForSelector('[data-testid=host]', { timeout: SETTLE_MS })
    assert((await page.inputValue('[data-testid=host]')) === other, 'the selection survives a reload')
    await page.fill('[data-testid=proc-search]', String(hold.pid))
    await waitFor('still only the other host after reload', async () => (await rowsOf()).join() === other, SETTLE_MS)
    await page.selectOption('[data-testid=host]', mine)
    await waitFor('only this machine', async () => (await rowsOf()).join() === mine, SETTLE_MS)
    await page.selectOption('[data-testid=host]', '')
    await waitFor('all again', async () => (await rowsOf()).join() === [mine, other].sort().join(), SETTLE_MS)
    assert(!new URL(page.url()).searchParams.has('host'), `URL ${page.url()} still names a host`)
    return `hosts ${mine} and ${other}`
  })

  // Two hosts in the database now, "All hosts" chosen: a process opened
  // from a call must take the call's host along (a pid alone is ambiguous).
  const thisHost = async () => (await api(st, 'hosts')).hosts.map((h) => h.name).find((h) => !h.startsWith('mpb-'))
  await test('opening a process from the requests table (All hosts) chooses the call\'s host', async () => {
    const mine = await thisHost()
    await page.goto(st.url + '#/requests')
    await page.waitForSelector('[data-testid=host]', { timeout: SETTLE_MS })
    assert((await page.inputValue('[data-testid=host]')) === '', 'All hosts is not the choice')
    await page.fill('[data-testid=req-pid]', String(hold.pid))
    const link = `[data-testid=req-table] tr[data-pid="${hold.pid}"] a`
    await page.click(link, { timeout: SETTLE_MS })
    await waitFor('process view', async () => (await page.evaluate(() => location.hash)) === `#/process/${hold.pid}`, SETTLE_MS)
    const host = new URL(page.url()).searchParams.get('host')
    assert(host === mine, `URL ${page.url()}: the call's host ${mine} was lost (host ${host})`)
    assert((await page.inputValue('[data-testid=host]')) === mine, 'the header does not show the call\'s host')
  })

  await test('opening a process from the process view\'s own requests table (All hosts) chooses the call\'s host', async () => {
    const mine = await thisHost()
    await page.selectOption('[data-testid=host]', '') // back to All, still in the process view
    await waitFor('All hosts in the URL', async () => !new URL(page.url()).searchParams.has('host'), SETTLE_MS)
    assert((await page.evaluate(() => location.hash)) === `#/process/${hold.pid}`, 'left the process view')
    await page.click(`[data-testid=req-table] tr[data-pid="${hold.pid}"] a`, { timeout: SETTLE_MS })
    await waitFor('a host chosen', async () => new URL(page.url()).searchParams.has('host'), 3000).catch(() => {})
    const host = new URL(page.url()).searchParams.get('host')
    assert(host === mine, `URL ${page.url()}: the call's host ${mine} was lost (host ${host})`)
  })

  await memoryTests({ st, page, test, assert, api, waitFor, navigate, SETTLE_MS })
  await oomEndToEnd({ st, page, test, assert, api, waitFor, navigate, SETTLE_MS, host: await thisHost() })

  await test('the dashboard reads every reply and event of the real server: each field it reads is there with its type (api.js CONTRACT)', async () =>
    checkReplies(st, hold.pid, MEM_HOST))

  await test('no console errors and no failed requests (outside the deliberate server outage)', async () => {
    const inOutage = (t) => t >= outage.from && t <= outage.to
    // The event stream is aborted (ERR_ABORTED) only by the page itself: a
    // navigation, another host chosen, or a page that fell behind jumping
    // ahead (it says so in a notice).  Failures of the network or the
    // server have other codes, and those count.
    const jumped = Boolean(await page.$('[data-testid=skipped]'))
    const NET = /ERR_CONNECTION_REFUSED|ERR_INCOMPLETE_CHUNKED|ERR_EMPTY_RESPONSE|ERR_CONNECTION_RESET|ERR_SOCKET_NOT_CONNECTED/
    const when = (t) => `at ${t - outage.from} ms from the server stop (back at ${outage.to - 3000 - outage.from})`
    const bad = [
      ...b.problems.consoleT.filter((p) => !(inOutage(p.t) && NET.test(p.what))).map((p) => `console: ${p.what} ${when(p.t)}`),
      ...b.problems.failedT.filter((p) => !inOutage(p.t) && !/api\/events.*ERR_ABORTED$/.test(p.what) &&
        !(inNavigation(p.t) && /ERR_ABORTED$/.test(p.what)))
        .map((p) => `request: ${p.what} ${when(p.t)}`),
      ...b.problems.http.map((h) => `http: ${h}`)
    ]
    assert(bad.length === 0, bad.join('\n'))
    const aborted = b.problems.failedT.filter((p) => /api\/events.*ERR_ABORTED$/.test(p.what)).length
    return `${b.problems.failedT.length - aborted} failed requests, all while the server was down; ` +
      `${aborted} event streams closed by the page` + (jumped ? ' (it fell behind and jumped ahead once)' : '')
  })
} finally {
  if (hold) hold.kill()
  await b.close()
  await st.stop()
}
console.log(`1..${n}`)
process.exit(failed ? 1 : 0)
