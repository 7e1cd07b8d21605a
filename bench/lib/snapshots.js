/** Snapshots taken through the library at a chosen WASI call: run({ freezeAtCall, snapshotPath }). */
import fs from 'node:fs';
import path from 'node:path';
import { QUIET_STDIO, ROOT, TMP, example } from './env.js';
import { findCall, load } from './guest-helpers.js';

const { run } = await import(path.join(ROOT, 'dist/runtime/index.js'));

/**
 * Runs examples/build/NAME.wasm with `args` and freezes it before its first call of `importName`
 * (e.g. 'fd_write'). Returns the snapshot file path (in the bench's scratch directory).
 */
export async function snapshotAtFirstCall(name, args, importName, { embedModule = true } = {}) {
  const loaded = await load(example(name));
  const callNumber = await findCall(example(name), args, (imp) => imp === `wasi_snapshot_preview1.${importName}`, QUIET_STDIO);
  const file = path.join(TMP, `${name}-${args.join('-')}-${importName}-${embedModule ? 'e' : 'n'}.wmig`);
  const proc = await run(loaded, { args, stdio: QUIET_STDIO, freezeAtCall: callNumber, snapshotPath: file, embedModule });
  const result = await proc.result;
  if (result.state !== 'frozen') throw new Error(`${name}: expected a freeze at call ${callNumber}, got ${result.state}`);
  return file;
}

export const readAndRemove = (file) => {
  const bytes = fs.readFileSync(file);
  fs.rmSync(file);
  return bytes;
};
