/**
 * Cost of common WASI calls under wmig, node:wasi and @wasmer/wasi, as ratios to node:wasi measured
 * in the same run (issue 3, item 8; target: wmig no slower than node:wasi).
 *
 *   npm run build && bash scripts/build-examples.sh && npm run bench:calls
 *
 * Each sample is one fresh `node bench/lib/calls-peer.js` process running examples/bench/callcost.c
 * for one call kind; the guest times its own loop with two clock_time_get reads after an untimed
 * warm-up, so process start, compilation, instrumentation-cache reads and worker start-up are left
 * out and every peer is timed by the same code. Rounds rotate the peers' order. Writes
 * bench/README-calls.md and prints the same markdown on stdout (progress on stderr).
 * Knobs: BENCH_CALLS_ROUNDS (9), BENCH_CALLS_SCALE (1: multiplies every iteration count),
 * BENCH_CALLS_WARMUP_MS (250).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CACHE_DIR, ROOT, TMP } from './lib/env.js';
import { median, ratio, table } from './lib/stats.js';

const { loadModule } = await import(path.join(ROOT, 'dist/runtime/index.js'));

const ROUNDS = Number(process.env.BENCH_CALLS_ROUNDS ?? 9);
const SCALE = Number(process.env.BENCH_CALLS_SCALE ?? 1);
/** Untimed calls before the timed loop, the same time for every peer (wmig's host is JIT-compiled JavaScript). */
const WARMUP_MS = Number(process.env.BENCH_CALLS_WARMUP_MS ?? 250);
const MODULE = path.join(ROOT, 'examples/build/bench/callcost.wasm');
const PEER_SCRIPT = path.join(ROOT, 'bench/lib/calls-peer.js');
const OUTPUT = path.join(ROOT, 'bench/README-calls.md');
const PEERS = ['node-wasi', 'wmig', 'wasmer', 'node-fs'];
/**
 * Iterations sized so the slowest peer takes about a second per sample. `kind` is callcost's;
 * `pipe`: the guest's stdout is a pipe this script reads, not a file (rowKey tells the rows apart).
 */
const KINDS = [
  { kind: 'fd_write', label: 'fd_write, 16 bytes to stdout (a file)', floor: '`fs.writeSync`', iterations: 100_000 },
  { kind: 'fd_write', pipe: true, label: 'fd_write, 16 bytes to stdout (a pipe)', floor: '`fs.writeSync`', iterations: 100_000 },
  { kind: 'fd_read', label: 'fd_read, 64 bytes from a file', floor: '`fs.readSync`', iterations: 100_000 },
  { kind: 'clock_time_get', label: 'clock_time_get, monotonic', floor: '`process.hrtime.bigint`', iterations: 200_000 },
  { kind: 'path_open', label: 'path_open + fd_close of a file (the pair)', floor: '`fs.openSync` + `fs.closeSync`', iterations: 20_000 },
  { kind: 'fd_readdir', label: 'fd_readdir of a 20-entry directory', floor: '`fs.readdirSync`', iterations: 5_000 },
];
const rowKey = ({ kind, pipe }) => (pipe ? `${kind} (pipe)` : kind);
const READ_FILE_BYTES = 256 * 1024;
const DIR_ENTRIES = 20;

const log = (line) => process.stderr.write(`${line}\n`);

