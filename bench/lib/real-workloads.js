/**
 * The real programs' workloads for bench/real-programs.js: test-real/'s inputs (test-real/inputs.js),
 * sized so a plain run takes ~1–3 s.
 * A case: module (real/build/NAME.wasm), args, stdin bytes, files seeded into /data (undefined = no
 * mount), host directories mounted read-only (guest path → host path), env, and whether it can run
 * under node:wasi at all.
 */
import fs from 'node:fs';
import path from 'node:path';
import { corpus, luaRecords, noise, sqliteScript } from '../../test-real/inputs.js';
import { ROOT } from './env-paths.js';

export const realModule = (name) => path.join(ROOT, 'real/build', `${name}.wasm`);

const SQLITE_ROWS = 50_000;
const LUA_RECORDS = 20_000;
const TEXT = corpus(3 << 20, 11);

export const CASES = [
  { name: 'bzip2', workload: 'bzip2 -c: 3 MiB of text, stdin → stdout', module: 'bzip2', args: ['-c'], stdin: TEXT },
  { name: 'minigzip', workload: 'minigzip: the same 3 MiB, stdin → stdout', module: 'minigzip', args: [], stdin: TEXT },
  {
    name: 'sqlite3',
    workload: `sqlite3 shell: ${SQLITE_ROWS / 1000}k rows from stdin into /data/test.db, 2 indexes, queries, integrity check`,
    module: 'sqlite3',
    args: ['/data/test.db'],
    stdin: sqliteScript({ rows: SQLITE_ROWS, perTransaction: 5_000, customers: 1_000 }),
    files: {},
    // The shell looks for ~/.sqliterc and warns on stderr when there is no HOME.
    env: { HOME: '/data' },
  },
  {
    name: 'lua',
    workload: `lua test-real/fixtures/workload.lua: ${LUA_RECORDS / 1000}k records on stdin, writes /data/out.txt`,
    module: 'lua',
    args: ['/data/workload.lua', '/data/out.txt'],
    stdin: luaRecords(LUA_RECORDS),
    files: { 'workload.lua': fs.readFileSync(path.join(ROOT, 'test-real/fixtures/workload.lua')) },
    native: { command: 'lua5.4', args: ['workload.lua', 'out.txt'] },
  },
  {
    name: 'rsum',
    workload: 'rsum (Rust std): sha256 of a 24 MiB tree on /data, writes /data/MANIFEST',
    module: 'rsum',
    args: ['-o', '/data/MANIFEST', '/data/tree'],
    stdin: Buffer.alloc(0),
    files: { 'tree/a.txt': corpus(8 << 20, 31), 'tree/b.bin': noise(8 << 20, 32), 'tree/sub/c.txt': corpus(8 << 20, 33) },
  },
  {
    name: 'yosys',
    workload: 'yosys (prebuilt, 29 MiB): synth -noabc of test-real/fixtures/design.v, netlist and stats to /data',
    module: 'yosys',
    // -q: without it yosys prints CPU times, which differ from run to run.
    args: ['-q', '-p', 'read_verilog /data/design.v; synth -noabc -top top; tee -q -o /data/stat.txt stat; write_verilog -noattr /data/netlist.v'],
    stdin: Buffer.alloc(0),
    files: { 'design.v': fs.readFileSync(path.join(ROOT, 'test-real/fixtures/design.v')) },
    readOnly: { '/share': path.join(ROOT, 'real/build/yosys/share') },
  },
];
