/**
 * The real programs' inputs, generated reproducibly: used by the tests in test-real/ and by the
 * benchmark bench/real-programs.js, which size them differently. Plain JavaScript so that both the
 * TypeScript tests and the JavaScript benchmarks import this one copy.
 */

/**
 * Marsaglia's xorshift32 from a non-zero seed.
 * @param {number} seed
 * @returns {() => number}
 */
export function xorshift32(seed) {
  let s = seed;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return s >>> 0;
  };
}

const WORDS = (
  'the of and to in is was for that with as on by at from his her this which or be are an had not but ' +
  'migration snapshot thaw freeze process memory stack webassembly asyncify host guest file descriptor ' +
  'compress decompress block huffman table index query transaction journal page checksum deterministic'
).split(' ');

/**
 * Deterministic, compressible text of `size` bytes: pseudo-random words and numbers in lines.
 * @param {number} size
 * @param {number} [seedValue]
 * @returns {Buffer}
 */
export function corpus(size, seedValue = 1) {
  const next = xorshift32(seedValue >>> 0 || 1);
  /** @type {string[]} */
  const parts = [];
  let length = 0;
  while (length < size) {
    const n = 4 + (next() % 12);
    /** @type {string[]} */
    const line = [];
    for (let i = 0; i < n; i++) line.push(next() % 7 === 0 ? String(next() % 100000) : WORDS[next() % WORDS.length] ?? '');
    const text = line.join(' ') + '\n';
    parts.push(text);
    length += text.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

/**
 * Pseudo-random bytes (incompressible), deterministic.
 * @param {number} size
 * @param {number} [seedValue]
 * @returns {Buffer}
 */
export function noise(size, seedValue = 7) {
  const b = Buffer.alloc(size);
  const next = xorshift32(seedValue >>> 0 || 1);
  for (let i = 0; i < size; i++) b[i] = next() & 0xff;
  return b;
}

/**
 * SQL for the SQLite shell: two tables, `rows` orders inserted in transactions of `perTransaction`,
 * indexes, queries, an update and a delete, an integrity check.
 * @param {{ rows: number, perTransaction: number, customers: number }} size
 * @returns {Buffer}
 */
export function sqliteScript({ rows, perTransaction, customers }) {
  const next = xorshift32(0x2545f491);
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

/**
 * Comma-separated records for test-real/fixtures/workload.lua, with bad lines of each kind it reports.
 * @param {number} count
 * @returns {Buffer}
 */
export function luaRecords(count) {
  const names = ['apple', 'pear', 'fig', 'kiwi', 'plum', 'lime', 'date', 'yuzu'];
  const next = xorshift32(0x1f2e3d4c);
  /** @type {string[]} */
  const lines = [];
  for (let i = 0; i < count; i++) {
    const name = names[next() % names.length];
    const price = `${1 + (next() % 999)}.${String(next() % 100).padStart(2, '0')}`;
    switch (next() % 100) {
      case 0: lines.push(`garbage line ${i}`); break;
      case 1: lines.push(`${name},-${1 + (next() % 9)},${price}`); break;
      case 2: lines.push(`${name},0,${price}`); break;
      default: lines.push(`${name},${1 + (next() % 50)},${price}`);
    }
  }
  return Buffer.from(lines.join('\n') + '\n');
}
