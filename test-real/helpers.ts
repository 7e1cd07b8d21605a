/**
 * Real programs (built by scripts/build-real-programs.sh into real/build/) as the migration tests run
 * them. Same oracle as test/migration-every-call.test.ts: the run frozen before its n-th WASI call
 * and thawed in a fresh OS process — with /data re-bound to a copy of the source directory at
 * another host path — must produce byte-identical stdout, stderr, exit status and files to the
 * uninterrupted run. Each case also checks the uninterrupted run against the native tool.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { expect } from 'vitest';
import { ExitCode } from '../dist/runtime/index.js';
import { countCallsOf } from '../test/helpers/examples.js';
import { ROOT, copyDir, pool, removeDir, samplePoints, tempDir, wmig } from '../test/helpers/wmig.js';

export const REAL = join(ROOT, 'real', 'build');
export const realModule = (name: string) => join(REAL, `${name}.wasm`);

/** Freeze points per case: a seeded sample over the run's WASI calls (bounded time, see README). */
export const POINTS = Number(process.env.WMIG_REAL_POINTS ?? 8);
export const SEED = Number(process.env.WMIG_REAL_SEED ?? 0x5eed);

export interface RealCase {
  /** Label, also the seed's salt. */
  name: string;
  /** Module name in real/build. */
  module: string;
  args: string[];
  stdin?: Buffer;
  /** Files to put in the mounted directory (/data) before the run; undefined = no mount. */
  files?: Record<string, Buffer>;
  env?: Record<string, string>;
  /** Host directories mounted read-only, guest path → host path; bound the same way at thaw. */
  readOnly?: Record<string, string>;
  /** Guest path of an in-memory scratch directory (--tmpfs); it travels in the snapshot. */
  tmpfs?: string;
  /** Virtual clocks and seeded random (--deterministic), for programs that print times. */
  deterministic?: boolean;
}

export interface Outputs {
  status: number;
  stdout: Buffer;
  stderr: Buffer;
  /** Every file left in /data, keyed by relative path. */
  files: Record<string, Buffer>;
}

export interface Oracle extends Outputs {
  callCount: number;
  ms: number;
}

function seed(dir: string, files: Record<string, Buffer> | undefined): void {
  for (const [rel, bytes] of Object.entries(files ?? {})) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), bytes);
  }
}

/** Every regular file below dir, as Buffers (test/helpers' dirContents gives base64 strings). */
export function readTree(dir: string): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const path = rel ? `${rel}/${name}` : name;
      if (statSync(join(dir, path)).isDirectory()) walk(path);
      else out[path] = readFileSync(join(dir, path));
    }
  };
  walk('');
  return out;
}

const readOnlyFlags = (c: RealCase) => Object.entries(c.readOnly ?? {}).flatMap(([guest, host]) => ['--dir', `${host}::${guest}:ro`]);

const mountFlags = (c: RealCase, dir: string) => [
  ...(c.files ? ['--dir', `${dir}::/data`] : []),
  ...readOnlyFlags(c),
  ...(c.tmpfs ? ['--tmpfs', c.tmpfs] : []),
  ...(c.deterministic ? ['--deterministic'] : []),
  ...Object.entries(c.env ?? {}).flatMap(([k, v]) => ['--env', `${k}=${v}`]),
];

/** The uninterrupted run through the CLI, plus its WASI call count from the library. */
export async function oracle(c: RealCase): Promise<Oracle> {
  const work = tempDir('wmig-real-');
  try {
    const dir = join(work, 'data');
    mkdirSync(dir);
    seed(dir, c.files);
    const t0 = performance.now();
    const r = await wmig(['run', ...mountFlags(c, dir), realModule(c.module), ...c.args], { stdin: c.stdin });
    const ms = performance.now() - t0;
    const files = c.files ? readTree(dir) : {};
    return { ...r, files, ms, callCount: await countCalls(c) };
  } finally {
    removeDir(work);
  }
}

function countCalls(c: RealCase): Promise<number> {
  return countCallsOf({
    module: realModule(c.module),
    args: c.args,
    env: c.env,
    stdin: c.stdin,
    data: c.files !== undefined,
    fixture: (dir) => seed(dir, c.files),
    mounts: [
      ...Object.entries(c.readOnly ?? {}).map(([guestPath, hostPath]) => ({ kind: 'host' as const, guestPath, hostPath, readOnly: true })),
      ...(c.tmpfs ? [{ kind: 'memory' as const, guestPath: c.tmpfs }] : []),
    ],
    deterministic: c.deterministic,
  });
}

export interface Migrated extends Outputs {
  point: number;
  freezeMs: number;
  thawMs: number;
  snapshotBytes: number;
}

/** Bytes of stdin the frozen guest had consumed, from the snapshot's handle table. */
async function stdinConsumed(snapshot: string): Promise<number> {
  const inspected = await wmig(['inspect', '--json', snapshot]);
  expect(inspected.status, inspected.stderr.toString()).toBe(0);
  type Handle = { fd: number; kind: string; offset: number };
  const description = JSON.parse(inspected.stdout.toString()) as { host: { handles: Handle[] } };
  const stdin = description.host.handles.find((h) => h.fd === 0 && h.kind === 'stdio');
  return stdin?.offset ?? 0;
}

