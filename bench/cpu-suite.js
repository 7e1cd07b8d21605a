/**
 * CPU benchmark suite for issue 4: what instrumentation costs on compute-bound programs.
 *
 *   npm run build && bash scripts/build-examples.sh && node bench/cpu-suite.js [--write]
 *
 * Programs: examples/cpu/*.c (nbody, fannkuch, hash, interp, spin) and, when scripts/build-real-programs.sh
 * has built them, Lua 5.4 (real/build/lua.wasm) running examples/cpu/bench.lua and the SQLite shell
 * (real/build/sqlite3.wasm) running SQLITE_QUERIES on an in-memory database. Variants, all run in this process
 * under node:wasi so only the module differs:
 *   plain     the clang output
 *   asyncify  binaryen Asyncify with its own scope analysis (every indirect call may unwind), output as is
 *   compact   our call-graph scope (transforms/code-scan.ts): only functions that can reach a WASI call
 *   precise   compact + fast bodies without rewind guards (transforms/fast-path.ts): wmig's default
 *   preempt   precise + fuel checks at loop headers calling wmig.preempt (import provided here, never freezes)
 * Reported: run time (CPU time of instantiate + _start, median of ROUNDS, variants interleaved) as a
 * ratio to plain, module size ratio, instrumentation wall time; then freeze latency with preemption on
 * a busy loop (spin under wmig's run(), FREEZES freezes with leaveRunning: request → stack unwound).
 * --write regenerates bench/README-cpu.md.
 */
import fs from 'node:fs';
import path from 'node:path';
import { WASI } from 'node:wasi';
import { DEVNULL, ROOT, CACHE_DIR, QUIET_STDIO } from './lib/env.js';
import { fullGc } from './lib/gc.js';
import { sjljImports } from './lib/sjlj-shim.js';
import { instrumentedFunctionCount } from './cpu-suite-count.js';
import { median, percentile, ms, table } from './lib/stats.js';

const { asyncify } = await import(path.join(ROOT, 'dist/transforms/asyncify.js'));
const { readSections } = await import(path.join(ROOT, 'dist/transforms/wasm-binary.js'));
const { INITIAL_FUEL } = await import(path.join(ROOT, 'dist/transforms/preempt.js'));
const { run } = await import(path.join(ROOT, 'dist/runtime/index.js'));

const log = (s) => process.stderr.write(`${s}\n`);
const ROUNDS = Number(process.env.BENCH_CPU_ROUNDS ?? 5);
const FREEZES = Number(process.env.BENCH_FREEZES ?? 200);
const WRITE = process.argv.includes('--write');

/** A CPU-bound query mix: 100 000 rows built by a recursive CTE, an index, aggregates, a self-join, LIKE. */
const SQLITE_QUERIES = [
  'CREATE TABLE t(a INTEGER PRIMARY KEY, b INTEGER, c TEXT)',
  'BEGIN',
  "WITH RECURSIVE s(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM s WHERE x<100000) INSERT INTO t SELECT x, (x*7919)%10007, printf('row-%d', x*31) FROM s",
  'COMMIT',
  'CREATE INDEX tb ON t(b)',
  'SELECT count(*), sum(b), max(length(c)) FROM t',
  'SELECT b % 10, count(*), avg(a) FROM t GROUP BY b % 10 ORDER BY 1',
  'SELECT count(*) FROM t t1 JOIN t t2 ON t1.b = t2.a WHERE t2.b < 5000',
  "SELECT substr(c, 1, 6), count(*) FROM t WHERE c LIKE '%99%' GROUP BY 1 ORDER BY 2 DESC LIMIT 3",
].join(';\n') + ';';

