// route.js - the dashboard's place in the URL hash, read and written by
// pure functions (no Vue): which view, and its state that a reload or a
// shared link must keep.  The host, the "group by" switch and the group
// live in the query before the hash (useHost.js, useGroupBy.js); what is
// below belongs to one view:
//   #/processes[?at=NS]                      now, or as of instant NS
//   #/requests
//   #/process/PID[/START_NS][/mappings][?at=NS]
//   #/diff[?from=NS&to=NS&sort=held|mapped|vm]
//   #/oom
//   #/oom/HOST/SESSION/SEQ[?minutes=N]       one kill's forensics
// Instants are nanoseconds since the epoch as decimal strings (as the
// server writes them); a value the server would refuse (not decimal, above
// 2^64-1) reads as absent, so a hand-edited URL falls back to the default.
import { HOST_RE } from 'virtual:memprobe-abi'

const U64_MAX = 18446744073709551615n
export const DIFF_SORTS = ['held', 'mapped', 'vm']
// The forensics window, minutes before the kill (the server takes 1..60).
export const FORENSICS_MINUTES = [1, 5, 15, 30, 60]
export const FORENSICS_MINUTES_DEFAULT = 5

// A decimal instant in ns, or null.
export function nsParam(v) {
  if (typeof v !== 'string' || !/^\d{1,20}$/.test(v)) return null
  const n = BigInt(v)
  return n > 0n && n <= U64_MAX ? n.toString() : null
}

function query(s) {
  return new URLSearchParams(s || '')
}

// The route of location.hash.
export function parseRoute(hash) {
  const h = hash || ''
  const qi = h.indexOf('?')
  const path = qi < 0 ? h : h.slice(0, qi)
  const q = query(qi < 0 ? '' : h.slice(qi + 1))
  let m = /^#\/process\/(\d{1,10})(?:\/(\d{1,20}))?(\/mappings)?$/.exec(path)
  if (m)
    return { view: 'process', pid: Number(m[1]), startNs: m[2] ?? '', tab: m[3] ? 'mappings' : 'overview', at: nsParam(q.get('at')) }
  if (path === '#/requests') return { view: 'requests' }
  if (path === '#/oom') return { view: 'oom' }
  m = /^#\/oom\/([^/]+)\/(0x[0-9a-f]{1,16})\/(\d{1,20})$/.exec(path)
  if (m) {
    const host = safeDecode(m[1])
    const minutes = Number(q.get('minutes'))
    if (host !== null && HOST_RE.test(host))
      return {
        view: 'forensics', host, session: m[2], seq: m[3],
        minutes: FORENSICS_MINUTES.includes(minutes) ? minutes : FORENSICS_MINUTES_DEFAULT
      }
  }
  if (path === '#/diff') {
    const sort = q.get('sort')
    return { view: 'diff', from: nsParam(q.get('from')), to: nsParam(q.get('to')), sort: DIFF_SORTS.includes(sort) ? sort : 'held' }
  }
  return { view: 'processes', at: nsParam(q.get('at')) }
}

function safeDecode(s) {
  try {
    return decodeURIComponent(s)
  } catch {
    return null
  }
}

// "?a=1&b=2" of the entries whose value is set, or ''.
function withQuery(path, params) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== null && v !== undefined && v !== ''))
  const s = q.toString()
  return s ? `${path}?${s}` : path
}

// The hash of a route (parseRoute's inverse; defaults left out).
export function routeHash(r) {
  switch (r.view) {
    case 'process': {
      const path = `#/process/${r.pid}${r.startNs ? `/${r.startNs}` : ''}${r.tab === 'mappings' ? '/mappings' : ''}`
      return withQuery(path, { at: r.at })
    }
    case 'requests':
      return '#/requests'
    case 'oom':
      return '#/oom'
    case 'forensics':
      return withQuery(`#/oom/${encodeURIComponent(r.host)}/${r.session}/${r.seq}`,
        { minutes: r.minutes && r.minutes !== FORENSICS_MINUTES_DEFAULT ? r.minutes : null })
    case 'diff':
      return withQuery('#/diff', { from: r.from, to: r.to, sort: r.sort && r.sort !== 'held' ? r.sort : null })
    default:
      return withQuery('#/processes', { at: r.at })
  }
}
