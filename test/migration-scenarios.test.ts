/** Migration beyond a single freeze: generations, leave-running, freeze by PID or timer, re-binding. */
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { controlSocketPath } from '../dist/runtime/cli/control.js';
import { ExitCode, migrate, run, thaw } from '../dist/runtime/index.js';
import { EXAMPLES, oracle, runFlags } from './helpers/examples.js';
import { CACHE_DIR, copyDir, dirContents, example, tempDir, WMIG, wmig } from './helpers/wmig.js';

const progress = EXAMPLES.find((c) => c.name === 'progress')!;
const fileio = EXAMPLES.find((c) => c.name === 'fileio')!;

/** Sends `raw` as is to a control socket and returns the reply. */
function rawControl(path: string, raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path, () => socket.write(raw));
    let reply = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (reply += chunk));
    socket.on('end', () => resolve(reply));
    socket.on('error', reject);
  });
}

describe('a chain of 10 freeze/thaw generations', () => {
  test.each([progress, fileio])('$name ends exactly like the uninterrupted run', async (c) => {
    const expected = await oracle(c);
    const generations = 10;
    const work = tempDir();
    let stdout = '';
    let stderr = '';
    let dataDir = join(work, 'gen0');
    mkdirSync(dataDir);
    let snapshot = '';
    let last = { status: -1 };
    for (let gen = 0; gen <= generations; gen++) {
      // Spread the freezes over the run; each generation thaws the previous one's snapshot.
      const freezeAt = Math.floor(((gen + 1) * expected.callCount) / (generations + 2));
      const next = join(work, `gen${gen}.wmig`);
      const freeze = gen < generations ? ['--freeze-at-call', String(freezeAt), '--snapshot', next] : [];
      let result;
      if (gen === 0) {
        result = await wmig(['run', ...runFlags(c, dataDir), ...freeze, example(c.name)]);
      } else {
        const moved = join(work, `data${gen}`);
        copyDir(dataDir, moved);
        dataDir = moved;
        result = await wmig(['thaw', ...(c.data ? ['--dir', `${dataDir}::/data`] : []), ...freeze, snapshot]);
      }
      stdout += result.stdout.toString('latin1');
      stderr += result.stderr.toString('latin1');
      if (gen < generations) expect(result.status, `generation ${gen}: ${result.stderr}`).toBe(ExitCode.FROZEN);
      snapshot = next;
      last = result;
    }
    expect(last.status).toBe(expected.status);
    expect(stdout).toBe(expected.stdout.toString('latin1'));
    expect(stderr).toBe(expected.stderr.toString('latin1'));
    if (c.data) expect(dirContents(dataDir)).toEqual(expected.files);
  });
});

describe('--leave-running', () => {
  test('the original finishes, and a thawed copy of its snapshot finishes the same', async () => {
    const expected = await oracle(progress);
    const work = tempDir();
    const snapshot = join(work, 'copy.wmig');
    const original = await wmig(['run', '--freeze-at-call', '12', '--leave-running', '--snapshot', snapshot, example('progress')]);
    expect(original.status).toBe(expected.status);
    expect(original.stdout.equals(expected.stdout)).toBe(true);
    expect(original.stderr.equals(expected.stderr)).toBe(true);
    // What the original printed before the snapshot, from a run frozen at the same call.
    const before = await wmig(['run', '--freeze-at-call', '12', '--snapshot', join(work, 'stop.wmig'), example('progress')]);
    expect(before.status).toBe(ExitCode.FROZEN);
    const copy = await wmig(['thaw', snapshot]);
    expect(copy.status).toBe(expected.status);
    expect(Buffer.concat([before.stdout, copy.stdout]).equals(expected.stdout)).toBe(true);
    expect(Buffer.concat([before.stderr, copy.stderr]).equals(expected.stderr)).toBe(true);
  });
});

