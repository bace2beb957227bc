// timetravel.mjs - the browser suite's tests of issue 16's views (run by
// acceptance.mjs, on its stack, page and live workload): the process
// view's Mappings tab (the ledger: the workload's known mappings with
// their sizes, sorted by size and by age, coverage of VmSize), the time
// control (an instant between two of the workload's steps shows the held
// bytes of that instant, and nothing live moves until "back to now"), the
// diff (the workload, unseen before it started, ranks first) and the
// Spanish words of the new views.  Every figure the page shows is checked
// against the real server's reply for the same question.
import { loadFrontend } from '../frontend/load.mjs'
import { sleep } from './stack.mjs'

const [format] = await loadFrontend('src/format.js')
const MIB = 1024 * 1024

// The ledger rows the page shows: [addr, size, prot, via].
const ledgerRows = (page, table = '[data-testid=map-table]') =>
  page.$$eval(`${table} tbody tr[data-addr]`, (trs) =>
    trs.map((tr) => [tr.dataset.addr, Number(tr.dataset.sizeBytes), tr.dataset.prot, tr.dataset.via]))
const rowsOf = (mappings) => mappings.map((m) => [m.addr, m.size_bytes, m.prot, m.via])

// The next whole second after the clock's now, in ns (a decimal string),
// reached: what a date and time input can name.
async function nextSecond() {
  const ms = (Math.floor(Date.now() / 1000) + 1) * 1000
  await sleep(ms - Date.now() + 150)
  return (BigInt(ms) * 1000000n).toString()
}