/** Arguments sized for roughly 0.5–1 s each, uninstrumented, on the reference machine. */
const PROGRAMS = [
  { name: 'nbody', args: ['1500000'] },
  { name: 'fannkuch', args: ['10'] },
  { name: 'hash', args: ['8'] },
  { name: 'interp', args: ['1500'] },
  { name: 'spin', args: ['150'] },
  // Lua's protected calls go through env.invoke_vii (wmig's setjmp.h); bench/lib/sjlj-shim.js provides it.
  { name: 'lua', file: path.join(ROOT, 'real/build/lua.wasm'), args: ['/bench/bench.lua', '15'], preopens: { '/bench': path.join(ROOT, 'examples/cpu') } },
  { name: 'sqlite', file: path.join(ROOT, 'real/build/sqlite3.wasm'), args: [':memory:', SQLITE_QUERIES] },
].filter((p) => !p.file || fs.existsSync(p.file) || (log(`skipping ${p.name}: ${p.file} not built`), false));
const VARIANTS = [
  { key: 'plain' },
  { key: 'asyncify', options: { scope: 'asyncify', fastPaths: false } },
  { key: 'compact', options: { scope: 'precise', fastPaths: false } },
  { key: 'precise', options: { scope: 'precise' } },
  { key: 'preempt', options: { scope: 'precise', preempt: true } },
];

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
/** The code section's size: what instrumentation actually changes. */
const codeSize = (wasm) => readSections(wasm).find((s) => s.id === 10)?.payload.length ?? 0;

function runOnce(program, variant) {
  const wasi = new WASI({ version: 'preview1', args: [program.name, ...program.args], env: {}, preopens: program.preopens ?? {}, returnOnExit: true, stdout: DEVNULL, stderr: DEVNULL });
  const sjlj = sjljImports(variant.module);
  const wmig = { ...sjlj.imports.wmig, preempt: () => (variant.preemptCalls++, INITIAL_FUEL) };
  const imports = { ...wasi.getImportObject(), env: sjlj.imports.env, wmig };
  variant.preemptCalls = 0;
  // A clean heap per sample; it also finalizes the last run's node:wasi WASI object here, not inside
  // the next run, where Node 20 intermittently crashes (nodejs/node#52402; seen here as a segfault).
  fullGc();
  const c0 = cpuMs();
  const instance = new WebAssembly.Instance(variant.module, imports);
  sjlj.bind(instance);
  const code = wasi.start(instance);
  const t = cpuMs() - c0;
  if (code !== 0) throw new Error(`${program.name} (${variant.key}) exited ${code}`);
  // Mean time between two preemption calls: the part of the freeze latency the checks bound.
  if (variant.preemptCalls > 0) variant.interval = t / variant.preemptCalls;
  return t;
}

function geomean(xs) {
  return Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
}

const results = [];
for (const program of PROGRAMS) {
  const file = program.file ?? path.join(ROOT, 'examples/build/cpu', `${program.name}.wasm`);
  const wasm = fs.readFileSync(file);
  const variants = [];
  for (const v of VARIANTS) {
    if (!v.options) {
      variants.push({ key: v.key, wasm, instrumentMs: 0, functions: null });
      continue;
    }
    const t0 = performance.now();
    const out = await asyncify(wasm, '0'.repeat(64), v.options);
    variants.push({ key: v.key, wasm: out.wasm, instrumentMs: performance.now() - t0, functions: instrumentedFunctionCount(out.wasm), stats: out.stats });
  }
  for (const v of variants) {
    v.module = new WebAssembly.Module(v.wasm);
    v.samples = [];
    runOnce(program, v); // warm-up (also checks it runs)
  }
  for (let round = 0; round < ROUNDS; round++) {
    const order = variants.map((_, i) => variants[(i + round) % variants.length]);
    for (const v of order) v.samples.push(runOnce(program, v));
  }
  const plain = median(variants[0].samples);
  const row = { name: program.name, file: program.file, plainCode: codeSize(wasm), definedFunctions: variants[1].stats.definedFunctions, variants: {} };
  for (const v of variants) {
    row.variants[v.key] = {
      ms: median(v.samples),
      ratio: median(v.samples) / plain,
      size: v.wasm.length,
      sizeRatio: v.wasm.length / wasm.length,
      codeRatio: codeSize(v.wasm) / codeSize(wasm),
      instrumentMs: v.instrumentMs,
      functions: v.functions,
      intervalMs: v.interval ?? null,
    };
  }
  row.compactIdentical = Buffer.compare(Buffer.from(variants[1].wasm), Buffer.from(variants[2].wasm)) === 0;
  results.push(row);
  log(`${program.name}: ${variants.map((v) => `${v.key} ${ms(row.variants[v.key].ms, 0)} ms (${row.variants[v.key].ratio.toFixed(3)}×)`).join(', ')}`);
}