describe('re-binding mounts on thaw', () => {
  test('the thawed process writes to the new host directory, the old one is left as it was at the freeze', async () => {
    const expected = await oracle(fileio);
    const work = tempDir();
    const source = join(work, 'source');
    const destination = join(work, 'elsewhere', 'data');
    mkdirSync(source);
    const snapshot = join(work, 's.wmig');
    const frozen = await wmig(['run', '--dir', `${source}::/data`, '--freeze-at-call', '40', '--snapshot', snapshot, example('fileio')]);
    expect(frozen.status).toBe(ExitCode.FROZEN);
    const atFreeze = dirContents(source);
    copyDir(source, destination);
    const thawed = await wmig(['thaw', '--dir', `${destination}::/data`, snapshot]);
    expect(thawed.status).toBe(expected.status);
    expect(Buffer.concat([frozen.stdout, thawed.stdout]).equals(expected.stdout)).toBe(true);
    expect(dirContents(destination)).toEqual(expected.files);
    expect(dirContents(source)).toEqual(atFreeze);
  });

  test('a missing host directory on the destination is refused before the guest runs', async () => {
    const work = tempDir();
    const source = join(work, 'source');
    mkdirSync(source);
    const snapshot = join(work, 's.wmig');
    await wmig(['run', '--dir', `${source}::/data`, '--freeze-at-call', '40', '--snapshot', snapshot, example('fileio')]);
    const thawed = await wmig(['thaw', '--dir', `${join(work, 'missing')}::/data`, snapshot]);
    expect(thawed.status).toBe(ExitCode.REBIND_FAILED);
    expect(thawed.stdout.length).toBe(0);
    expect(thawed.stderr.toString()).toMatch(/\/data/);
  });

  test('an open file missing on the destination is refused before the guest runs', async () => {
    const work = tempDir();
    const source = join(work, 'source');
    const empty = join(work, 'empty');
    mkdirSync(source);
    mkdirSync(empty);
    const snapshot = join(work, 's.wmig');
    await wmig(['run', '--dir', `${source}::/data`, '--freeze-at-call', '40', '--snapshot', snapshot, example('fileio')]);
    const thawed = await wmig(['thaw', '--dir', `${empty}::/data`, snapshot]);
    expect(thawed.status).toBe(ExitCode.REBIND_FAILED);
    expect(thawed.stdout.length).toBe(0);
  });
});

