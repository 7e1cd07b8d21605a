// Asyncify through a native wasm-opt (Debian's `binaryen`, unpacked by scripts/ensure-wasm-opt.sh):
// a separate process working on temp files, using every core for function-parallel passes.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { asyncifyImports, type AsyncifyBackend, type AsyncifyJob } from './backend.js';
import { TransformError } from './errors.js';

// What Node >= 20 runs by default (see binaryen-js.ts); named as wasm-opt 108 knows them.
const FEATURES = ['--enable-mutable-globals', '--enable-sign-ext', '--enable-nontrapping-float-to-int',
  '--enable-bulk-memory', '--enable-reference-types', '--enable-multivalue', '--enable-simd'];

/** .wmig-tools/binaryen/usr/bin/wasm-opt at the package root, if ensure-wasm-opt.sh put it there. */
export function bundledWasmOpt(): string | null {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) {
      const path = join(dir, '.wmig-tools', 'binaryen', 'usr', 'bin', 'wasm-opt');
      return existsSync(path) ? path : null;
    }
    if (dirname(dir) === dir) return null;
  }
}

/**
 * The `--version` line scripts/ensure-wasm-opt.sh recorded beside the wasm-opt it unpacked, so that
 * naming the cache entry does not start a process (~25 ms) on every run. Null for any other path.
 */
function recordedVersion(path: string): string | null {
  const bundled = bundledWasmOpt();
  if (bundled === null || path !== bundled) return null;
  try {
    return readFileSync(join(dirname(bundled), '..', '..', 'version'), 'utf8');
  } catch {
    return null;
  }
}

export async function wasmOptBackend(path: string): Promise<AsyncifyBackend> {
  const text = recordedVersion(path) ?? (await wasmOpt(path, ['--version'], 'version'));
  const version = text.match(/version (\S+)/)?.[1];
  if (!version) throw new TransformError('binaryen-failed', `${path} --version: not a wasm-opt`);
  return { id: `wasm-opt-${version}`, run: (wasm, job) => run(path, wasm, job) };
}

async function run(path: string, wasm: Uint8Array, job: AsyncifyJob): Promise<Uint8Array> {
  const dir = mkdtempSync(join(tmpdir(), 'wmig-wasm-opt-'));
  try {
    const input = join(dir, 'in.wasm');
    writeFileSync(input, wasm);
    const asyncify = ['--asyncify', `--pass-arg=asyncify-imports@${asyncifyImports(job.freezePoints)}`];
    if (job.removeList) {
      job.progress('parse');
      const names = functionNames(await wasmOpt(path, [input, ...FEATURES, '--print-function-map'], 'parse'));
      const removed = job.removeList(names);
      if (removed.length > 0) {
        // A file: the list can exceed the kernel's limit for one argument (128 KiB). Comma-separated,
        // which wasm-opt 108 requires (later versions also take one name per line).
        writeFileSync(join(dir, 'removelist'), removed.join(','));
        asyncify.push(`--pass-arg=asyncify-removelist@@${join(dir, 'removelist')}`);
      }
    }
    job.progress('asyncify');
    // -g: keep the name section (function names for profiles and trap stack traces).
    const levels = [`--optimize-level=${job.optimizeLevel}`, '--shrink-level=0', '-g'];
    const asyncified = join(dir, 'asyncified.wasm');
    await wasmOpt(path, [input, ...FEATURES, ...levels, ...asyncify, '-o', asyncified], 'asyncify');
    if (!job.optimizeModule) return readFileSync(asyncified);
    // A second process, so the stage shows; reading and writing again costs ~0.3 s for SQLite.
    job.progress('optimize');
    const optimized = join(dir, 'optimized.wasm');
    await wasmOpt(path, [asyncified, ...FEATURES, `-O${job.optimizeLevel}`, '--shrink-level=0', '-g', '-o', optimized], 'optimize');
    return readFileSync(optimized);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `index:name` lines in index order; a name with a line break cannot be parsed, so nothing is removed. */
function functionNames(map: string): string[] {
  const names: string[] = [];
  for (const line of map.split('\n')) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (Number(line.slice(0, colon)) !== names.length) return [];
    names.push(line.slice(colon + 1));
  }
  return names;
}

/** Runs wasm-opt; resolves to its stdout. Its stderr's tail goes into the error if it fails. */
function wasmOpt(path: string, args: string[], stage: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => { err = (err + chunk.toString()).slice(-4000); });
    child.on('error', (e) => reject(new TransformError('binaryen-failed', `cannot run ${path}: ${e.message}`, { cause: e })));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve(Buffer.concat(out).toString());
      // wasm-opt validates what it reads: a module it rejects uses something wmig does not support.
      const reason = /error validating input/.test(err) ? 'unsupported' : 'binaryen-failed';
      reject(new TransformError(reason, `wasm-opt failed during ${stage} (${signal ?? `status ${code}`}): ${err.trim()}`));
    });
  });
}
