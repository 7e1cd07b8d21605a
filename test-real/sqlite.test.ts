/**
 * The SQLite 3.46.1 shell (Debian trixie's source, unmodified) building a database file on a mounted
 * directory: two tables, 100k rows inserted in 10 transactions read from stdin as SQL text, indexes,
 * queries, an update and a delete, PRAGMA integrity_check. Frozen at seeded WASI calls (reading
 * stdin, writing pages and the rollback journal, fsync, unlink of the journal at commit) and thawed
 * in a fresh process with /data re-bound elsewhere. Native sqlite3 must give the same query results
 * on the same SQL, and must find the database we leave behind intact, with the same contents.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, expect, test } from 'vitest';
import { migrateEverywhere, native, oracle, requireModules, xorshift32, type RealCase } from './helpers.js';

const ROWS = 100_000;
const PER_TRANSACTION = 10_000;
const CUSTOMERS = 1_000;

function script(): Buffer {
  const next = xorshift32(0x2545f491);
  const cities = ['Lisbon', 'Oslo', 'Quito', 'Hanoi', 'Accra', 'Perth', 'Lima', 'Riga'];
  const out: string[] = [
    'CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT NOT NULL, city TEXT NOT NULL);',
    'CREATE TABLE orders(id INTEGER PRIMARY KEY, customer INTEGER NOT NULL REFERENCES customers(id), amount INTEGER NOT NULL, note TEXT);',
    'BEGIN;',
  ];
  for (let i = 1; i <= CUSTOMERS; i++) out.push(`INSERT INTO customers VALUES(${i}, 'customer ${i}', '${cities[next() % cities.length]}');`);
  out.push('COMMIT;');
  for (let i = 1; i <= ROWS; i++) {
    if (i % PER_TRANSACTION === 1) out.push('BEGIN;');
    const note = next() % 3 === 0 ? 'NULL' : `'note ${next().toString(36)}'`;
    out.push(`INSERT INTO orders VALUES(${i}, ${1 + (next() % CUSTOMERS)}, ${next() % 100000}, ${note});`);
    if (i % PER_TRANSACTION === 0) out.push('COMMIT;');
  }
  out.push(
    'CREATE INDEX orders_customer ON orders(customer);',
    'CREATE INDEX orders_amount ON orders(amount);',
    'SELECT count(*), sum(amount), min(amount), max(amount), count(note) FROM orders;',
    'SELECT c.city, count(*), sum(o.amount) FROM orders o JOIN customers c ON c.id = o.customer GROUP BY c.city ORDER BY c.city;',
    'SELECT id, amount, note FROM orders WHERE customer = 42 ORDER BY id LIMIT 10;',
    'SELECT customer, count(*) AS n FROM orders GROUP BY customer ORDER BY n DESC, customer LIMIT 5;',
    'SELECT id, customer FROM orders WHERE amount BETWEEN 5000 AND 5010 ORDER BY amount, id;',
    'BEGIN;',
    'UPDATE orders SET amount = amount + 1 WHERE amount % 97 = 0;',
    'DELETE FROM orders WHERE id % 1000 = 0;',
    'COMMIT;',
    'SELECT count(*), sum(amount) FROM orders;',
    'PRAGMA integrity_check;',
  );
  return Buffer.from(out.join('\n') + '\n');
}

const SQL = script();
/** Read back by native sqlite3 from the database file we produce. */
const CHECK_SQL = [
  'PRAGMA integrity_check;',
  'SELECT count(*), sum(amount), count(note) FROM orders;',
  "SELECT name FROM sqlite_schema WHERE type = 'index' ORDER BY name;",
  'SELECT c.city, count(*), sum(o.amount) FROM orders o JOIN customers c ON c.id = o.customer GROUP BY c.city ORDER BY c.city;',
].join('\n');

beforeAll(() => requireModules('sqlite3'));

test('sqlite3 shell: 100k rows into a database on /data, indexed, queried, integrity-checked', async () => {
  const c: RealCase = { name: 'sqlite3 100k rows', module: 'sqlite3', args: ['/data/test.db'], stdin: SQL, files: {},
    // The shell looks for ~/.sqliterc and warns on stderr when there is no HOME.
    env: { HOME: '/data' } };
  const expected = await oracle(c);
  expect(expected.status, expected.stderr.toString()).toBe(0);
  expect(expected.stderr.toString()).toBe('');
  expect(Object.keys(expected.files)).toEqual(['test.db']);

  // Native sqlite3 (Debian's 3.40) on the same SQL prints the same results.
  const scratch = mkdtempSync(join(tmpdir(), 'wmig-real-native-'));
  try {
    const reference = native('sqlite3', [join(scratch, 'native.db')], SQL);
    expect(reference.status, reference.stderr.toString()).toBe(0);
    expect(expected.stdout.toString()).toBe(reference.stdout.toString());
    expect(expected.stdout.toString().trimEnd().endsWith('ok')).toBe(true);

    // ...and reads the file we wrote as the same database.
    writeFileSync(join(scratch, 'ours.db'), expected.files['test.db']!);
    const ours = native('sqlite3', [join(scratch, 'ours.db')], Buffer.from(CHECK_SQL));
    const theirs = native('sqlite3', [join(scratch, 'native.db')], Buffer.from(CHECK_SQL));
    expect(ours.stderr.toString()).toBe('');
    expect(ours.stdout.toString()).toBe(theirs.stdout.toString());
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }

  await migrateEverywhere(c, expected);
});
