// useGroupBy.js - what the processes view lists: 'process' (each process,
// and the pie of requested memory) or 'group' (their cgroups from
// GET /api/groups, and the pie of resident memory per group).  Kept in the
// URL query (?by=group) like the host, so a reload or a shared link shows
// the same.
import { ref } from 'vue'
import { groupByFromSearch, searchWithGroupBy } from '../api.js'

export const groupBy = ref(groupByFromSearch(location.search))
const listeners = new Set()

export function setGroupBy(by) {
  if (by === groupBy.value) return
  groupBy.value = by
  history.replaceState(null, '', location.pathname + searchWithGroupBy(location.search, by) + location.hash)
  for (const fn of listeners) fn(by)
}

export function onGroupByChange(fn) {
  listeners.add(fn)
  return () => listeners.delete(fn)
}
