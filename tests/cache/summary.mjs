// SPDX-License-Identifier: GPL-2.0
// Summarise an http-cache-tests run the way cache-tests.fyi counts it: a required test passes
// when its result is true and every test it depends on passed. Prints one line per required
// failure ("FAIL id: reason"), then "required P/N optimal P/N" on the last line.
// Usage: node summary.mjs SUITE_DIR RESULTS.json
import fs from 'fs'
import path from 'path'
import { pathToFileURL } from 'url'

const [suiteDir, resultsFile] = process.argv.slice(2)
const mod = await import(pathToFileURL(path.join(suiteDir, 'tests', 'index.mjs')).href)
const suites = mod.default
const results = JSON.parse(fs.readFileSync(resultsFile, 'utf8'))
const byId = new Map()
for (const s of suites) for (const t of s.tests) byId.set(t.id, t)

function passed (id, seen = new Set()) {
  const t = byId.get(id)
  const r = results[id]
  if (!t || r !== true || seen.has(id)) return false
  seen.add(id)
  return (t.depends_on || []).every(d => passed(d, seen))
}

function why (id) {
  const t = byId.get(id)
  const r = results[id]
  if (r === undefined) return 'not run'
  if (r === true) {
    const dep = (t.depends_on || []).find(d => !passed(d))
    return `depends on ${dep}, which did not pass`
  }
  return Array.isArray(r) ? r.join(': ') : String(r)
}

const count = { required: [0, 0], optimal: [0, 0] }
for (const [id, t] of byId) {
  const kind = t.kind || 'required'
  if (!count[kind]) continue
  count[kind][1]++
  if (passed(id)) count[kind][0]++
  else if (kind === 'required') console.log(`FAIL ${id}: ${why(id)}`)
}
console.log(`required ${count.required[0]}/${count.required[1]} optimal ${count.optimal[0]}/${count.optimal[1]}`)
