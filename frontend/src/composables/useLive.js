// useLive.js - the dashboard's live state, shared by every view: process
// rows (seeded by GET /api/processes, then updated by SSE "process"
// events), capture health (header, GET /api/stats refreshed while events
// flow), the pie (GET /api/top, refetched at
// most once a second while process events arrive: event driven, not a
// polling loop), the cgroups (GET /api/groups, likewise, only while the
// processes view lists groups: useGroupBy.js), the resident memory of
// processes that make no call (re-read every few seconds: nothing signals
// it), and a fan-out of new calls to whichever tables listen.
// All of it is for the host chosen in the header (useHost.js): choosing
// another one reopens the stream with ?host= and reloads every view.
import { ref, shallowRef, computed } from 'vue'
import { getJson, reportContract } from './useApi.js'
import { useSse } from './useSse.js'
import { selectedHost, onHostChange } from './useHost.js'
import { groupBy, groupFilter, onGroupByChange } from './useGroupBy.js'
import {
  ContractError, toProcess, toCall, fromProcessList, fromTop, fromGroups, fromStats, fromHosts, fromReset
} from '../api.js'

const TOP_REFRESH_MS = 1000
const STATS_REFRESH_MS = 2000
// Process rows change with every call: the table (sorted, up to 200 rows)
// is rebuilt at most this often rather than every frame.
const PROCESS_COMMIT_MS = 250
// Exited processes beyond this many rows are forgotten, least recently
// seen first (the database keeps them; search the API for old ones).
const PROCESS_ROWS_MAX = 5000
const BEHIND_MAX_EVENTS = 20000
const PROCESS_SEED_LIMIT = 1000
// The groups view (table and pie) reads this many groups, most resident
// first; it says so when there are more.
const GROUPS_LIMIT = 1000
// The host list (header selector) is re-read at most this often.
const HOSTS_REFRESH_MS = 10000
// lector's sampler updates the resident memory of processes that make no
// call (page faults change it without one), and no event says so: while
// the page is visible, the most resident live processes are re-read this
// often (the sampler reads each at least every 5 s).
const RESIDENT_REFRESH_MS = 5000
const RESIDENT_REFRESH_LIMIT = 200

const processes = shallowRef(new Map()) // "pid:start_ns" -> process
const stats = ref({ source: '', eventsPerS: 0, drops: 0, lost: 0, gapMs: 0, lagMs: 0, skipped: 0, oomKills: 0 })
const top = shallowRef([])
const groups = shallowRef({ total: 0, rows: [] })
const hosts = shallowRef([])
const sseGen = ref(0) // bumped when the stream is reopened for another host
let hostsLoadedMs = -Infinity
const clientEps = ref(0) // events/s seen by this page, shown while the server's rate is 0
const callListeners = new Set()
const resetListeners = new Set()
const skippedEvents = ref(0)
const processListeners = new Set()
let sse = null
let hostWatch = null
let groupByWatch = null
let topTimer = null
let topDirty = false
let statsTimer = null
let residentTimer = null
let pendingProcs = new Map()
let procTimer = null
let lastProcCommitMs = 0

function commitProcesses() {
  procTimer = null
  lastProcCommitMs = performance.now()
  const next = new Map(processes.value)
  for (const [k, p] of pendingProcs) next.set(k, p)
  pendingProcs = new Map()
  if (next.size > PROCESS_ROWS_MAX) {
    const exited = [...next.values()].filter((p) => !p.alive)
    exited.sort((a, b) => (BigInt(a.lastSeenNs) < BigInt(b.lastSeenNs) ? -1 : 1))
    for (const p of exited.slice(0, next.size - PROCESS_ROWS_MAX)) next.delete(keyOf(p))
  }
  processes.value = next
  scheduleTop()
  for (const fn of processListeners) fn()
}

const keyOf = (p) => `${p.host}:${p.pid}:${p.startNs}`

// The seed: the processes that requested most and those resident most
// (one short list of each), so either sort of the table starts right.
async function loadProcesses() {
  const host = selectedHost.value
  const seed = (sort) => getJson('processes', { limit: PROCESS_SEED_LIMIT, sort, order: 'desc' }, fromProcessList)
  const [byRequested, byRss] = await Promise.all([seed('requested'), seed('rss')])
  if (host !== selectedHost.value) return // answered for the host shown before
  const m = new Map()
  for (const p of byRequested.concat(byRss)) m.set(keyOf(p), p)
  // Rows the stream delivered while this request was in flight are newer
  // than the snapshot: keep them.
  for (const [k, p] of processes.value) {
    const snap = m.get(k)
    if (!snap || BigInt(p.lastSeenNs) > BigInt(snap.lastSeenNs)) m.set(k, p)
  }
  processes.value = m
}

