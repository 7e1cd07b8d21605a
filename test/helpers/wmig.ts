/** Runs the wmig CLI as a fresh OS process, as a user would. */
import { execFileSync, spawn } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const WMIG = join(ROOT, 'bin', 'wmig.js');
/** Shared by all test files so each module is instrumented once per machine. */
export const CACHE_DIR = join(ROOT, '.wmig-cache');

export const example = (name: string) => join(ROOT, 'examples', 'build', `${name}.wasm`);

export interface CliResult {
  status: number;
  stdout: Buffer;
  stderr: Buffer;
}

export interface CliOptions {
  stdin?: Buffer | string;
  cwd?: string;
  env?: Record<string, string>;
}

export function wmig(args: string[], options: CliOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WMIG, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, WMIG_CACHE_DIR: CACHE_DIR, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (status, signal) =>
      resolve({ status: status ?? 128 + (signal ? 9 : 0), stdout: Buffer.concat(out), stderr: Buffer.concat(err) }),
    );
    child.stdin.on('error', () => {});
    child.stdin.end(options.stdin ?? '');
  });
}

export function tempDir(prefix = 'wmig-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Copies a directory tree as a migration tool would: symlinks verbatim, times kept to the
 * nanosecond (coreutils `cp -a` uses utimensat; Node's cpSync keeps only milliseconds).
 */
export function copyDir(from: string, to: string): void {
  mkdirSync(dirname(to), { recursive: true });
  execFileSync('cp', ['-a', '--no-target-directory', from, to]);
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Every regular file below `dir` with its bytes (symlinks as "symlink:TARGET"), keyed by relative path. */
export function dirContents(dir: string): Record<string, string> {
  const result: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = join(rel, name);
      const st = lstatSync(join(dir, path));
      if (st.isDirectory()) walk(path);
      else if (st.isSymbolicLink()) result[path] = `symlink:${readlinkSync(join(dir, path))}`;
      else result[path] = readFileSync(join(dir, path)).toString('base64');
    }
  };
  walk('');
  return result;
}

/** Runs `tasks` with at most `limit` in flight (the machines have 2 cores). */
export async function pool<T>(tasks: (() => Promise<T>)[], limit = 2): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, tasks.length) }, async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  });
  await Promise.all(workers);
  return results;
}

/** A seeded sample of `count` numbers from 1..total (all of them when total <= count). */
export function samplePoints(total: number, count: number, seed: number): number[] {
  const all = Array.from({ length: total }, (_, i) => i + 1);
  if (total <= count) return all;
  let s = seed >>> 0 || 1;
  for (let i = all.length - 1; i > 0; i--) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const j = (s >>> 0) % (i + 1);
    [all[i], all[j]] = [all[j]!, all[i]!];
  }
  return all.slice(0, count).sort((a, b) => a - b);
}
