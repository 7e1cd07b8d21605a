/**
 * 3. Thaw latency of a 64 MiB heapidle snapshot.
 *  (i) Engine level, in fresh worker threads (lib/engine-thaw-worker.js), compiled module cached:
 *      decodeSnapshot (verify on / off),
 *      WasiHost.restore, Guest.instantiate, guest.restore (split into memory copy-in and the rest),
 *      guest.resume() up to the moment the rewind re-enters the pending WASI call (the first resumed
 *      instruction), then one loop iteration until the next call unwinds again.
 *      Target: thaw to first resumed instruction ≤ 3 ms plus memory copy-in.
 * (ii) Process level: library thaw() until state 'running' (worker spawned, memory restored), and
 *      whole-process `node bin/wmig.js thaw FILE` of a snapshot with almost no run time left,
 *      against `node -e ''`.
 */
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import fs from 'node:fs';
import path from 'node:path';
import { QUIET_STDIO, ROOT, WMIG_BIN, example, now } from './lib/env.js';
import { load } from './lib/guest-helpers.js';
import { startHeapidle } from './lib/heapidle.js';
import { snapshotAtFirstCall } from './lib/snapshots.js';
import { median, ms, percentile, ratio, table } from './lib/stats.js';
import { tiny } from './lib/tiny.js';

const { thaw, decodeSnapshot } = await import(path.join(ROOT, 'dist/runtime/index.js'));

const ENGINE_WORKERS = Number(process.env.BENCH_ENGINE_WORKERS ?? 5);
const THAWS_PER_WORKER = Number(process.env.BENCH_THAWS_PER_WORKER ?? 5);
const PROCESS_THAWS = Number(process.env.BENCH_PROCESS_THAWS ?? 10);
const WHOLE_ROUNDS = Number(process.env.BENCH_WHOLE_ROUNDS ?? 7);
const HEAP_MIB = 64;

const WORKER = new URL('./lib/engine-thaw-worker.js', import.meta.url);

/** `count` engine-level thaws in one fresh worker (see lib/engine-thaw-worker.js); resolves with their phase durations. */
function engineThaws(shared, loaded, count) {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER, { workerData: { bytes: shared, module: loaded.compiled, info: loaded.info, stdio: QUIET_STDIO, count } });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`engine thaw worker exited ${code}`)));
  });
}

async function processThaw(source) {
  const t0 = now();
  let runningAt = NaN;
  const proc = await thaw(source, { stdio: QUIET_STDIO });
  const launchedAt = now();
  await new Promise((resolve, reject) => {
    proc.on('state', (to) => {
      if (to === 'running') {
        runningAt = now();
        resolve();
      }
    });
    proc.result.then(() => reject(new Error(`thawed process ended before running`)), reject);
  });
  proc.result.catch(() => {});
  await proc.kill();
  return { main: launchedAt - t0, total: runningAt - t0 };
}

function wholeProcess(args) {
  const t0 = now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'ignore'] });
  const t = now() - t0;
  return { total: t, status: r.status ?? r.signal, stdout: r.stdout.toString() };
}

