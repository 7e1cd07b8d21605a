/** Bad input gets a clear message and a distinct exit status; nothing runs on a bad snapshot. */
import { readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { xxh3 } from '@node-rs/xxhash';
import { beforeAll, describe, expect, test } from 'vitest';
import { decodeSnapshot, ExitCode, run, snapshotBytes, thaw, WmigError, type RunOptions } from '../dist/runtime/index.js';
import { bundledWasmOpt } from '../dist/transforms/wasm-opt.js';
import { example, tempDir, wmig } from './helpers/wmig.js';

let work: string;
let good: Buffer;

beforeAll(async () => {
  work = tempDir();
  const frozen = await wmig(['run', '--freeze-at-call', '10', '--snapshot', join(work, 'good.wmig'), example('progress')]);
  expect(frozen.status).toBe(ExitCode.FROZEN);
  good = readFileSync(join(work, 'good.wmig'));
});

async function thawBytes(bytes: Uint8Array, extra: string[] = []) {
  const path = join(work, `case-${Math.random().toString(36).slice(2)}.wmig`);
  writeFileSync(path, bytes);
  return wmig(['thaw', ...extra, path]);
}

/** Re-seals an edited snapshot: the header hash covers bytes 0..23, the END checksum every byte
 *  before its payload (see runtime/snapshot/FORMAT.md). */
function resealed(bytes: Buffer): Buffer {
  const copy = Buffer.from(bytes);
  copy.writeBigUInt64LE(xxh3.xxh64(copy.subarray(0, 24)), 24);
  const payloadStart = copy.length - 8;
  copy.writeBigUInt64LE(xxh3.xxh64(copy.subarray(0, payloadStart)), payloadStart);
  return copy;
}

describe('bad snapshots are refused before the guest runs', () => {
  test('the good snapshot thaws (control)', async () => {
    const result = await thawBytes(good);
    expect(result.status).toBe(0);
  });

  test('a flipped byte anywhere: bad checksum', async () => {
    for (const at of [20, Math.floor(good.length / 2), good.length - 30]) {
      const bad = Buffer.from(good);
      bad[at]! ^= 0x40;
      const result = await thawBytes(bad);
      expect(result.status, `byte ${at}`).toBe(ExitCode.CORRUPT_SNAPSHOT);
      expect(result.stdout.length).toBe(0);
    }
  });

  test('a truncated file', async () => {
    const result = await thawBytes(good.subarray(0, good.length - 1000));
    expect(result.status).toBe(ExitCode.CORRUPT_SNAPSHOT);
    expect(result.stderr.toString()).toMatch(/truncated/);
  });

  test('not a snapshot at all', async () => {
    const result = await thawBytes(readFileSync(example('progress')));
    expect(result.status).toBe(ExitCode.CORRUPT_SNAPSHOT);
    expect(result.stderr.toString()).toMatch(/not a wmig snapshot/);
  });

  test('a newer format version', async () => {
    const newer = Buffer.from(good);
    newer.writeUInt32LE(4, 8);
    const result = await thawBytes(resealed(newer));
    expect(result.status).toBe(ExitCode.UNSUPPORTED_VERSION);
    expect(result.stderr.toString()).toMatch(/newer/);
  });

  test('a different module', async () => {
    const bare = join(work, 'bare.wmig');
    const frozen = await wmig(['run', '--no-embed-module', '--freeze-at-call', '5', '--snapshot', bare, example('progress')]);
    expect(frozen.status).toBe(ExitCode.FROZEN);
    const wrong = await wmig(['thaw', '--module', example('recursion'), bare]);
    expect(wrong.status).toBe(ExitCode.MODULE_MISMATCH);
    expect(wrong.stderr.toString()).toMatch(/taken from module progress/);
    const missing = await wmig(['thaw', bare]);
    expect(missing.status).toBe(ExitCode.NO_INPUT);
    const right = await wmig(['thaw', '--module', example('progress'), bare]);
    expect(right.status).toBe(0);
  });

  test('the same program instrumented by another transform version: the message says so', async () => {
    const bare = join(work, 'bare-old.wmig');
    const frozen = await wmig(['run', '--no-embed-module', '--freeze-at-call', '5', '--snapshot', bare, example('progress')]);
    expect(frozen.status).toBe(ExitCode.FROZEN);
    // As a snapshot from a wmig whose transform made other bytes: another version, another digest.
    const meta = readFileSync(bare).toString('latin1');
    const version = /"transformVersion":(\d+)/.exec(meta);
    const digest = /"digest":"([0-9a-f]{64})"/.exec(meta);
    expect(version, 'META records the transform version').not.toBeNull();
    const older = String(Number(version![1]) - 1).padStart(version![1]!.length, '0');
    const edited = meta
      .replace(version![0], `"transformVersion":${older}`)
      .replace(digest![0], `"digest":"${digest![1]!.replace(/^./, (c) => (c === '0' ? '1' : '0'))}"`);
    const result = await thawBytes(resealed(Buffer.from(edited, 'latin1')), ['--module', example('progress')]);
    expect(result.status).toBe(ExitCode.MODULE_MISMATCH);
    expect(result.stderr.toString()).toMatch(new RegExp(`same program, but instrumented by wmig's transform version ${Number(older)}, and this wmig instruments with version ${version![1]}`));
  });

  test.skipIf(bundledWasmOpt() === null)('the same program instrumented by another Asyncify tool: the message names both', async () => {
    const bare = join(work, 'bare-js.wmig');
    const byBinaryenJs = { env: { WMIG_WASM_OPT: 'off' } };
    const frozen = await wmig(['run', '--no-embed-module', '--freeze-at-call', '5', '--snapshot', bare, example('progress')], byBinaryenJs);
    expect(frozen.status).toBe(ExitCode.FROZEN);
    const other = await wmig(['thaw', '--module', example('progress'), bare]);
    expect(other.status).toBe(ExitCode.MODULE_MISMATCH);
    expect(other.stderr.toString()).toMatch(/same program and transform version, instrumented by another Asyncify tool \(binaryen\.js-\S+ then, wasm-opt-\S+ here\)/);
    const same = await wmig(['thaw', '--module', example('progress'), bare], byBinaryenJs);
    expect(same.status).toBe(0);
  });

  test('a missing snapshot file', async () => {
    const result = await wmig(['thaw', join(work, 'nope.wmig')]);
    expect(result.status).toBe(ExitCode.NO_INPUT);
    expect(result.stderr.toString()).toMatch(/not found/);
  });
});

describe('strings from a snapshot cannot drive the terminal', () => {
  const ESCAPES = 'x\u001b]0;title\u0007\u001b[2J\rover\nhandle          {"fake":true}';

  /** `good` with its META reason replaced (and, given a host path, a mount of it added). */
  function crafted(reason: string, hostPath?: string): Uint8Array {
    const s = decodeSnapshot(good);
    const memory = new Uint8Array(s.memory.pageCount * 65536);
    for (const p of s.memory.pages) memory.set(p.data, p.index * 65536);
    const host = s.host as { mounts: object[] };
    if (hostPath !== undefined) host.mounts.push({ guestPath: '/d', kind: 'host', hostPath, readOnly: false });
    return snapshotBytes({ ...s, memory: { bytes: memory }, meta: { ...s.meta, reason } });
  }

  test('wmig inspect shows control characters escaped, one line per field', async () => {
    const plainPath = join(work, 'plain-reason.wmig');
    writeFileSync(plainPath, crafted('plain'));
    const plain = await wmig(['inspect', plainPath]);
    const path = join(work, 'escapes.wmig');
    writeFileSync(path, crafted(ESCAPES));
    const shown = await wmig(['inspect', path]);
    expect(shown.status).toBe(0);
    const out = shown.stdout.toString();
    expect(out).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(out).toContain('reason          x\\u001b]0;title\\u0007\\u001b[2J\\u000dover\\u000ahandle');
    expect(out.split('\n').length).toBe(plain.stdout.toString().split('\n').length);
  });

  test('an error message naming a host path from the snapshot shows it escaped', async () => {
    const result = await thawBytes(crafted('r', `/nonexistent-${ESCAPES}`));
    expect(result.status).toBe(ExitCode.REBIND_FAILED);
    const err = result.stderr.toString();
    expect(err).toContain('host directory /nonexistent-x\\u001b]0;title');
    expect(err).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
  });
});

describe('what a snapshot records of its module', () => {
  test('a thawed process records the transform version and tool of its module again', async () => {
    const first = join(work, 'first.wmig');
    const second = join(work, 'second.wmig');
    expect((await wmig(['run', '--freeze-at-call', '5', '--snapshot', first, example('progress')])).status).toBe(ExitCode.FROZEN);
    expect((await wmig(['thaw', '--freeze-at-call', '8', '--snapshot', second, first])).status).toBe(ExitCode.FROZEN);
    const recorded = (file: string) => {
      const meta = readFileSync(file).toString('latin1');
      return [/"transformVersion":(\d+)/.exec(meta)?.[1], /"instrumentedBy":"([^"]+)"/.exec(meta)?.[1]];
    };
    expect(recorded(first)[0]).toMatch(/^\d+$/);
    expect(recorded(first)[1]).toMatch(/^(wasm-opt|binaryen\.js)-/);
    expect(recorded(second)).toEqual(recorded(first));
  });
});

