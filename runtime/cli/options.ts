import { InvalidArgumentError } from 'commander';
import type { MountSpec } from '../index.js';

/** `--dir HOST::GUEST` (wasmtime style) or `--dir DIR` (same path on both sides). */
export function parseDir(value: string, previous: MountSpec[] = []): MountSpec[] {
  const [hostPath, guestPath = hostPath, extra] = value.split('::');
  if (extra !== undefined || !hostPath || !guestPath) {
    throw new InvalidArgumentError(`expected HOST::GUEST or DIR, got "${value}"`);
  }
  return [...previous, { kind: 'host', hostPath, guestPath }];
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
