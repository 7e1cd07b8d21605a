/**
 * Real programs (issue 5 item 6): bzip2, minigzip, the SQLite shell, Lua, rsum, yosys from real/build/.
 *   npm run bench:real      # writes bench/README-real.md; progress on stderr
 * 1. Instrumentation, cold (the bench's fresh WMIG_CACHE_DIR), through instrumentCached, one child
 *    process per module (so peak RSS is the transform's); module and code-section sizes.
 * 2. Run time in this process, median of BENCH_REAL_ROUNDS (7) interleaved rounds after a warm-up round:
 *    plain module under node:wasi (the baseline), instrumented module under node:wasi (Asyncify alone),
 *    wmig's run() (worker + wmig's WASI host). Modules are compiled once, as in bench/instrumentation.js.
 * 3. Migration, whole processes through the CLI, median of BENCH_REAL_MIGRATIONS (3) rounds: the
 *    uninterrupted `wmig run`, `wmig run --freeze-at-call MID` (MID = half the WASI calls, counted by
 *    run()) and `wmig thaw` in a fresh process with /data re-bound to a copy.
 * Every run's stdout, stderr, exit status and /data files must equal the warm-up's baseline run,
 * byte for byte (frozen + thawed output concatenated); any difference aborts the benchmark.
 * npm runs it with --stack-size=4000 (KiB): the node:wasi runs happen on this main thread, whose V8
 * stack (~1 MiB) yosys's recursion outgrew once, while run()'s worker threads have 4 MiB.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WASI } from 'node:wasi';
import { CACHE_DIR, DIST, ROOT, TMP, WMIG_BIN, now } from './lib/env.js';
import { fullGc } from './lib/gc.js';
import { sjljImports } from './lib/sjlj-shim.js';
import { median, ms, ratio, table } from './lib/stats.js';
import { CASES, realModule } from './lib/real-workloads.js';

const { ExitCode, inspectSnapshot, loadModule, run } = await import(path.join(DIST, 'runtime/index.js'));
const { readSections } = await import(path.join(DIST, 'transforms/wasm-binary.js'));

const ROUNDS = Number(process.env.BENCH_REAL_ROUNDS ?? 7);
const MIGRATIONS = Number(process.env.BENCH_REAL_MIGRATIONS ?? 3);
const OUTPUT = path.join(ROOT, 'bench/README-real.md');
const CODE_SECTION = 10;
const log = (line) => console.error(line);
const loadSamples = [];
const sampleLoad = () => loadSamples.push(os.loadavg()[0]);

// --- a sandbox per run: /data seeded from the case, stdin from a file, stdout/stderr into files ---
// Regular files, not pipes or /dev/null: libc treats a character device as a terminal (bzip2 -c
// refuses to write to one), and the same kind of file for every variant keeps WASI calls identical.

let sandboxes = 0;

function sandbox(c, stdin = c.stdin) {
  const dir = path.join(TMP, `run-${sandboxes++}`);
  const data = path.join(dir, 'data');
  fs.mkdirSync(data, { recursive: true });
  for (const [rel, bytes] of Object.entries(c.files ?? {})) {
    fs.mkdirSync(path.dirname(path.join(data, rel)), { recursive: true });
    fs.writeFileSync(path.join(data, rel), bytes);
  }
  fs.writeFileSync(path.join(dir, 'stdin'), stdin);
  const fds = [fs.openSync(path.join(dir, 'stdin'), 'r'), fs.openSync(path.join(dir, 'stdout'), 'w'), fs.openSync(path.join(dir, 'stderr'), 'w')];
  return {
    dir,
    data,
    stdio: { stdin: fds[0], stdout: fds[1], stderr: fds[2] },
    /** Closes the files and returns what the run left (status given by the caller); removes the sandbox. */
    finish(status) {
      fds.forEach(closeUnlessClosed);
      const outputs = {
        status,
        stdout: fs.readFileSync(path.join(dir, 'stdout')),
        stderr: fs.readFileSync(path.join(dir, 'stderr')),
        files: c.files ? readTree(data) : {},
      };
      fs.rmSync(dir, { recursive: true, force: true });
      return outputs;
    },
  };
}