// Freeze latency under preemption: a busy loop, frozen (and left running) over and over.
async function freezeLatency() {
  const proc = await run(path.join(ROOT, 'examples/build/cpu/spin.wasm'), {
    args: ['100000'], stdio: QUIET_STDIO, cacheDir: CACHE_DIR, preempt: true,
  });
  await new Promise((r) => setTimeout(r, 300));
  const latencies = [];
  for (let i = 0; i < FREEZES; i++) {
    const report = await proc.freeze({ leaveRunning: true, embedModule: false });
    latencies.push(report.timings.capturedAt - report.timings.requestedAt);
    await new Promise((r) => setTimeout(r, 2 + Math.random() * 8));
  }
  await proc.kill();
  return latencies;
}
const latencies = await freezeLatency();
const latency = { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies), n: latencies.length };
log(`freeze latency (preempt, spin): p50 ${ms(latency.p50, 3)} ms, p99 ${ms(latency.p99, 3)} ms, max ${ms(latency.max, 3)} ms`);

const keys = VARIANTS.map((v) => v.key);
/** The C programs of examples/cpu, and everything (with Lua and SQLite when built). */
const C_ONLY = (r) => !r.file;
const geomeanRows = (metric) => [
  ['**geomean, C programs**', C_ONLY],
  ['**geomean, all**', () => true],
].map(([label, pick]) => [label, Object.fromEntries(keys.map((k) => [k, geomean(results.filter(pick).map((r) => r.variants[k][metric]))]))]);

const timeTable = table(
  ['program', 'plain (ms CPU)', 'asyncify', 'compact', 'precise', 'precise+preempt'],
  [
    ...results.map((r) => [r.name, ms(r.variants.plain.ms, 0), ...keys.slice(1).map((k) => `${r.variants[k].ratio.toFixed(3)}×`)]),
    ...geomeanRows('ratio').map(([label, geo]) => [label, '', ...keys.slice(1).map((k) => `**${geo[k].toFixed(3)}×**`)]),
  ],
);
const sizeTable = table(
  ['program', 'plain code (bytes)', 'asyncify', 'compact', 'precise', 'precise+preempt', 'module bytes plain → compact → precise → preempt'],
  [
    ...results.map((r) => [
      r.name, r.plainCode,
      ...keys.slice(1).map((k) => `${r.variants[k].codeRatio.toFixed(3)}×`),
      `${r.variants.plain.size} → ${r.variants.compact.size} → ${r.variants.precise.size} → ${r.variants.preempt.size}`,
    ]),
    ...geomeanRows('codeRatio').map(([label, geo]) => [label, '', ...keys.slice(1).map((k) => `**${geo[k].toFixed(3)}×**`), '']),
  ],
);
const instrTable = table(
  ['program', 'defined functions', 'compact output = asyncify output', 'instrumented: asyncify', 'compact', 'precise', 'precise+preempt', 'instrument ms: asyncify', 'compact', 'precise', 'precise+preempt'],
  results.map((r) => [
    r.name, r.definedFunctions, r.compactIdentical ? 'byte-identical' : 'differs',
    ...keys.slice(1).map((k) => r.variants[k].functions),
    ...keys.slice(1).map((k) => ms(r.variants[k].instrumentMs, 0)),
  ]),
);
const latencyTable = table(
  ['program', 'freezes', 'p50 (ms)', 'p99 (ms)', 'max (ms)'],
  [['spin (busy loop, no WASI calls)', latency.n, ms(latency.p50, 3), ms(latency.p99, 3), ms(latency.max, 3)]],
);
const intervalTable = table(
  ['program', ...results.map((r) => r.name)],
  [['µs between preemption calls', ...results.map((r) => (r.variants.preempt.intervalMs === null ? 'n/a' : (r.variants.preempt.intervalMs * 1000).toFixed(1)))]],
);

