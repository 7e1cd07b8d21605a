/**
 * Instrumentation cost on a real program, per Asyncify tool: the SQLite shell (real/build/sqlite3.wasm,
 * scripts/build-real-programs.sh) instrumented by the native wasm-opt and by binaryen.js, precise and
 * Asyncify's own scope, with and without preemption points, and with the whole-module optimization
 * wmig no longer runs by default. Each instrumentation is a fresh process under /usr/bin/time (wall
 * time, peak RSS of the largest process: node or wasm-opt). Then every output runs the same SQL
 * workload under node:wasi in this process; run time is CPU time, median of interleaved rounds, as a
 * ratio against the plain module measured alongside. Every output must print what the plain one does.
 *
 *   npm run build && node bench/instrument-sqlite.js > results.md
 * Knobs: TOOLS (wasm-opt,binaryen.js), VARIANTS (see below), BENCH_SQLITE_ROUNDS (5).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WASI } from 'node:wasi';
import { ROOT, TMP } from './lib/env.js';
import { fullGc } from './lib/gc.js';
import { median, ratio, table } from './lib/stats.js';

const MODULE = path.join(ROOT, 'real/build/sqlite3.wasm');
const ONCE = path.join(ROOT, 'bench/lib/instrument-once.js');
const ROUNDS = Number(process.env.BENCH_SQLITE_ROUNDS ?? 5);
const TOOLS = { 'wasm-opt': {}, 'binaryen.js': { wasmOpt: 'off' } };
const VARIANTS = {
  precise: {},
  asyncify: { scope: 'asyncify' },
  'precise + preempt': { preempt: true },
  'asyncify + preempt': { scope: 'asyncify', preempt: true },
  'precise + whole-module -O2': { optimizeModule: true },
};
const pick = (all, list) => (list ? Object.fromEntries(list.split(',').map((k) => {
  if (!all[k]) throw new Error(`unknown: ${k} (known: ${Object.keys(all).join(', ')})`);
  return [k, all[k]];
})) : all);
const tools = pick(TOOLS, process.env.TOOLS);
const variants = pick(VARIANTS, process.env.VARIANTS);

/** 100k rows in 10 transactions, two indexes, aggregates, a join, an update and a delete. */
function workload() {
  let s = 0x2545f491;
  const next = () => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return s >>> 0; };
  const out = ['CREATE TABLE c(id INTEGER PRIMARY KEY, city TEXT);', 'CREATE TABLE o(id INTEGER PRIMARY KEY, c INTEGER, amount INTEGER, note TEXT);', 'BEGIN;'];
  for (let i = 1; i <= 1000; i++) out.push(`INSERT INTO c VALUES(${i}, 'city ${next() % 8}');`);
  for (let i = 1; i <= 100_000; i++) {
    if (i % 10_000 === 1) out.push('COMMIT;', 'BEGIN;');
    out.push(`INSERT INTO o VALUES(${i}, ${1 + (next() % 1000)}, ${next() % 100000}, ${next() % 3 ? `'n ${next().toString(36)}'` : 'NULL'});`);
  }
  out.push('COMMIT;', 'CREATE INDEX oc ON o(c);', 'CREATE INDEX oa ON o(amount);',
    'SELECT count(*), sum(amount), count(note) FROM o;',
    'SELECT c.city, count(*), sum(o.amount) FROM o JOIN c ON c.id = o.c GROUP BY c.city ORDER BY c.city;',
    'UPDATE o SET amount = amount + 1 WHERE amount % 97 = 0;', 'DELETE FROM o WHERE id % 1000 = 0;',
    'SELECT count(*), sum(amount) FROM o;', 'PRAGMA integrity_check;');
  return out.join('\n') + '\n';
}