// Rows newer than what the table holds (a later call, or a later reading
// of their memory) replace it; the stream's own newer rows stay.
async function loadResident() {
  const host = selectedHost.value
  const rows = await getJson('processes',
    { limit: RESIDENT_REFRESH_LIMIT, sort: 'rss', order: 'desc', state: 'alive' }, fromProcessList)
  if (host !== selectedHost.value) return
  const m = new Map(processes.value)
  let changed = false
  for (const p of rows) {
    const had = m.get(keyOf(p))
    if (had && BigInt(p.lastSeenNs) < BigInt(had.lastSeenNs)) continue
    if (had && p.lastSeenNs === had.lastSeenNs && BigInt(p.rssTsNs) <= BigInt(had.rssTsNs)) continue
    m.set(keyOf(p), p)
    changed = true
  }
  if (!changed) return
  processes.value = m
  for (const fn of processListeners) fn()
}

function scheduleResident() {
  clearTimeout(residentTimer)
  residentTimer = setTimeout(() => {
    residentTimer = null
    if (document.hidden) return scheduleResident()
    const all = [loadResident()]
    if (groupBy.value === 'group') all.push(loadGroups())
    Promise.allSettled(all).finally(scheduleResident)
  }, RESIDENT_REFRESH_MS)
}

async function loadTop() {
  topDirty = false
  const host = selectedHost.value
  const slices = await getJson('top', {}, fromTop)
  if (host === selectedHost.value) top.value = slices
}

// The processes of the group the table is narrowed to: all of them, even
// those outside the seed's two short lists.
async function loadGroupProcesses() {
  const host = selectedHost.value
  const name = groupFilter.value
  if (!name) return
  const rows = await getJson('processes', { group: name, limit: PROCESS_SEED_LIMIT, sort: 'rss', order: 'desc' }, fromProcessList)
  if (host !== selectedHost.value) return
  const m = new Map(processes.value)
  for (const p of rows) {
    const had = m.get(keyOf(p))
    if (!had || BigInt(p.lastSeenNs) >= BigInt(had.lastSeenNs)) m.set(keyOf(p), p)
  }
  processes.value = m
}

async function loadGroups() {
  const host = selectedHost.value
  const got = await getJson('groups', { limit: GROUPS_LIMIT, sort: 'rss', order: 'desc', state: 'alive' }, fromGroups)
  if (host === selectedHost.value && groupBy.value === 'group') groups.value = got
}

async function loadHosts() {
  hostsLoadedMs = performance.now()
  hosts.value = await getJson('hosts', {}, fromHosts)
}

async function loadStats() {
  if (performance.now() - hostsLoadedMs >= HOSTS_REFRESH_MS) loadHosts().catch(() => {})
  const got = await getJson('stats', {}, fromStats)
  stats.value = got.stats
  checkBehind(got.sseLastId)
}

// A browser that parses events slower than the machine makes them falls
// further behind the stream for ever (on resume, too).  Past
// BEHIND_MAX_EVENTS it jumps to the live edge and every view reloads from
// the REST API: the skipped calls stay in the database (Requests, Older),
// and the header says how many were skipped.
function checkBehind(serverLastId) {
  const mine = Number(sse?.lastEventId() || 0)
  if (!serverLastId || !mine || serverLastId - mine <= BEHIND_MAX_EVENTS) return
  skippedEvents.value += serverLastId - mine
  sse.jumpToLive()
  reload()
  for (const fn of resetListeners) fn()
}

function scheduleTop() {
  topDirty = true
  if (topTimer) return
  topTimer = setTimeout(() => {
    topTimer = null
    if (!topDirty) return
    loadTop().catch(() => {})
    if (groupBy.value === 'group') loadGroups().catch(() => {})
  }, TOP_REFRESH_MS)
}

// The stream carries calls, not capture health: refresh /api/stats at most
// every STATS_REFRESH_MS while events arrive (and not at all when idle).
function scheduleStats() {
  if (statsTimer) return
  statsTimer = setTimeout(() => {
    statsTimer = null
    loadStats().catch(() => {})
  }, STATS_REFRESH_MS)
}

