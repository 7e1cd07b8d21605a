/**
 * Checks of what a library caller passes to run() and thaw() (the CLI builds these from flags it
 * has checked): a bad value fails with USAGE before anything starts, not later inside the guest.
 */
import { fstatSync } from 'node:fs';
import { WmigError } from '../errors.js';
import type { StdioSpec } from '../wasi/types.js';

const show = (value: unknown) => JSON.stringify(value) ?? String(value);

/** Each of stdin, stdout and stderr is a file descriptor open in this process. */
export function checkStdio(stdio: StdioSpec | undefined): void {
  if (stdio === undefined) return;
  for (const stream of ['stdin', 'stdout', 'stderr'] as const) {
    const fd: unknown = stdio[stream];
    if (typeof fd !== 'number' || !Number.isSafeInteger(fd) || fd < 0) {
      throw new WmigError('USAGE', `stdio.${stream} must be a file descriptor (a non-negative integer), not ${show(fd)}`);
    }
    try {
      fstatSync(fd);
    } catch {
      throw new WmigError('USAGE', `stdio.${stream}: file descriptor ${fd} is not open`);
    }
  }
}

/** Strings the guest gets as C strings, argv[first] on: no NUL inside. */
export function checkArgs(args: unknown[], first = 1): void {
  args.forEach((arg, i) => {
    if (typeof arg !== 'string' || arg.includes('\0')) throw new WmigError('USAGE', `argv[${first + i}] must be a string without NUL, not ${show(arg)}`);
  });
}

/** Environment entries the guest gets as KEY=VALUE C strings: a key is not empty and has no '='. */
export function checkEnv(env: [unknown, unknown][]): void {
  for (const [key, value] of env) {
    if (typeof key !== 'string' || key === '' || key.includes('=') || key.includes('\0')) {
      throw new WmigError('USAGE', `environment variable name ${show(key)} is empty or holds '=' or NUL`);
    }
    if (typeof value !== 'string' || value.includes('\0')) throw new WmigError('USAGE', `environment variable ${key}: value must be a string without NUL, not ${show(value)}`);
  }
}
