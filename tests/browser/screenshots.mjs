// screenshots.mjs URL OUTDIR - one PNG per dashboard view (processes by
// resident + pie, by group, requests, process view and its Mappings tab,
// the processes as of a past instant, the diff, Spanish UI; the OOM list
// and the first kill's forensics when there are OOM kills) from a running
// server.
// SHOT_PID picks the process view's process (default: the top row);
// SHOT_PV_MS how long the process view streams before the shot;
// SHOT_AT the past instant (ns; default: a minute ago); SHOT_FROM and
// SHOT_TO the diff's (default: the last hour).
import path from 'node:path'
import { openBrowser } from './browser.mjs'

const [url, outDir] = process.argv.slice(2)
if (!url || !outDir || url === '--help') {
  console.log('screenshots.mjs URL OUTDIR: PNG of each view of the dashboard served at URL')
  process.exit(url === '--help' ? 0 : 2)
}
const b = await openBrowser({ width: 1366, height: 860 })
const { page } = b
const shot = (name) => page.screenshot({ path: path.join(outDir, name) })
await page.goto(url + '#/processes')
await page.waitForSelector('[data-testid=proc-table] tbody tr[data-pid]')
await page.click('[data-testid=proc-table] th:has-text("Resident") button') // the resident view
await page.waitForTimeout(2500)
await shot('dashboard-processes.png')
await page.click('[data-testid=group-by-group]')
await page.waitForSelector('[data-testid=grp-table] tbody tr[data-group]')
await page.waitForTimeout(2500)
await shot('dashboard-groups.png')
await page.click('[data-testid=group-by-process]')
if (await page.$('[data-testid=oom-link]')) {
  await page.click('[data-testid=oom-link]')
  await page.waitForSelector('[data-testid=oom-table] tbody tr[data-pid]')
  await shot('dashboard-oom.png')
  await page.click('[data-testid=oom-table] [data-testid=oom-forensics]')
  await page.waitForSelector('#fx-title')
  await page.waitForTimeout(1500)
  await shot('dashboard-forensics.png')
}
const pid = process.env.SHOT_PID || (await page.getAttribute('[data-testid=proc-table] tbody tr[data-pid]', 'data-pid'))
await page.goto(url + '#/requests')
await page.waitForSelector('[data-testid=req-table] tbody tr[data-pid]')
await page.waitForTimeout(1500)
await shot('dashboard-requests.png')
await page.goto(url + `#/process/${pid}`)
await page.waitForSelector('[data-testid=pv-chart] canvas')
await page.waitForTimeout(Number(process.env.SHOT_PV_MS || 2500))
await shot('dashboard-process.png')
await page.click('[data-testid=tab-mappings]')
await page.waitForSelector('[data-testid=map-table] tbody tr[data-addr]')
await page.waitForTimeout(1000)
await shot('dashboard-mappings.png')
const at = process.env.SHOT_AT || String(BigInt(Date.now() - 60000) * 1000000n)
await page.goto(url + `#/processes?at=${at}`)
await page.waitForSelector('[data-testid=as-of]')
await page.waitForSelector('[data-testid=proc-table] tbody tr[data-pid]')
await page.waitForTimeout(1500)
await shot('dashboard-time.png')
const diff = process.env.SHOT_FROM && process.env.SHOT_TO ? `?from=${process.env.SHOT_FROM}&to=${process.env.SHOT_TO}` : ''
await page.goto(url + `#/diff${diff}`)
await page.waitForSelector('[data-testid=diff-table] tbody tr[data-pid]')
await page.waitForTimeout(1000)
await shot('dashboard-diff.png')
await page.goto(url + '#/processes')
await page.selectOption('[data-testid=lang]', 'es')
await page.waitForTimeout(1500)
await shot('dashboard-processes-es.png')
await page.selectOption('[data-testid=lang]', 'en')
console.log(JSON.stringify(b.problems))
await b.close()
