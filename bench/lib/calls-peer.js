/**
 * Runs callcost.wasm once under one WASI implementation, in this (fresh) process:
 *   node bench/lib/calls-peer.js PEER FIXTURE_DIR OUT_FILE MODULE ARGS…
 * PEER is wmig (the library's run(): worker thread, instrumented module, wmig's host), node-wasi,
 * wasmer, or node-fs (no guest: calls-floor.js, the Node.js calls a JavaScript host cannot avoid;
 * ARGS are then KIND ITERATIONS WARMUP_MS). FIXTURE_DIR is preopened as /data. The guest's stdout and stderr go to OUT_FILE and
 * OUT_FILE.err: host files for wmig and node:wasi; @wasmer/wasi has no host stdio, so its in-memory
 * buffers are written there after the run. OUT_FILE `-` means this process's own stdout (a pipe),
 * re-opened through /proc/self/fd so that writes block when it is full whatever the flags of the
 * description this process was given, and its own stderr. Exits with the guest's status.
 */
import fs from 'node:fs';
import path from 'node:path';
import { WASI as NodeWasi } from 'node:wasi';
import { Worker } from 'node:worker_threads';
import { ROOT } from './env-paths.js';

const [peer, fixture, outFile, module, ...args] = process.argv.slice(2);
const argv = [path.basename(module), ...args];
const inherit = outFile === '-';
const openStdout = () => fs.openSync(inherit ? '/proc/self/fd/1' : outFile, 'w');
const openStderr = () => (inherit ? 2 : fs.openSync(`${outFile}.err`, 'w'));

async function runWmig() {
  const { run } = await import(path.join(ROOT, 'dist/runtime/index.js'));
  const stdout = openStdout();
  const stderr = openStderr();
  const proc = await run(module, {
    args,
    mounts: [{ kind: 'host', hostPath: fixture, guestPath: '/data' }],
    stdio: { stdin: 0, stdout, stderr },
  });
  const result = await proc.result;
  return result.state === 'exited' ? result.code : 134;
}

function runNodeWasi() {
  const stdout = openStdout();
  const stderr = openStderr();
  const wasi = new NodeWasi({ version: 'preview1', args: argv, env: {}, preopens: { '/data': fixture }, stdout, stderr, returnOnExit: true });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(module)), wasi.getImportObject());
  return wasi.start(instance);
}

/** @wasmer/wasi keeps files in its MemFS: the fixture is copied in (regular files and directories). */
async function runWasmer() {
  const { init, MemFS, WASI } = await import('@wasmer/wasi');
  await init();
  const memfs = new MemFS();
  const copy = (host, guest) => {
    memfs.createDir(guest);
    for (const name of fs.readdirSync(host)) {
      const h = path.join(host, name);
      if (fs.statSync(h).isDirectory()) copy(h, `${guest}/${name}`);
      else memfs.open(`${guest}/${name}`, { read: true, write: true, create: true }).write(fs.readFileSync(h));
    }
  };
  copy(fixture, '/data');
  const wasi = new WASI({ args: argv, env: {}, preopens: { '/data': '/data' }, fs: memfs });
  const instance = wasi.instantiate(new WebAssembly.Module(fs.readFileSync(module)), {});
  const code = wasi.start(instance);
  fs.writeFileSync(openStdout(), wasi.getStdoutBuffer());
  fs.writeFileSync(openStderr(), wasi.getStderrBuffer());
  return code;
}

function runNodeFs() {
  const [kind, iterations, warmupMs] = args;
  const workerData = { kind, iterations: Number(iterations), warmupMs: Number(warmupMs), fixture, outFile };
  const worker = new Worker(new URL('./calls-floor.js', import.meta.url), { workerData });
  return new Promise((resolve, reject) => {
    worker.on('error', reject);
    worker.on('exit', resolve);
  });
}

const runners = { wmig: runWmig, 'node-wasi': runNodeWasi, wasmer: runWasmer, 'node-fs': runNodeFs };
if (!(peer in runners)) {
  process.stderr.write(`calls-peer: unknown peer ${peer}; one of ${Object.keys(runners).join(', ')}\n`);
  process.exit(2);
}
process.exitCode = await runners[peer]();
