import { createHash } from 'node:crypto';

/** Lower-case hex SHA-256: the identity of a module (cache key, snapshot/module match). */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
