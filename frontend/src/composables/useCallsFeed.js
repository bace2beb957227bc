// useCallsFeed.js - the rows of a requests table: history from
// GET /api/calls (newest first, keyset pages backwards through
// `next_before`), live calls from the SSE fan-out on top.  Pause buffers new
// calls instead of dropping them; resume puts them on top in order.  A
// call the stream delivers late (older than a history page already shown)
// is merged into its place, paused or not.  Rows
// held in memory are capped while live (the DOM shows fewer); a row is never
// shown twice.  Under a flood the table takes new rows at most every
// COMMIT_MS: nobody reads thousands of rows a second, and re-rendering 100
// rows on every frame costs most of the frame (bench/browser measures it).
import { ref, shallowRef, watch, onBeforeUnmount } from 'vue'
import { getJson } from './useApi.js'
import { useLive } from './useLive.js'
import { fromCalls, mergeNewestFirst, LIFECYCLE_CALLS } from '../api.js'

const PAGE_ROWS = 100
const KEEP_ROWS = 2000
const COMMIT_MS = 200
// Paused for long under a flood, the buffer stops growing here; resume
// then reloads the newest page from the database, which has every call.
const BUFFER_MAX = 20000


export function useCallsFeed(filter) {
  const rows = shallowRef([])
  const paused = ref(false)
  const buffered = shallowRef([])
  const cursor = ref(null)
  const atStart = ref(false)
  const loading = ref(false)
  let seen = new Set()
  let generation = 0
  let overflowed = 0 // calls not buffered past BUFFER_MAX

  const matches = (c) => {
    const f = filter.value
    if (LIFECYCLE_CALLS.includes(c.call)) return false
    if (f.pid && c.pid !== Number(f.pid)) return false
    if (f.call && c.call !== f.call) return false
    return true
  }

  function prepend(calls) {
    const fresh = calls.filter((c) => matches(c) && !seen.has(c.key))
    if (!fresh.length) return
    for (const c of fresh) seen.add(c.key)
    let next = mergeNewestFirst(rows.value, fresh)
    if (next.length > KEEP_ROWS) {
      for (const c of next.slice(KEEP_ROWS)) seen.delete(c.key)
      next = next.slice(0, KEEP_ROWS)
      atStart.value = false
    }
    rows.value = next
  }

  async function loadPage(before) {
    const gen = generation
    loading.value = true
    try {
      const f = filter.value
      const { calls: page, next } = await getJson(
        'calls',
        { pid: f.pid || undefined, call: f.call || undefined, before, limit: PAGE_ROWS },
        fromCalls
      )
      if (gen !== generation) return
      const older = page.filter((c) => !seen.has(c.key) && matches(c))
      for (const c of older) seen.add(c.key)
      // The first page can land after live calls newer than it, and a
      // lagging stream can have delivered calls older than a page: merge in
      // commit order (id) rather than stacking one on the other.
      rows.value = mergeNewestFirst(older, rows.value)
      cursor.value = next
      atStart.value = page.length < PAGE_ROWS || cursor.value === null
    } finally {
      loading.value = false
    }
  }

  function reset() {
    generation++
    rows.value = []
    buffered.value = []
    seen = new Set()
    cursor.value = null
    atStart.value = false
    return loadPage(undefined).catch(() => {})
  }

  function older() {
    if (atStart.value || loading.value) return Promise.resolve()
    return loadPage(cursor.value ?? undefined).catch(() => {})
  }

  function setPaused(p) {
    if (p && incoming.length) {
      clearTimeout(commitTimer)
      commit()
    }
    paused.value = p
    if (!p && overflowed) {
      overflowed = 0
      reset()
      return
    }
    if (!p && buffered.value.length) {
      const b = buffered.value
      buffered.value = []
      prepend(b)
    }
  }

  let incoming = []
  let commitTimer = null
  let lastCommitMs = 0
  function commit() {
    commitTimer = null
    lastCommitMs = performance.now()
    const batch = incoming
    incoming = []
    prepend(batch)
  }
  const off = useLive().onCalls((calls) => {
    if (paused.value) {
      // Calls older than the newest row shown are not new: a history page
      // overtook the stream (it lags on a busy machine); they belong in
      // the rows shown, where they fill the gap below that page.
      const newest = rows.value.length ? rows.value[0].id : -Infinity
      const late = calls.filter((c) => c.id < newest)
      if (late.length) prepend(late)
      const fresh = calls.filter((c) => c.id >= newest && matches(c))
      if (buffered.value.length + fresh.length > BUFFER_MAX) overflowed += fresh.length
      else buffered.value = fresh.concat(buffered.value)
      return
    }
    incoming = calls.concat(incoming)
    if (commitTimer) return
    const waitMs = Math.max(0, COMMIT_MS - (performance.now() - lastCommitMs))
    if (waitMs === 0) commit()
    else commitTimer = setTimeout(commit, waitMs)
  })
  const offReset = useLive().onReset(() => {
    incoming = []
    if (paused.value) {
      // Stay paused; resume reloads from the database.
      buffered.value = []
      overflowed = 1
    } else reset()
  })
  onBeforeUnmount(() => {
    offReset()
    off()
    clearTimeout(commitTimer)
  })
  watch(filter, reset, { deep: true, immediate: true })

  return { rows, paused, buffered, atStart, loading, older, setPaused }
}
