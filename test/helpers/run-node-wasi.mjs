/** Runs a WASI command under node:wasi with the conformance runner contract (see peer-args.mjs). Run with --no-warnings. */
import { readFileSync } from 'node:fs';
import { WASI } from 'node:wasi';
import { parseRunnerArgs } from './peer-args.mjs';

const { dirs, env, module, args } = parseRunnerArgs(process.argv.slice(2));
const preopens = Object.fromEntries(dirs.map((d) => [d.guest, d.host]));
const wasi = new WASI({ version: 'preview1', args, env, preopens, returnOnExit: true });
const compiled = await WebAssembly.compile(readFileSync(module));
const instance = await WebAssembly.instantiate(compiled, wasi.getImportObject());
let code;
try {
  code = wasi.start(instance);
} catch (e) {
  process.stderr.write(`trap: ${e}\n`);
  code = 134;
}
process.exitCode = code;
