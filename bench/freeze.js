/**
 * 2. Freeze latency of a process with a dense 64 MiB heap (examples/build/heapidle.wasm), started
 *    with run() and frozen with proc.freeze({ leaveRunning: true }) while it loops on clock_gettime.
 *    request→captured = capturedAt − requestedAt: the worker saw the flag at its next WASI call,
 *      unwound the stack, read globals and host state; memory is held in place, not copied.
 *    captured→emitted = encode to bytes (memory) or atomic file write incl. fsync (file).
 *    Baselines (same run, tinybench): a 64 MiB Uint8Array.slice(), fs.writeFileSync of 64 MiB,
 *    and writeFileSync + fsync of 64 MiB.
 *    Zero pages: snapshot size of bigheap frozen right after malloc(64 MiB) (memory grown, never
 *    touched) vs heapidle with 1 and 64 MiB filled.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ROOT, TMP, example } from './lib/env.js';
import { load } from './lib/guest-helpers.js';
import { readAndRemove, snapshotAtFirstCall } from './lib/snapshots.js';
import { startHeapidle } from './lib/heapidle.js';
import { mib, ms, percentile, ratio, table } from './lib/stats.js';
import { tiny } from './lib/tiny.js';

const { decodeSnapshot, encodeSnapshot, snapshotBytes } = await import(path.join(ROOT, 'dist/runtime/index.js'));

const MEMORY_FREEZES = Number(process.env.BENCH_MEMORY_FREEZES ?? 30);
const FILE_FREEZES = Number(process.env.BENCH_FILE_FREEZES ?? 10);
const HEAP_MIB = 64;
const PAGE = 65536;
const GAP_MS = 50;
const sleep = (t) => new Promise((r) => setTimeout(r, t));

/** Freezes `proc` `count` times, leaving it running; returns per-freeze timings and the last bytes. */
async function freezes(proc, count, pathFor) {
  const out = [];
  let last;
  for (let i = 0; i < count; i++) {
    const file = pathFor?.(i);
    const report = await proc.freeze({ leaveRunning: true, ...(file ? { path: file } : {}) });
    const receivedAt = performance.timeOrigin + performance.now();
    const t = report.timings;
    out.push({
      capture: t.capturedAt - t.requestedAt,
      emit: t.emittedAt - t.capturedAt,
      total: receivedAt - t.requestedAt,
      bytes: report.byteLength,
    });
    last = report.bytes;
    if (file) fs.rmSync(file, { force: true });
    await sleep(GAP_MS); // let the guest run between freezes
  }
  return { samples: out, last };
}

/** A SnapshotInput (what the worker encodes) rebuilt from a decoded snapshot. */
function inputFrom(s) {
  const bytes = new Uint8Array(s.memory.pageCount * PAGE);
  for (const p of s.memory.pages) bytes.set(p.data, p.index * PAGE);
  return { ...s, memory: { bytes } };
}

/** Snapshot facts from encoded bytes. */
function describe(bytes) {
  const s = decodeSnapshot(bytes);
  return { memoryBytes: s.memory.pageCount * PAGE, pageCount: s.memory.pageCount, present: s.memory.pages.length, bytes: bytes.length };
}

/** Snapshot facts for `name args`, frozen before its first `importName` call, module not embedded. */
async function snapshotAtCall(name, args, importName) {
  return describe(readAndRemove(await snapshotAtFirstCall(name, args, importName, { embedModule: false })));
}

