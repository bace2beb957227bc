// useHost.js - which host the dashboard shows: '' (every host) or one name
// from GET /api/hosts.  Kept in the URL query (?host=NAME) so a reload or
// a shared link shows the same; useApi adds it to every REST request and
// useLive to the event stream, and reloads everything when it changes.
import { ref } from 'vue'
import { hostFromSearch, searchWithHost } from '../api.js'

export const selectedHost = ref(hostFromSearch(location.search))
const listeners = new Set()

export function setHost(host) {
  if (host === selectedHost.value) return
  selectedHost.value = host
  history.replaceState(null, '', location.pathname + searchWithHost(location.search, host) + location.hash)
  for (const fn of listeners) fn(host)
}

export function onHostChange(fn) {
  listeners.add(fn)
  return () => listeners.delete(fn)
}
