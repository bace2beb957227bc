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

// Time of day on a 24-hour clock, 0-23: { hour12: false } alone lets ICU
// pick the h24 cycle, where the hour after midnight is 24 (node does;
// tests/browser/unit.mjs).
export function clockTime(ns, locale) {
  const d = nsToDate(ns)
  const hms = d.toLocaleTimeString(locale, { hourCycle: 'h23' })
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

// A duration in ns (a number or a decimal string) as its two largest units:
// "180 ms", "45 s", "12 min 05 s", "3 h 05 min", "2 d 4 h"; null (unknown)
// as a dash.
export function durationText(ns) {
  if (ns === null || ns === undefined) return '—'
  const s = Math.max(0, Math.floor(Number(ns) / 1e9))
  if (s < 1) return `${Math.max(0, Math.floor(Number(ns) / 1e6))} ms`
  if (s < 60) return `${s} s`
  const pad = (n) => String(n).padStart(2, '0')
  if (s < 3600) return `${Math.floor(s / 60)} min${s % 60 ? ` ${pad(s % 60)} s` : ''}`
  if (s < 86400) return `${Math.floor(s / 3600)} h ${pad(Math.floor((s % 3600) / 60))} min`
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`
}

// A signed byte count (a growth): "+4.00 MiB", "−1.50 KiB", "0 B".
export function signedBytes(bytes) {
  const v = Number(bytes) || 0
  if (v === 0) return '0 B'
  return `${v > 0 ? '+' : '−'}${humanBytes(Math.abs(v))}`
}

// The value of an <input type="datetime-local" step="1"> (local time,
// "YYYY-MM-DDTHH:MM[:SS]") for an instant in ns, and back: the first ns of
// that second, as a decimal string ('' when the input is empty or invalid).
// Written in HTML's normalized form, as the browser reads it back: no
// ":00" seconds.
export function localInputFromNs(ns) {
  const d = nsToDate(ns)
  const p = (n) => String(n).padStart(2, '0')
  const secs = d.getSeconds() ? `:${p(d.getSeconds())}` : ''
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}${secs}`
}
export function nsFromLocalInput(value) {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d)(?::(\d\d))?$/.exec(value || '')
  if (!m) return ''
  const ms = new Date(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0)).getTime()
  return Number.isFinite(ms) && ms > 0 ? (BigInt(ms) * 1000000n).toString() : ''
}

// Now, in ns since the epoch, as a decimal string.
export function nowNs(nowMs = Date.now()) {
  return (BigInt(Math.floor(nowMs)) * 1000000n).toString()
}

// The ledger's share of VmSize (coverage.ratio, null when VmSize is 0) as
// a percent, or a dash.
export function coverageText(ratio) {
  return ratio === null || ratio === undefined ? '—' : `${(100 * ratio).toFixed(1)} %`
}