export async function timeTravelTests({ st, page, test, assert, api, waitFor, navigate, SETTLE_MS, hold, reserveBytes, beforeHoldNs }) {
  const held = async () => (await api(st, `processes/${hold.pid}`)).memory_held_bytes
  const contractOk = async () => assert(!(await page.$('[data-testid=contract-error]')),
    `contract error on the page: ${await page.textContent('[data-testid=contract-error]').catch(() => '')}`)

  await test('Mappings tab: the ledger lists the workload\'s own mappings with their sizes (the 32 TiB reservation, 48 and 16 MiB, each 4 MiB step), by size and by age, with the coverage of VmSize', async () => {
    await navigate(() => page.goto(st.url + `#/process/${hold.pid}`))
    await page.click('[data-testid=tab-mappings]', { timeout: SETTLE_MS })
    await waitFor('#/process/PID/START/mappings', async () =>
      /^#\/process\/\d+\/\d+\/mappings$/.test(await page.evaluate(() => location.hash)) ||
      (await page.evaluate(() => location.hash)) === `#/process/${hold.pid}/mappings`, SETTLE_MS)
    const steps = ((await held()) - reserveBytes - 64 * MIB) / (4 * MIB)
    assert(Number.isInteger(steps) && steps >= 1, `held bytes say ${steps} steps`)
    const srv = await api(st, `processes/${hold.pid}/mappings?sort=age&limit=1000`)
    const sizes = srv.mappings.map((m) => m.size_bytes)
    const count = (n) => sizes.filter((s) => s === n).length
    assert(count(reserveBytes) === 1 && count(48 * MIB) === 1 && count(16 * MIB) === 1 && count(4 * MIB) === steps,
      `server ledger sizes ${sizes.join(' ')}: want one ${reserveBytes}, one 48 MiB, one 16 MiB, ${steps} of 4 MiB`)
    assert(count(8 * MIB) === 0, 'the 8 MiB mapping the workload unmapped is still in the ledger')
    const reservation = srv.mappings.find((m) => m.size_bytes === reserveBytes)
    assert(reservation.prot === '---' && reservation.flags.includes('anonymous') && reservation.via === 'mmap' &&
      reservation.file === null && reservation.created_ns !== null, `reservation row ${JSON.stringify(reservation)}`)
    // By age (the default): oldest first, as the server answers.
    await waitFor('the ledger by age', async () =>
      JSON.stringify(await ledgerRows(page)) === JSON.stringify(rowsOf(srv.mappings.slice(0, 100))), SETTLE_MS)
    const cells = await page.$$eval(`[data-testid=map-table] tr[data-size-bytes="${48 * MIB}"] td`, (tds) => tds.map((td) => td.textContent.trim()))
    assert(cells[1] === '48.0 MiB' && cells[2] === 'rw-' && cells[4] === 'anonymous' && cells[7] === 'mmap', `48 MiB row ${cells}`)
    const cov = await page.textContent('[data-testid=map-coverage]')
    const want = `The ledger explains ${format.coverageText(srv.coverage.ratio)} of VmSize`
    assert(cov.includes(want) && cov.includes('before capture'), `coverage '${cov}', want '${want} ...'`)
    assert(Number(await page.getAttribute('[data-testid=map-coverage]', 'data-ledger-bytes')) === srv.ledger_bytes, 'ledger bytes differ')
    // By size: largest first; the reservation on top.
    await page.click('[data-testid=map-sort-size]')
    const bySize = await api(st, `processes/${hold.pid}/mappings?sort=size&limit=100`)
    await waitFor('the ledger by size', async () =>
      JSON.stringify(await ledgerRows(page)) === JSON.stringify(rowsOf(bySize.mappings)), SETTLE_MS)
    assert((await ledgerRows(page))[0][1] === reserveBytes, 'the 32 TiB reservation is not first by size')
    await contractOk()
    return `${srv.total} ranges (${steps} steps), coverage ${format.coverageText(srv.coverage.ratio)} of VmSize`
  })

  let between
  let heldThen
  await test('time control: an instant between two of the workload\'s steps shows the held bytes of that instant, says "as of", moves nothing live, and "back to now" returns', async () => {
    const h0 = await held()
    await hold.step()
    heldThen = h0 + 4 * MIB
    await waitFor('the step stored', async () => (await held()) === heldThen, SETTLE_MS)
    between = await nextSecond()
    await hold.step()
    await waitFor('the next step stored', async () => (await held()) === heldThen + 4 * MIB, SETTLE_MS)
    await navigate(() => page.goto(st.url + '#/processes'))
    await page.fill('[data-testid=time-input]', format.localInputFromNs(between))
    await page.click('[data-testid=time-go]')
    await waitFor('?at= in the hash', async () => (await page.evaluate(() => location.hash)) === `#/processes?at=${between}`, SETTLE_MS)
    await page.fill('[data-testid=proc-search]', hold.name)
    const row = `[data-testid=proc-table] tr[data-pid="${hold.pid}"]`
    await waitFor('the held bytes of that instant', async () =>
      Number(await page.getAttribute(row, 'data-net-bytes').catch(() => 0)) === heldThen, SETTLE_MS)
    const srv = (await api(st, `processes?pid=${hold.pid}&at=${between}`))
    assert(srv.at_ns === between && srv.processes[0].memory_held_bytes === heldThen && srv.processes[0].exact === true,
      `server at ${between}: ${JSON.stringify(srv.processes[0] && { held: srv.processes[0].memory_held_bytes, exact: srv.processes[0].exact })}`)
    const asOf = await page.textContent('[data-testid=as-of]')
    assert(asOf.startsWith('As of ') && asOf.includes(format.clockTime(between, 'en')), `banner '${asOf}'`)
    // The pie of that instant has the workload's requested bytes then.
    const slice = Number(await page.getAttribute(`[data-testid=pie-data] tr[data-pid="${hold.pid}"]`, 'data-bytes'))
    assert(slice === srv.processes[0].requested_bytes, `pie ${slice}, server ${srv.processes[0].requested_bytes}`)
    // Nothing live: a step now does not reach the past.
    await hold.step()
    await waitFor('the step stored', async () => (await held()) === heldThen + 8 * MIB, SETTLE_MS)
    await sleep(1500)
    assert(Number(await page.getAttribute(row, 'data-net-bytes')) === heldThen, 'the past moved with a live step')
    await page.click('[data-testid=time-now]')
    await waitFor('back to #/processes', async () => (await page.evaluate(() => location.hash)) === '#/processes', SETTLE_MS)
    await page.fill('[data-testid=proc-search]', hold.name)
    await waitFor('the held bytes of now', async () =>
      Number(await page.getAttribute(row, 'data-net-bytes').catch(() => 0)) === heldThen + 8 * MIB, SETTLE_MS)
    assert(!(await page.$('[data-testid=as-of]')), 'still says "as of" after back to now')
    await contractOk()
    return `as of ${between}: held ${heldThen} (now ${heldThen + 8 * MIB})`
  })

  await test('the process view as of that instant: its totals then, the ledger then (one 4 MiB step fewer than now)', async () => {
    await navigate(() => page.goto(st.url + `#/process/${hold.pid}?at=${between}`))
    await waitFor('held then', async () =>
      (await page.getAttribute('[data-testid=pv-net]', 'title').catch(() => '')) === `${heldThen.toLocaleString('en')} bytes`, SETTLE_MS)
    await page.click('[data-testid=tab-mappings]')
    const then = await api(st, `processes/${hold.pid}/mappings?at=${between}&limit=1000`)
    const now = await api(st, `processes/${hold.pid}/mappings?limit=1000`)
    assert(then.at_ns === between && now.total === then.total + 2, `ranges then ${then.total}, now ${now.total}: want 2 fewer then`)
    await waitFor('the ledger then', async () =>
      JSON.stringify(await ledgerRows(page)) === JSON.stringify(rowsOf(then.mappings.slice(0, 100))), SETTLE_MS)
    assert(new URL(page.url()).hash.includes(`?at=${between}`), `URL ${page.url()} lost the instant`)
    return `${then.total} ranges then, ${now.total} now`
  })

  await test('the diff: from before the workload started to now, it ranks first (unseen at the start); a click opens it as of the end', async () => {
    await navigate(() => page.goto(st.url + '#/diff'))
    await page.fill('[data-testid=diff-from]', format.localInputFromNs(beforeHoldNs))
    const to = await nextSecond()
    await page.fill('[data-testid=diff-to]', format.localInputFromNs(to))
    await page.click('[data-testid=diff-go]')
    const from = format.nsFromLocalInput(format.localInputFromNs(beforeHoldNs))
    await waitFor('the diff in the hash', async () => (await page.evaluate(() => location.hash)) === `#/diff?from=${from}&to=${to}`, SETTLE_MS)
    const first = '[data-testid=diff-table] tbody tr[data-pid]:first-child'
    await waitFor('the workload first', async () => Number(await page.getAttribute(first, 'data-pid').catch(() => 0)) === hold.pid, SETTLE_MS)
    const srv = await api(st, `diff?from=${from}&to=${to}&sort=held`)
    const mine = srv.processes[0]
    assert(mine.pid === hold.pid && mine.from.state === 'unseen' && mine.growth.memory_held_bytes === (await held()),
      `server: first ${mine.pid}, from ${mine.from.state}, growth ${mine.growth.memory_held_bytes}`)
    assert(Number(await page.getAttribute(first, 'data-growth-bytes')) === mine.growth.memory_held_bytes, 'growth differs from the server')
    const cells = await page.$$eval(`${first} td`, (tds) => tds.map((td) => td.textContent.trim()))
    assert(cells.includes('not yet seen') && cells.includes(format.signedBytes(mine.growth.memory_held_bytes)), `row ${cells}`)
    // VmSize: the reservation counts there too.
    await page.click('[data-testid=diff-sort-vm]')
    await waitFor('sort=vm', async () => (await page.evaluate(() => location.hash)).endsWith('&sort=vm'), SETTLE_MS)
    await waitFor('the workload first by VmSize', async () => Number(await page.getAttribute(first, 'data-pid').catch(() => 0)) === hold.pid, SETTLE_MS)
    await page.click(first)
    await waitFor('its process as of the end', async () =>
      (await page.evaluate(() => location.hash)) === `#/process/${hold.pid}/${mine.start_ns}?at=${to}`, SETTLE_MS)
    await contractOk()
    return `${srv.total} processes in the span; the workload grew ${format.humanBytes(mine.growth.memory_held_bytes)}`
  })

  await test('the new views in Spanish: time control, Mappings, diff', async () => {
    await navigate(() => page.goto(st.url + `#/process/${hold.pid}/mappings`))
    await page.selectOption('[data-testid=lang]', 'es')
    await waitFor('Mapeos', async () => (await page.textContent('#map-title')) === 'Mapeos', SETTLE_MS)
    assert((await page.textContent('[data-testid=map-coverage]')).startsWith('El registro explica'), 'coverage in Spanish')
    assert((await page.textContent('[data-testid=time-now]')).trim() === 'Ahora (en vivo)', 'time control in Spanish')
    await page.click('[data-testid=nav-diff]')
    await waitFor('diff in Spanish', async () => (await page.textContent('#diff-title')) === 'Crecimiento entre dos instantes', SETTLE_MS)
    await page.selectOption('[data-testid=lang]', 'en')
  })
}