describe('bad command lines', () => {
  test('an unknown flag', async () => {
    const result = await wmig(['run', '--no-such-flag', example('progress')]);
    expect(result.status).toBe(ExitCode.USAGE);
    expect(result.stderr.toString()).toMatch(/unknown option/);
  });

  test('a malformed --env', async () => {
    const result = await wmig(['run', '--env', 'NOVALUE', example('progress')]);
    expect(result.status).toBe(ExitCode.USAGE);
    expect(result.stderr.toString()).toMatch(/K=V/);
  });

  test('--freeze-at-call without --snapshot', async () => {
    const result = await wmig(['run', '--freeze-at-call', '3', example('progress')]);
    expect(result.status).toBe(ExitCode.USAGE);
  });

  test('a missing module', async () => {
    const result = await wmig(['run', join(work, 'missing.wasm')]);
    expect(result.status).toBe(ExitCode.NO_INPUT);
  });

  test('a file that is not wasm', async () => {
    const notWasm = join(work, 'not.wasm');
    writeFileSync(notWasm, 'hello');
    const result = await wmig(['run', notWasm]);
    expect(result.status).toBe(ExitCode.BAD_MODULE);
  });

  test('a missing --dir host directory, or a file given as one', async () => {
    const result = await wmig(['run', '--dir', `${join(work, 'nodir')}::/data`, example('fileio')]);
    expect(result.status).toBe(ExitCode.NO_INPUT);
    expect(result.stderr.toString()).toMatch(/host directory .*nodir: not found/);
    const file = join(work, 'good.wmig');
    const notDir = await wmig(['run', '--dir', `${file}::/data`, example('fileio')]);
    expect(notDir.status).toBe(ExitCode.NO_INPUT);
    expect(notDir.stderr.toString()).toMatch(/host directory .*good\.wmig: not a directory/);
  });

  test('a --listen address that is already in use', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as net.AddressInfo;
    try {
      const result = await wmig(['run', '--listen', `127.0.0.1:${port}`, example('progress')]);
      expect(result.status).toBe(ExitCode.CANT_LISTEN);
      expect(result.stderr.toString()).toContain(`cannot listen on 127.0.0.1:${port}: the address is already in use`);
      expect(result.stdout.length).toBe(0); // the guest never ran
    } finally {
      taken.close();
    }
  });

  test('a guest trap gives its own status and a message', async () => {
    const trapWasm = join(work, 'trap.wasm');
    const { default: binaryen } = await import('binaryen');
    const mod = binaryen.parseText('(module (memory (export "memory") 1) (func (export "_start") unreachable))');
    writeFileSync(trapWasm, mod.emitBinary());
    mod.dispose();
    const result = await wmig(['run', trapWasm]);
    expect(result.status).toBe(ExitCode.TRAP);
    expect(result.stderr.toString()).toMatch(/trapped: unreachable/);
  });

  test('--help on each command', async () => {
    for (const command of ['run', 'thaw', 'freeze', 'instrument', 'inspect']) {
      const result = await wmig([command, '--help']);
      expect(result.status, command).toBe(0);
      expect(result.stdout.toString()).toMatch(new RegExp(`Usage: wmig ${command}`));
    }
  });
});

