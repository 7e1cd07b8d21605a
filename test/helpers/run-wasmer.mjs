/**
 * Runs a WASI command under @wasmer/wasi 1.2.2 with the conformance runner contract (see
 * peer-args.mjs). @wasmer/wasi has no host file system: each --dir is copied into its in-memory
 * MemFS (directories and regular files; MemFS has no symlinks, so those are left out). Its stdout
 * and stderr are buffered and written out when the guest ends.
 */
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { init, MemFS, WASI } from '@wasmer/wasi';
import { parseRunnerArgs } from './peer-args.mjs';

const { dirs, env, module, args } = parseRunnerArgs(process.argv.slice(2));
await init();
const fs = new MemFS();
const copy = (host, guest) => {
  try {
    fs.createDir(guest);
  } catch {
    // exists (e.g. "/")
  }
  for (const name of readdirSync(host).sort()) {
    const h = join(host, name);
    const g = guest === '/' ? `/${name}` : `${guest}/${name}`;
    const st = lstatSync(h);
    if (st.isDirectory()) copy(h, g);
    else if (st.isFile()) fs.open(g, { read: true, write: true, create: true }).write(readFileSync(h));
  }
};
for (const d of dirs) copy(d.host, d.guest);
const preopens = Object.fromEntries(dirs.map((d) => [d.guest, d.guest]));
const wasi = new WASI({ args, env, preopens, fs });
const compiled = await WebAssembly.compile(readFileSync(module));
const instance = wasi.instantiate(compiled, {});
let code;
try {
  code = wasi.start(instance);
} catch (e) {
  process.stderr.write(`trap: ${e}\n`);
  code = 134;
}
process.stdout.write(wasi.getStdoutBuffer());
process.stderr.write(wasi.getStderrBuffer());
process.exitCode = code;
