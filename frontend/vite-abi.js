// vite-abi.js - the call names and the host id charset, read at build time from
// their one definition in C: MEMPROBE_CALLS in include/memprobe_abi.h and
// MP_HOST_ID_CHARSET / MP_HOST_ID_MAX in model/host_id.h.  vite.config.js
// serves them to the dashboard as the virtual module "virtual:memprobe-abi"
// (nothing generated is written or committed):
//   CALLS    every call name, in the order of their stored values
//   HOST_RE  a host id the server accepts (charset, 1..MP_HOST_ID_MAX bytes)
// A header that no longer reads as expected stops the build with a message
// naming the file and what is missing.
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const ABI_MODULE = 'virtual:memprobe-abi'
const RESOLVED = '\0' + ABI_MODULE
const TOP = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
export const ABI_HEADERS = {
  calls: path.join(TOP, 'include/memprobe_abi.h'),
  host: path.join(TOP, 'model/host_id.h')
}

class AbiError extends Error {}
const fail = (file, what) => {
  throw new AbiError(`memprobe: cannot build the dashboard: ${path.relative(TOP, file)}: ${what}`)
}

function read(file) {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch (e) {
    return fail(file, `${e.code || e.message} (the dashboard reads it at build time)`)
  }
}

// X(MP_CALL_MMAP, 1, "mmap") lines of the #define MEMPROBE_CALLS(X) macro,
// ordered by value; the values must run 1, 2, ... with no gap or repeat.
export function parseCalls(text, file = ABI_HEADERS.calls) {
  const m = /#define\s+MEMPROBE_CALLS\(X\)((?:[^\n]*\\\n)*[^\n]*)/.exec(text)
  if (!m) fail(file, 'no "#define MEMPROBE_CALLS(X)" macro')
  const calls = [...m[1].matchAll(/X\(\s*(MP_CALL_\w+)\s*,\s*(\d+)\s*,\s*"([a-z0-9_]+)"\s*\)/g)].map((x) => ({
    value: Number(x[2]),
    name: x[3]
  }))
  if (!calls.length) fail(file, 'MEMPROBE_CALLS(X) has no X(MP_CALL_NAME, value, "name") entry')
  calls.sort((a, b) => a.value - b.value)
  calls.forEach((c, i) => {
    if (c.value !== i + 1) fail(file, `MEMPROBE_CALLS(X): values must be 1..${calls.length}, found ${c.value} at position ${i + 1}`)
  })
  const names = calls.map((c) => c.name)
  if (new Set(names).size !== names.length) fail(file, `MEMPROBE_CALLS(X) names a call twice: ${names.join(' ')}`)
  return names
}

// The host id charset as a regular expression anchored on both ends.
export function parseHostRe(text, file = ABI_HEADERS.host) {
  const cs = /#define\s+MP_HOST_ID_CHARSET\s+"([^"\\]+)"/.exec(text)
  if (!cs) fail(file, 'no \'#define MP_HOST_ID_CHARSET "..."\' (a plain string of the allowed characters)')
  const max = /#define\s+MP_HOST_ID_MAX\s+(\d+)\s*$/m.exec(text)
  if (!max || Number(max[1]) < 1) fail(file, 'no "#define MP_HOST_ID_MAX N" (a positive decimal number)')
  const cls = [...new Set(cs[1])].map((c) => (/[\\\]\[^-]/.test(c) ? '\\' + c : c)).join('')
  return new RegExp(`^[${cls}]{1,${Number(max[1])}}$`)
}

export function abiSource() {
  const calls = parseCalls(read(ABI_HEADERS.calls))
  const hostRe = parseHostRe(read(ABI_HEADERS.host))
  return `export const CALLS = Object.freeze(${JSON.stringify(calls)})\nexport const HOST_RE = ${hostRe}\n`
}

// The Vite plugin: resolves and loads the virtual module, and rebuilds (or
// reloads, in `npm run dev`) when a header changes.
export function memprobeAbi() {
  return {
    name: 'memprobe-abi',
    resolveId: (id) => (id === ABI_MODULE ? RESOLVED : null),
    load(id) {
      if (id !== RESOLVED) return null
      for (const f of Object.values(ABI_HEADERS)) this.addWatchFile(f)
      try {
        return abiSource()
      } catch (e) {
        if (e instanceof AbiError) this.error(e.message)
        throw e
      }
    }
  }
}