describe('bad library options', () => {
  const rejection = async (options: RunOptions) => {
    const error = await run(example('progress'), options).then(() => null, (e: unknown) => e);
    expect(error).toBeInstanceOf(WmigError);
    expect((error as WmigError).code).toBe(ExitCode.USAGE);
    return (error as WmigError).message;
  };

  test('stdio that is not a file descriptor, or not an open one', async () => {
    const notFd = { stdin: 0, stdout: 'ignore', stderr: 2 } as unknown as RunOptions['stdio'];
    expect(await rejection({ stdio: notFd })).toMatch(/stdio\.stdout must be a file descriptor .*"ignore"/);
    expect(await rejection({ stdio: { stdin: 0, stdout: 1, stderr: 4095 } })).toMatch(/stdio\.stderr: file descriptor 4095 is not open/);
    const thawError = await thaw(join(work, 'good.wmig'), { stdio: notFd }).then(() => null, (e: unknown) => e);
    expect((thawError as WmigError).code).toBe(ExitCode.USAGE);
  });

  test('environment names with "=" or nothing, and strings with NUL', async () => {
    expect(await rejection({ env: { 'A=B': 'c' } })).toMatch(/name "A=B"/);
    expect(await rejection({ env: [['', 'c']] })).toMatch(/name ""/);
    expect(await rejection({ env: { A: 'x\0y' } })).toMatch(/variable A: value/);
    expect(await rejection({ args: ['ok', 'x\0y'] })).toMatch(/argv\[2\]/);
  });
});
