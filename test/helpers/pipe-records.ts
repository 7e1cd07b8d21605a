/**
 * Two processes writing 2000-byte records to one pipe, each record one fd_write of two iovecs (as
 * wasi-libc's stdio makes them), through a WasiHost of dist/ that writes at once or behind. A slow
 * reader keeps the pipe nearly full, so that a write larger than the room left waits half done and
 * the other writer's write can land in its middle. Both start at the same moment and write up to
 * 5000 records each for at most 1.5 s.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { ROOT } from './wmig.js';

export function sharedPipeRecords(dir: string, writeBehind: boolean): { A: number; B: number; split: number } {
  const runtime = path.join(ROOT, 'dist', 'runtime', 'wasi');
  const script = path.join(dir, 'writer.mjs');
  fs.writeFileSync(script, `
    import { WasiHost } from ${JSON.stringify(path.join(runtime, 'host.js'))};
    import { OutputBridge } from ${JSON.stringify(path.join(runtime, 'output-bridge.js'))};
    const [letter, startAt] = [process.argv[2], Number(process.argv[3])];
    const stdio = { stdin: 0, stdout: 1, stderr: 2 };
    const bridge = ${writeBehind} ? OutputBridge.for(stdio) : undefined;
    if (${writeBehind} && !bridge) process.exit(3);
    const host = new WasiHost({ args: [], env: [], mounts: [], stdio, ...(bridge ? { output: bridge.init } : {}) });
    const memory = new WebAssembly.Memory({ initial: 1 });
    host.setMemory(memory);
    const u8 = new Uint8Array(memory.buffer);
    u8.fill(letter.charCodeAt(0), 1024, 2024);
    u8.fill(letter.toLowerCase().charCodeAt(0), 2024, 3023);
    u8[3023] = 10;
    const dv = new DataView(memory.buffer);
    dv.setUint32(0, 1024, true);
    dv.setUint32(4, 1000, true);
    dv.setUint32(8, 2024, true);
    dv.setUint32(12, 1000, true);
    while (Date.now() < startAt);
    const fdWrite = host.imports.fd_write;
    for (let n = 0; n < 5000 && Date.now() < startAt + 1500; n++) {
      if (fdWrite(1, 0, 2, 16) !== 0) process.exit(1);
      // Now and then the main thread's timer gets to write out what is buffered behind.
      if (n % 100 === 99) await new Promise((r) => setTimeout(r, 3));
    }
    host.close();
    bridge?.close();
  `);
  const reader = path.join(dir, 'reader.mjs');
  fs.writeFileSync(reader, `
    import fs from 'node:fs';
    const buf = Buffer.alloc(3000);
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (let n; (n = fs.readSync(0, buf)) > 0; Atomics.wait(pause, 0, 0, 0.2)) fs.writeSync(1, buf, 0, n);
  `);
  const startAt = Date.now() + 1500;
  const out = path.join(dir, 'out');
  const writer = (letter: string) => `"${process.execPath}" "${script}" ${letter} ${startAt}`;
  const r = spawnSync('bash', ['-c', `{ ${writer('A')} & ${writer('B')} & wait; } | "${process.execPath}" "${reader}" >"${out}"`], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const lines = fs.readFileSync(out, 'latin1').split('\n').slice(0, -1);
  const records = { A: 'A'.repeat(1000) + 'a'.repeat(999), B: 'B'.repeat(1000) + 'b'.repeat(999) };
  return {
    A: lines.filter((l) => l === records.A).length,
    B: lines.filter((l) => l === records.B).length,
    split: lines.filter((l) => l !== records.A && l !== records.B).length,
  };
}
