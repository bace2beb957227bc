// abi.test.mjs - the dashboard's call names and host id charset come from
// their one definition in C (frontend/vite-abi.js reads
// include/memprobe_abi.h and model/host_id.h at build time), and a header
// that no longer reads as expected stops the build with a message naming
// the file.
import test from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { loadFrontend, TOP } from './load.mjs'

const [api] = await loadFrontend('src/api.js')
const abi = await import(path.join(TOP, 'frontend/vite-abi.js'))
const header = (f) => fs.readFileSync(path.join(TOP, f), 'utf8')

// What the C compiler makes of the same macros.
function fromC() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-abi-'))
  try {
    fs.writeFileSync(path.join(dir, 'p.c'), `#include <stdio.h>
#include "memprobe_abi.h"
#include "host_id.h"
#define NAME(e, v, n) printf("%d %s\\n", v, n);
int main(void) { MEMPROBE_CALLS(NAME) printf("%s %d\\n", MP_HOST_ID_CHARSET, MP_HOST_ID_MAX); return 0; }
`)
    execFileSync('cc', ['-I', path.join(TOP, 'include'), '-I', path.join(TOP, 'model'), '-o', path.join(dir, 'p'),
      path.join(dir, 'p.c')])
    return execFileSync(path.join(dir, 'p'), { encoding: 'utf8' }).trim().split('\n')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

test('CALLS is MEMPROBE_CALLS as the C compiler expands it, in value order', () => {
  const lines = fromC()
  const want = lines.slice(0, -1).map((l) => l.split(' ')).sort((a, b) => a[0] - b[0]).map((x) => x[1])
  assert.deepEqual([...api.CALLS], want)
})

test('HOST_RE takes exactly the host ids model/host_id.h allows: its charset, 1 to MP_HOST_ID_MAX bytes', () => {
  const [charset, max] = fromC().at(-1).split(' ')
  const n = Number(max)
  assert.ok(api.HOST_RE === undefined, 'api.js keeps HOST_RE to itself')
  assert.equal(api.hostFromSearch(`?host=${encodeURIComponent(charset.slice(0, n))}`), charset.slice(0, n))
  for (const c of charset) assert.equal(api.hostFromSearch(`?host=${encodeURIComponent(c)}`), c, `"${c}" refused`)
  assert.equal(api.hostFromSearch(`?host=${'a'.repeat(n)}`), 'a'.repeat(n))
  assert.equal(api.hostFromSearch(`?host=${'a'.repeat(n + 1)}`), '', 'one byte too long is taken')
  for (let code = 1; code < 256; code++) {
    const c = String.fromCharCode(code)
    if (charset.includes(c)) continue
    assert.equal(api.hostFromSearch(`?host=a${encodeURIComponent(c)}`), '', `"${c}" (${code}) is taken`)
  }
})

test('a header that does not read as expected is refused with a message naming the file and what is missing', () => {
  const calls = header('include/memprobe_abi.h')
  const host = header('model/host_id.h')
  const cases = [
    [() => abi.parseCalls(calls.replace('MEMPROBE_CALLS(X)', 'MP_CALLS(X)')), /include\/memprobe_abi\.h: no "#define MEMPROBE_CALLS\(X\)" macro/],
    [() => abi.parseCalls(calls.replace(/X\(MP_CALL_\w+, *\d+, *"\w+"\)/g, 'X(oops)')), /memprobe_abi\.h: MEMPROBE_CALLS\(X\) has no X\(MP_CALL_NAME, value, "name"\) entry/],
    [() => abi.parseCalls(calls.replace(/(MP_CALL_BRK, *)4/, '$17')), /memprobe_abi\.h: MEMPROBE_CALLS\(X\): values must be 1\.\.\d+, found 5 at position 4/],
    [() => abi.parseHostRe(host.replace('MP_HOST_ID_CHARSET', 'HOST_CHARSET')), /model\/host_id\.h: no '#define MP_HOST_ID_CHARSET "\.\.\."'/],
    [() => abi.parseHostRe(host.replace(/MP_HOST_ID_MAX\s+64/, 'MP_HOST_ID_MAX (32 * 2)')), /model\/host_id\.h: no "#define MP_HOST_ID_MAX N"/]
  ]
  for (const [fn, re] of cases) assert.throws(fn, re)
})

test('vite build stops with that message when a header cannot be read (a copy of the tree with MEMPROBE_CALLS renamed)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mp-abi-build-'))
  try {
    for (const d of ['frontend', 'include', 'model']) fs.mkdirSync(path.join(dir, d))
    for (const f of ['src', 'public', 'index.html', 'vite.config.js', 'vite-abi.js', 'package.json'])
      fs.cpSync(path.join(TOP, 'frontend', f), path.join(dir, 'frontend', f), { recursive: true })
    fs.symlinkSync(path.join(TOP, 'frontend/node_modules'), path.join(dir, 'frontend/node_modules'))
    fs.writeFileSync(path.join(dir, 'include/memprobe_abi.h'),
      header('include/memprobe_abi.h').replace('MEMPROBE_CALLS(X)', 'MP_CALLS(X)'))
    fs.copyFileSync(path.join(TOP, 'model/host_id.h'), path.join(dir, 'model/host_id.h'))
    const r = spawnSync('npx', ['vite', 'build', '--logLevel', 'error'], { cwd: path.join(dir, 'frontend'), encoding: 'utf8', timeout: 120000 })
    assert.notEqual(r.status, 0, 'the build succeeded')
    assert.match(r.stdout + r.stderr, /memprobe: cannot build the dashboard: include\/memprobe_abi\.h: no "#define MEMPROBE_CALLS\(X\)" macro/)
    assert.ok(!fs.existsSync(path.join(dir, 'frontend/dist/index.html')), 'a dist was written')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
