/**
 * One engine-level thaw in a fresh worker thread (a clean isolate, like wmig's own guest worker),
 * phase by phase, `count` times in a row (the first one runs cold JS code, the others warm; a full
 * GC before each). workerData: { bytes: Uint8Array (snapshot), module: WebAssembly.Module, info,
 * stdio, count }. Posts an array of per-thaw durations in ms.
 */
import path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { DIST } from './env-paths.js';
import { fullGc } from './gc.js';

const { Guest } = await import(path.join(DIST, 'runtime/engine/guest.js'));
const { WasiHost } = await import(path.join(DIST, 'runtime/wasi/host.js'));
const { decodeSnapshot } = await import(path.join(DIST, 'runtime/snapshot/format.js'));

const { bytes, module, info, stdio, count } = workerData;
const now = () => performance.now();

function thawOnce() {
  const t = {};
  let mark;
  const lap = (name) => {
    const n = now();
    t[name] = n - mark;
    mark = n;
  };

  // --- the thaw, as the guest worker does it (runtime/process/worker.ts boot + resume) ---
  fullGc();
  mark = now();
  const snap = decodeSnapshot(bytes, { verify: false });
  lap('decode');
  const callCount = Number(snap.meta.callCount ?? 0);
  const host = WasiHost.restore(snap.host, snap.files, { stdio });
  lap('hostRestore');
  // Note when the pending call (the one the snapshot was taken in) actually runs after the rewind.
  const pending = snap.stack.pendingImport.split('.')[1];
  const impl = host.imports[pending];
  let reachedAt = NaN;
  host.imports[pending] = (...args) => {
    if (Number.isNaN(reachedAt)) reachedAt = now();
    return impl(...args);
  };
  let checkedAt = NaN;
  const guest = Guest.instantiate(module, info, host, () => {
    checkedAt = now();
    return true; // freeze at the next call: resume() returns right after one loop iteration
  });
  lap('instantiate');
  guest.restore(snap, callCount);
  lap('restore');
  const outcome = guest.resume();
  const end = now();
  if (outcome.kind !== 'unwound') throw new Error(`resume: expected 'unwound', got ${outcome.kind}`);
  if (guest.callCount !== callCount + 1) throw new Error(`resume: callCount ${guest.callCount}, expected ${callCount + 1}`);
  t.rewind = reachedAt - mark; // resume() → the pending import runs
  t.iteration = checkedAt - reachedAt; // the call, then guest code until the next call
  t.unwind = end - checkedAt;
  host.close();

  // --- the split of guest.restore, measured afterwards on throw-away instances ---
  fullGc();
  {
    const spareHost = WasiHost.restore(snap.host, snap.files, { stdio });
    const spare = Guest.instantiate(module, info, spareHost, () => false);
    const raw = new WebAssembly.Instance(module, { wasi_snapshot_preview1: spareHost.imports });
    mark = now();
    spare.restore({ ...snap, memory: { pageCount: snap.memory.pageCount, pages: [] } }, callCount);
    lap('restoreNoPages');
    for (const g of snap.globals) raw.exports[g.name].value = g.value;
    lap('globals');
    spareHost.close();
  }
  t.copyIn = Math.max(0, t.restore - t.restoreNoPages);

  // --- verification, as thaw() does on the main thread ---
  fullGc();
  mark = now();
  decodeSnapshot(bytes);
  lap('decodeVerify');

  return t;
}

const results = [];
for (let i = 0; i < count; i++) results.push(thawOnce());
parentPort.postMessage(results);
