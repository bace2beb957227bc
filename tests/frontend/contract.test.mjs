// contract.test.mjs - the dashboard's side of the wire format
// (frontend/src/api.js, CONTRACT) against docs/API.md: every field the
// dashboard reads is documented for its object with a matching type, the
// call names agree with the one list, and a reply missing any one field, or
// holding it with another type, is refused with a message naming the
// endpoint and the field.  The real server's replies: tests/browser
// (contract.mjs).
import test from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { loadFrontend, TOP } from './load.mjs'

const [apiCore, apiHistory] = await loadFrontend('src/api.js', 'src/api_history.js')
const api = { ...apiCore, ...apiHistory }
const DOC = fs.readFileSync(path.join(TOP, 'docs/API.md'), 'utf8')

// The part of docs/API.md from the line starting with `from` up to the next
// line starting with `to`.
function section(from, to) {
  const i = DOC.indexOf('\n' + from)
  assert.ok(i >= 0, `docs/API.md has no line starting with "${from}"`)
  const j = DOC.indexOf('\n' + to, i + 1)
  return DOC.slice(i, j < 0 ? undefined : j)
}
// Where docs/API.md describes each CONTRACT object.
const WHERE = {
  process: ['Process object (also', '### GET /api/processes/{pid}'],
  processList: ['### GET /api/processes\n', 'Process object (also'],
  processOne: ['### GET /api/processes/{pid}', 'How the series is made'],
  call: ['Call object (also', '### GET /api/hosts'],
  callError: ['Call object (also', '### GET /api/hosts'],
  callResult: ['Call object (also', '### GET /api/hosts'],
  callPage: ['### GET /api/calls', 'Call object (also'],
  top: ['### GET /api/top', '### GET /api/calls'],
  topRow: ['### GET /api/top', '### GET /api/calls'],
  topOthers: ['### GET /api/top', '### GET /api/calls'],
  groupList: ['### GET /api/groups', '### '],
  group: ['### GET /api/groups', '### '],
  oomList: ['### GET /api/oom', '### '],
  oom: ['### GET /api/oom', '### '],
  stats: ['### GET /api/stats', 'Session object'],
  statsServer: ['### GET /api/stats', 'Session object'],
  session: ['Session object', '### GET /api/events'],
  hosts: ['### GET /api/hosts', 'Host object'],
  host: ['Host object', '### GET /api/stats'],
  reset: ['### GET /api/events', '### GET /metrics'],
  processListAt: ['### GET /api/processes\n', 'Process object (also'],
  processAt: ['### GET /api/processes\n', '### GET /api/processes/{pid}'],
  processOneAt: ['### GET /api/processes/{pid}', 'How the series is made'],
  diff: ['### GET /api/diff', '### '],
  diffRow: ['### GET /api/diff', '### '],
  diffEnd: ['### GET /api/diff', '### '],
  diffGroup: ['### GET /api/diff', '### '],
  diffSums: ['### GET /api/diff', '### '],
  mappingPage: ['### GET /api/processes/{pid}/mappings', '### '],
  coverage: ['### GET /api/processes/{pid}/mappings', '### '],
  mapping: ['### GET /api/processes/{pid}/mappings', '### '],
  mappingFile: ['### GET /api/processes/{pid}/mappings', '### '],
  forensics: ['### GET /api/oom/forensics', '### '],
  curvePoint: ['### GET /api/oom/forensics', '### ']
}

// The rows of the tables in `text` ([cells]), each table's header row
// first; parameter tables left out (a parameter is not a reply field).
function rows(text, header = /^(?!Parameter$)/) {
  const out = []
  let keep = false
  let prev = ''
  for (const line of text.split('\n')) {
    if (line.startsWith('|')) {
      const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim())
      if (!prev.startsWith('|')) keep = header.test(cells[0])
      if (keep && !/^-+$/.test(cells[0])) out.push(cells)
    }
    prev = line
  }
  return out
}

