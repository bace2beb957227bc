// contract.mjs - the dashboard's reading of the wire format (frontend/src/
// api.js) against what the real memprobe-server of the browser suite's
// stack answers: every endpoint and event type the dashboard uses is
// fetched and fed to api.js's readers, which check each field they read
// (name and type).  A field the server renames, drops or retypes fails here
// with api.js's own message, naming the endpoint and the field.
import https from 'node:https'
import { loadFrontend } from '../frontend/load.mjs'

const [apiCore, apiHistory] = await loadFrontend('src/api.js', 'src/api_history.js')
const api = { ...apiCore, ...apiHistory }

// The events of GET base/api/events?query: up to `max` of them, or what
// came within `ms`.  [{type, id, data}]
function events(st, base, query, { max, ms }) {
  return new Promise((resolve, reject) => {
    const got = []
    let buf = ''
    const headers = { Authorization: `Bearer ${st.token}`, Accept: 'text/event-stream' }
    const req = https.get(`${base}api/events?${query}`, { ca: st.ca, headers, agent: false }, (res) => {
      if (res.statusCode !== 200) {
        req.destroy()
        return reject(new Error(`GET /api/events?${query}: ${res.statusCode}`))
      }
      res.setEncoding('utf8')
      res.on('data', (d) => {
        buf += d
        let i
        while ((i = buf.indexOf('\n\n')) >= 0 && got.length < max) {
          const ev = { type: 'message', id: null, data: '' }
          for (const line of buf.slice(0, i).split('\n')) {
            const m = /^(event|id|data): ?(.*)$/.exec(line)
            if (m) ev[m[1] === 'event' ? 'type' : m[1]] = m[2]
          }
          buf = buf.slice(i + 2)
          if (ev.data) got.push(ev)
        }
        if (got.length >= max) finish()
      })
    })
    const timer = setTimeout(() => finish(), ms)
    function finish() {
      clearTimeout(timer)
      req.destroy()
      resolve(got)
    }
    req.on('error', (e) => (got.length ? finish() : reject(e)))
  })
}

// Every reply the dashboard reads, of the stack `st`, whose workload `pid`
// has made its calls (a failed one among them) and exited, and whose host
// `memHost` has groups and OOM kills (memory.mjs).  Returns what was
// covered; throws api.js's ContractError on drift.
export async function checkReplies(st, pid, memHost) {
  const get = async (p) => {
    const r = await st.get('api/' + p)
    if (r.status !== 200) throw new Error(`GET /api/${p}: ${r.status} ${r.text.slice(0, 200)}`)
    return r.json()
  }
  const rows = api.fromProcessList(await get('processes?limit=1000&sort=requested'))
  const one = api.fromProcess(await get(`processes/${pid}`))
  const top = api.fromTop(await get('top'))
  const mine = api.fromCalls(await get(`calls?pid=${pid}&limit=1000`))
  const recent = api.fromCalls(await get('calls?limit=200'))
  const { sseLastId } = api.fromStats(await get('stats'))
  const hosts = api.fromHosts(await get('hosts'))
  const groups = api.fromGroups(await get('groups?limit=1000'))
  const ooms = api.fromOom(await get(`oom?host=${memHost}`))
  if (!ooms.rows.length || !groups.rows.some((g) => g.cgroup === null) || !groups.rows.some((g) => g.cgroup !== null))
    throw new Error(`${memHost}: no OOM kill, or no group with and without a path, to read`)
  // Issue 16: as of an instant while the workload lived (the end of the ms
  // of its series' middle point), the diff over a minute from there, its
  // ledger then (it has exited: now it has none), a kill's forensics.
  const atNs = (BigInt(Math.floor(one.series[one.series.length >> 1].tsMs)) * 1000000n + 999999n).toString()
  const past = api.fromProcessListAt(await get(`processes?at=${atNs}&limit=1000&sort=requested`))
  const pastOne = api.fromProcessAt(await get(`processes/${pid}?at=${atNs}`))
  const startNs = one.process.startNs
  const diff = api.fromDiff(await get(`diff?from=${atNs}&to=${BigInt(atNs) + 60000000000n}`))
  const ledger = api.fromMappings(await get(`processes/${pid}/mappings?start_ns=${startNs}&at=${atNs}&limit=5`))
  const ledgerNow = api.fromMappings(await get(`processes/${pid}/mappings?start_ns=${startNs}`))
  const fx = api.fromForensics(await get(`oom/forensics?host=${memHost}&session=${ooms.rows[0].session}&seq=${ooms.rows[0].seq}`))
  if (!past.rows.length || !pastOne.process || !ledger.rows.length || ledgerNow.total !== 0)
    throw new Error(`as of ${atNs}: ${past.rows.length} rows, ledger ${ledger.rows.length} rows then, ${ledgerNow.total} now (exited: 0)`)
  const kinds = new Set(mine.calls.concat(recent.calls).map((c) => `${c.call}${c.failed ? ' failed' : ''}`))
  if (!kinds.has('mmap failed')) throw new Error(`no failed mmap among the workload's calls: ${[...kinds]}`)

  // The stream, replayed from 200 ids back: process events, then calls.
  const evs = await events(st, st.url, `last_event_id=${Math.max(1, sseLastId - 200)}`, { max: 400, ms: 5000 })
  const types = {}
  for (const ev of evs) {
    types[ev.type] = (types[ev.type] || 0) + 1
    if (ev.type === 'call') api.toCall(JSON.parse(ev.data))
    else if (ev.type === 'process') api.toProcess(JSON.parse(ev.data))
    else throw new Error(`event type "${ev.type}" (id ${ev.id}): the dashboard does not read it (useSse.js)`)
  }
  if (!types.call || !types.process) throw new Error(`the replay held no call or no process event: ${JSON.stringify(types)}`)

  // "reset": a second server that replays no resume deeper than 1 id.
  const s2 = await st.extraServer(['--sse-resume-max', '1'])
  let skipped
  try {
    const [ev] = await events(st, s2.url, `last_event_id=${Math.max(1, sseLastId - 100)}`, { max: 1, ms: 5000 })
    if (!ev || ev.type !== 'reset') throw new Error(`a resume 100 ids deep got ${ev ? `a "${ev.type}" event` : 'nothing'}, not reset`)
    skipped = api.fromReset(JSON.parse(ev.data))
  } finally {
    await s2.stop()
  }
  return `${rows.length} process rows, a series of ${one.series.length} points, ${top.length} slices, ` +
    `${mine.calls.length + recent.calls.length} calls (${[...kinds].sort().join(', ')}), ${hosts.length} hosts, ` +
    `${groups.rows.length} groups, ${ooms.rows.length} OOM kills, as of an instant ${past.rows.length} rows and ` +
    `${ledger.total} ranges, a diff of ${diff.total}, forensics of ${fx.calls.length} calls, ` +
    `events ${JSON.stringify(types)}, a reset skipping ${skipped}`
}
