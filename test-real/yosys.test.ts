/**
 * yosys 0.55 as its users get it — the prebuilt `yosys.core.wasm` of the npm package @yowasp/yosys
 * (C++, 29 MiB), fetched by scripts/build-real-programs.sh, not built here — synthesizing a small
 * design (test-real/fixtures/design.v) with its share/ data mounted read-only and /tmp in memory.
 * Frozen at seeded WASI calls and thawed in a fresh process with /data re-bound elsewhere: stdout and
 * the written netlist byte-identical to the uninterrupted run, whose netlist is byte-identical to the
 * one the package's own runner (jco-transpiled, @yowasp/runtime) writes.
 * The first run instruments the module: ~10 min and ~3 GB with the native wasm-opt, then cached.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, test } from 'vitest';
import { migrateEverywhere, oracle, REAL, requireModules, type RealCase } from './helpers.js';

const DESIGN = readFileSync(join(import.meta.dirname, 'fixtures', 'design.v'));
const SCRIPT = 'read_verilog /data/design.v; synth -noabc -top top; stat; write_verilog -noattr /data/netlist.v';
const PACKAGE = join(REAL, 'yosys', 'package', 'gen');

beforeAll(() => requireModules('yosys'));

/** The netlist @yowasp/yosys's own runner writes for the same script and design. */
async function upstreamNetlist(): Promise<Buffer> {
  type Tree = { [name: string]: Tree | string | Uint8Array };
  const { runYosys } = (await import(join(PACKAGE, 'bundle.js'))) as { runYosys: (args: string[], files: Tree, options: object) => Promise<Tree> };
  const files = await runYosys(['-p', SCRIPT], { data: { 'design.v': DESIGN } }, { stdout: null, stderr: null });
  const netlist = (files.data as Tree)['netlist.v'];
  return Buffer.from(netlist as Uint8Array | string);
}

describe('yosys', () => {
  test('synth -noabc of a small design: the package runner\'s netlist; migrates at seeded calls', async () => {
    const c: RealCase = {
      name: 'yosys synth',
      module: 'yosys',
      args: ['-p', SCRIPT],
      files: { 'design.v': DESIGN },
      readOnly: { '/share': join(REAL, 'yosys', 'share') },
      tmpfs: '/tmp',
      // yosys prints CPU times at the end of the script.
      deterministic: true,
    };
    const expected = await oracle(c);
    expect(expected.status, expected.stderr.toString()).toBe(0);
    expect(Object.keys(expected.files).sort()).toEqual(['design.v', 'netlist.v']);
    expect(expected.stdout.toString()).toContain('Number of cells');
    expect(expected.files['netlist.v']!.equals(await upstreamNetlist())).toBe(true);
    await migrateEverywhere(c, expected);
  }, 60 * 60_000);
});