export async function benchThaw(log = console.error) {
  const loaded = await load(example('heapidle'));

  // A snapshot of a running 64 MiB heapidle, taken mid-loop, stopping the process.
  const { proc, stop } = await startHeapidle(loaded, HEAP_MIB, 3600);
  const report = await proc.freeze({});
  await stop();
  const bytes = report.bytes;
  const snapFile = path.join(process.env.WMIG_CACHE_DIR, '..', 'thaw-heapidle.wmig');
  fs.writeFileSync(snapFile, bytes);
  const snap = decodeSnapshot(bytes);
  if (snap.module.digest !== loaded.digest) throw new Error('snapshot module digest differs from the loaded module');
  const memoryBytes = snap.memory.pageCount * 65536;

  log(`  ${ENGINE_WORKERS}×${THAWS_PER_WORKER} engine-level thaws`);
  // The snapshot in shared memory: every worker decodes the same bytes without a copy.
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
  shared.set(bytes);
  await engineThaws(shared, loaded, 1); // warm-up (page cache, tier-up of the shared module)
  const cold = [];
  const engine = []; // warm
  for (let i = 0; i < ENGINE_WORKERS; i++) {
    const [first, ...rest] = await engineThaws(shared, loaded, THAWS_PER_WORKER);
    cold.push(first);
    engine.push(...rest);
  }

  const src = new Uint8Array(memoryBytes).fill(0x5a);
  const warmDst = new Uint8Array(memoryBytes).fill(1);
  const setWarm = await tiny('Uint8Array.set 64 MiB into touched memory', () => warmDst.set(src), engine.length);
  const setFresh = await tiny('Uint8Array.set 64 MiB into a fresh buffer', () => new Uint8Array(memoryBytes).set(src), engine.length);

  // The same for a 1 MiB heapidle: what the fixed part of a thaw costs when memory is small.
  const small = await (async () => {
    const h = await startHeapidle(loaded, 1, 3600);
    const r = await h.proc.freeze({});
    await h.stop();
    const sh = new Uint8Array(new SharedArrayBuffer(r.bytes.length));
    sh.set(r.bytes);
    const c = [];
    const w = [];
    for (let i = 0; i < ENGINE_WORKERS; i++) {
      const [first, ...rest] = await engineThaws(sh, loaded, THAWS_PER_WORKER);
      c.push(first);
      w.push(...rest);
    }
    return { cold: c, warm: w };
  })();

  log(`  ${PROCESS_THAWS}×2 process-level thaws`);
  const fromFile = [];
  const fromBytes = [];
  await processThaw(snapFile); // warm-up
  for (let i = 0; i < PROCESS_THAWS; i++) {
    fromFile.push(await processThaw(snapFile));
    fromBytes.push(await processThaw(bytes));
  }

  log(`  whole-process thaw ×${WHOLE_ROUNDS}`);
  // Frozen before the first clock call after "ready" with seconds=0: the thawed process checks the
  // time once, verifies its 64 MiB heap, prints "done" and exits.
  const shortFile = await snapshotAtFirstCall('heapidle', [String(HEAP_MIB), '0'], 'clock_time_get');
  const variants = {
    node: { name: "`node -e ''`", args: ['-e', ''] },
    thaw: { name: '`node bin/wmig.js thaw` (64 MiB heapidle, ends right after)', args: [WMIG_BIN, 'thaw', shortFile], expect: 'done' },
    rerun: { name: `\`node bin/wmig.js run heapidle.wasm ${HEAP_MIB} 0\` (for scale: fill + verify from scratch)`, args: [WMIG_BIN, 'run', example('heapidle'), String(HEAP_MIB), '0'], expect: 'done' },
  };
  const keys = Object.keys(variants);
  const whole = Object.fromEntries(keys.map((k) => [k, []]));
  const problems = [];
  for (const k of keys) wholeProcess(variants[k].args); // warm-up
  for (let r = 0; r < WHOLE_ROUNDS; r++) {
    for (const k of keys.map((_, i) => keys[(i + r) % keys.length])) {
      const s = wholeProcess(variants[k].args);
      if (s.status !== 0 || (variants[k].expect && !s.stdout.includes(variants[k].expect))) {
        problems.push(`${k}: status ${s.status}, stdout ${JSON.stringify(s.stdout.slice(0, 60))}`);
      }
      whole[k].push(s.total);
    }
  }
  fs.rmSync(shortFile, { force: true });

  // ---- tables ----
  const col = (k) => engine.map((t) => t[k]);
  const p50 = (k) => percentile(col(k), 50);
  const p99 = (k) => percentile(col(k), 99);
  const coldP50 = (k) => percentile(cold.map((t) => t[k]), 50);
  const phase = (label, k, inTarget) => [label, ms(coldP50(k), 3), ms(p50(k), 3), ms(p99(k), 3), inTarget ? 'yes' : 'no'];
  const sumOf = (t) => t.decode + t.hostRestore + t.instantiate + t.restore - t.copyIn + t.rewind;
  const sums = engine.map(sumOf);
  const coldSumP50 = percentile(cold.map(sumOf), 50);
  const sumP50 = percentile(sums, 50);
  const sumP99 = percentile(sums, 99);
  const engineRows = [
    phase('decodeSnapshot, verify on (main thread in `thaw()`; checksum + page hashes)', 'decodeVerify', false),
    phase('decodeSnapshot, verify off (worker)', 'decode', true),
    phase('WasiHost.restore', 'hostRestore', true),
    phase('Guest.instantiate (module compiled and cached)', 'instantiate', true),
    phase('guest.restore, total', 'restore', false),
    phase('  of which memory copy-in (restore − restore without pages)', 'copyIn', false),
    phase('  of which grow + zero-fill of initial pages + globals (restore without pages)', 'restoreNoPages', true),
    phase('  of which globals alone', 'globals', false),
    phase('resume(): rewind until the pending WASI call runs (first resumed instruction)', 'rewind', true),
    phase('one loop iteration, to the next WASI call', 'iteration', false),
    phase('unwind at that call', 'unwind', false),
    ['**sum of the in-target phases (thaw to first resumed instruction, minus copy-in)**', `**${ms(coldSumP50, 3)}**`, `**${ms(sumP50, 3)}**`, `**${ms(sumP99, 3)}**`, '≤ 3 ms'],
    [
      'same sum for a 1 MiB heapidle snapshot (fixed part of a thaw)',
      ms(percentile(small.cold.map(sumOf), 50), 3),
      ms(percentile(small.warm.map(sumOf), 50), 3),
      ms(percentile(small.warm.map(sumOf), 99), 3),
      '≤ 3 ms',
    ],
    [
      '  of which rewind (1 MiB: no 64 MiB grow, so no GC lands in it)',
      ms(percentile(small.cold.map((t) => t.rewind), 50), 3),
      ms(percentile(small.warm.map((t) => t.rewind), 50), 3),
      ms(percentile(small.warm.map((t) => t.rewind), 99), 3),
      '',
    ],
    ['baseline: `Uint8Array.set` of 64 MiB into touched memory', '', ms(setWarm.p50, 3), ms(setWarm.p99, 3), ''],
    ['baseline: `Uint8Array.set` of 64 MiB into a fresh buffer (page faults)', '', ms(setFresh.p50, 3), ms(setFresh.p99, 3), ''],
  ];
  const procRow = (label, xs, f) => [label, ms(percentile(xs.map(f), 50)), ms(percentile(xs.map(f), 99))];
  const processRows = [
    procRow('`thaw(path)`: main thread (read, verify, module digest) until the worker is launched', fromFile, (s) => s.main),
    procRow("`thaw(path)`: call → state 'running' (worker spawned, memory restored)", fromFile, (s) => s.total),
    procRow('`thaw(bytes)`: main thread until the worker is launched', fromBytes, (s) => s.main),
    procRow("`thaw(bytes)`: call → state 'running' (bytes are cloned into the worker)", fromBytes, (s) => s.total),
  ];
  const nodeBase = median(whole.node);
  const wholeRows = keys.map((k) => [variants[k].name, ms(median(whole[k]), 0), ratio(median(whole[k]) / nodeBase), ms(median(whole[k]) - nodeBase, 0)]);

  return [
    `### 3. Thaw of a ${HEAP_MIB} MiB-heap snapshot (heapidle; ${(bytes.length / 2 ** 20).toFixed(2)} MiB, ${snap.memory.pages.length}/${snap.memory.pageCount} pages present)`,
    '',
    `(i) Engine level, compiled module cached, phases timed inside a fresh worker thread (a clean isolate like wmig's guest worker). ` +
      `${ENGINE_WORKERS} workers × ${THAWS_PER_WORKER} thaws, full GC before each: "cold" = each worker's first thaw (JS code not yet optimized, as in every real thaw), ` +
      `"warm" = the other ${engine.length}:`,
    '',
    table(['phase', 'cold p50 ms', 'warm p50 ms', 'warm p99 ms', 'counts toward ≤ 3 ms'], engineRows),
    '',
    `Thaw to first resumed instruction, minus copy-in: warm p50 ${ms(sumP50, 2)} ms, p99 ${ms(sumP99, 2)} ms — target ≤ 3 ms ${sumP99 <= 3 ? 'met' : sumP50 <= 3 ? 'met at p50, missed at p99' : 'MISSED'}; ` +
      `cold p50 ${ms(coldSumP50, 2)} ms (${coldSumP50 <= 3 ? 'met' : 'missed'}). ` +
      `Copy-in p50 ${ms(p50('copyIn'))} ms is ${ratio(p50('copyIn') / setFresh.p50)} a fresh-buffer \`Uint8Array.set\`. ` +
      `Verification adds ${ms(p50('decodeVerify') - p50('decode'))} ms on the main thread.`,
    '',
    `(ii) Process level — ${PROCESS_THAWS} thaws each:`,
    '',
    table(['measure', 'p50 ms', 'p99 ms'], processRows),
    '',
    `Whole process, median of ${WHOLE_ROUNDS} interleaved runs:`,
    '',
    table(['command', 'median ms', "vs `node -e ''`", "minus `node -e ''` (ms)"], wholeRows),
    ...(problems.length ? ['', ...problems.map((p) => `- unexpected: ${p}`)] : []),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await benchThaw());
