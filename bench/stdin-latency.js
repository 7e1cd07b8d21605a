/**
 * Latency of a guest blocked on stdin: `wmig run examples/build/stdin.wasm` waits in read(0); a line
 * is written into its stdin after a pause (so the guest has been blocked a while), and the time until
 * the guest's echo ("chunk N: …") appears on its stdout is measured. Stdin is either what Node's
 * child_process hands out (a socket) or a FIFO. Usage: node bench/stdin-latency.js [ROUNDS]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const rounds = Number(process.argv[2] ?? 40);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Runs the rounds against one wmig whose stdin `writer(child)` writes; returns the latencies in ms. */
async function measure(stdin, writer) {
  const child = spawn(process.execPath, [join(root, 'bin', 'wmig.js'), 'run', join(root, 'examples', 'build', 'stdin.wasm')], {
    cwd: root,
    env: { ...process.env, WMIG_CACHE_DIR: join(root, '.wmig-cache') },
    stdio: [stdin, 'pipe', 'inherit'],
  });
  const write = writer(child);
  let lines = 0;
  let seen = () => {};
  child.stdout.on('data', (b) => {
    lines += b.toString().split('\n').length - 1;
    seen();
  });
  const latencies = [];
  for (let i = 0; i < rounds + 1; i++) {
    await sleep(100 + Math.random() * 100);
    const want = lines + 1;
    const echoed = new Promise((resolve) => (seen = () => lines >= want && resolve()));
    const t0 = performance.now();
    write(`line ${i}\n`);
    await echoed;
    if (i > 0) latencies.push(performance.now() - t0); // the first one includes the start-up
  }
  return { child, latencies };
}

/** Context switches of all of `pid`'s threads: how often an idle process wakes up. */
function switches(pid) {
  let n = 0;
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    const status = readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8');
    n += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)[1]) + Number(/nonvoluntary_ctxt_switches:\s+(\d+)/.exec(status)[1]);
  }
  return n;
}

/** Wake-ups per second of a guest blocked on stdin with nothing to read (after the last echo has settled). */
async function idleWakeups(child) {
  await sleep(3000);
  const before = switches(child.pid);
  await sleep(3000);
  return ((switches(child.pid) - before) / 3).toFixed(1);
}

function summary(name, latencies) {
  const s = [...latencies].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))].toFixed(2);
  const mean = (s.reduce((a, b) => a + b, 0) / s.length).toFixed(2);
  console.log(`${name.padEnd(28)} n=${s.length}  p50 ${at(0.5)} ms  p90 ${at(0.9)} ms  max ${at(1)} ms  mean ${mean} ms`);
}

const socket = await measure('pipe', (child) => (line) => child.stdin.write(line));
summary('stdin = socket (node pipe)', socket.latencies);
console.log(`idle, blocked on stdin: ${await idleWakeups(socket.child)} context switches/s (all threads)`);
socket.child.stdin.end();

const dir = mkdtempSync(join(tmpdir(), 'wmig-stdin-latency-'));
const fifo = join(dir, 'fifo');
spawnSync('mkfifo', [fifo]);
const writer = openSync(fifo, 'r+'); // O_RDWR: opens at once; the child gets its own read end
const reader = openSync(fifo, 'r');
const viaFifo = await measure(reader, () => (line) => writeSync(writer, line));
summary('stdin = FIFO', viaFifo.latencies);
viaFifo.child.kill();
rmSync(dir, { recursive: true, force: true });
process.exit(0);