function instrumentTimed(options, out) {
  const timeFile = path.join(TMP, 'time.txt');
  const stdout = execFileSync('/usr/bin/time', ['-f', '%e %M', '-o', timeFile, process.execPath, ONCE, MODULE, out, JSON.stringify(options)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const [wall, rssKb] = fs.readFileSync(timeFile, 'utf8').trim().split(/\s+/).map(Number);
  return { wall, rssMb: rssKb / 1024, ...JSON.parse(stdout.trim().split('\n').pop()) };
}

const sql = path.join(TMP, 'in.sql');
fs.writeFileSync(sql, workload());
const data = path.join(TMP, 'data');
const outFile = path.join(TMP, 'out.txt');
function runOnce(module) {
  fs.rmSync(data, { recursive: true, force: true });
  fs.mkdirSync(data);
  // Node 20 aborted when a GC during a WASI call destroyed an earlier run's WASI object
  // (uv_mutex_destroy in uvwasi_fd_table_free): collect them between runs instead.
  fullGc();
  const stdin = fs.openSync(sql, 'r');
  const stdout = fs.openSync(outFile, 'w');
  const wasi = new WASI({ version: 'preview1', args: ['sqlite3', '/data/t.db'], env: { HOME: '/data' }, preopens: { '/data': data }, returnOnExit: true, stdin, stdout });
  const u0 = process.cpuUsage();
  const code = wasi.start(new WebAssembly.Instance(module, { ...wasi.getImportObject(), wmig: { preempt: () => 10_000 } }));
  const u = process.cpuUsage(u0);
  fs.closeSync(stdin);
  fs.closeSync(stdout);
  if (code !== 0) throw new Error(`exit ${code}`);
  return { ms: (u.user + u.system) / 1000, output: fs.readFileSync(outFile, 'utf8') };
}

const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const loadBefore = load();
const t0 = performance.now();
const rows = [];
const modules = { plain: new WebAssembly.Module(fs.readFileSync(MODULE)) };
for (const [toolName, toolOptions] of Object.entries(tools)) {
  for (const [variantName, variantOptions] of Object.entries(variants)) {
    const out = path.join(TMP, `${toolName}-${variantName}.wasm`.replace(/[^\w.-]+/g, '_'));
    console.error(`instrumenting: ${toolName}, ${variantName}`);
    const r = instrumentTimed({ ...toolOptions, ...variantOptions }, out);
    const key = `${toolName}, ${variantName}`;
    modules[key] = new WebAssembly.Module(fs.readFileSync(out));
    rows.push({ key, ...r });
  }
}
const loadMiddle = load();

const keys = Object.keys(modules);
const samples = Object.fromEntries(keys.map((k) => [k, []]));
const expected = runOnce(modules.plain).output;
for (const k of keys) if (runOnce(modules[k]).output !== expected) throw new Error(`${k}: output differs from the plain module's`);
for (let r = 0; r < ROUNDS; r++) {
  for (let i = 0; i < keys.length; i++) {
    const k = keys[(i + r) % keys.length];
    samples[k].push(runOnce(modules[k]).ms);
  }
  console.error(`  run-time round ${r + 1}/${ROUNDS}`);
}
const plainMs = median(samples.plain);
const stageText = (stages) => stages.filter((s) => s.s >= 0.05).map((s) => `${s.stage} ${s.s.toFixed(1)}`).join(', ');
console.log(`SQLite shell ${fs.statSync(MODULE).size} bytes; Node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model.trim()}.`);
console.log(`Load average before ${loadBefore}, after instrumenting ${loadMiddle}, at the end ${load()}; total ${((performance.now() - t0) / 1000).toFixed(0)} s.\n`);
console.log(table(
  ['tool, variant', 'instrument s (wall)', 'stages s', 'peak RSS MB', 'output bytes', 'functions (analysis)', `run ms CPU (median of ${ROUNDS})`, 'vs plain'],
  [
    ['plain', '—', '—', '—', fs.statSync(MODULE).size, '—', median(samples.plain).toFixed(0), ratio(1)],
    ...rows.map((r) => [`${r.key} (${r.tool})`, r.wall.toFixed(1), stageText(r.stages), r.rssMb.toFixed(0), r.bytes, r.preciseFunctions ?? '—',
      median(samples[r.key]).toFixed(0), ratio(median(samples[r.key]) / plainMs)]),
  ],
));
