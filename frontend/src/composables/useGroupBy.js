// useGroupBy.js - what the processes view lists: 'process' (each process,
// and the pie of requested memory) or 'group' (their cgroups from
// GET /api/groups, and the pie of resident memory per group); and, by
// process, the group the table is narrowed to ('' = none: a group row
// opens its processes).  Kept in the URL query (?by=group, ?group=NAME)
// like the host, so a reload or a shared link shows the same.
import { ref } from 'vue'
import { groupByFromSearch, searchWithGroupBy, groupFromSearch, searchWith } from '../api.js'

export const groupBy = ref(groupByFromSearch(location.search))
export const groupFilter = ref(groupFromSearch(location.search))
const listeners = new Set()

function keepInUrl() {
  const search = searchWith(searchWithGroupBy(location.search, groupBy.value), 'group', groupFilter.value)
  history.replaceState(null, '', location.pathname + search + location.hash)
}

export function setGroupBy(by) {
  if (by === groupBy.value) return
  groupBy.value = by
  keepInUrl()
  for (const fn of listeners) fn()
}

// The processes of one group (by process), or all of them ('').
export function setGroupFilter(name) {
  if (name === groupFilter.value) return
  groupFilter.value = name
  keepInUrl()
  for (const fn of listeners) fn()
}

export function onGroupByChange(fn) {
  listeners.add(fn)
  return () => listeners.delete(fn)
}
