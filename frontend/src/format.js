// format.js - how numbers are shown: human byte units (IEC, 1 KiB = 1024
// bytes), exact byte counts for hover titles, hex addresses, wall-clock
// times from nanoseconds.  Pure functions, no Vue.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']

export function humanBytes(bytes) {
  let v = Number(bytes) || 0
  let i = 0
  while (Math.abs(v) >= 1024 && i < UNITS.length - 1) {
    v /= 1024
    i++
  }
  const digits = i === 0 ? 0 : Math.abs(v) < 10 ? 2 : Math.abs(v) < 100 ? 1 : 0
  return `${v.toFixed(digits)} ${UNITS[i]}`
}

// "1,234,567 bytes" in the UI language's grouping.
export function exactBytes(bytes, locale) {
  return `${BigInt(bytes ?? 0).toLocaleString(locale)} bytes`
}

export function percent(fraction, digits = 2) {
  return `${(100 * (Number(fraction) || 0)).toFixed(digits)} %`
}

export function hexAddr(addr) {
  if (addr === null || addr === undefined || addr === '') return ''
  return '0x' + BigInt(addr).toString(16).padStart(12, '0')
}

// Nanoseconds since the epoch (number or decimal string) to a Date.
export function nsToDate(ns) {
  return new Date(Number(BigInt(ns ?? 0) / 1000000n))
}

export function clockTime(ns, locale) {
  const d = nsToDate(ns)
  const hms = d.toLocaleTimeString(locale, { hour12: false })
  return `${hms}.${String(d.getMilliseconds()).padStart(3, '0')}`
}

export function ageText(ns, nowMs, t) {
  const s = Math.max(0, Math.round((nowMs - Number(BigInt(ns ?? 0) / 1000000n)) / 1000))
  if (s < 60) return t('ago.s', { n: s })
  if (s < 3600) return t('ago.m', { n: Math.floor(s / 60) })
  return t('ago.h', { n: Math.floor(s / 3600) })
}

// Date and time of day, for events that may be days old (OOM kills).
export function dateTime(ns, locale) {
  return `${nsToDate(ns).toLocaleDateString(locale)} ${clockTime(ns, locale)}`
}

// The hover text of a resident figure r ({rssBytes, rssAnonBytes,
// rssFileBytes, rssShmemBytes, swapBytes}): exact bytes, then what it is
// made of.  `t` is i18n's.
export function residentTitle(r, t, locale) {
  const parts = t('rss.parts', {
    anon: humanBytes(r.rssAnonBytes), file: humanBytes(r.rssFileBytes),
    shmem: humanBytes(r.rssShmemBytes), swap: humanBytes(r.swapBytes)
  })
  return `${exactBytes(r.rssBytes, locale)}\n${parts}`
}

// A percent that may be unknown (null: the host's memory size is).
export function percentOrDash(fraction, digits = 2) {
  return fraction === null || fraction === undefined ? '—' : percent(fraction, digits)
}
