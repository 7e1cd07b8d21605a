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
import { migrateEverywhere, native, oracle, requireModules, type RealCase } from './helpers.js';
import { sqliteScript } from './inputs.js';

const ROWS = 100_000;
const PER_TRANSACTION = 10_000;
const CUSTOMERS = 1_000;

const SQL = sqliteScript({ rows: ROWS, perTransaction: PER_TRANSACTION, customers: CUSTOMERS });
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
