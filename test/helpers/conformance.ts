/** The WASI conformance programs (examples/conformance) and how each runner is driven. */
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { makeFixture } from './conformance-fixture.js';
import { countCalls, type ExampleCase } from './examples.js';
import { CACHE_DIR, ROOT, WMIG, example } from './wmig.js';

export const ENV: [string, string][] = [['CONF_A', '1'], ['CONF_B', 'x=y']];

export interface Program extends ExampleCase {
  /** Expected exit status under a conformant host. */
  status: number;
}

const p = (name: string, extra: Partial<Program> = {}): Program => ({
  name: `conformance/${name}`, data: true, fixture: makeFixture, status: 0, ...extra,
});

export const PROGRAMS: Program[] = [
  p('args_env', { args: ['alpha', 'two words', ''], env: ENV }),
  p('clocks'),
  p('random'),
  p('fd_basic'),
  p('fdstat'),
  p('filestat'),
  p('readdir'),
  p('paths'),
  p('poll'),
  p('fd_misc'),
  p('sock'),
  p('rights'),
  p('proc_exit', { args: ['3'], status: 3 }),
  p('rust_fs'),
  p('rust_env', { args: ['alpha', 'two words'], env: ENV }),
];

/**
 * The programs that use the fixture's symlinks, on an in-memory /data: they build the fixture there
 * themselves (conf.h), with the calls under test. Under wmig only (no peer has --tmpfs).
 */
export const TMPFS_PROGRAMS: Program[] = ['paths', 'filestat', 'readdir'].map((name) =>
  p(name, { data: false, fixture: undefined, tmpfs: true, env: [['CONF_MAKE_FIXTURE', '1']] }));

export const short = (c: Program) => c.name.replace('conformance/', '');

export type Runner = 'wmig' | 'node' | 'wasmer';

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
  /** Killed after the time limit (the peer hung). */
  timedOut: boolean;
}

const RUNNER_ARGS: Record<Runner, string[]> = {
  wmig: [WMIG, 'run'],
  node: ['--no-warnings', join(ROOT, 'test', 'helpers', 'run-node-wasi.mjs')],
  wasmer: ['--no-warnings', join(ROOT, 'test', 'helpers', 'run-wasmer.mjs')],
};

/** Runs `c` under `runner` in a fresh OS process over a fresh fixture directory. */
export function runUnder(runner: Runner, c: Program, work: string, options: { argv0?: string; timeoutMs?: number; stdin?: string } = {}): Promise<RunResult> {
  const data = join(work, `${runner}-${short(c)}`);
  mkdirSync(data, { recursive: true });
  c.fixture?.(data);
  const flags = c.tmpfs ? ['--tmpfs', '/data'] : ['--dir', `${data}::/data`];
  for (const [k, v] of c.env ?? []) flags.push('--env', `${k}=${v}`);
  if (options.argv0 !== undefined) flags.push('--argv0', options.argv0);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...RUNNER_ARGS[runner], ...flags, example(c.name), ...(c.args ?? [])], {
      cwd: ROOT,
      env: { ...process.env, WMIG_CACHE_DIR: join(ROOT, '.wmig-cache') },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 60_000);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({
        status: status ?? 128 + (signal ? constants.signals[signal] : 0),
        stdout: Buffer.concat(out).toString('latin1'),
        stderr: Buffer.concat(err).toString('latin1'),
        timedOut,
      });
    });
    child.stdin.on('error', () => {});
    child.stdin.end(options.stdin ?? '');
  });
}

/** The names of the checks a run printed as "name: ok" and as "name: FAIL …". */
export function checks(stdout: string): { ok: string[]; fail: string[] } {
  const ok: string[] = [];
  const fail: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^(.*?): (ok|FAIL)( |$)/.exec(line);
    if (m) (m[2] === 'ok' ? ok : fail).push(m[1]!);
  }
  return { ok, fail };
}

/** The number of WASI calls `c` makes in an uninterrupted run (through the library, as the oracle does). */
export const callCount = (c: Program): Promise<number> => countCalls(c);
