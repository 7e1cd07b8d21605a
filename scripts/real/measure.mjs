// Numbers for bench (issue 5 item 6): plain run under node:wasi vs `wmig run`, freeze (capture) time
// and snapshot size at the middle WASI call, and thaw overhead (thaw of a snapshot taken before the
// last call). Usage: node scripts/real/measure.mjs  (after build-real-programs.sh; modules cached).
import { spawnSync } from 'node:child_process';
import { closeSync, cpSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const wmig = join(root, 'bin', 'wmig.js');
const { run } = await import(join(root, 'dist', 'runtime', 'index.js'));
const build = join(root, 'real', 'build');
const work = mkdtempSync(join(tmpdir(), 'wmig-measure-'));

function text(size, seed) {
  const words = 'the of and to in migration snapshot thaw freeze process memory stack host guest file'.split(' ');
  let s = seed, out = '';
  while (out.length < size) { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; s >>>= 0; out += (s % 5 ? words[s % words.length] : String(s % 9999)) + (s % 11 ? ' ' : '\n'); }
  return Buffer.from(out.slice(0, size));
}
const input = text(3 << 20, 5);
writeFileSync(join(work, 'input'), input);
const bz = spawnSync('bzip2', ['-c'], { input, maxBuffer: 1 << 30 }).stdout;
writeFileSync(join(work, 'input.bz2'), bz);
let sql = 'CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, v TEXT);\n';
for (let i = 1; i <= 100000; i++) sql += (i % 10000 === 1 ? 'BEGIN;\n' : '') + `INSERT INTO t VALUES(${i}, ${(i * 7919) % 1000}, 'v${i}');\n` + (i % 10000 === 0 ? 'COMMIT;\n' : '');
sql += 'CREATE INDEX tk ON t(k);\nSELECT k, count(*), sum(id) FROM t GROUP BY k ORDER BY k LIMIT 3;\nPRAGMA integrity_check;\n';
writeFileSync(join(work, 'sql'), sql);

const cases = [
  { name: 'bzip2 -c (3 MiB)', module: 'bzip2', args: ['-c'], stdin: 'input' },
  { name: 'bzip2 -dc', module: 'bzip2', args: ['-dc'], stdin: 'input.bz2' },
  { name: 'minigzip (3 MiB)', module: 'minigzip', args: [], stdin: 'input' },
  { name: 'sqlite3 100k rows', module: 'sqlite3', args: ['/data/db'], stdin: 'sql', data: true },
  { name: 'rsum - (3 MiB)', module: 'rsum', args: ['-'], stdin: 'input' },
];

const plainRunner = `
import { WASI } from 'node:wasi'; import { readFileSync } from 'node:fs';
const [mod, data, ...args] = process.argv.slice(2);
const wasi = new WASI({ version: 'preview1', args: ['x', ...args], env: { HOME: '/data' }, preopens: data ? { '/data': data } : {} });
const inst = await WebAssembly.instantiate(await WebAssembly.compile(readFileSync(mod)), { wasi_snapshot_preview1: wasi.getImportObject().wasi_snapshot_preview1 });
process.exitCode = wasi.start(inst);`;
writeFileSync(join(work, 'plain.mjs'), plainRunner);

function timed(cmd, args, stdinFile) {
  const t = performance.now();
  const r = spawnSync(cmd, args, { input: stdinFile ? readFileSync(stdinFile) : '', maxBuffer: 1 << 30, env: { ...process.env, NODE_NO_WARNINGS: '1' } });
  return { ms: performance.now() - t, r };
}
const best = (n, f) => Math.min(...Array.from({ length: n }, f));

const rows = [];
for (const c of cases) {
  const mod = join(build, `${c.module}.wasm`);
  const fresh = () => { const d = mkdtempSync(join(work, 'd-')); return d; };
  const stdin = join(work, c.stdin);
  const plain = best(3, () => { const d = fresh(); return timed(process.execPath, [join(work, 'plain.mjs'), mod, c.data ? d : '', ...c.args], stdin).ms; });
  const dirArgs = (d) => (c.data ? ['--dir', `${d}::/data`, '--env', 'HOME=/data'] : []);
  let calls = 0;
  const viaWmig = best(3, () => { const d = fresh(); const { ms, r } = timed(process.execPath, [wmig, 'run', ...dirArgs(d), mod, ...c.args], stdin); if (r.status !== 0) throw new Error(r.stderr.toString()); return ms; });
  {
    const d = fresh();
    const fds = [openSync(stdin, 'r'), openSync(join(d, '..', 'o'), 'w'), openSync(join(d, '..', 'e'), 'w')];
    const proc = await run(mod, { args: c.args, env: c.data ? { HOME: '/data' } : {}, mounts: c.data ? [{ kind: 'host', hostPath: d, guestPath: '/data' }] : [], stdio: { stdin: fds[0], stdout: fds[1], stderr: fds[2] } });
    calls = (await proc.result).callCount;
    fds.forEach((fd) => closeSync(fd));
  }
  const mid = Math.max(1, Math.floor(calls / 2));
  const d1 = fresh(); const snap = join(work, `${c.module}-mid.wmig`);
  const fr = timed(process.execPath, [wmig, 'run', '-v', ...dirArgs(d1), '--freeze-at-call', String(mid), '--snapshot', snap, mod, ...c.args], stdin);
  const captured = /captured in ([\d.]+) ms/.exec(fr.r.stderr.toString())?.[1];
  const snapBytes = statSync(snap).size;
  const d2 = fresh(); const last = join(work, `${c.module}-last.wmig`);
  timed(process.execPath, [wmig, 'run', ...dirArgs(d2), '--freeze-at-call', String(calls), '--snapshot', last, mod, ...c.args], stdin);
  const thaw = best(3, () => { const d3 = fresh(); cpSync(d2, d3, { recursive: true }); return timed(process.execPath, [wmig, 'thaw', ...(c.data ? ['--dir', `${d3}::/data`] : []), last]).ms; });
  rows.push({ case: c.name, calls, plainMs: Math.round(plain), wmigMs: Math.round(viaWmig), ratio: +(viaWmig / plain).toFixed(2), freezeCaptureMs: captured ? +captured : null, snapshotBytesMid: snapBytes, thawLastCallMs: Math.round(thaw) });
  console.log(JSON.stringify(rows.at(-1)));
}
rmSync(work, { recursive: true, force: true });
