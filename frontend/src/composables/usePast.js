// usePast.js - the processes as of a past instant (GET /api/processes?at=),
// for the processes view's time control: the rows that requested most and
// those resident most (one list of each, as the live seed), and the rows
// of the group the table is narrowed to.  Read once per instant, host and
// group: nothing live changes the past.  `at` is a ref of a decimal ns
// string (null: now, nothing is read).
import { ref, shallowRef, watch } from 'vue'
import { getJson } from './useApi.js'
import { selectedHost } from './useHost.js'
import { groupFilter } from './useGroupBy.js'
import { fromProcessListAt } from '../api_history.js'

const LIMIT = 1000

export function usePastProcesses(at) {
  const rows = shallowRef([])
  const total = ref(0)
  const loading = ref(false)
  let gen = 0

  async function load() {
    const mine = ++gen
    if (!at.value) {
      rows.value = []
      total.value = 0
      return
    }
    loading.value = true
    const read = (extra) => getJson('processes', { at: at.value, limit: LIMIT, order: 'desc', ...extra }, fromProcessListAt)
    try {
      const lists = await Promise.all([
        read({ sort: 'requested' }),
        read({ sort: 'rss' }),
        ...(groupFilter.value ? [read({ sort: 'rss', group: groupFilter.value })] : [])
      ])
      if (mine !== gen) return // another instant or host was chosen meanwhile
      const m = new Map()
      for (const l of lists) for (const p of l.rows) m.set(`${p.host}:${p.pid}:${p.startNs}`, p)
      rows.value = [...m.values()]
      total.value = lists[0].total
    } catch {
      /* useApi shows the error */
    } finally {
      if (mine === gen) loading.value = false
    }
  }
  watch([at, selectedHost, groupFilter], load, { immediate: true })
  return { rows, total, loading }
}
