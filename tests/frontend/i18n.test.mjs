// i18n.test.mjs - the dashboard's words (frontend/src/i18n.js): English and
// Spanish have the same keys, every key the components ask for exists, and
// each cgroup kind the schema knows (migrations, cgroups.kind), each measure
// and state of the diff, has a name in both languages.
import test from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { loadFrontend, TOP } from './load.mjs'

const [i18n, api, route] = await loadFrontend('src/i18n.js', 'src/api.js', 'src/route.js')
const { MESSAGES } = i18n
const SRC = path.join(TOP, 'frontend/src')

function sources(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : /\.(vue|js)$/.test(e.name) ? [path.join(dir, e.name)] : [])
}

test('English and Spanish have the same keys, none empty', () => {
  const en = Object.keys(MESSAGES.en).sort()
  const es = Object.keys(MESSAGES.es).sort()
  assert.deepEqual(es.filter((k) => !en.includes(k)), [], 'keys only in es')
  assert.deepEqual(en.filter((k) => !es.includes(k)), [], 'keys only in en')
  for (const l of ['en', 'es']) for (const k of en) assert.ok(MESSAGES[l][k].trim(), `${l} ${k} is empty`)
})

test('every literal key the components pass to t() exists', () => {
  const missing = []
  let seen = 0
  for (const f of sources(SRC)) {
    for (const m of fs.readFileSync(f, 'utf8').matchAll(/\bt\('([\w.]*\w)'/g)) {
      seen++
      if (!(m[1] in MESSAGES.en)) missing.push(`${path.relative(TOP, f)}: ${m[1]}`)
    }
  }
  assert.deepEqual(missing, [])
  assert.ok(seen > 80, `only ${seen} keys found: the pattern missed them`)
})

test('the built keys exist: each connection state, "group by" choice, cgroup kind of the schema, diff measure and state', () => {
  const want = api.GROUP_BY.flatMap((by) => [`by.${by}`, `by.${by}.help`])
  // useSse.js's states
  for (const state of ['connecting', 'open', 'reconnecting', 'closed']) want.push(`conn.${state}`)
  // DiffView.vue: each measure it ranks by, each state of a process at an end
  for (const m of route.DIFF_SORTS) want.push(`diff.m.${m}`)
  for (const state of ['alive', 'exited', 'unseen']) want.push(`diff.state.${state}`)
  const sql = fs.readdirSync(path.join(TOP, 'migrations')).map((f) => fs.readFileSync(path.join(TOP, 'migrations', f), 'utf8')).join('\n')
  const kinds = /kind\s+ENUM\(([^)]*)\)/.exec(sql)
  assert.ok(kinds, 'no cgroups.kind ENUM in migrations/')
  for (const m of kinds[1].matchAll(/'(\w+)'/g)) want.push(`grp.kind.${m[1]}`)
  assert.ok(want.length >= 10, want.join(' '))
  assert.deepEqual(want.filter((k) => !(k in MESSAGES.en)), [])
})
