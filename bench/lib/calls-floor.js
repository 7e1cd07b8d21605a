/**
 * Worker thread for `calls-peer.js node-fs`: the Node.js API calls that a WASI host written in
 * JavaScript cannot avoid for each call kind of callcost.c, timed alone the way the guest times
 * itself (untimed for warmupMs, then `iterations` between two clock reads), in a worker thread like
 * wmig's guest. Byte buffers live in a WebAssembly.Memory, as a guest's do. Writes the same last
 * line as callcost.wasm to outFile (`-`: stdout, re-opened). workerData: { kind, iterations, warmupMs, fixture, outFile }.
 */
import fs from 'node:fs';
import path from 'node:path';
import { workerData } from 'node:worker_threads';

const { kind, iterations, warmupMs, fixture, outFile } = workerData;
const memory = new Uint8Array(new WebAssembly.Memory({ initial: 1 }).buffer);
memory.set(Buffer.from('callcost: write\n'), 1024);
const out = fs.openSync(outFile === '-' ? '/proc/self/fd/1' : outFile, 'w'); // see calls-peer.js
const readFile = path.join(fixture, 'read.bin');
const readFd = fs.openSync(readFile, 'r');
const entries = path.join(fixture, 'entries');
let position = 0;
let checksum = 0;
let lastTime = 0n;
const now = process.hrtime.bigint;

const calls = {
  fd_write: () => (checksum += fs.writeSync(out, memory, 1024, 16)),
  fd_read: () => {
    const n = fs.readSync(readFd, memory, 2048, 64, position);
    position = n === 0 ? 0 : position + n;
    checksum += n;
  },
  clock_time_get: () => (lastTime = now()),
  path_open: () => fs.closeSync(fs.openSync(readFile, 'r')),
  fd_readdir: () => (checksum += fs.readdirSync(entries).length),
};
const call = calls[kind];
if (call === undefined) throw new Error(`calls-floor: unknown kind ${kind}`);

for (const start = now(); now() - start < BigInt(warmupMs) * 1_000_000n;) {
  for (let i = 0; i < 100; i++) call();
}
const t0 = now();
for (let i = 0; i < iterations; i++) call();
const elapsed = now() - t0;
checksum += Number(lastTime & 0xffn);
fs.writeSync(out, `${kind} iterations=${iterations} ns=${elapsed} checksum=${checksum}\n`);
fs.closeSync(out);