const md = `# CPU benchmark suite (issue 4)

Regenerate: \`npm run build && bash scripts/build-examples.sh && node bench/cpu-suite.js --write\`
(${ROUNDS} interleaved rounds per variant, median; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}).
Times are CPU time of instantiate + \`_start\` under node:wasi in one process, so only the module differs.
The machine is shared (2 cores, other jobs running): ratios within ~3% of each other are noise.

Variants: **plain** = clang -O2 output; **asyncify** = binaryen Asyncify with its own scope (every function
with an indirect call may unwind), its output as is; **compact** = only functions our call graph says can
reach a WASI call (direct calls + indirect calls to table entries of the exact signature), Asyncify's output
as is (\`wmig instrument --compact\`); **precise** (wmig's default) = compact, and each instrumented function
gets a fast body with Asyncify's rewind guards decided away, beside Asyncify's body as the copy a rewind
enters (transforms/fast-path.ts): faster, at about twice the instrumented code; **precise+preempt** = precise plus
fuel checks at loop headers (and entries of recursive functions) that call the \`wmig.preempt\` freeze point
when the fuel runs out (timing runs: a fixed ${INITIAL_FUEL} iterations; under wmig the host adapts the fuel
so calls come every 50–200 µs). A check costs a decrement of a local; the call it makes when the fuel
runs out sits outside its loop (the loop is wrapped in blocks and re-entered at its header). What remains
is the fuel handed over through a global at calls, and the unwind check after each call that may unwind.

Programs: examples/cpu/*.c; **lua** = Lua 5.4.4 (real/build/lua.wasm, when built) running
examples/cpu/bench.lua, built with wmig's setjmp.h: its protected calls go through \`env.invoke_vii\`,
which bench/lib/sjlj-shim.js provides under node:wasi as wmig's host does (a call into the table). **sqlite** = the SQLite 3.46.1 shell (real/build/sqlite3.wasm, when built) on
an in-memory database: 100 000 rows from a recursive CTE, an index, aggregates, a self-join and a LIKE scan
(\`SQLITE_QUERIES\` in bench/cpu-suite.js).

## Run time vs plain

${timeTable}

## Code size vs plain (code section)

${sizeTable}

## Instrumentation

Instrumented = defined functions that read Asyncify's state global after instrumentation and optimization
(inlining folds some functions away, so counts are after \`optimize\`; fast paths' rewind copies not
counted). Where the compact output is byte-identical to Asyncify's, their run-time columns differ only by
measurement noise.

${instrTable}

## Freeze latency with preemption

\`wmig\` run() with \`preempt: true\` (adaptive fuel), ${latency.n} freezes (leave running) of a busy loop; time
from the freeze request on the main thread to the guest's stack being unwound and captured in the worker.

${latencyTable}

The checks themselves bound the part of that latency spent reaching a preemption point: the mean time
between two \`wmig.preempt\` calls with the fixed fuel of the timing runs above (the adaptive fuel
under wmig brings each of these to 50–200 µs):

${intervalTable}

The rest is unwinding, capture and thread scheduling; on this shared 2-core machine (load average
often above 10) the OS deschedules the worker thread for milliseconds at a time, which dominates p99.
`;
if (WRITE) {
  fs.writeFileSync(path.join(ROOT, 'bench/README-cpu.md'), md);
  log('wrote bench/README-cpu.md');
} else {
  process.stdout.write(md);
}
process.exit(0);
