/**
 * CPU benchmark suite for issue 4: what instrumentation costs on compute-bound programs.
 *
 *   npm run build && bash scripts/build-examples.sh && node bench/cpu-suite.js [--write]
 *
 * Programs: examples/cpu/*.c (nbody, fannkuch, hash, interp, spin) and, when scripts/build-real-programs.sh
 * has built them, Lua 5.4 (real/build/lua.wasm) running examples/cpu/bench.lua and the SQLite shell
 * (real/build/sqlite3.wasm) running SQLITE_QUERIES on an in-memory database. Variants, all run in one process
 * under node:wasi so only the module differs:
 *   plain     the clang output
 *   asyncify  binaryen Asyncify with its own scope analysis (every indirect call may unwind), output as is
 *   compact   our call-graph scope (transforms/code-scan.ts): only functions that can reach a WASI call
 *   precise   compact + fast bodies without rewind guards (transforms/fast-path.ts): wmig's default
 *   preempt   precise + flag checks at loop headers calling wmig.preempt (the flag is never set here)
 * Reported: run time (CPU time of instantiate + _start, median of ROUNDS spread over PROCESSES measuring
 * processes, variants interleaved, code optimized up front: bench/lib/cpu-measure.js, once with V8's
 * defaults and once with its fallback to the mid-tier register allocator for huge functions turned
 * off) as a ratio to plain, compile time, module
 * size ratio, instrumentation wall time; then freeze latency with preemption on a busy loop (spin under
 * wmig's run(), FREEZES freezes with leaveRunning: request → stack unwound).
 * --write regenerates bench/README-cpu.md.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, CACHE_DIR, QUIET_STDIO, TMP } from './lib/env.js';
import { instrumentedFunctionCount } from './cpu-suite-count.js';
import { median, percentile, ms, table } from './lib/stats.js';

const { asyncify } = await import(path.join(ROOT, 'dist/transforms/asyncify.js'));
const { readSections } = await import(path.join(ROOT, 'dist/transforms/wasm-binary.js'));
const { run } = await import(path.join(ROOT, 'dist/runtime/index.js'));

const log = (s) => process.stderr.write(`${s}\n`);
const ROUNDS = Number(process.env.BENCH_CPU_ROUNDS ?? 6);
/** One process's compiled code favours or hinders a variant for all its rounds (the same build measured
 * 0.92×, 1.61× and 1.28× on interp in three processes), so the rounds are spread over several. */
const PROCESSES = Number(process.env.BENCH_CPU_PROCESSES ?? 3);
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

/** The code section's size: what instrumentation actually changes. */
const codeSize = (wasm) => readSections(wasm).find((s) => s.id === 10)?.payload.length ?? 0;

/**
 * V8 configurations the timings run under. V8 compiles a function it finds huge with its mid-tier
 * register allocator (cheaper to run, worse code); instrumentation makes big functions bigger
 * (SQLite's sqlite3VdbeExec, 49 KB of code plain), so some that were not huge become so.
 */
const CONFIGS = [
  { key: 'default', flags: [] },
  { key: 'fullRegalloc', flags: ['--no-turbo-use-mid-tier-regalloc-for-huge-functions'] },
];
/** Optimized code only, compiled up front (see bench/lib/cpu-measure.js). */
const MEASURE_FLAGS = ['--no-warnings', '--no-liftoff', '--no-wasm-dynamic-tiering', '--no-wasm-lazy-compilation'];

function geomean(xs) {
  return Math.exp(xs.reduce((a, x) => a + Math.log(x), 0) / xs.length);
}

const keys = VARIANTS.map((v) => v.key);
const results = [];
const moduleDir = path.join(TMP, 'cpu');
fs.mkdirSync(moduleDir);
const manifest = { rounds: Math.ceil(ROUNDS / PROCESSES), programs: [] };
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
  const row = { name: program.name, file: program.file, plainCode: codeSize(wasm), definedFunctions: variants[1].stats.definedFunctions, variants: {} };
  for (const v of variants) {
    row.variants[v.key] = {
      size: v.wasm.length,
      codeRatio: codeSize(v.wasm) / codeSize(wasm),
      instrumentMs: v.instrumentMs,
      functions: v.functions,
    };
    v.file = path.join(moduleDir, `${program.name}.${v.key}.wasm`);
    fs.writeFileSync(v.file, v.wasm);
  }
  row.compactIdentical = Buffer.compare(Buffer.from(variants[1].wasm), Buffer.from(variants[2].wasm)) === 0;
  results.push(row);
  manifest.programs.push({ name: program.name, args: program.args, preopens: program.preopens, variants: variants.map((v) => ({ key: v.key, file: v.file })) });
  log(`${program.name}: instrumented`);
}
const manifestFile = path.join(moduleDir, 'manifest.json');
fs.writeFileSync(manifestFile, JSON.stringify(manifest));