/** Runs `c` to just before its n-th WASI call, freezes it, copies /data elsewhere and thaws there. */
export async function freezeThawAt(c: RealCase, n: number): Promise<Migrated> {
  const work = tempDir('wmig-real-ft-');
  const source = join(work, 'source');
  const destination = join(work, 'destination');
  const snapshot = join(work, 'frozen.wmig');
  mkdirSync(source);
  try {
    seed(source, c.files);
    let t0 = performance.now();
    const frozen = await wmig(
      ['run', ...mountFlags(c, source), '--freeze-at-call', String(n), '--snapshot', snapshot, realModule(c.module), ...c.args],
      { stdin: c.stdin },
    );
    const freezeMs = performance.now() - t0;
    if (frozen.status !== ExitCode.FROZEN) {
      throw new Error(`${c.name}: freeze at call ${n}: status ${frozen.status}: ${frozen.stderr.toString().slice(-500)}`);
    }
    const snapshotBytes = existsSync(snapshot) ? statSync(snapshot).size : 0;
    if (c.files) copyDir(source, destination);
    const rest = c.stdin === undefined ? undefined : c.stdin.subarray(await stdinConsumed(snapshot));
    t0 = performance.now();
    const thawed = await wmig(['thaw', ...(c.files ? ['--dir', `${destination}::/data`] : []), ...readOnlyFlags(c), snapshot], { stdin: rest });
    const thawMs = performance.now() - t0;
    return {
      point: n,
      status: thawed.status,
      stdout: Buffer.concat([frozen.stdout, thawed.stdout]),
      stderr: Buffer.concat([frozen.stderr, thawed.stderr]),
      files: c.files ? readTree(destination) : {},
      freezeMs,
      thawMs,
      snapshotBytes,
    };
  } finally {
    removeDir(work);
  }
}

/** What differs between two runs' outputs ('' when byte-identical). */
export function difference(expected: Outputs, got: Outputs): string {
  const diffs: string[] = [];
  if (got.status !== expected.status) diffs.push(`status ${got.status} != ${expected.status}`);
  if (!got.stdout.equals(expected.stdout)) diffs.push(`stdout differs (${got.stdout.length} vs ${expected.stdout.length} bytes)`);
  if (!got.stderr.equals(expected.stderr)) diffs.push(`stderr ${JSON.stringify(got.stderr.toString('latin1').slice(-300))}`);
  const names = [...new Set([...Object.keys(expected.files), ...Object.keys(got.files)])].sort();
  for (const name of names) {
    const a = expected.files[name];
    const b = got.files[name];
    if (!a || !b) diffs.push(`file ${name} ${a ? 'missing' : 'extra'}`);
    else if (!a.equals(b)) diffs.push(`file ${name} differs (${b.length} vs ${a.length} bytes)`);
  }
  return diffs.join('; ');
}

/** A stable 32-bit salt from a string, to give each case its own sample of freeze points. */
export function salt(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * Freezes `c` at POINTS seeded points over its call count (plus its very first call), thaws each in a
 * fresh process and asserts the combined outputs equal the oracle's. Returns the oracle and the runs.
 */
export async function migrateEverywhere(c: RealCase, expected: Oracle): Promise<Migrated[]> {
  expect(expected.callCount).toBeGreaterThan(0);
  const points = [...new Set([1, ...samplePoints(expected.callCount, POINTS, (SEED ^ salt(c.name)) >>> 0)])].sort((a, b) => a - b);
  const runs = await pool(points.map((n) => () => freezeThawAt(c, n)));
  const mismatches = runs.map((r) => [r.point, difference(expected, r)] as const).filter(([, d]) => d !== '');
  report(c, expected, runs);
  expect(mismatches.map(([p, d]) => `call ${p}/${expected.callCount}: ${d}`)).toEqual([]);
  return runs;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

/** One line of numbers per case (also appended to real/build/numbers.jsonl for bench). */
function report(c: RealCase, expected: Oracle, runs: Migrated[]): void {
  const line = {
    case: c.name,
    calls: expected.callCount,
    plainRunMs: Math.round(expected.ms),
    points: runs.map((r) => r.point),
    medianFreezeRunMs: Math.round(median(runs.map((r) => r.freezeMs))),
    medianThawRunMs: Math.round(median(runs.map((r) => r.thawMs))),
    maxSnapshotBytes: Math.max(...runs.map((r) => r.snapshotBytes)),
    medianSnapshotBytes: median(runs.map((r) => r.snapshotBytes)),
  };
  console.log(`[real] ${JSON.stringify(line)}`);
  try {
    writeFileSync(join(REAL, 'numbers.jsonl'), JSON.stringify(line) + '\n', { flag: 'a' });
  } catch {
    /* numbers are a by-product */
  }
}

/** Runs a native tool synchronously (the comparison reference). */
export function native(cmd: string, args: string[], input?: Buffer, cwd?: string): { status: number; stdout: Buffer; stderr: Buffer } {
  const r = spawnSync(cmd, args, { input, cwd, maxBuffer: 1 << 30 });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

export function requireModules(...names: string[]): void {
  for (const name of names) {
    if (!existsSync(realModule(name))) throw new Error(`${realModule(name)} missing: run bash scripts/build-real-programs.sh`);
  }
}
