/** The CLI contract conformance runners rely on (issue 3 item 6; wasi-testsuite's runner contract). */
import { describe, expect, test } from 'vitest';
import { PROGRAMS, runUnder, type Program } from './helpers/conformance.js';
import { removeDir, tempDir } from './helpers/wmig.js';

const prog = (name: string) => PROGRAMS.find((c) => c.name === `conformance/${name}`)!;
const exitWith = (args: string[]): Program => ({ ...prog('proc_exit'), args });

describe('wmig run: runner contract', () => {
  test('argv[0] is the module file name by default, --argv0 NAME when given', async () => {
    const work = tempDir();
    try {
      const plain = await runUnder('wmig', prog('args_env'), work);
      expect(plain.stdout).toContain('argv0=args_env.wasm\n');
      expect(plain.status).toBe(0);
      const named = await runUnder('wmig', prog('args_env'), `${work}/2`, { argv0: 'custom-name' });
      expect(named.stdout).toContain('argv0=custom-name\n');
      expect(named.status).toBe(0);
    } finally {
      removeDir(work);
    }
  });

  test('exit status is the guest exit code (proc_exit and return from main); stdout and stderr pass through', async () => {
    const work = tempDir();
    try {
      for (const [args, status] of [[['0'], 0], [['3'], 3], [['42', 'return'], 42], [['255'], 255]] as const) {
        const r = await runUnder('wmig', exitWith([...args]), `${work}/${args.join('-')}`);
        expect(r.status, r.stderr).toBe(status);
        expect(r.stdout).toBe(`exiting with ${args[0]}\n`);
        expect(r.stderr).toContain('stderr line\n');
      }
    } finally {
      removeDir(work);
    }
  });

  test('a trap gives a non-zero status', async () => {
    const work = tempDir();
    try {
      const r = await runUnder('wmig', exitWith(['0', 'trap']), work);
      expect(r.status).not.toBe(0);
      expect(r.stdout).toBe('exiting with 0\n');
    } finally {
      removeDir(work);
    }
  });

  test('stdin is inherited', async () => {
    const work = tempDir();
    try {
      const r = await runUnder('wmig', { ...prog('proc_exit'), name: 'stdin', args: [], data: false, fixture: undefined }, work, { stdin: 'abc\ndef\n' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain('ABC');
    } finally {
      removeDir(work);
    }
  });
});