let rateWindow = { startMs: performance.now(), n: 0 }
function countRate(n) {
  rateWindow.n += n
  const now = performance.now()
  if (now - rateWindow.startMs >= 1000) {
    clientEps.value = Math.round((rateWindow.n * 1000) / (now - rateWindow.startMs))
    rateWindow = { startMs: now, n: 0 }
  }
}

// An event's data through an api.js reader; an event that is not JSON or
// breaks the contract is reported (shown, logged once) and skipped.
function read(type, raw, reader) {
  let d
  try {
    d = JSON.parse(raw)
  } catch {
    reportContract(new ContractError(`event ${type}`, '(data)', 'JSON', String(raw).slice(0, 40)))
    return null
  }
  try {
    return reader(d)
  } catch (e) {
    reportContract(e)
    return null
  }
}

// One batch per animation frame: apply all of it, then notify once.  Call
// bodies are parsed only when a table listens for them.  The server sends
// three event types (useSse.js): call, process, reset.
function applyBatch(batch) {
  const wantCalls = callListeners.size > 0
  const calls = []
  let nCalls = 0
  let procChanged = false
  for (const { type, raw } of batch) {
    if (type === 'call') {
      nCalls++
      const c = wantCalls && read(type, raw, toCall)
      if (c) calls.push(c)
    } else if (type === 'process') {
      const p = read(type, raw, toProcess)
      if (!p) continue
      pendingProcs.set(keyOf(p), p)
      procChanged = true
    } else if (type === 'reset') {
      const skipped = read(type, raw, fromReset)
      if (skipped !== null) resetFromServer(skipped)
    }
  }
  countRate(nCalls)
  if (nCalls) scheduleStats()
  if (procChanged && !procTimer) {
    const waitMs = Math.max(0, PROCESS_COMMIT_MS - (performance.now() - lastProcCommitMs))
    if (waitMs === 0) commitProcesses()
    else procTimer = setTimeout(commitProcesses, waitMs)
  }
  if (calls.length) {
    calls.reverse() // newest first, as the tables show them
    for (const fn of callListeners) fn(calls)
  }
}

function reload() {
  const all = [loadProcesses().then(loadGroupProcesses), loadTop(), loadStats()]
  if (groupBy.value === 'group') all.push(loadGroups())
  return Promise.allSettled(all)
}

// The server would not replay a resume that deep (--sse-resume-max): it
// sent one "reset" event whose id is its live edge.  Everything shown is
// reloaded through the REST API; the calls in between stay in the database.
function resetFromServer(skipped) {
  skippedEvents.value += skipped
  reload()
  for (const fn of resetListeners) fn()
}

// Another host: a new stream (?host=), empty state, every view reloads.
function switchHost() {
  if (sse) sse.close()
  sse = null
  clearTimeout(procTimer)
  procTimer = null
  pendingProcs = new Map()
  processes.value = new Map()
  top.value = []
  groups.value = { total: 0, rows: [] }
  startLive()
  sseGen.value++
  for (const fn of resetListeners) fn()
}

export function startLive() {
  if (sse) return sse
  const host = selectedHost.value
  const url = host ? `api/events?host=${encodeURIComponent(host)}` : 'api/events'
  if (!hostWatch) hostWatch = onHostChange(switchHost)
  if (!groupByWatch)
    groupByWatch = onGroupByChange(() => {
      if (groupBy.value === 'group') return loadGroups().catch(() => {})
      groups.value = { total: 0, rows: [] }
      loadGroupProcesses().catch(() => {})
    })
  sse = useSse(url, applyBatch, { onReconnect: () => loadStats().catch(() => {}) })
  // The bench build only (vite build --mode bench): events delivered to the
  // page so far, read by bench/browser.  The production build drops this.
  if (import.meta.env.MODE === 'bench') window.memprobeReceived = () => sse.received.value
  reload()
  scheduleResident()
  return sse
}

export function useLive() {
  const processList = computed(() => Array.from(processes.value.values()))
  return {
    processes,
    processList,
    stats,
    top,
    groups,
    clientEps,
    hosts,
    sseState: computed(() => (sseGen.value >= 0 && sse ? sse.state.value : 'connecting')),
    onCalls(fn) {
      callListeners.add(fn)
      return () => callListeners.delete(fn)
    },
    skippedEvents,
    // Called when the stream jumped ahead: tables reload their first page.
    onReset(fn) {
      resetListeners.add(fn)
      return () => resetListeners.delete(fn)
    },
    onProcesses(fn) {
      processListeners.add(fn)
      return () => processListeners.delete(fn)
    }
  }
}
