// render-bench.mjs - how the dashboard renders under a flood, in Debian's
// Chromium, as the bench build (frontend/dist-bench: the dashboard plus the
// hook window.memprobeReceived, events delivered so far) shows it: first
// render (navigation to table rows + pie drawn) and the
// frame rate on each live view while the synthetic feed
// (feed-server.mjs) streams EPS events/s, against a baseline of the same
// page with an idle stream, measured in the same run.  Prints figures;
// never passes or fails on time.
//
// With --real the page talks to the real stack instead (private MariaDB,
// lector on eBPF, memprobe-server; tests/browser/stack.mjs) and the flood
// is bench/kernel's mmap-flood at EPS/2 mmap+munmap pairs/s: the whole
// pipeline, on top of whatever else the machine is doing.
//
//   node render-bench.mjs [--eps=5000] [--seconds=10] [--real]
import { spawn } from 'node:child_process'
import path from 'node:path'
import { openBrowser } from '../../tests/browser/browser.mjs'
import { startStack, TOP } from '../../tests/browser/stack.mjs'
import { startFeed, BENCH_DIST } from './feed-server.mjs'

const REAL = process.argv.includes('--real')

const args = Object.fromEntries(process.argv.slice(2).filter((a) => a !== '--real').map((a) => {
  if (a === '--help') {
    console.log('render-bench.mjs [--eps=5000] [--seconds=10] [--real]: first render and fps under an SSE flood')
    process.exit(0)
  }
  const m = /^--(eps|seconds)=(\d+)$/.exec(a)
  if (!m) {
    console.error(`render-bench: bad argument '${a}' (see --help)`)
    process.exit(2)
  }
  return [m[1], Number(m[2])]
}))
const EPS = args.eps ?? 5000
const SECONDS = args.seconds ?? 10

// Frames for `ms`: count, mean fps, worst and p99 frame interval, frames
// over 50 ms (the "long frame" a user notices).
function sampleFrames(ms) {
  return new Promise((resolve) => {
    const t = []
    const t0 = performance.now()
    const r0 = window.memprobeReceived()
    const tick = (now) => {
      t.push(now)
      if (now - t0 < ms) requestAnimationFrame(tick)
      else {
        const d = t.slice(1).map((x, i) => x - t[i]).sort((a, b) => a - b)
        resolve({
          fps: (t.length - 1) / ((t[t.length - 1] - t[0]) / 1000),
          p99Ms: d[Math.floor(d.length * 0.99)] || 0,
          maxMs: d[d.length - 1] || 0,
          long: d.filter((x) => x > 50).length,
          eventsPerS: ((window.memprobeReceived() - r0) * 1000) / (now - t0)
        })
      }
    }
    requestAnimationFrame(tick)
  })
}

async function firstRender(page, url) {
  await page.goto('about:blank')
  const t0 = Date.now()
  await page.goto(url + '#/processes')
  await page.waitForSelector('[data-testid=proc-table] tbody tr[data-pid]')
  await page.waitForSelector('.chart canvas')
  const wall = Date.now() - t0
  const fcp = await page.evaluate(() => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? 0)
  return { wall, fcp }
}

// The page's data source: the synthetic feed at `eps`, or the real stack
// with mmap-flood making eps events/s.
async function source(eps) {
  if (!REAL) return startFeed({ port: 0, eps, procs: 40 })
  const st = await startStack({ dist: path.join(BENCH_DIST, 'index.html') })
  let flood = null
  if (eps > 0) {
    flood = spawn(path.join(TOP, 'build/bench/mmap-flood'), ['--pairs', '0', '--rate', String(eps / 2)], { stdio: 'ignore' })
  }
  return {
    url: st.tokenUrl, // each visit opens a session, as a person's first one does
    async close() {
      if (flood) flood.kill()
      await st.stop()
    }
  }
}

async function run(eps) {
  const feed = await source(eps)
  const b = await openBrowser({ width: 1366, height: 860 })
  const out = { eps }
  try {
    const renders = []
    for (let i = 0; i < 3; i++) renders.push(await firstRender(b.page, feed.url))
    renders.sort((a, z) => a.wall - z.wall)
    out.render = renders[1] // median of 3
    for (const view of ['processes', 'requests']) {
      await b.page.goto(feed.url + '#/' + view)
      await b.page.waitForTimeout(1500)
      out[view] = await b.page.evaluate(sampleFrames, SECONDS * 1000)
    }
    out.heapMb = (await b.page.evaluate(() => performance.memory?.usedJSHeapSize ?? 0)) / 1e6
    // Navigating away aborts the event stream (net::ERR_ABORTED): that is
    // the benchmark reloading, not the page failing.
    const real = [...b.problems.console, ...b.problems.failed].filter((x) => !/ERR_ABORTED/.test(x))
    out.problems = real.length
    if (real.length) console.error(real.join('\n'))
  } finally {
    await b.close()
    await feed.close()
  }
  return out
}

const fmt = (v, d = 1) => v.toFixed(d)
const base = await run(0)
const load = await run(EPS)
console.log(`dashboard rendering, Chromium headless, 1366x860, ${SECONDS} s per view, ` +
  (REAL ? 'real stack (eBPF, MariaDB, server), mmap-flood' : 'synthetic feed, 40 processes'))
console.log(`                               no flood       ${EPS} events/s   ratio`)
console.log(`first render (rows+pie), ms    ${fmt(base.render.wall, 0).padStart(8)}    ${fmt(load.render.wall, 0).padStart(12)}   ${fmt(load.render.wall / base.render.wall, 2)}`)
console.log(`first contentful paint, ms     ${fmt(base.render.fcp, 0).padStart(8)}    ${fmt(load.render.fcp, 0).padStart(12)}`)
for (const v of ['processes', 'requests']) {
  const a = base[v], z = load[v]
  console.log(`${(v + ' view fps').padEnd(31)}${fmt(a.fps).padStart(8)}    ${fmt(z.fps).padStart(12)}   ${fmt(z.fps / a.fps, 2)}`)
  console.log(`${(v + ' p99 / max frame, ms').padEnd(31)}${(fmt(a.p99Ms, 0) + '/' + fmt(a.maxMs, 0)).padStart(8)}    ${(fmt(z.p99Ms, 0) + '/' + fmt(z.maxMs, 0)).padStart(12)}`)
  console.log(`${(v + ' frames > 50 ms').padEnd(31)}${String(a.long).padStart(8)}    ${String(z.long).padStart(12)}`)
  console.log(`${(v + ' events/s delivered').padEnd(31)}${fmt(a.eventsPerS, 0).padStart(8)}    ${fmt(z.eventsPerS, 0).padStart(12)}`)
}
console.log(`JS heap after run, MB          ${fmt(base.heapMb).padStart(8)}    ${fmt(load.heapMb).padStart(12)}`)
console.log(`console errors + failed reqs   ${String(base.problems).padStart(8)}    ${String(load.problems).padStart(12)}`)
