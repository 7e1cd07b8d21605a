import { InvalidArgumentError } from 'commander';
import type { MountSpec } from '../index.js';

/**
 * `--dir HOST::GUEST` (wasmtime style) or `--dir DIR` (same path on both sides), optionally followed
 * by `:ro` (read-only: writes fail with EROFS) and/or `:carry` (the directory's files travel in the
 * snapshot and are written out on thaw), e.g. `--dir ./site::/www:ro`, `--dir ./state::/state:carry`.
 */
export function parseDir(value: string, previous: MountSpec[] = []): MountSpec[] {
  let rest = value;
  let readOnly = false;
  let carry = false;
  for (let m = /:(ro|carry)$/.exec(rest); m !== null; m = /:(ro|carry)$/.exec(rest)) {
    if (m[1] === 'ro') readOnly = true;
    else carry = true;
    rest = rest.slice(0, m.index);
  }
  const [hostPath, guestPath = hostPath, extra] = rest.split('::');
  if (extra !== undefined || !hostPath || !guestPath) {
    throw new InvalidArgumentError(`expected HOST::GUEST[:ro][:carry] or DIR, got "${value}"`);
  }
  return [...previous, { kind: 'host', hostPath, guestPath, ...(readOnly ? { readOnly } : {}), ...(carry ? { carry } : {}) }];
}

/** `--listen HOST:PORT` (repeatable). */
export function parseListen(value: string, previous: string[] = []): string[] {
  if (!/^(\[[^\]]+\]|[^:]*):\d+$|^\d+$/.test(value)) throw new InvalidArgumentError(`expected HOST:PORT, got "${value}"`);
  return [...previous, value];
}

/** `--tmpfs GUEST`: an in-memory directory that travels inside the snapshot. */
export function parseTmpfs(value: string, previous: MountSpec[] = []): MountSpec[] {
  if (!value.startsWith('/')) throw new InvalidArgumentError(`expected an absolute guest path, got "${value}"`);
  return [...previous, { kind: 'memory', guestPath: value }];
}

/** `--env K=V`. */
export function parseEnv(value: string, previous: [string, string][] = []): [string, string][] {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected K=V, got "${value}"`);
  return [...previous, [value.slice(0, eq), value.slice(eq + 1)]];
}

export function parseCount(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`expected a positive whole number, got "${value}"`);
  return n;
}

export function parseMs(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`expected milliseconds, got "${value}"`);
  return n;
}
