// useSse.js - one EventSource on /api/events, delivered in batches: the
// server's named events (call, process, reset: docs/API.md) as raw text
// are queued as they arrive and handed over once per animation frame, so a
// flood of thousands of events/s costs one Vue update per frame, not one
// per event.  The browser reconnects by itself after a network error and
// sends Last-Event-ID; when the server answered with an error the
// EventSource is closed for good, so we open a new one after a backoff and
// pass the last id as ?last_event_id= (a new EventSource cannot set headers).
import { ref } from 'vue'

const EVENT_TYPES = ['call', 'process', 'reset']
const BACKOFF_MAX_MS = 10000

export function useSse(url, onBatch, { onReconnect } = {}) {
  const state = ref('connecting') // connecting | open | reconnecting | closed
  const received = ref(0) // events delivered since the page loaded
  let es = null
  let lastId = ''
  let pending = []
  let frameQueued = false
  let everOpen = false
  let backoffMs = 500
  let retryTimer = null
  let stopped = false

  function flush() {
    frameQueued = false
    const batch = pending
    pending = []
    if (batch.length) {
      received.value += batch.length
      onBatch(batch)
    }
  }

  // Events stay raw text here: the consumer parses what it needs (under
  // a flood, the processes view needs no call bodies at all).
  function queue(type, ev) {
    if (ev.lastEventId) lastId = ev.lastEventId
    pending.push({ type, raw: ev.data })
    if (frameQueued) return
    frameQueued = true
    // Hidden tabs get no animation frames: fall back to a timer.
    if (document.hidden) setTimeout(flush, 250)
    else requestAnimationFrame(flush)
  }

  function open() {
    const u = lastId ? `${url}${url.includes('?') ? '&' : '?'}last_event_id=${encodeURIComponent(lastId)}` : url
    es = new EventSource(u)
    es.onopen = () => {
      if (everOpen && onReconnect) onReconnect()
      everOpen = true
      backoffMs = 500
      state.value = 'open'
    }
    es.onerror = () => {
      if (stopped) return
      if (es.readyState === EventSource.CLOSED) {
        state.value = 'reconnecting'
        es.close()
        retryTimer = setTimeout(open, backoffMs)
        backoffMs = Math.min(BACKOFF_MAX_MS, backoffMs * 2)
      } else {
        state.value = everOpen ? 'reconnecting' : 'connecting'
      }
    }
    for (const type of EVENT_TYPES) es.addEventListener(type, (ev) => queue(type, ev))
  }

  function close() {
    stopped = true
    clearTimeout(retryTimer)
    if (es) es.close()
    state.value = 'closed'
  }

  // Drop the backlog: reconnect live from now (the caller reloads what it
  // shows from the REST API, so nothing the database has is lost).
  function jumpToLive() {
    lastId = ''
    pending = []
    if (es) es.close()
    clearTimeout(retryTimer)
    open()
  }

  open()
  return { state, received, close, jumpToLive, lastEventId: () => lastId }
}
