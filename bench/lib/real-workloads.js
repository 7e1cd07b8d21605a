/**
 * The real programs' workloads for bench/real-programs.js: the same kinds of input as test-real/
 * (whose generators are TypeScript, hence these small copies), sized so a plain run takes ~1–3 s.
 * A case: module (real/build/NAME.wasm), args, stdin bytes, files seeded into /data (undefined = no
 * mount), host directories mounted read-only (guest path → host path), env, and whether it can run
 * under node:wasi at all.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './env-paths.js';

export const realModule = (name) => path.join(ROOT, 'real/build', `${name}.wasm`);

/** xorshift32, as test-real's generators use. */
function xorshift(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

/** Compressible text: pseudo-random words and numbers in lines (test-real/helpers.ts corpus()). */
function corpus(size, seed) {
  const words = ('the of and to in is was for that with as on by at from this which or be are an had not but ' +
    'migration snapshot thaw freeze process memory stack webassembly asyncify host guest file descriptor ' +
    'compress decompress block huffman table index query transaction journal page checksum deterministic').split(' ');
  const next = xorshift(seed);
  const lines = [];
  let length = 0;
  while (length < size) {
    const n = 4 + (next() % 12);
    const line = [];
    for (let i = 0; i < n; i++) line.push(next() % 7 === 0 ? String(next() % 100000) : words[next() % words.length]);
    lines.push(line.join(' ') + '\n');
    length += lines.at(-1).length;
  }
  return Buffer.from(lines.join('')).subarray(0, size);
}

/** Incompressible bytes. */
function noise(size, seed) {
  const next = xorshift(seed);
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = next() & 0xff;
  return b;
}

/** test-real/sqlite.test.ts's script with fewer rows: tables, inserts in transactions, indexes, queries, update/delete, integrity check. */
function sqliteScript(rows, perTransaction, customers) {
  const next = xorshift(0x2545f491);
  const cities = ['Lisbon', 'Oslo', 'Quito', 'Hanoi', 'Accra', 'Perth', 'Lima', 'Riga'];
  const out = [
    'CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT NOT NULL);',
    'CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER NOT NULL REFERENCES customers(id), amount INTEGER NOT NULL, note TEXT);',
    'BEGIN;',
  ];
  for (let i = 1; i <= customers; i++) out.push(`INSERT INTO customers VALUES(${i}, 'customer ${i}', '${cities[next() % cities.length]}');`);
  out.push('COMMIT;');
  for (let i = 1; i <= rows; i++) {
    if (i % perTransaction === 1) out.push('BEGIN;');
    const note = next() % 3 === 0 ? 'NULL' : `'note ${next().toString(36)}'`;
    out.push(`INSERT INTO orders VALUES(${i}, ${1 + (next() % customers)}, ${next() % 100000}, ${note});`);
    if (i % perTransaction === 0) out.push('COMMIT;');
  }
  out.push(
    'CREATE INDEX orders_customer ON orders(customer);',
    'CREATE INDEX orders_amount ON orders(amount);',
    'SELECT count(*), sum(amount), min(amount), max(amount), count(note) FROM orders;',
    'SELECT c.city, count(*), sum(o.amount) FROM orders o JOIN customers c ON c.id = o.customer GROUP BY c.city ORDER BY c.city;',
    'SELECT customer, count(*) AS n FROM orders GROUP BY customer ORDER BY n DESC, customer LIMIT 5;',
    'BEGIN;',
    'UPDATE orders SET amount = amount + 1 WHERE amount % 97 = 0;',
    'DELETE FROM orders WHERE id % 1000 = 0;',
    'COMMIT;',
    'SELECT count(*), sum(amount) FROM orders;',
    'PRAGMA integrity_check;',
  );
  return Buffer.from(out.join('\n') + '\n');
}

/** test-real/lua.test.ts's records: comma-separated, with bad lines of each kind workload.lua reports. */
function luaRecords(count) {
  const names = ['apple', 'pear', 'fig', 'kiwi', 'plum', 'lime', 'date', 'yuzu'];
  const next = xorshift(0x1f2e3d4c);
  const lines = [];
  for (let i = 0; i < count; i++) {
    const name = names[next() % names.length];
    const price = `${1 + (next() % 999)}.${String(next() % 100).padStart(2, '0')}`;
    const kind = next() % 100;
    if (kind === 0) lines.push(`garbage line ${i}`);
    else if (kind === 1) lines.push(`${name},-${1 + (next() % 9)},${price}`);
    else if (kind === 2) lines.push(`${name},0,${price}`);
    else lines.push(`${name},${1 + (next() % 50)},${price}`);
  }
  return Buffer.from(lines.join('\n') + '\n');
}

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
    stdin: sqliteScript(SQLITE_ROWS, 5_000, 1_000),
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
