/** Starts heapidle through the library's run() and waits for its "ready" line. */
import fs from 'node:fs';
import path from 'node:path';
import { DEVNULL, ROOT, TMP } from './env.js';

const { run } = await import(path.join(ROOT, 'dist/runtime/index.js'));
let counter = 0;

export async function startHeapidle(loaded, mib, seconds, timeoutMs = 60_000) {
  const out = path.join(TMP, `heapidle-${process.pid}-${counter++}.out`);
  const fd = fs.openSync(out, 'w+');
  const proc = await run(loaded, { args: [String(mib), String(seconds)], stdio: { stdin: 0, stdout: fd, stderr: DEVNULL } });
  const deadline = Date.now() + timeoutMs;
  while (!fs.readFileSync(out, 'utf8').includes('ready')) {
    if (proc.state !== 'running') throw new Error(`heapidle ended before "ready" (${proc.state})`);
    if (Date.now() > deadline) throw new Error('heapidle: no "ready" in time');
    await new Promise((r) => setTimeout(r, 5));
  }
  const stop = async () => {
    // kill() makes `result` reject ("guest worker exited unexpectedly"): expected here.
    proc.result.catch(() => {});
    await proc.kill();
    fs.closeSync(fd);
    fs.rmSync(out, { force: true });
  };
  return { proc, stop, output: () => fs.readFileSync(out, 'utf8') };
}