// node:wasi closes the host fd when the guest closes its stdout (bzip2 -c does); nothing else opens
// files between a run and this close, so EBADF can only mean that.
function closeUnlessClosed(fd) {
  try {
    fs.closeSync(fd);
  } catch (e) {
    if (e.code !== 'EBADF') throw e;
  }
}

function readTree(dir, rel = '', out = {}) {
  for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
    const p = rel ? `${rel}/${name}` : name;
    if (fs.statSync(path.join(dir, p)).isDirectory()) readTree(dir, p, out);
    else out[p] = fs.readFileSync(path.join(dir, p));
  }
  return out;
}

/** What differs between two runs' outputs ('' when byte-identical). */
function difference(expected, got) {
  const diffs = [];
  if (got.status !== expected.status) diffs.push(`status ${got.status} != ${expected.status}`);
  if (!got.stdout.equals(expected.stdout)) diffs.push(`stdout differs (${got.stdout.length} vs ${expected.stdout.length} bytes)`);
  if (!got.stderr.equals(expected.stderr)) diffs.push(`stderr differs: ${JSON.stringify(got.stderr.toString('latin1').slice(-300))}`);
  for (const name of new Set([...Object.keys(expected.files), ...Object.keys(got.files)])) {
    const a = expected.files[name];
    const b = got.files[name];
    if (!a || !b) diffs.push(`file ${name} ${a ? 'missing' : 'extra'}`);
    else if (!a.equals(b)) diffs.push(`file ${name} differs`);
  }
  return diffs.join('; ');
}

function check(c, what, expected, got) {
  const diff = difference(expected, got);
  if (diff) throw new Error(`${c.name}: ${what} does not match the baseline run: ${diff}`);
}

// --- 1. instrumentation, cold ---

// GNU time's peak RSS covers the process tree (wait4 folds reaped children in): with the native
// wasm-opt, Asyncify runs in a child process whose memory node's own maxRSS would miss.
const GNU_TIME = '/usr/bin/time';
const PEAK = /^wmig-peak-kb (\d+)$/m;