// A kill's forensics, one click from the OOM list of `host`: the kill
// (pid, name), its curve, its growing mappings and last calls as the
// server answers them (the same reply read in node).
export async function openForensics({ page, st, api, assert, waitFor, SETTLE_MS, host, pid, name }) {
  const ot = '[data-testid=oom-table]'
  await page.click(`${ot} tr[data-pid="${pid}"] [data-testid=oom-forensics]`, { timeout: SETTLE_MS })
  const kill = (await api(st, `oom?host=${host}&pid=${pid}`)).oom_kills[0]
  const hash = `#/oom/${encodeURIComponent(host)}/${kill.session}/${kill.seq}`
  await waitFor('the forensics URL', async () => (await page.evaluate(() => location.hash)) === hash, SETTLE_MS)
  await waitFor('its title', async () => (await page.textContent('#fx-title').catch(() => '')) === `OOM kill of ${pid}: ${name}`, SETTLE_MS)
  const fx = await api(st, `oom/forensics?host=${host}&session=${kill.session}&seq=${kill.seq}`)
  const growing = await ledgerRows(page, '[data-testid=fx-growing]')
  assert(JSON.stringify(growing) === JSON.stringify(rowsOf(fx.growing)), `growing ${JSON.stringify(growing)}\nserver ${JSON.stringify(rowsOf(fx.growing))}`)
  const calls = await page.$$eval('[data-testid=fx-calls] tbody tr[data-id]', (trs) => trs.map((tr) => Number(tr.dataset.id)))
  assert(JSON.stringify(calls) === JSON.stringify(fx.calls.map((c) => c.id)), `calls ${calls.slice(0, 5)}..., server ${fx.calls.slice(0, 5).map((c) => c.id)}...`)
  const points = fx.curve.length ? Number(await page.getAttribute('[data-testid=fx-chart] [data-points]', 'data-points')) : 0
  assert(points === 4 * fx.curve.length, `chart has ${points} points, the curve ${fx.curve.length} x 4 lines`)
  return fx
}
