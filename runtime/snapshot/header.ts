/** The fixed 32-byte snapshot header: writing it, and validating it before anything else is read. */
import { WmigError } from '../errors.js';
import { hash64 } from './hash.js';
import { FORMAT_VERSION, HEADER_BYTES, SECTION_HEADER_BYTES, SNAPSHOT_MAGIC } from './layout.js';
import { corrupt } from './reader.js';

/** Fill the 32-byte header: magic, version, flags 0, file length, header hash over bytes 0..23. */
export function writeHeader(header: Uint8Array, version: number, fileBytes: number): void {
  const v = new DataView(header.buffer, header.byteOffset, HEADER_BYTES);
  header.set(SNAPSHOT_MAGIC, 0);
  v.setUint32(8, version, true);
  v.setUint32(12, 0, true);
  v.setBigUint64(16, BigInt(fileBytes), true);
  v.setBigUint64(24, hash64(header.subarray(0, 24)), true);
}

function truncated(expected: number, got: number, what?: string): WmigError {
  return new WmigError(
    'CORRUPT_SNAPSHOT',
    `snapshot truncated: expected ${what ?? ''}${expected} bytes, got ${got}`,
  );
}

/** Validate the fixed header and return [version, fileBytes]. */
export function readHeader(bytes: Uint8Array): { version: number; fileBytes: number } {
  const n = bytes.byteLength;
  const magicLen = Math.min(n, SNAPSHOT_MAGIC.length);
  for (let i = 0; i < magicLen; i++) {
    if (bytes[i] !== SNAPSHOT_MAGIC[i]) throw new WmigError('CORRUPT_SNAPSHOT', 'not a wmig snapshot (bad magic)');
  }
  if (n < HEADER_BYTES) throw truncated(HEADER_BYTES, n, 'at least ');
  const v = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  if (v.getBigUint64(24, true) !== hash64(bytes.subarray(0, 24))) {
    throw corrupt('header hash mismatch (header damaged)');
  }
  const version = v.getUint32(8, true);
  if (version > FORMAT_VERSION) {
    throw new WmigError(
      'UNSUPPORTED_VERSION',
      `snapshot format v${version} is newer than this wmig supports (v${FORMAT_VERSION})`,
    );
  }
  if (version < 1) throw corrupt(`invalid format version ${version}`);
  const flags = v.getUint32(12, true);
  if (flags !== 0) throw corrupt(`unknown header flags 0x${flags.toString(16)}`);
  const declared = v.getBigUint64(16, true);
  const minimum = HEADER_BYTES + SECTION_HEADER_BYTES + 8;
  if (declared < BigInt(minimum)) throw corrupt(`declared file length ${declared} is too small`);
  if (declared > BigInt(n)) {
    throw declared > BigInt(Number.MAX_SAFE_INTEGER)
      ? corrupt(`declared file length ${declared} is out of range`)
      : truncated(Number(declared), n);
  }
  const fileBytes = Number(declared);
  if (fileBytes < n) throw corrupt(`${n - fileBytes} unexpected trailing bytes after the end of the snapshot`);
  return { version, fileBytes };
}