// Documented fields of a section: name -> its type cell ('' when the name
// is only listed: as in {host, pid, ...}, in a JSON example, named in
// another field's meaning (`ledger_bytes`, `ratio`), or in the prose as
// `"exact": bool`).
function documented(text) {
  const out = new Map()
  const listed = (name) => !out.has(name) && out.set(name, '')
  for (const cells of rows(text)) {
    const type = cells[1] || ''
    for (const m of (cells[0] || '').matchAll(/`([\w.]+)`/g)) {
      out.set(m[1], type)
      if (m[1].includes('.')) {
        out.set(m[1].split('.').pop(), type)
        out.set(m[1].split('.')[0], 'object')
      }
    }
    for (const cell of cells) {
      for (const list of cell.matchAll(/\{([^}]*)\}/g)) {
        for (const m of list[1].matchAll(/"?(\w+)"?\s*(?:\([^)]*\))?\s*(?::[^,]*)?(?:,|$)/g)) listed(m[1])
      }
      if (cell !== cells[0]) for (const m of cell.matchAll(/`(\w+)`/g)) listed(m[1])
    }
  }
  for (const block of text.matchAll(/^```\n([\s\S]*?)^```/gm)) for (const m of block[1].matchAll(/"(\w+)"/g)) listed(m[1])
  for (const m of text.matchAll(/`"(\w+)"/g)) listed(m[1])
  return out
}
// A CONTRACT type and the type docs/API.md gives.
const DOC_TYPE = {
  number: /^number$/, integer: /^integer$/, string: /^string$/, decimal: /^string$/, hex: /^string \(hex\)$/,
  boolean: /^bool(ean)?$/, array: /^array/, object: /^object$/, 'number|null': /^number \\\| null$/,
  'string|null': /^string \\\| null$/, 'decimal|null': /^string \\\| null$/, 'object|null': /^object \\\| null$/,
  'state at': /^string$/, state: /^string$/, 'call name': /^string$/
}

test('every field api.js reads is documented in docs/API.md for its object, with a matching type', () => {
  const problems = []
  for (const [kind, spec] of Object.entries(api.CONTRACT)) {
    assert.ok(WHERE[kind], `CONTRACT.${kind}: say where docs/API.md describes it (WHERE in this test)`)
    const docs = documented(section(...WHERE[kind]))
    for (const [field, type] of Object.entries(spec)) {
      if (!docs.has(field)) problems.push(`${kind}.${field}: not in docs/API.md under "${WHERE[kind][0].trim()}"`)
      else if (docs.get(field) && !DOC_TYPE[type].test(docs.get(field)))
        problems.push(`${kind}.${field}: api.js reads ${type}, docs/API.md says "${docs.get(field)}"`)
    }
  }
  assert.deepEqual(problems, [])
})

test('the event types the dashboard listens to are the ones docs/API.md lists', () => {
  const text = section('### GET /api/events', '### GET /metrics')
  const docTypes = rows(text, /^Event$/).slice(1).map((c) => /^`(\w+)`$/.exec(c[0])?.[1]).filter(Boolean)
  assert.deepEqual(docTypes.sort(), ['call', 'process', 'reset'])
  const sse = fs.readFileSync(path.join(TOP, 'frontend/src/composables/useSse.js'), 'utf8')
  assert.match(sse, /EVENT_TYPES = \['call', 'process', 'reset'\]/)
})

test('the call names (from include/memprobe_abi.h) are the ones docs/API.md lists for ?call= and the call field', () => {
  assert.deepEqual(api.CALLS, ['mmap', 'munmap', 'mremap', 'brk', 'exec', 'exit', 'oom_kill'])
  const example = /"reason":"must be one of: ([a-z_ ]+)"/.exec(DOC)
  assert.ok(example, 'the ?call= error example is gone from docs/API.md')
  assert.equal(example[1], api.CALLS.join(' '))
  const row = /^\| `call` \| enum \| all \| (.*) \|$/m.exec(DOC)
  assert.ok(row, 'the ?call= parameter row is gone from docs/API.md')
  assert.deepEqual([...row[1].matchAll(/`(\w+)`/g)].map((m) => m[1]), api.CALLS)
  assert.deepEqual(api.MEMORY_CALLS, ['mmap', 'munmap', 'mremap', 'brk'])
})

// Replies as server/ writes them (docs/API.md), one per reader.
const MEM = { rss_bytes: 7168, rss_anon_bytes: 4096, rss_file_bytes: 2048, rss_shmem_bytes: 1024, swap_bytes: 512 }
const CG = { cgroup_id: '18446744073709551615', cgroup: '/system.slice/a.service', group: 'a.service', group_kind: 'systemd' }
const PROC = {
  host: 'web1', pid: 4242, start_ns: '123456789', uid: 1000, name: 'a', first_seen_ns: 1795633912650875000,
  last_seen_ns: 1795633912650875000, state: 'alive', memory_held_bytes: 4096, net_bytes_raw: 4096,
  mapped_bytes: 8192, vm_size_bytes: 12288, requested_bytes: 4096, pct_of_system_vm: 0.5,
  pct_denominator_bytes: 819200, pct_denominator: "MemTotal+SwapTotal of the process's host",
  n_mmap: 1, n_munmap: 0, n_mremap: 0, n_brk: 2, n_failed: 0, ...MEM, rss_ts_ns: 1795633912650875000,
  pct_of_ram: 0.25, ...CG
}
const CALL = {
  id: 981733, host: 'web1', session: '0x1a', seq: 7, ts_ns: 1795633912650875000, pid: 4242, tid: 4242, uid: 1000,
  start_ns: '123456789', name: 'a', thread_name: 'a', call: 'mmap', addr: '0x0', len_bytes: 4096, new_addr: '0x0',
  new_len_bytes: 0, offset_bytes: 0, prot: 3, flags: 34, fd: -1, result: '0x7f0000061000', ok: true,
  vm_size_bytes: 12288
}
const SESSION = {
  host: 'web1', session: '0x1a', source: 'bpf', committed_seq: 7, events_committed: 8, events_seen: 8, drops: 0,
  lost: 0, lost_before: 0, gap_before_ms: 0, prev_session: null, skipped: 0, queued: 0, spilled_total: 0,
  lag_ms: 3, events_per_second: 10, updated_at_s: 1795633912.5, started_at_s: 1795633900.1,
  mem_total_bytes: 819200, swap_total_bytes: 0
}
const MEASURES0 = { memory_held_bytes: 0, mapped_bytes: 0, vm_size_bytes: 0 }
const MEASURES1 = { memory_held_bytes: 4096, mapped_bytes: 8192, vm_size_bytes: 12288 }
const MAPPING = {
  addr: '0x7f0000061000', end: '0x7f0000062000', size_bytes: 4096, prot: 'rw-', prot_raw: 3, flags: ['private', 'anonymous'],
  flags_raw: 34, file: { dev: '8:1', ino: '1234', path: '/usr/lib/x.so' }, offset_bytes: 0, created_ns: '1795633912650875000',
  age_ns: 1000000000, via: 'mmap'
}
const OOM = { host: 'web1', ts_ns: 1795633912650875000, pid: 4242, start_ns: '123456789', uid: 1000, name: 'a',
  ...CG, ...MEM, vm_size_bytes: 12288, session: '0x1a', seq: '7' }
// [endpoint, reader, reply, {path in the reply: the CONTRACT objects there}]
const READERS = [
  ['GET /api/processes', api.fromProcessList,
    { total: 1, limit: 100, offset: 0, sort: 'net', order: 'desc', processes: [PROC] },
    { '': ['processList'], 'processes[0]': ['process'] }],
  ['GET /api/processes/{pid}', api.fromProcess,
    { ...PROC, series: [[1795633912650875000, 4096, 8192, 12288]], calls: 1 }, { '': ['processOne', 'process'] }],
  ['event process', api.toProcess, PROC, { '': ['process'] }],
  ['GET /api/calls', api.fromCalls, { calls: [CALL], limit: 1, next_before: 981733 },
    { '': ['callPage'], 'calls[0]': ['call', 'callResult'] }],
  ['event call', api.toCall, CALL, { '': ['call', 'callResult'] }],
  ['event call', api.toCall, { ...CALL, result: undefined, ok: false, error: 12 }, { '': ['call', 'callError'] }],
  ['GET /api/top', api.fromTop, {
    total_requested_bytes: 10, processes: 2,
    top: [{ host: 'web1', pid: 4242, name: 'a', requested_bytes: 6, start_ns: '1', share: 0.6 }],
    others: { processes: 1, requested_bytes: 4, share: 0.4 }
  }, { '': ['top'], 'top[0]': ['topRow'], others: ['topOthers'] }],
  ['GET /api/groups', api.fromGroups, {
    total: 1, limit: 100, offset: 0, sort: 'rss', order: 'desc',
    groups: [{ host: 'web1', ...CG, processes: 2, ...MEM, memory_held_bytes: 4096, mapped_bytes: 8192,
      vm_size_bytes: 12288, requested_bytes: 4096, pct_of_ram: 0.25 }]
  }, { '': ['groupList'], 'groups[0]': ['group'] }],
  ['GET /api/oom', api.fromOom, {
    total: 1, limit: 100, offset: 0,
    oom_kills: [{ host: 'web1', ts_ns: 1795633912650875000, pid: 4242, start_ns: '123456789', uid: 1000, name: 'a',
      ...CG, ...MEM, vm_size_bytes: 12288, session: '0x1a', seq: '7' }]
  }, { '': ['oomList'], 'oom_kills[0]': ['oom'] }],
  ['GET /api/stats', api.fromStats, {
    sessions: [SESSION], db_size_bytes: 1, calls_rows_estimate: 1, oom_kills: 0,
    server: { sse_clients: 0, sse_clients_cut_total: 0, sse_messages_total: 0, sse_last_id: 981733, sse_resets_total: 0 }
  }, { '': ['stats'], 'sessions[0]': ['session'], server: ['statsServer'] }],
  ['GET /api/hosts', api.fromHosts, { hosts: [{ name: 'web1', first_seen_s: 1, last_seen_s: 2, active: true }], active_within_s: 10 },
    { '': ['hosts'], 'hosts[0]': ['host'] }],
  ['GET /api/processes?at=', api.fromProcessListAt,
    { total: 1, limit: 100, offset: 0, sort: 'net', order: 'desc', at_ns: '1795633912650875000', processes: [{ ...PROC, exact: true }] },
    { '': ['processListAt', 'processList'], 'processes[0]': ['process', 'processAt'] }],
  ['GET /api/processes/{pid}?at=', api.fromProcessAt,
    { ...PROC, series: [[1795633912650875000, 4096, 8192, 12288]], calls: 1, at_ns: '1795633912650875000', exact: false },
    { '': ['processOneAt', 'processOne', 'process'] }],
  ['GET /api/diff', api.fromDiff, {
    from_ns: '1795630312650875000', to_ns: '1795633912650875000', sort: 'held', total: 1,
    processes: [{ host: 'web1', pid: 4242, start_ns: '123456789', name: 'a', uid: 1000, group: 'a.service', group_kind: 'systemd',
      from: { state: 'unseen', ...MEASURES0 }, to: { state: 'alive', ...MEASURES1 }, growth: MEASURES1, exact: true }],
    groups: [{ group: 'a.service', group_kind: 'systemd', processes: 1, from: MEASURES0, to: MEASURES1, growth: MEASURES1 }]
  }, { '': ['diff'], 'processes[0]': ['diffRow'], 'processes[0].from': ['diffEnd'], 'processes[0].to': ['diffEnd'],
    'processes[0].growth': ['diffSums'], 'groups[0]': ['diffGroup'], 'groups[0].from': ['diffSums'], 'groups[0].to': ['diffSums'],
    'groups[0].growth': ['diffSums'] }],
  ['GET /api/processes/{pid}/mappings', api.fromMappings, {
    host: 'web1', pid: 4242, start_ns: '123456789', name: 'a', at_ns: null,
    coverage: { ledger_bytes: 8192, vm_size_bytes: 12288, ratio: 0.6667 }, total: 2, ledger_bytes: 8192,
    mappings: [MAPPING, { ...MAPPING, addr: '0x7f0000063000', file: null, created_ns: null, age_ns: null, via: 'unknown' }],
    next: 'b64cursor'
  }, { '': ['mappingPage'], coverage: ['coverage'], 'mappings[0]': ['mapping'], 'mappings[0].file': ['mappingFile'],
  }],
  ['GET /api/oom/forensics', api.fromForensics, {
    kill: OOM, window_ns: 300000000000, calls: [CALL], calls_total: 1, growing: [MAPPING],
    curve: [{ ts_ns: '1795633912650875000', ...MEASURES1, rss_bytes: 7168 }], truncated: false
  }, { '': ['forensics'], kill: ['oom'], 'calls[0]': ['call', 'callResult'], 'growing[0]': ['mapping'],
    'growing[0].file': ['mappingFile'], 'curve[0]': ['curvePoint'] }],
  ['event reset', api.fromReset, { reason: 'resume too deep', last_event_id: 5, live_from: 981733, max_resume: 20000 },
    { '': ['reset'] }]
].map(([where, read, body, kinds]) => [where, read, JSON.parse(JSON.stringify(body)), kinds])

test('the readers take the replies docs/API.md describes, and cover every CONTRACT object', () => {
  for (const [where, read, body] of READERS) assert.doesNotThrow(() => read(body), where)
  const covered = new Set(READERS.flatMap(([, , , kinds]) => Object.values(kinds).flat()))
  assert.deepEqual(Object.keys(api.CONTRACT).filter((k) => !covered.has(k)), [])
})

const TYPEOF = (v) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v)
const at = (o, p) => p.split(/[.[\]]+/).filter(Boolean).reduce((x, k) => x[k], o)

test('a reply missing any field the dashboard reads, or holding it with another type, is refused: ContractError naming the endpoint and the field', () => {
  let broken = 0
  for (const [where, reader, body, kinds] of READERS) {
    for (const [p, names] of Object.entries(kinds)) {
      for (const field of names.flatMap((k) => Object.keys(api.CONTRACT[k]))) {
        const changes = [['retyped', (o) => (o[field] = TYPEOF(o[field]) === 'object' ? 'x' : { wrong: true })]]
        // A call without "error" reads as one with a result: the message
        // names "result" then (next test).
        if (field !== 'error') changes.push(['renamed', (o) => { o[field + '_renamed'] = o[field]; delete o[field] }])
        for (const [how, change] of changes) {
          const copy = structuredClone(body)
          change(at(copy, p))
          const ctx = `${where}: ${p ? p + '.' : ''}${field} ${how}`
          assert.throws(() => reader(copy), (e) => {
            assert.equal(e.name, 'ContractError', `${ctx}: ${e.stack}`)
            assert.ok(e.message.startsWith(where), `${ctx}: "${e.message}" does not start with the endpoint`)
            assert.ok(e.message.includes(`field "${field}"`), `${ctx}: "${e.message}" does not name the field`)
            return true
          }, ctx)
          broken++
        }
      }
    }
  }
  assert.ok(broken > 80, `only ${broken} broken replies tried`)
})

test('a call with neither "error" nor "result" is refused, naming "result"', () => {
  const { result, ...none } = CALL
  assert.throws(() => api.toCall(none), /event call: field "result" is missing/)
})
