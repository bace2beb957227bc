// useSse.js - one EventSource on /api/events, delivered in batches: events
// are queued as they arrive and handed over once per animation frame, so a
// flood of thousands of events/s costs one Vue update per frame, not one
// per event.  The browser reconnects by itself after a network error and
// sends Last-Event-ID; when the server answered with an error the
// EventSource is closed for good, so we open a new one after a backoff and
// pass the last id as ?last_event_id= (a new EventSource cannot set headers).
import { ref } from 'vue'

const EVENT_TYPES = ['call', 'process', 'stats', 'reset']
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

  function queue(type, ev) {
    if (ev.lastEventId) lastId = ev.lastEventId
    let data
    try {
      data = JSON.parse(ev.data)
    } catch {
      console.warn('memprobe: ignored an SSE event that is not JSON:', ev.data.slice(0, 80))
      return
    }
    pending.push({ type, data })
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
    // Unnamed events carry their type in the payload.
    es.onmessage = (ev) => {
      try {
        const d = JSON.parse(ev.data)
        if (d && EVENT_TYPES.includes(d.type)) {
          if (ev.lastEventId) lastId = ev.lastEventId
          pending.push({ type: d.type, data: d.data ?? d })
          if (!frameQueued) {
            frameQueued = true
            requestAnimationFrame(flush)
          }
        }
      } catch {
        /* heartbeats and comments are not JSON */
      }
    }
  }

  function close() {
    stopped = true
    clearTimeout(retryTimer)
    if (es) es.close()
    state.value = 'closed'
  }

  open()
  return { state, received, close, lastEventId: () => lastId }
}