/** /data for the guest: read.bin (deterministic bytes) and entries/ with DIR_ENTRIES files. */
function makeFixture() {
  const dir = path.join(TMP, 'calls-fixture');
  fs.mkdirSync(path.join(dir, 'entries'), { recursive: true });
  const bytes = Buffer.alloc(READ_FILE_BYTES);
  let x = 0x9e3779b9;
  for (let i = 0; i < bytes.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  fs.writeFileSync(path.join(dir, 'read.bin'), bytes);
  for (let i = 1; i <= DIR_ENTRIES; i++) fs.writeFileSync(path.join(dir, 'entries', `entry-${String(i).padStart(2, '0')}.txt`), `${i}\n`);
  return dir;
}

/** One sample: ns per iteration as the guest measured it. */
function sample(peer, fixture, { kind, pipe, iterations }) {
  const n = Math.max(1, Math.round(iterations * SCALE));
  const out = path.join(TMP, `calls-${peer}-${kind}.out`);
  const command = [process.execPath, '--no-warnings', PEER_SCRIPT, peer, fixture, pipe ? '-' : out, MODULE, kind, String(n), String(WARMUP_MS)];
  const started = process.hrtime.bigint();
  // A pipe row: the guest's stdout is a shell pipe into `cat`, which writes the file.
  const child = pipe
    ? spawnSync('bash', ['-c', `set -o pipefail; "$@" | cat >"${out}"`, 'bash', ...command], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' })
    : spawnSync(command[0], command.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const wallNs = Number(process.hrtime.bigint() - started);
  const stdout = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
  if (child.status !== 0) {
    const guestErr = fs.existsSync(`${out}.err`) ? fs.readFileSync(`${out}.err`, 'utf8') : '';
    throw new Error(`${peer} ${kind}: exit ${child.status}\n${child.stderr}${guestErr}`);
  }
  const last = stdout.trimEnd().split('\n').at(-1) ?? '';
  const m = /^(\S+) iterations=(\d+) ns=(\d+) checksum=\d+$/.exec(last);
  if (!m || m[1] !== kind || Number(m[2]) !== n) throw new Error(`${peer} ${kind}: unexpected last line ${JSON.stringify(last)}`);
  const guestNs = Number(m[3]);
  // The guest's clock is the peer's own: it must not claim more time than the whole process took.
  if (guestNs <= 0 || guestNs > wallNs) throw new Error(`${peer} ${kind}: guest-timed ${guestNs} ns, process took ${wallNs} ns`);
  fs.rmSync(out, { force: true });
  fs.rmSync(`${out}.err`, { force: true });
  return guestNs / n;
}

function report(results, meta) {
  const rows = KINDS.map((k) => {
    const { label, floor } = k;
    const key = rowKey(k);
    const r = results[key];
    const base = median(r['node-wasi']);
    const cell = (peer) => `${median(r[peer]).toFixed(0)} (${Math.min(...r[peer]).toFixed(0)}–${Math.max(...r[peer]).toFixed(0)})`;
    const wmigRatio = median(r.wmig) / base;
    return {
      key,
      wmigRatio,
      cells: [
        label, cell('node-wasi'), cell('wmig'), cell('wasmer'), `${floor}: ${cell('node-fs')}`,
        `**${ratio(wmigRatio)}**`, ratio(median(r.wasmer) / base), ratio(median(r['node-fs']) / base),
      ],
    };
  });
  const slower = rows.filter((r) => r.wmigRatio > 1);
  const verdict = slower.length === 0
    ? 'Target (wmig no slower than node:wasi on every call): **met**.'
    : `Target (wmig no slower than node:wasi on every call): **missed** on ${slower.map((r) => r.key).join(', ')}.`;
  return `# WASI call cost: wmig vs node:wasi vs @wasmer/wasi

Generated by \`npm run bench:calls\` (bench/wasi-calls.js); do not edit by hand.

${meta}

${table(['call', 'node:wasi ns', 'wmig ns', '@wasmer/wasi ns', 'Node.js floor ns', 'wmig / node:wasi', 'wasmer / node:wasi', 'floor / node:wasi'], rows.map((r) => r.cells))}

${verdict}

## Method

- The guest is examples/bench/callcost.c: one raw WASI call per loop iteration (\`<wasi/api.h>\`,
  no libc buffering; path_open + fd_close is two calls per iteration). It makes the same call
  untimed for ${WARMUP_MS} ms (every peer gets the same time, so JIT-compiled hosts reach their
  optimized code), then times the loop between two monotonic \`clock_time_get\` reads and prints
  the elapsed ns and a checksum of every result. Timing inside the guest leaves out what
  differs between the peers but is not a call: process and worker start-up, compilation, the
  instrumentation cache, the copy into @wasmer/wasi's MemFS. Each sample is also checked against
  the wall time of its whole process (the guest's clock is the peer's own).
- Each sample is a fresh process (\`bench/lib/calls-peer.js\`): **wmig** runs the module through the
  library's \`run()\` as \`wmig run\` does (instrumented with Asyncify, in a worker thread, through
  the freeze-point wrapper and wmig's WASI host); **node:wasi** and **@wasmer/wasi** run the plain
  module on the main thread. Median of ${ROUNDS} samples per cell; the peers' order is rotated
  every round; the ratios are medians over node:wasi's median from the same run.
- **Node.js floor** (\`bench/lib/calls-floor.js\`, no guest): the Node.js API call that a WASI host
  written in JavaScript makes for each kind, alone in a loop in a worker thread, timed the
  same way (byte buffers in a \`WebAssembly.Memory\`). node:wasi does not pay it: its calls go
  from wasm straight into C++ (uvwasi). Where the floor is above node:wasi, no JavaScript host built
  on \`node:fs\` can meet the target; wmig's cost above the floor is its own.
- fd_write to stdout: when it is a regular file (or /dev/null) or a pipe, wmig writes behind
  (runtime/wasi/output-ring.ts): the guest's fd_write appends to a buffer shared with the main
  thread, which writes it out about a millisecond later, one system call per batch (to a pipe,
  whole records of up to PIPE_BUF per write); any other call that could see or order against those
  bytes, a freeze, an exit and a full buffer write them out first. Both rows measure that path (the
  pipe row's reader is \`cat\`). To a socket or a terminal, wmig writes at once, as node:wasi does,
  and pays node:fs's floor; the floor column of both rows is \`fs.writeSync\` to the same kind of fd.
- wmig does not leave node:fs. Handing stdout's write to a node:wasi instance (JavaScript into uvwasi,
  one writev) saved ~100 ns per fd_write, but node:wasi is experimental in Node.js 20, with open crash
  reports (nodejs/node#52402, #53087), and a crash there would take the guest down with it. For
  clock_time_get it does not pay at all: node:wasi's fast path into C++ exists only for calls from
  wasm, and from JavaScript its clock costs several times \`process.hrtime.bigint\`.
- path_open: uvwasi fstat()s every open to tell a directory from a file. node:fs's \`fstatSync\` costs
  about as much as the open itself (it builds a \`Stats\` object with four \`Date\`s), so wmig does not:
  a read-only open may be of a directory, and the handle finds out when a call needs to know (a read
  fails or gives no byte, any other call but fd_close). The floor is open + close.
- /data is a host directory for wmig and node:wasi, holding read.bin (${READ_FILE_BYTES / 1024} KiB; fd_read rewinds with
  one fd_seek each time it reaches the end, once per ${READ_FILE_BYTES / 64} reads) and entries/ (${DIR_ENTRIES} files).
  @wasmer/wasi has no host file system: the same tree is copied into its in-memory MemFS, and its
  stdout is an in-memory buffer (written to a file after the run) — so its file and stdout numbers
  are for memory, not the host's file system. wmig and node:wasi write stdout to a regular file, or
  to a pipe in the row that says so.
- fd_readdir: node:wasi lists the directory on every call but leaves out "." and ".." (a known
  departure: 20 entries where wmig and @wasmer/wasi list 22) and reports every d_ino as 0. wmig
  reports real inodes (an lstat per entry) and keeps a listing while the directory's own stat is
  unchanged (runtime/vfs/listing-cache.ts), so a repeated listing costs one stat and a copy. @wasmer/wasi's clock has millisecond granularity, which is why
  every timed loop runs for well over 100 ms under it.
`;
}

const fixture = makeFixture();
log('instrumenting callcost.wasm (cached for the samples)…');
await loadModule(MODULE, { cacheDir: CACHE_DIR });
const loadBefore = os.loadavg().map((x) => x.toFixed(2)).join(' ');
const started = performance.now();
const results = Object.fromEntries(KINDS.map((k) => [rowKey(k), Object.fromEntries(PEERS.map((p) => [p, []]))]));
for (let round = 0; round < ROUNDS; round++) {
  for (const k of KINDS) {
    for (let i = 0; i < PEERS.length; i++) {
      const peer = PEERS[(i + round) % PEERS.length];
      results[rowKey(k)][peer].push(sample(peer, fixture, k));
    }
    log(`round ${round + 1}/${ROUNDS} ${rowKey(k)}: ${PEERS.map((p) => `${p} ${results[rowKey(k)][p].at(-1).toFixed(0)} ns`).join(', ')}`);
  }
}
const cpu = os.cpus();
const meta = `Node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${os.platform()} ${os.release()}. ` +
  `Load average before ${loadBefore}, after ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}; ` +
  `${((performance.now() - started) / 1000).toFixed(0)} s. Nanoseconds per iteration, median of ${ROUNDS} (min–max).`;
const markdown = report(results, meta);
fs.writeFileSync(OUTPUT, markdown);
process.stdout.write(markdown);
log(`wrote ${path.relative(ROOT, OUTPUT)}`);
