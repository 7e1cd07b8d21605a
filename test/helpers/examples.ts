/** The examples as the migration tests run them, and their uninterrupted runs (the oracle). */
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run, type MountSpec } from '../../dist/runtime/index.js';
import { CACHE_DIR, dirContents, example, removeDir, tempDir, wmig, type CliResult } from './wmig.js';

export interface ExampleCase {
  name: string;
  args?: string[];
  env?: [string, string][];
  stdin?: string;
  /** Mount a fresh host directory at /data. */
  data?: boolean;
  /** Fills that directory before the run (freezeThawAt: the source directory). */
  fixture?: (dir: string) => void;
  /** Mount an in-memory /data (--tmpfs): it starts empty and travels in the snapshot. */
  tmpfs?: boolean;
}

export const STDIN_TEXT = [
  'the quick brown fox jumps over the lazy dog',
  'wmig freezes a process at any WASI call and thaws it elsewhere',
  'stdin is consumed in small chunks, so freezes land between reads',
  'and the thawed process must carry on with the rest of the input',
].join('\n') + '\n';

export const EXAMPLES: ExampleCase[] = [
  { name: 'progress' },
  { name: 'fileio', data: true },
  { name: 'clockrand' },
  { name: 'recursion' },
  { name: 'bigheap' },
  { name: 'argsenv', args: ['alpha', 'two words', '--flag'], env: [['WMIG_A', '1'], ['WMIG_B', 'x=y']] },
  { name: 'stdin', stdin: STDIN_TEXT },
  { name: 'ledger', data: true, env: [['WMIG_LEDGER_NAME', 'books']] },
  { name: 'sjlj' },
];

export interface Oracle extends CliResult {
  files: Record<string, string>;
  callCount: number;
}

export function runFlags(c: ExampleCase, dataDir?: string): string[] {
  const flags: string[] = [];
  if (c.data) flags.push('--dir', `${dataDir}::/data`);
  if (c.tmpfs) flags.push('--tmpfs', '/data');
  for (const [k, v] of c.env ?? []) flags.push('--env', `${k}=${v}`);
  return flags;
}

/** The uninterrupted run through the CLI, plus its WASI call count from the library. */
export async function oracle(c: ExampleCase): Promise<Oracle> {
  const dir = tempDir();
  c.fixture?.(dir);
  const result = await wmig(['run', ...runFlags(c, dir), example(c.name), ...(c.args ?? [])], { stdin: c.stdin });
  const files = c.data ? dirContents(dir) : {};
  return { ...result, files, callCount: await countCalls(c) };
}

/** A guest run whose WASI calls are counted (the oracle for choosing freeze points). */
export interface CountedRun {
  module: string;
  args?: string[];
  env?: [string, string][] | Record<string, string>;
  stdin?: string | Uint8Array;
  /** Mount a fresh host directory at /data, filled by `fixture`. */
  data?: boolean;
  fixture?: (dir: string) => void;
  /** Mount an in-memory /data instead. */
  tmpfs?: boolean;
  /** More mounts, after /data. */
  mounts?: MountSpec[];
  deterministic?: boolean;
}

/** The number of WASI calls a guest makes in an uninterrupted run, from the library. */
export async function countCallsOf(r: CountedRun): Promise<number> {
  const dir = tempDir();
  r.fixture?.(dir);
  const stdio = tempDir();
  const input = join(stdio, 'stdin');
  writeFileSync(input, r.stdin ?? '');
  // Regular files, not /dev/null: a character device looks like a terminal to libc, which then
  // line-buffers stdout (or, like bzip2 -c, refuses to write) and makes other calls than the CLI
  // runs (with pipes) do.
  const fds = [openSync(input, 'r'), openSync(join(stdio, 'out'), 'w'), openSync(join(stdio, 'err'), 'w')] as const;
  try {
    const proc = await run(r.module, {
      args: r.args,
      env: r.env,
      mounts: [
        ...(r.data ? [{ kind: 'host' as const, hostPath: dir, guestPath: '/data' }] : r.tmpfs ? [{ kind: 'memory' as const, guestPath: '/data' }] : []),
        ...(r.mounts ?? []),
      ],
      ...(r.deterministic ? { deterministic: true } : {}),
      stdio: { stdin: fds[0], stdout: fds[1], stderr: fds[2] },
      cacheDir: CACHE_DIR,
    });
    const result = await proc.result;
    if (result.state === 'frozen') throw new Error('unexpected freeze');
    return result.callCount;
  } finally {
    fds.forEach((fd) => closeSync(fd));
    removeDir(dir);
    removeDir(stdio);
  }
}

export const countCalls = (c: ExampleCase): Promise<number> => countCallsOf({ ...c, module: example(c.name) });