describe('freezing a running process from outside', () => {
  // Long enough (seconds) that a `wmig freeze` process started after 20 lines still finds it running.
  const longRun = ['50000'];

  async function runAndFreeze(freezer: (pid: number, snapshot: string) => Promise<void>, extra: string[] = []) {
    const expected = await wmig(['run', example('progress'), ...longRun]);
    const work = tempDir();
    const snapshot = join(work, 's.wmig');
    const child = spawn(process.execPath, [WMIG, 'run', '--snapshot', snapshot, ...extra, example('progress'), ...longRun], {
      env: { ...process.env, WMIG_CACHE_DIR: CACHE_DIR },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let done = false;
    const exited = new Promise<number>((resolve) => child.on('close', (code) => ((done = true), resolve(code ?? -1))));
    // Wait until the guest is well under way (a timed freeze may end it first).
    while (!done && Buffer.concat(out).toString().split('\n').length < 20) await new Promise((r) => setTimeout(r, 5));
    await freezer(child.pid!, snapshot);
    const status = await exited;
    expect(status, Buffer.concat(err).toString()).toBe(ExitCode.FROZEN);
    const thawed = await wmig(['thaw', snapshot]);
    expect(thawed.status).toBe(expected.status);
    const stdout = Buffer.concat([...out, thawed.stdout]);
    expect(stdout.toString()).toBe(expected.stdout.toString());
    // The freeze happened mid-run, not at the end.
    expect(thawed.stdout.length).toBeGreaterThan(0);
  }

  test('wmig freeze PID stops it into a snapshot that thaws to the same output', async () => {
    await runAndFreeze(async (pid, snapshot) => {
      const freeze = await wmig(['freeze', String(pid), '--snapshot', snapshot]);
      expect(freeze.status, freeze.stderr.toString()).toBe(0);
      expect(freeze.stdout.toString()).toMatch(/frozen before call \d+/);
    });
  });

  test('malformed control requests get an error reply and the process runs on to a good freeze', async () => {
    await runAndFreeze(async (pid, snapshot) => {
      const path = controlSocketPath(pid);
      const tooLong = `{"op":"freeze","snapshot":"${'x'.repeat(70_000)}`;
      for (const raw of ['garbage\n', '{"op":"freeze"}\n', '{"op":"freeze","leaveRunning":false,"drainMs":-1}\n', '[]\n', tooLong]) {
        const reply = JSON.parse(await rawControl(path, raw)) as { ok: boolean; kind: string; message: string };
        expect(reply, raw.slice(0, 40)).toMatchObject({ ok: false, kind: 'USAGE' });
      }
      const freeze = await wmig(['freeze', String(pid), '--snapshot', snapshot]);
      expect(freeze.status, freeze.stderr.toString()).toBe(0);
    });
  });

  test('a control socket directory that others can use is refused', async () => {
    const tmp = tempDir();
    const shared = join(tmp, `wmig-${userInfo().uid}`);
    mkdirSync(shared);
    chmodSync(shared, 0o777);
    const result = await wmig(['run', example('argsenv')], { env: { TMPDIR: tmp, XDG_RUNTIME_DIR: '' } });
    expect(result.status).toBe(ExitCode.CANT_WRITE);
    expect(result.stderr.toString()).toMatch(/control socket directory .* is not private to this user/);
    expect(result.stdout.length).toBe(0);
  });

  test('a process ended by a signal removes its control socket and ends by that signal', async () => {
    const child = spawn(process.execPath, [WMIG, 'run', example('sleeper'), '60000'], { env: { ...process.env, WMIG_CACHE_DIR: CACHE_DIR } });
    const ended = new Promise<NodeJS.Signals | null>((resolve) => child.on('close', (_code, signal) => resolve(signal)));
    const socket = controlSocketPath(child.pid!);
    await new Promise<void>((resolve) => child.stdout.once('data', () => resolve())); // sleeping now
    expect(existsSync(socket)).toBe(true);
    child.kill('SIGTERM');
    expect(await ended).toBe('SIGTERM');
    expect(existsSync(socket)).toBe(false);
  });

  test('--freeze-after MS freezes mid-run', async () => {
    await runAndFreeze(async () => {}, ['--freeze-after', '150']);
  });

  test('wmig freeze of a PID that is not a wmig process fails clearly', async () => {
    const result = await wmig(['freeze', '999999']);
    expect(result.status).toBe(ExitCode.NO_SUCH_PROCESS);
    expect(result.stderr.toString()).toMatch(/no running wmig process 999999/);
  });
});

describe('a failed freeze loses nothing', () => {
  test('when the snapshot cannot be written the process carries on, and the previous file is intact', async () => {
    const expected = await oracle(progress);
    const work = tempDir();
    // The target is an existing non-empty directory: the rename fails after the temp file was written.
    const target = join(work, 'occupied.wmig');
    mkdirSync(target);
    writeFileSync(join(target, 'keep'), 'previous');
    const result = await wmig(['run', '--freeze-at-call', '5', '--snapshot', target, example('progress')]);
    expect(result.status).toBe(expected.status);
    expect(result.stdout.equals(expected.stdout)).toBe(true);
    expect(result.stderr.toString()).toMatch(/freeze failed, process kept running/);
    expect(dirContents(target)).toEqual({ keep: Buffer.from('previous').toString('base64') });
    expect(readdirSync(work)).toEqual(['occupied.wmig']);
  });
});

describe('library API', () => {
  test('migrate() returns snapshot bytes that thaw() resumes, with the source left running', async () => {
    const work = tempDir();
    const outFile = join(work, 'out.txt');
    const copyFile = join(work, 'copy.txt');
    const { openSync, closeSync, readFileSync } = await import('node:fs');
    const out = openSync(outFile, 'w');
    const proc = await run(example('progress'), { args: ['400'], stdio: { stdin: 0, stdout: out, stderr: out }, cacheDir: CACHE_DIR });
    const states: string[] = [];
    proc.on('state', (to: string) => states.push(to));
    const bytes = await migrate(proc, { leaveRunning: true });
    const result = await proc.result;
    closeSync(out);
    expect(result).toMatchObject({ state: 'exited', code: 0 });
    expect(states).toEqual(expect.arrayContaining(['freezing', 'running', 'exited']));
    const copyOut = openSync(copyFile, 'w');
    const copy = await thaw(bytes, { stdio: { stdin: 0, stdout: copyOut, stderr: copyOut } });
    const copied = await copy.result;
    closeSync(copyOut);
    expect(copied).toMatchObject({ state: 'exited', code: 0 });
    const full = readFileSync(outFile, 'latin1');
    const tail = readFileSync(copyFile, 'latin1');
    expect(tail.length).toBeGreaterThan(0);
    expect(full.endsWith(tail)).toBe(true);
  });

  test('kill() stops the guest without a snapshot and reports status 137', async () => {
    const { openSync, closeSync } = await import('node:fs');
    const sink = openSync('/dev/null', 'w');
    const proc = await run(example('progress'), { args: ['1000000'], stdio: { stdin: 0, stdout: sink, stderr: sink }, cacheDir: CACHE_DIR });
    await new Promise((r) => setTimeout(r, 100));
    expect(proc.state).toBe('running');
    await proc.kill();
    expect(await proc.result).toMatchObject({ state: 'exited', code: 137 });
    expect(proc.state).toBe('exited');
    closeSync(sink);
  });
});
