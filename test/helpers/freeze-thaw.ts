import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ExitCode } from '../../dist/runtime/index.js';
import { runFlags, type ExampleCase } from './examples.js';
import { copyDir, dirContents, example, removeDir, tempDir, wmig } from './wmig.js';

export interface Combined {
  status: number;
  stdout: string;
  stderr: string;
  files: Record<string, string>;
}

/** Bytes of stdin the frozen guest had consumed, from the snapshot's handle table. */
export async function stdinConsumed(snapshot: string): Promise<number> {
  const inspected = await wmig(['inspect', '--json', snapshot]);
  expect(inspected.status, inspected.stderr.toString()).toBe(0);
  type Handle = { fd: number; kind: string; offset: number };
  const description = JSON.parse(inspected.stdout.toString()) as { host: { handles: Handle[] } };
  const stdin = description.host.handles.find((h) => h.fd === 0 && h.kind === 'stdio');
  expect(typeof stdin?.offset).toBe('number');
  return stdin!.offset;
}

/**
 * Runs `c` to just before its `n`-th WASI call, freezes it, and thaws the snapshot in a fresh OS
 * process — with /data re-bound to a copy of the source directory at another host path. Returns what
 * the two processes produced together.
 */
export async function freezeThawAt(c: ExampleCase, n: number): Promise<Combined> {
  const work = tempDir();
  const source = join(work, 'source');
  const destination = join(work, 'destination');
  const snapshot = join(work, 'frozen.wmig');
  mkdirSync(source);
  c.fixture?.(source);
  try {
    const frozen = await wmig(
      ['run', ...runFlags(c, source), '--freeze-at-call', String(n), '--snapshot', snapshot, example(c.name), ...(c.args ?? [])],
      { stdin: c.stdin },
    );
    expect(frozen.status, `freeze at call ${n}: ${frozen.stderr}`).toBe(ExitCode.FROZEN);
    if (c.data) copyDir(source, destination);
    const rest = c.stdin === undefined ? undefined : Buffer.from(c.stdin).subarray(await stdinConsumed(snapshot));
    const thawFlags = c.data ? ['--dir', `${destination}::/data`] : [];
    const thawed = await wmig(['thaw', ...thawFlags, snapshot], { stdin: rest });
    return {
      status: thawed.status,
      stdout: Buffer.concat([frozen.stdout, thawed.stdout]).toString('latin1'),
      stderr: Buffer.concat([frozen.stderr, thawed.stderr]).toString('latin1'),
      files: c.data ? dirContents(destination) : {},
    };
  } finally {
    removeDir(work);
  }
}