for (const config of CONFIGS) {
  log(`timing, V8 ${config.key}, ${PROCESSES} processes…`);
  const runs = Array.from({ length: PROCESSES }, () => {
    const child = spawnSync(process.execPath, [...MEASURE_FLAGS, ...config.flags, path.join(ROOT, 'bench/lib/cpu-measure.js'), manifestFile], { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 26 });
    if (child.status !== 0) throw new Error(`bench/lib/cpu-measure.js (${config.key}) failed: status ${child.status ?? child.signal}`);
    return JSON.parse(child.stdout.toString()).programs;
  });
  // Every process's samples pooled; compile time, the median process's.
  const measured = Object.fromEntries(results.map((row) => [row.name, Object.fromEntries(keys.map((k) => [k, {
    samples: runs.flatMap((r) => r[row.name][k].samples),
    compileMs: median(runs.map((r) => r[row.name][k].compileMs)),
  }]))]));
  for (const row of results) {
    const m = measured[row.name];
    const plain = median(m.plain.samples);
    for (const key of Object.keys(row.variants)) {
      const t = median(m[key].samples);
      row.variants[key][config.key] = { ms: t, ratio: t / plain, compileMs: m[key].compileMs };
    }
    log(`  ${row.name}: ${keys.map((k) => `${k} ${row.variants[k][config.key].ratio.toFixed(3)}×`).join(', ')}`);
  }
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

/** The C programs of examples/cpu, and everything (with Lua and SQLite when built). */
const C_ONLY = (r) => !r.file;
const geomeanRows = (metric) => [
  ['**geomean, C programs**', C_ONLY],
  ['**geomean, all**', () => true],
].map(([label, pick]) => [label, Object.fromEntries(keys.map((k) => [k, geomean(results.filter(pick).map((r) => metric(r.variants[k])))]))]);

const timeTable = (config) => table(
  ['program', 'plain (ms CPU)', 'asyncify', 'compact', 'precise', 'precise+preempt'],
  [
    ...results.map((r) => [r.name, ms(r.variants.plain[config].ms, 0), ...keys.slice(1).map((k) => `${r.variants[k][config].ratio.toFixed(3)}×`)]),
    ...geomeanRows((v) => v[config].ratio).map(([label, geo]) => [label, '', ...keys.slice(1).map((k) => `**${geo[k].toFixed(3)}×**`)]),
  ],
);
// V8 keeps one compilation per distinct module bytes in a process: where compact's output is
// Asyncify's, byte for byte, its compile time is that reuse, not a compilation.
const compileTable = table(
  ['program', ...CONFIGS.flatMap((c) => keys.map((k) => `${k} (${c.key})`))],
  results.map((r) => [r.name, ...CONFIGS.flatMap((c) => keys.map((k) => (k === 'compact' && r.compactIdentical ? '= asyncify' : ms(r.variants[k][c.key].compileMs, 0))))]),
);
const sizeTable = table(
  ['program', 'plain code (bytes)', 'asyncify', 'compact', 'precise', 'precise+preempt', 'module bytes plain → compact → precise → preempt'],
  [
    ...results.map((r) => [
      r.name, r.plainCode,
      ...keys.slice(1).map((k) => `${r.variants[k].codeRatio.toFixed(3)}×`),
      `${r.variants.plain.size} → ${r.variants.compact.size} → ${r.variants.precise.size} → ${r.variants.preempt.size}`,
    ]),
    ...geomeanRows((v) => v.codeRatio).map(([label, geo]) => [label, '', ...keys.slice(1).map((k) => `**${geo[k].toFixed(3)}×**`), '']),
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

const md = `# CPU benchmark suite (issue 4)

Regenerate: \`npm run build && bash scripts/build-examples.sh && node bench/cpu-suite.js --write\`
(${manifest.rounds * PROCESSES} interleaved rounds per variant after a warm-up, in ${PROCESSES} processes of ${manifest.rounds}, median; Node ${process.version}; ${new Date().toISOString().slice(0, 10)}).
Times are CPU time of instantiate + \`_start\` under node:wasi, all variants in one process
(bench/lib/cpu-measure.js), so only the module differs; the rounds are spread over processes because
one process's compiled code can favour or hinder a variant in all of its rounds (the same interp build
measured 0.92×, 1.61× and 1.28× plain in three processes). That process compiles every module with V8's
optimizing compiler up front (\`${MEASURE_FLAGS.slice(1).join(' ')}\`): the runs execute optimized
code only, with no compiler thread beside them, so the ratios measure the code instrumentation produces
(a normal run starts in V8's baseline compiler and tiers up hot functions in the background; that is in
the whole-run numbers of bench/README-real.md). Compile times are listed apart.
The machine is shared (2 cores, other jobs running): ratios within ~3% of each other are noise.

Variants: **plain** = clang -O2 output; **asyncify** = binaryen Asyncify with its own scope (every function
with an indirect call may unwind), its output as is; **compact** = only functions our call graph says can
reach a WASI call (direct calls + indirect calls to table entries of the exact signature), Asyncify's output
as is (\`wmig instrument --compact\`); **precise** (wmig's default) = compact, and each instrumented function
gets a fast body with Asyncify's rewind guards decided away, beside Asyncify's body as the copy a rewind
enters (transforms/fast-path.ts): faster, at about twice the instrumented code; **precise+preempt** = precise plus
a check of a flag global at loop headers (and entries of recursive functions) that calls the \`wmig.preempt\`
freeze point when the flag is set; wmig sets it only when a freeze is requested, by interrupting the guest's
thread (runtime/process/preempt-interrupt.ts), so the timing runs, which never set it, measure what a
guest pays between freezes. A check is a load and a branch; the call it makes sits outside its loop (the
loop is wrapped in blocks and re-entered at its header), except in loops that make calls of their own in
huge functions, where it stays in place (transforms/preempt.ts says why). What remains is the unwind check
after each call that may unwind, in the functions that have checks and so can unwind.

Programs: examples/cpu/*.c; **lua** = Lua 5.4.4 (real/build/lua.wasm, when built) running
examples/cpu/bench.lua, built with wmig's setjmp.h: its protected calls go through \`env.invoke_vii\`,
which bench/lib/sjlj-shim.js provides under node:wasi as wmig's host does (a call into the table). **sqlite** = the SQLite 3.46.1 shell (real/build/sqlite3.wasm, when built) on
an in-memory database: 100 000 rows from a recursive CTE, an index, aggregates, a self-join and a LIKE scan
(\`SQLITE_QUERIES\` in bench/cpu-suite.js).

## Run time vs plain

With V8's defaults:

${timeTable('default')}

V8 compiles a function it finds huge with its mid-tier register allocator, which compiles faster and
produces slower code. Instrumentation makes big functions bigger, so some cross that line: SQLite's
\`sqlite3VdbeExec\` (49 KB of code plain, 84 KB as a fast body) — and the
plain one is already over it. The same runs with that fallback off
(\`${CONFIGS[1].flags.join(' ')}\`, which \`node\` takes before \`bin/wmig.js\`; it costs compile time, below):

${timeTable('fullRegalloc')}

## Compile time (ms CPU, all functions optimized up front)

${compileTable}

## Code size vs plain (code section)

${sizeTable}

## Instrumentation

Instrumented = defined functions that read Asyncify's state global after instrumentation and optimization
(inlining folds some functions away, so counts are after \`optimize\`; fast paths' rewind copies not
counted). Where the compact output is byte-identical to Asyncify's, their run-time columns differ only by
measurement noise.

${instrTable}

## Freeze latency with preemption

\`wmig\` run() with \`preempt: true\`, ${latency.n} freezes (leave running) of a busy loop; time from the
freeze request on the main thread to the guest's stack being unwound and captured in the worker. The
request reaches the computing guest as an interrupt (V8 checks for one at loop headers), which sets
the flag its next check reads.

${latencyTable}

That time is the interrupt's way to the worker (an inspector message, dispatched in the worker when V8
next checks for interrupts), the unwind and the capture; the first freeze of a process takes a few
milliseconds more (code run for the first time). On this shared 2-core machine the OS may also
deschedule the worker thread for milliseconds at a time.
`;
if (WRITE) {
  fs.writeFileSync(path.join(ROOT, 'bench/README-cpu.md'), md);
  log('wrote bench/README-cpu.md');
} else {
  process.stdout.write(md);
}
process.exit(0);