export async function benchFreeze(log = console.error) {
  const loaded = await load(example('heapidle'));
  const { proc, stop } = await startHeapidle(loaded, HEAP_MIB, 3600);
  log(`  heapidle ${HEAP_MIB} MiB ready; ${MEMORY_FREEZES} in-memory freezes`);
  const memRun = await freezes(proc, MEMORY_FREEZES);
  const mem = memRun.samples;
  const facts = describe(memRun.last);
  log(`  ${FILE_FREEZES} file freezes`);
  const file = (await freezes(proc, FILE_FREEZES, (i) => path.join(TMP, `freeze-${i}.wmig`))).samples;
  await stop();

  // Where the encode time goes: the same encoder, in this thread, on the snapshot's memory.
  const input = inputFrom(decodeSnapshot(memRun.last));
  const encodeOnly = await tiny('encodeSnapshot (zero scan + hash, no copy)', () => encodeSnapshot(input), 10);
  const encodeCopy = await tiny('snapshotBytes (encode + one copy)', () => snapshotBytes(input), 10);

  log('  baselines');
  const src = new Uint8Array(HEAP_MIB << 20).fill(0x5a);
  const slice = await tiny('slice 64 MiB', () => src.slice(), MEMORY_FREEZES);
  const target = path.join(TMP, 'baseline.bin');
  const write = await tiny('writeFileSync 64 MiB', () => fs.writeFileSync(target, src), FILE_FREEZES);
  const writeSync = await tiny(
    'writeFileSync + fsync 64 MiB',
    () => {
      const fd = fs.openSync(target, 'w');
      fs.writeSync(fd, src);
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    },
    FILE_FREEZES,
  );
  fs.rmSync(target, { force: true });

  log('  zero-page snapshots');
  const untouched = await snapshotAtCall('bigheap', ['64'], 'fd_write'); // "allocated 64 MiB", before the fill
  const small = await snapshotAtCall('heapidle', ['1', '1'], 'clock_time_get'); // first clock call: after "ready"
  const dense = await snapshotAtCall('heapidle', ['64', '1'], 'clock_time_get');

  const p = (xs, q) => ms(percentile(xs, q));
  const pick = (rows, f) => rows.map(f);
  const freezeRows = [
    ['in-memory: request→captured', mem.length, p(pick(mem, (r) => r.capture), 50), p(pick(mem, (r) => r.capture), 99), '≤ 5 ms'],
    ['in-memory: captured→emitted (encode to bytes)', mem.length, p(pick(mem, (r) => r.emit), 50), p(pick(mem, (r) => r.emit), 99), ''],
    ['in-memory: request→bytes on main thread', mem.length, p(pick(mem, (r) => r.total), 50), p(pick(mem, (r) => r.total), 99), ''],
    ['baseline: `Uint8Array.slice()` of 64 MiB', slice.n, ms(slice.p50), ms(slice.p99), ''],
    ['breakdown, in-thread: `encodeSnapshot` (zero scan + xxh3 per page, no copy)', encodeOnly.n, ms(encodeOnly.p50), ms(encodeOnly.p99), ''],
    ['breakdown, in-thread: `snapshotBytes` (the above + one copy into a fresh buffer)', encodeCopy.n, ms(encodeCopy.p50), ms(encodeCopy.p99), ''],
    ['file: request→captured', file.length, p(pick(file, (r) => r.capture), 50), p(pick(file, (r) => r.capture), 99), '≤ 5 ms'],
    ['file: captured→emitted (atomic write + fsync)', file.length, p(pick(file, (r) => r.emit), 50), p(pick(file, (r) => r.emit), 99), ''],
    ['baseline: `fs.writeFileSync` of 64 MiB', write.n, ms(write.p50), ms(write.p99), ''],
    ['baseline: write + `fsync` of 64 MiB', writeSync.n, ms(writeSync.p50), ms(writeSync.p99), ''],
  ];
  const capP99 = percentile([...pick(mem, (r) => r.capture), ...pick(file, (r) => r.capture)], 99);
  const encP50 = percentile(pick(mem, (r) => r.emit), 50);

  const sizeRow = (label, f) => [
    label,
    mib(f.memoryBytes),
    `${f.present} / ${f.pageCount}`,
    mib(f.bytes),
    ratio(f.bytes / f.memoryBytes),
    f.present ? Math.round(f.bytes / f.present) : 'n/a',
  ];
  return [
    `### 2. Freeze of a ${HEAP_MIB} MiB-heap process (heapidle, leave running)`,
    '',
    table(['phase', 'n', 'p50 ms', 'p99 ms', 'target'], freezeRows),
    '',
    `request→captured p99 over all ${mem.length + file.length} freezes: ${ms(capP99)} ms — target ≤ 5 ms ${capP99 <= 5 ? 'met' : 'MISSED'} ` +
      `(first freeze of the process: ${ms(mem[0].capture)} ms; max ${ms(Math.max(...mem.map((r) => r.capture), ...file.map((r) => r.capture)))} ms). ` +
      `Encode p50 is ${ratio(encP50 / slice.p50)} a plain 64 MiB copy.`,
    '',
    `In-memory snapshot of the running ${HEAP_MIB} MiB process (embeds the ${mib(loaded.bytes.length)} MiB instrumented module): ` +
      `${mib(facts.bytes)} MiB for ${mib(facts.memoryBytes)} MiB of linear memory (${facts.present}/${facts.pageCount} pages present).`,
    '',
    'Zero pages cost nothing (snapshots written with `--no-embed-module`-equivalent `embedModule: false`):',
    '',
    table(
      ['snapshot', 'memory MiB', 'present / total pages', 'snapshot MiB', 'snapshot / memory', 'bytes per present page'],
      [
        sizeRow('bigheap 64: after malloc(64 MiB), before touching it', untouched),
        sizeRow('heapidle 1: 1 MiB filled', small),
        sizeRow('heapidle 64: 64 MiB filled', dense),
      ],
    ),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(await benchFreeze());