function instrumentCold(c) {
  const command = [process.execPath, path.join(ROOT, 'bench/lib/instrument-cold.js'), realModule(c.module), CACHE_DIR];
  const timed = fs.existsSync(GNU_TIME);
  const r = timed
    ? spawnSync(GNU_TIME, ['-f', 'wmig-peak-kb %M', ...command], { encoding: 'utf8' })
    : spawnSync(command[0], command.slice(1), { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${c.name}: instrumentation failed: ${r.stderr}`);
  const result = JSON.parse(r.stdout);
  const peak = timed ? PEAK.exec(r.stderr) : null;
  return { ...result, peakRssBytes: peak ? Number(peak[1]) * 1024 : result.peakRssBytes, peakCoversTree: peak !== null };
}

const codeSectionBytes = (wasm) => readSections(wasm).find((s) => s.id === CODE_SECTION).payload.length;

// --- 2. run time, in this process ---

function underNodeWasi(c, module) {
  const box = sandbox(c);
  const t0 = now();
  const wasi = new WASI({
    version: 'preview1',
    args: [c.module, ...c.args],
    env: c.env ?? {},
    preopens: { ...(c.files ? { '/data': box.data } : {}), ...c.readOnly },
    returnOnExit: true,
    ...box.stdio,
  });
  // Lua's setjmp/longjmp imports (wmig's setjmp.h), as sjlj-shim.js provides them outside wmig.
  const sjlj = sjljImports(module);
  const instance = new WebAssembly.Instance(module, { ...wasi.getImportObject(), ...sjlj.imports });
  sjlj.bind(instance);
  const status = wasi.start(instance);
  return { ms: now() - t0, outputs: box.finish(status) };
}

async function underWmigRun(c, loaded) {
  const box = sandbox(c);
  const t0 = now();
  const proc = await run(loaded, {
    args: c.args,
    env: c.env,
    mounts: [
      ...(c.files ? [{ kind: 'host', hostPath: box.data, guestPath: '/data' }] : []),
      ...Object.entries(c.readOnly ?? {}).map(([guestPath, hostPath]) => ({ kind: 'host', hostPath, guestPath, readOnly: true })),
    ],
    stdio: box.stdio,
  });
  const result = await proc.result;
  const t = now() - t0;
  if (result.state !== 'exited') throw new Error(`${c.name} under run(): ${JSON.stringify(result)}`);
  return { ms: t, outputs: box.finish(result.code), callCount: result.callCount };
}

/** The native tool as a whole process, for scale (a different binary: not a baseline). */
function nativeProcess(c) {
  const box = sandbox(c);
  const t0 = now();
  const r = spawnSync(c.native.command, c.native.args, { cwd: box.data, stdio: [box.stdio.stdin, box.stdio.stdout, box.stdio.stderr] });
  return { ms: now() - t0, outputs: box.finish(r.status) };
}

/** The variants of one case, baseline first (its warm-up run is the reference for every output). */
async function variantsOf(c) {
  const plain = new WebAssembly.Module(fs.readFileSync(realModule(c.module)));
  const loaded = await loadModule(realModule(c.module), { cacheDir: CACHE_DIR });
  const instrumented = new WebAssembly.Module(loaded.bytes); // its own compilation, like plain's
  const wmigRun = { key: 'wmig', fn: () => underWmigRun(c, loaded) };
  return [
    { key: 'plain', fn: () => underNodeWasi(c, plain) },
    { key: 'instrumented', fn: () => underNodeWasi(c, instrumented) },
    wmigRun,
    ...(c.native ? [{ key: 'native', fn: () => nativeProcess(c) }] : []),
  ];
}

// --- 3. migration, whole processes through the CLI ---

/** `node bin/wmig.js ARGS…` in a sandbox, timed as a whole process. */
function cli(box, args) {
  const t0 = now();
  const r = spawnSync(process.execPath, [WMIG_BIN, ...args], { stdio: [box.stdio.stdin, box.stdio.stdout, box.stdio.stderr] });
  return { ms: now() - t0, status: r.status ?? r.signal };
}

const readOnlyFlags = (c) => Object.entries(c.readOnly ?? {}).flatMap(([guest, host]) => ['--dir', `${host}::${guest}:ro`]);
const dataFlags = (c, dir) => [
  ...(c.files ? ['--dir', `${dir}::/data`] : []),
  ...readOnlyFlags(c),
  ...Object.entries(c.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
];

// -v makes wmig report the capture time on stderr; that line is taken out of the guest's stderr.
const FREEZE_REPORT = /wmig: frozen before call \d+: .*, captured in ([\d.]+) ms\)\n/;

function migrateOnce(c, callNumber) {
  const uninterruptedBox = sandbox(c);
  const uninterrupted = cli(uninterruptedBox, ['run', ...dataFlags(c, uninterruptedBox.data), realModule(c.module), ...c.args]);
  const uninterruptedOutputs = uninterruptedBox.finish(uninterrupted.status);

  const snapshot = path.join(TMP, `${c.name}.wmig`);
  const source = sandbox(c);
  const freeze = cli(source, ['run', '-v', ...dataFlags(c, source.data), '--freeze-at-call', String(callNumber), '--snapshot', snapshot, realModule(c.module), ...c.args]);
  if (freeze.status !== ExitCode.FROZEN) throw new Error(`${c.name}: freeze at call ${callNumber}: status ${freeze.status}: ${source.finish(freeze.status).stderr.toString().slice(-500)}`);
  const described = inspectSnapshot(snapshot);
  const stdinConsumed = described.host.handles.find((h) => h.fd === 0 && h.kind === 'stdio')?.offset ?? 0;
  // "Elsewhere": an empty /data filled with a copy of the source's, and the rest of stdin.
  const destination = sandbox({ ...c, files: c.files && {} }, c.stdin.subarray(stdinConsumed));
  if (c.files) fs.cpSync(source.data, destination.data, { recursive: true });
  const frozen = source.finish(freeze.status);
  const report = FREEZE_REPORT.exec(frozen.stderr.toString('latin1'));
  if (!report) throw new Error(`${c.name}: no freeze report on stderr`);
  const guestStderr = Buffer.concat([frozen.stderr.subarray(0, report.index), frozen.stderr.subarray(report.index + report[0].length)]);

  const thaw = cli(destination, ['thaw', ...(c.files ? ['--dir', `${destination.data}::/data`] : []), ...readOnlyFlags(c), snapshot]);
  const thawed = destination.finish(thaw.status);
  fs.rmSync(snapshot);
  return {
    uninterrupted: { ms: uninterrupted.ms, outputs: uninterruptedOutputs },
    freezeMs: freeze.ms,
    captureMs: Number(report[1]),
    thawMs: thaw.ms,
    snapshot: described,
    combined: {
      status: thawed.status,
      stdout: Buffer.concat([frozen.stdout, thawed.stdout]),
      stderr: Buffer.concat([guestStderr, thawed.stderr]),
      files: thawed.files,
    },
  };
}

// --- the run ---

const only = process.env.BENCH_REAL_ONLY?.split(',');
const cases = CASES.filter((c) => !only || only.includes(c.name));
for (const c of cases) {
  if (!fs.existsSync(realModule(c.module))) throw new Error(`${realModule(c.module)} missing: run bash scripts/build-real-programs.sh`);
}
const started = now();
const loadBefore = os.loadavg();
sampleLoad();

log('1. instrumentation (cold cache)…');
const instrumentation = {};
for (const c of cases) {
  instrumentation[c.name] = instrumentCold(c);
  sampleLoad();
  log(`  ${c.name}: ${ms(instrumentation[c.name].ms / 1000, 1)} s`);
}

log('2. run time…');
const variants = {};
const samples = {};
const reference = {};
const callCounts = {};
for (const c of cases) {
  variants[c.name] = await variantsOf(c);
  samples[c.name] = Object.fromEntries(variants[c.name].map((v) => [v.key, []]));
  callCounts[c.name] = new Set();
}
// Round 0 warms up (V8 tiering, page cache) and sets each case's reference outputs; not timed.
for (let round = 0; round <= ROUNDS; round++) {
  for (const c of cases) {
    const vs = variants[c.name];
    for (let i = 0; i < vs.length; i++) {
      const v = vs[(i + round) % vs.length];
      // Every sample starts from a clean heap. It also finalizes the last run's node:wasi WASI object
      // here, not inside the next run, where Node 20 intermittently aborts in uvwasi_fd_table_free
      // (nodejs/node#52402; seen here with bzip2 after a few runs).
      fullGc();
      const r = await v.fn();
      if (round === 0 && i === 0) reference[c.name] = r.outputs;
      else check(c, `${v.key} run (round ${round})`, reference[c.name], r.outputs);
      if (r.callCount !== undefined) callCounts[c.name].add(r.callCount);
      if (round > 0) samples[c.name][v.key].push(r.ms);
    }
  }
  sampleLoad();
  log(`  round ${round}/${ROUNDS}${round === 0 ? ' (warm-up)' : ''}`);
}

log('3. migration at the middle WASI call…');
const migrations = {};
for (const c of cases) {
  // The call count decides the freeze point, so it must not depend on the run.
  if (callCounts[c.name].size !== 1) throw new Error(`${c.name}: WASI call count varies between runs: ${[...callCounts[c.name]]}`);
  const calls = [...callCounts[c.name]][0];
  const middle = Math.max(1, Math.floor(calls / 2));
  const rounds = [];
  for (let i = 0; i < MIGRATIONS; i++) {
    const m = migrateOnce(c, middle);
    check(c, 'uninterrupted `wmig run`', reference[c.name], m.uninterrupted.outputs);
    check(c, `frozen at call ${middle} + thawed`, reference[c.name], m.combined);
    rounds.push(m);
    sampleLoad();
  }
  migrations[c.name] = { calls, middle, rounds };
  log(`  ${c.name}: ${MIGRATIONS} × freeze at ${middle}/${calls} + thaw`);
}

// --- the report ---

const MiB = (bytes) => (bytes / (1 << 20)).toFixed(0);
const sizes = (plain, instrumented) => `${plain.toLocaleString('en')} → ${instrumented.toLocaleString('en')} (${ratio(instrumented / plain)})`;
const seconds = (x) => `${ms(x / 1000, 1)} s`;

const instrumentationRows = cases.map((c) => {
  const i = instrumentation[c.name];
  const plain = fs.readFileSync(realModule(c.module));
  const instrumented = fs.readFileSync(i.cachePath);
  const slowest = Object.entries(i.stageMs).sort((a, b) => b[1] - a[1]).slice(0, 2).map(([stage, t]) => `${stage} ${seconds(t)}`).join(', ');
  const scope = i.stats.preciseFunctions === null ? `all ${i.stats.definedFunctions} (${i.stats.fallback})` : `${i.stats.preciseFunctions} of ${i.stats.definedFunctions}`;
  return [
    c.name,
    sizes(plain.length, instrumented.length),
    sizes(codeSectionBytes(plain), codeSectionBytes(instrumented)),
    `**${seconds(i.ms)}** (${slowest})`,
    MiB(i.peakRssBytes),
    scope,
    i.stats.tool,
  ];
});

const med = (c, key) => median(samples[c.name][key]);
const runRows = cases.map((c) => {
  const plain = med(c, 'plain');
  return [
    c.workload,
    `${ms(plain, 0)} ms`,
    `${ms(med(c, 'instrumented'), 0)} ms`,
    `${ms(med(c, 'wmig'), 0)} ms`,
    `**${ratio(med(c, 'instrumented') / plain)}**`,
    `**${ratio(med(c, 'wmig') / plain)}**`,
    c.native ? `native ${c.native.command}, whole process: ${ms(med(c, 'native'), 0)} ms` : '',
  ];
});

const migrationRows = cases.map((c) => {
  const { calls, middle, rounds } = migrations[c.name];
  const m = (f) => median(rounds.map(f));
  const snapshot = rounds[0].snapshot; // the same freeze point every round: sizes agree
  const uninterrupted = m((r) => r.uninterrupted.ms);
  const freeze = m((r) => r.freezeMs);
  const thaw = m((r) => r.thawMs);
  return [
    c.name,
    `${middle} / ${calls}`,
    `${ms(uninterrupted, 0)} ms`,
    `${ms(freeze, 0)} ms`,
    `${ms(m((r) => r.captureMs), 1)} ms`,
    `${ms(thaw, 0)} ms`,
    ratio((freeze + thaw) / uninterrupted),
    `${snapshot.fileBytes.toLocaleString('en')} (module ${snapshot.module.bytes.toLocaleString('en')})`,
    `${snapshot.pages.present} / ${snapshot.pages.total}`,
  ];
});

const runCount = cases.reduce((n, c) => n + variants[c.name].length, 0) * (ROUNDS + 1) + cases.length * MIGRATIONS * 2;
const cpu = os.cpus();
const load = (l) => l.map((x) => x.toFixed(2)).join(' ');
const markdown = [
  '# Real programs: instrumentation, run time, migration',
  '',
  `Generated by \`npm run bench:real\` (bench/real-programs.js) on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; do not edit by hand.`,
  `Knobs: \`BENCH_REAL_ROUNDS\`=${ROUNDS}, \`BENCH_REAL_MIGRATIONS\`=${MIGRATIONS}, \`BENCH_REAL_ONLY\` (comma-separated program names).`,
  '',
  `Node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${os.platform()} ${os.release()}; total ${ms((now() - started) / 1000, 0)} s.`,
  `**The machine is shared** (other jobs run on it; load varies): load average (1, 5, 15 min) before ${load(loadBefore)}, after ${load(os.loadavg())};`,
  `1-min load sampled between rounds ${ms(Math.min(...loadSamples), 2)}–${ms(Math.max(...loadSamples), 2)}. Ratios are against baselines measured in the same rounds, so they`,
  'suffer less from load than absolute times. Programs are built by `bash scripts/build-real-programs.sh` (see docs/real-programs.md).',
  '',
  `**Outputs checked:** all ${runCount} runs (every variant, every round, the uninterrupted CLI runs and each frozen + thawed pair)`,
  "printed the same stdout and stderr, exited with the same status and left the same /data files, byte for byte, as each program's",
  'baseline run (plain under node:wasi; for Lua also native lua5.4). A mismatch aborts the benchmark.',
  '',
  '## 1. Instrumentation (cold cache)',
  '',
  `\`instrumentCached\` from dist/transforms into an empty \`WMIG_CACHE_DIR\`, one child process per program (default options: precise scope, no`,
  `preemption, optimize level 2). Wall time with its two slowest stages; peak RSS of that process ${cases.every((c) => instrumentation[c.name].peakCoversTree) ? 'and its children (wasm-opt), by GNU time' : '(node alone: /usr/bin/time is missing, so wasm-opt\'s memory is not counted)'} (node with wmig loaded: ${MiB(Math.max(...cases.map((c) => instrumentation[c.name].rssBeforeBytes)))} MiB before the call).`,
  '',
  table(['program', 'module bytes, plain → instrumented', 'code section bytes, plain → instrumented', 'instrumentation wall time', 'peak RSS MiB', 'functions instrumented', 'backend'], instrumentationRows),
  '',
  'Backend: the tool that ran Asyncify — the native wasm-opt scripts/ensure-wasm-opt.sh unpacks, or binaryen.js without it (`WMIG_WASM_OPT=off`).',
  '',
  `## 2. Run time (median of ${ROUNDS} interleaved rounds after a warm-up round)`,
  '',
  'In this process, each module compiled once: (a) the plain module under node:wasi — the baseline; (b) the instrumented module under',
  "node:wasi — what Asyncify alone costs; (c) wmig's `run()` — worker thread, wmig's WASI host, freeze checks at every call, the path the CLI",
  'uses (its fixed cost, ≈ 0.1 s, is row (c0) of bench/README.md section 1). Each sample is instantiate + run to exit; stdio are regular files.',
  '',
  table(['workload', '(a) plain, node:wasi', '(b) instrumented, node:wasi', "(c) wmig run()", '(b)/(a)', '(c)/(a)', 'reference'], runRows),
  '',
  'Lua is built with wmig\'s setjmp.h: its protected calls import `env.invoke_vii` and its longjmp `wmig.longjmp_unwind`. Under node:wasi,',
  'bench/lib/sjlj-shim.js provides them (a longjmp is a JavaScript exception the invoke catches; wmig unwinds with Asyncify instead).',
  'The native lua5.4 time (a different binary, compiled natively; a whole process) is shown only for scale.',
  '',
  `## 3. Migration at the middle WASI call (whole processes, median of ${MIGRATIONS})`,
  '',
  '`node bin/wmig.js run --freeze-at-call MID -v` (MID = half the WASI calls `run()` counted), then `node bin/wmig.js thaw` in a fresh',
  'process with /data re-bound to a copy of the directory and the rest of stdin. Times are whole processes (node start, module from the',
  'warm cache, compile); *capture* is the freeze itself as wmig reports it (`-v`: request → stack unwound, globals and host state captured).',
  'The snapshot embeds the instrumented module; only non-zero memory pages are stored.',
  '',
  table(['program', 'frozen before call', 'uninterrupted `wmig run`', 'freeze run', 'capture', 'thaw run', '(freeze + thaw) / uninterrupted', 'snapshot bytes', 'pages present / total'], migrationRows),
  '',
].join('\n');

fs.writeFileSync(OUTPUT, markdown);
log(`wrote ${path.relative(ROOT, OUTPUT)} in ${ms((now() - started) / 1000, 0)} s`);
