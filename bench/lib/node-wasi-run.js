/**
 * Whole-process baseline runner: `node bench/lib/node-wasi-run.js MODULE.wasm [args…]` runs a WASI
 * command under node:wasi (no wmig code loaded) and exits with its status.
 */
import fs from 'node:fs';
import path from 'node:path';
import { WASI } from 'node:wasi';

const [file, ...args] = process.argv.slice(2);
const module = new WebAssembly.Module(fs.readFileSync(file));
const wasi = new WASI({ version: 'preview1', args: [path.basename(file), ...args], env: {}, returnOnExit: true });
const instance = new WebAssembly.Instance(module, wasi.getImportObject());
process.exitCode = wasi.start(instance);
