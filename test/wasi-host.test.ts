// Drives WasiHost directly through its imports with a bare WebAssembly.Memory, the way a guest would.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WmigError } from '../runtime/errors.js';
import { ERRNO, FDFLAGS, FILETYPE, FSTFLAGS, OFLAGS, RIGHTS, RIGHTS_ALL, WHENCE, CLOCKID, EVENTTYPE } from '../runtime/wasi/defs.js';
import { ProcExit, WasiHost } from '../runtime/wasi/host.js';
import { NEEDS, RIGHTS_MODIFY } from '../runtime/wasi/rights.js';
import type { MountSpec, WasiConfig } from '../runtime/wasi/types.js';
import { sharedPipeRecords } from './helpers/pipe-records.js';
import { Guest, READ_RIGHTS, dec, enc } from './helpers/wasi-guest.js';

const tmpDirs: string[] = [];
const hosts: WasiHost[] = [];
function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'wmig-wasi-'));
  tmpDirs.push(d);
  return d;
}
function makeHost(config: Partial<WasiConfig> & { mounts: MountSpec[] }): WasiHost {
  const host = new WasiHost({ args: ['prog'], env: [], ...config });
  hosts.push(host);
  return host;
}
afterEach(() => {
  for (const h of hosts.splice(0)) h.close();
  for (const d of tmpDirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function roundTrip(host: WasiHost): { host: unknown; files: Uint8Array[] } {
  const cap = host.capture();
  return { host: JSON.parse(JSON.stringify(cap.host)), files: cap.files };
}
function restore(host: unknown, files: Uint8Array[], mounts?: MountSpec[]): WasiHost {
  const h = WasiHost.restore(host, files, { mounts });
  hosts.push(h);
  return h;
}

const backends: [string, () => MountSpec][] = [
  ['memfs', () => ({ guestPath: '/data', kind: 'memory' })],
  ['hostfs', () => ({ guestPath: '/data', kind: 'host', hostPath: tmpDir() })],
];

describe.each(backends)('file operations on %s', (_name, mount) => {
  it('writes, seeks, reads and tells at the virtual offset', () => {
    const g = new Guest(makeHost({ mounts: [mount()] }));
    const fd = g.open(3, 'f.txt', OFLAGS.CREAT);
    expect(g.write(fd, 'hello world')).toBe(11);
    expect(g.tell(fd)).toBe(11n);
    expect(g.seek(fd, 6n, WHENCE.SET)).toBe(6n);
    expect(g.read(fd, 100)).toBe('world');
    expect(g.seek(fd, -5n, WHENCE.END)).toBe(6n);
    expect(g.seek(fd, 2n, WHENCE.CUR)).toBe(8n);
    expect(g.read(fd, 2)).toBe('rl');
    expect(g.call('fd_seek', fd, -100n, WHENCE.CUR, 16)).toBe(ERRNO.INVAL);
    expect(g.filestat(fd)).toMatchObject({ filetype: FILETYPE.REGULAR_FILE, size: 11n });
    // A write past the end leaves a zero-filled gap.
    g.seek(fd, 13n, WHENCE.SET);
    g.write(fd, '!');
    g.seek(fd, 10n, WHENCE.SET);
    expect(g.read(fd, 10)).toBe('d\0\0!');
  });

  it('pread/pwrite do not move the offset; truncation and allocate change the size', () => {
    const g = new Guest(makeHost({ mounts: [mount()] }));
    const fd = g.open(3, 'p.bin', OFLAGS.CREAT);
    g.write(fd, 'abcdef');
    g.u8.set(enc.encode('XY'), 8192);
    g.dv.setUint32(64, 8192, true);
    g.dv.setUint32(68, 2, true);
    g.ok('fd_pwrite', fd, 64, 1, 1n, 16);
    g.ok('fd_pread', fd, 64, 1, 4n, 16);
    expect(dec.decode(g.u8.subarray(8192, 8194))).toBe('ef');
    expect(g.tell(fd)).toBe(6n);
    g.seek(fd, 0n, WHENCE.SET);
    expect(g.read(fd, 10)).toBe('aXYdef');
    g.ok('fd_filestat_set_size', fd, 3n);
    expect(g.filestat(fd).size).toBe(3n);
    g.ok('fd_allocate', fd, 0n, 10n);
    expect(g.filestat(fd).size).toBe(10n);
  });

  it('creates, lists, renames and removes directories and files', () => {
    const g = new Guest(makeHost({ mounts: [mount()] }));
    expect(g.pathCall('path_create_directory', 3, 'dir')).toBe(ERRNO.SUCCESS);
    expect(g.pathCall('path_create_directory', 3, 'dir')).toBe(ERRNO.EXIST);
    for (const n of ['b', 'a', 'a-rather-long-file-name-to-force-truncation']) g.ok('fd_close', g.open(3, `dir/${n}`, OFLAGS.CREAT));
    const dfd = g.open(3, 'dir', OFLAGS.DIRECTORY);
    expect(g.fdstat(dfd).filetype).toBe(FILETYPE.DIRECTORY);
    expect(g.readdir(dfd)).toEqual([
      { name: '.', type: FILETYPE.DIRECTORY },
      { name: '..', type: FILETYPE.DIRECTORY },
      { name: 'a', type: FILETYPE.REGULAR_FILE },
      { name: 'a-rather-long-file-name-to-force-truncation', type: FILETYPE.REGULAR_FILE },
      { name: 'b', type: FILETYPE.REGULAR_FILE },
    ]);
    // Paths relative to the opened directory.
    expect(g.tryOpen(dfd, 'a')).toBe(ERRNO.SUCCESS);
    expect(g.call('path_rename', 3, ...g.str('dir/a'), 3, ...g.str('moved', 2048))).toBe(ERRNO.SUCCESS);
    expect(g.tryOpen(3, 'dir/a')).toBe(ERRNO.NOENT);
    expect(g.tryOpen(3, 'moved')).toBe(ERRNO.SUCCESS);
    expect(g.pathCall('path_remove_directory', 3, 'dir')).toBe(ERRNO.NOTEMPTY);
    expect(g.pathCall('path_unlink_file', 3, 'dir')).toBe(ERRNO.ISDIR);
    expect(g.pathCall('path_remove_directory', 3, 'moved')).toBe(ERRNO.NOTDIR);
    for (const n of ['b', 'a-rather-long-file-name-to-force-truncation']) expect(g.pathCall('path_unlink_file', 3, `dir/${n}`)).toBe(ERRNO.SUCCESS);
    expect(g.pathCall('path_remove_directory', 3, 'dir')).toBe(ERRNO.SUCCESS);
    expect(g.readdir(3).map((e) => e.name)).toEqual(['.', '..', 'moved']);
  });

  it('a directory removed while open: calls through it fail (NOENT, as on Linux), also after a thaw', () => {
    const g = new Guest(makeHost({ mounts: [mount()] }));
    g.ok('path_create_directory', 3, ...g.str('d'));
    const dfd = g.open(3, 'd', OFLAGS.DIRECTORY);
    g.ok('path_remove_directory', 3, ...g.str('d'));
    expect(g.tryOpen(dfd, 'x', OFLAGS.CREAT)).toBe(ERRNO.NOENT);
    const { host, files } = roundTrip(g.host);
    const g2 = new Guest(restore(host, files));
    expect(g2.tryOpen(dfd, 'x', OFLAGS.CREAT)).toBe(ERRNO.NOENT);
    expect(g2.readdir(3).map((e) => e.name)).toEqual(['.', '..']);
  });

  it('handles follow a rename, as fds do on Linux: a directory opened before, a file across a thaw', () => {
    const g = new Guest(makeHost({ mounts: [mount()] }));
    g.ok('path_create_directory', 3, ...g.str('d'));
    g.write(g.open(3, 'd/x', OFLAGS.CREAT), 'in d');
    const dfd = g.open(3, 'd', OFLAGS.DIRECTORY);
    const ffd = g.open(3, 'a', OFLAGS.CREAT);
    g.write(ffd, 'original');
    g.ok('path_rename', 3, ...g.str('d'), 3, ...g.str('e', 2048));
    expect(g.read(g.open(dfd, 'x'), 100)).toBe('in d'); // e/x
    expect(g.tryOpen(dfd, 'y', OFLAGS.CREAT)).toBe(ERRNO.SUCCESS);
    expect(g.readdir(3).map((e) => e.name)).toEqual(['.', '..', 'a', 'e']);
    // The file is renamed and its old name given to another: the handle still means the first.
    g.ok('path_rename', 3, ...g.str('a'), 3, ...g.str('b', 2048));
    g.write(g.open(3, 'a', OFLAGS.CREAT), 'impostor');
    const { host, files } = roundTrip(g.host);
    const g2 = new Guest(restore(host, files));
    g2.seek(ffd, 0n, WHENCE.SET);
    expect(g2.read(ffd, 100)).toBe('original');
    expect(g2.read(g2.open(dfd, 'x'), 100)).toBe('in d');
  });

  it('reports open errors with their errno', () => {
    const g = new Guest(makeHost({ mounts: [mount()] }));
    g.ok('fd_close', g.open(3, 'f', OFLAGS.CREAT));
    expect(g.tryOpen(3, 'missing')).toBe(ERRNO.NOENT);
    expect(g.tryOpen(3, 'f', OFLAGS.CREAT | OFLAGS.EXCL)).toBe(ERRNO.EXIST);
    expect(g.tryOpen(3, 'f', OFLAGS.DIRECTORY)).toBe(ERRNO.NOTDIR);
    expect(g.tryOpen(3, 'f/')).toBe(ERRNO.NOTDIR);
    expect(g.tryOpen(3, 'f/x')).toBe(ERRNO.NOTDIR);
    expect(g.pathCall('path_create_directory', 3, 'nope/sub')).toBe(ERRNO.NOENT);
    expect(g.call('fd_read', 3, 64, 0, 16)).toBe(ERRNO.ISDIR);
    expect(g.call('fd_close', 42)).toBe(ERRNO.BADF);
  });

  it('opens a directory without O_DIRECTORY as a directory, unless for writing', () => {
    const g = new Guest(makeHost({ mounts: [mount()] }));
    g.ok('path_create_directory', 3, ...g.str('d'));
    expect(g.fdstat(g.open(3, 'd', 0, { rights: READ_RIGHTS })).filetype).toBe(FILETYPE.DIRECTORY);
    expect(g.fdstat(g.open(3, 'd', OFLAGS.CREAT, { rights: READ_RIGHTS })).filetype).toBe(FILETYPE.DIRECTORY);
    expect(g.tryOpen(3, 'd')).toBe(ERRNO.ISDIR); // all rights include write
    expect(g.tryOpen(3, 'd', OFLAGS.TRUNC, { rights: READ_RIGHTS })).toBe(ERRNO.ISDIR);
    expect(g.tryOpen(3, 'd', OFLAGS.CREAT | OFLAGS.EXCL, { rights: READ_RIGHTS })).toBe(ERRNO.EXIST);
  });

  // hostfs does not fstat a read-only open (it costs as much as the open); the handle finds out it
  // is a directory's when it matters. Whatever the first call on it is, it must answer as on the
  // same directory opened with O_DIRECTORY: the oracle.
  it.each([
    ['fd_read', (fd: number) => ['fd_read', fd, 64, 1, 16]],
    ['fd_pread', (fd: number) => ['fd_pread', fd, 64, 1, 0n, 16]],
    ['fd_read with a bad iovec', (fd: number) => ['fd_read', fd, 1 << 30, 1, 16]],
    ['fd_read of no iovec', (fd: number) => ['fd_read', fd, 64, 0, 16]],
    ['fd_pread of no iovec', (fd: number) => ['fd_pread', fd, 64, 0, 0n, 16]],
    ['fd_seek', (fd: number) => ['fd_seek', fd, 0n, WHENCE.END, 16]],
    ['fd_tell', (fd: number) => ['fd_tell', fd, 16]],
    ['fd_write', (fd: number) => ['fd_write', fd, 64, 1, 16]],
    ['fd_advise', (fd: number) => ['fd_advise', fd, 0n, 0n, 0]],
    ['fd_filestat_set_size', (fd: number) => ['fd_filestat_set_size', fd, 0n]],
    ['fd_readdir', (fd: number) => ['fd_readdir', fd, 4096, 256, 0n, 16]],
    ['path_filestat_get of an entry', (fd: number) => ['path_filestat_get', fd, 0, 1024 + 64, 1, 256]],
  ] as [string, (fd: number) => [string, ...(number | bigint)[]]][])('a directory opened without O_DIRECTORY answers %s as one opened with it, as its first call', (_what, call) => {
    const g = new Guest(makeHost({ mounts: [mount()] }));
    g.ok('path_create_directory', 3, ...g.str('d'));
    g.ok('path_create_directory', 3, ...g.str('d/e'));
    g.str('e', 1024 + 64);
    g.dv.setUint32(64, 8192, true);
    g.dv.setUint32(68, 8, true);
    for (const rights of [READ_RIGHTS, RIGHTS.FD_READDIR | RIGHTS.PATH_FILESTAT_GET]) {
      const oracle = g.open(3, 'd', OFLAGS.DIRECTORY, { rights });
      const expected = g.call(...call(oracle));
      const plain = g.open(3, 'd', 0, { rights });
      expect(g.call(...call(plain)), `rights ${rights}`).toBe(expected);
      expect(g.fdstat(plain).filetype).toBe(FILETYPE.DIRECTORY);
    }
  });

  it('a file opened read-only reads, and a snapshot records a directory opened so as a directory', () => {
    const g = new Guest(makeHost({ mounts: [mount()] }));
    g.ok('path_create_directory', 3, ...g.str('d'));
    g.write(g.open(3, 'f', OFLAGS.CREAT), 'content');
    const file = g.open(3, 'f', 0, { rights: READ_RIGHTS });
    expect(g.read(file, 100)).toBe('content');
    expect(g.fdstat(file).filetype).toBe(FILETYPE.REGULAR_FILE);
    const dir = g.open(3, 'd', 0, { rights: READ_RIGHTS });
    const handles = (roundTrip(g.host).host as { handles: { fd: number; kind: string }[] }).handles;
    expect(handles.find((h) => h.fd === dir)?.kind).toBe('dir');
    expect(handles.find((h) => h.fd === file)?.kind).toBe('file');
  });

  it('O_TRUNC empties and read-only rights refuse writes', () => {
    const g = new Guest(makeHost({ mounts: [mount()] }));
    const fd = g.open(3, 't', OFLAGS.CREAT);
    g.write(fd, '12345');
    const ro = g.open(3, 't', 0, { rights: READ_RIGHTS });
    expect(g.write(ro, 'x')).toBe(-ERRNO.NOTCAPABLE);
    expect(g.read(ro, 10)).toBe('12345');
    const tr = g.open(3, 't', OFLAGS.TRUNC);
    expect(g.filestat(tr).size).toBe(0n);
  });

  it('append writes at the end and fd_fdstat_get reports the flag', () => {
    const g = new Guest(makeHost({ mounts: [mount()] }));
    const fd = g.open(3, 'log', OFLAGS.CREAT);
    g.write(fd, 'one\n');
    const ap = g.open(3, 'log', 0, { fdflags: FDFLAGS.APPEND });
    expect(g.fdstat(ap).flags & FDFLAGS.APPEND).toBe(FDFLAGS.APPEND);
    expect(g.fdstat(fd).flags & FDFLAGS.APPEND).toBe(0);
    g.seek(ap, 0n, WHENCE.SET);
    g.write(ap, 'two\n');
    expect(g.tell(ap)).toBe(8n);
    g.seek(fd, 0n, WHENCE.SET);
    expect(g.read(fd, 100)).toBe('one\ntwo\n');
    g.ok('fd_fdstat_set_flags', fd, FDFLAGS.APPEND);
    expect(g.fdstat(fd).flags).toBe(FDFLAGS.APPEND);
  });

  it('refuses paths that leave the directory', () => {
    const g = new Guest(makeHost({ mounts: [mount()] }));
    g.ok('path_create_directory', ...[3, ...g.str('sub')]);
    const sub = g.open(3, 'sub', OFLAGS.DIRECTORY);
    expect(g.tryOpen(3, '../x')).toBe(ERRNO.NOTCAPABLE);
    expect(g.tryOpen(3, 'sub/../../x', OFLAGS.CREAT)).toBe(ERRNO.NOTCAPABLE);
    expect(g.tryOpen(sub, '../x', OFLAGS.CREAT)).toBe(ERRNO.NOTCAPABLE);
    expect(g.tryOpen(3, '/etc/passwd')).toBe(ERRNO.NOTCAPABLE);
    expect(g.tryOpen(3, 'sub/../sub/.', OFLAGS.DIRECTORY)).toBe(ERRNO.SUCCESS);
    g.ok('fd_close', g.open(3, 'f', OFLAGS.CREAT));
    expect(g.call('path_rename', 3, ...g.str('f'), 3, ...g.str('../outside', 2048))).toBe(ERRNO.NOTCAPABLE);
  });

  it('a read-only mount refuses every write', () => {
    const spec = { ...mount(), readOnly: true };
    if (spec.kind === 'host') fs.writeFileSync(path.join(spec.hostPath!, 'ro.txt'), 'keep');
    const g = new Guest(makeHost({ mounts: [spec] }));
    expect(g.tryOpen(3, 'new', OFLAGS.CREAT)).toBe(ERRNO.ROFS);
    expect(g.pathCall('path_create_directory', 3, 'd')).toBe(ERRNO.ROFS);
    if (spec.kind === 'host') {
      expect(g.tryOpen(3, 'ro.txt')).toBe(ERRNO.ROFS); // all rights include write
      expect(g.tryOpen(3, 'ro.txt', OFLAGS.TRUNC, { rights: READ_RIGHTS })).toBe(ERRNO.ROFS);
      expect(g.pathCall('path_unlink_file', 3, 'ro.txt')).toBe(ERRNO.ROFS);
      expect(g.read(g.open(3, 'ro.txt', 0, { rights: READ_RIGHTS }), 10)).toBe('keep');
      expect(fs.readFileSync(path.join(spec.hostPath!, 'ro.txt'), 'utf8')).toBe('keep');
    }
  });
});

describe('hostfs sandbox', () => {
  it('refuses a symlink that points outside, follows one that stays inside', () => {
    const root = tmpDir();
    const outside = tmpDir();
    fs.writeFileSync(path.join(outside, 'secret'), 'secret');
    fs.writeFileSync(path.join(root, 'inside'), 'fine');
    fs.symlinkSync(path.join(outside, 'secret'), path.join(root, 'evil'));
    fs.symlinkSync(outside, path.join(root, 'evildir'));
    fs.symlinkSync('inside', path.join(root, 'good'));
    const g = new Guest(makeHost({ mounts: [{ guestPath: '/', kind: 'host', hostPath: root }] }));
    expect(g.tryOpen(3, 'evil')).toBe(ERRNO.NOTCAPABLE);
    expect(g.tryOpen(3, 'evildir/secret')).toBe(ERRNO.NOTCAPABLE);
    expect(g.tryOpen(3, 'evildir/new', OFLAGS.CREAT)).toBe(ERRNO.NOTCAPABLE);
    expect(fs.existsSync(path.join(outside, 'new'))).toBe(false);
    expect(g.read(g.open(3, 'good'), 10)).toBe('fine');
    expect(g.tryOpen(3, 'good', 0, { follow: false })).toBe(ERRNO.LOOP);
    // path_readlink shows the link itself; nofollow stat sees a symlink.
    g.ok('path_readlink', 3, ...g.str('good'), 512, 100, 16);
    expect(dec.decode(g.u8.subarray(512, 512 + g.dv.getUint32(16, true)))).toBe('inside');
    g.ok('path_filestat_get', 3, 0, ...g.str('good'), 256);
    expect(g.dv.getUint8(256 + 16)).toBe(FILETYPE.SYMBOLIC_LINK);
  });

  it('fd_readdir sees every change to the directory, also changes made behind its back', async () => {
    const root = tmpDir();
    const dir = path.join(root, 'sub');
    fs.mkdirSync(dir);
    for (const n of ['a', 'b', 'c']) fs.writeFileSync(path.join(dir, n), n);
    const typeOf = (st: fs.BigIntStats) => (st.isDirectory() ? FILETYPE.DIRECTORY : FILETYPE.REGULAR_FILE);
    // The oracle: the host's own view of the directory (wmig lists ".." of a mount's top directory as the root).
    const onHost = () => [
      { name: '.', type: FILETYPE.DIRECTORY, ino: fs.statSync(dir, { bigint: true }).ino },
      { name: '..', type: FILETYPE.DIRECTORY, ino: fs.statSync(root, { bigint: true }).ino },
      ...fs.readdirSync(dir).sort().map((name) => {
        const st = fs.lstatSync(path.join(dir, name), { bigint: true });
        return { name, type: typeOf(st), ino: st.ino };
      }),
    ];
    const settle = () => new Promise((resolve) => setTimeout(resolve, 150)); // longer than the listing cache's racy window
    const g = new Guest(makeHost({ mounts: [{ guestPath: '/', kind: 'host', hostPath: root }] }));
    const fd = g.open(3, 'sub', OFLAGS.DIRECTORY);
    await settle();
    expect(g.dirents(fd)).toEqual(onHost());
    expect(g.dirents(fd, 4096)).toEqual(onHost());
    fs.writeFileSync(path.join(dir, 'd'), 'd');
    expect(g.dirents(fd)).toEqual(onHost());
    // Within the same timestamp tick: a rename keeps the directory's size and link count.
    fs.renameSync(path.join(dir, 'c'), path.join(dir, 'e'));
    expect(g.dirents(fd)).toEqual(onHost());
    await settle();
    expect(g.dirents(fd)).toEqual(onHost());
    fs.renameSync(path.join(dir, 'e'), path.join(dir, 'f'));
    fs.unlinkSync(path.join(dir, 'b'));
    fs.mkdirSync(path.join(dir, 'b'));
    expect(g.dirents(fd)).toEqual(onHost());
    g.ok('fd_close', g.open(fd, 'made-by-guest', OFLAGS.CREAT));
    expect(g.dirents(fd)).toEqual(onHost());
  });

  it('a missing host directory is NO_INPUT', () => {
    expect(() => makeHost({ mounts: [{ guestPath: '/x', kind: 'host', hostPath: '/nonexistent/wmig-test' }] }))
      .toThrow(expect.objectContaining({ kind: 'NO_INPUT' }) as unknown as Error);
  });
});

describe('process state', () => {
  it('args and environ getters', () => {
    const g = new Guest(makeHost({ args: ['prog', 'ä b'], env: [['A', '1'], ['PATH', '/bin']], mounts: [] }));
    g.ok('args_sizes_get', 16, 20);
    expect([g.dv.getUint32(16, true), g.dv.getUint32(20, true)]).toEqual([2, 5 + 5]);
    g.ok('args_get', 100, 200);
    expect(dec.decode(g.u8.subarray(g.dv.getUint32(104, true), 210))).toBe('ä b\0');
    expect(g.dv.getUint32(100, true)).toBe(200);
    g.ok('environ_sizes_get', 16, 20);
    expect([g.dv.getUint32(16, true), g.dv.getUint32(20, true)]).toEqual([2, 4 + 10]);
    g.ok('environ_get', 100, 200);
    expect(dec.decode(g.u8.subarray(200, 214))).toBe('A=1\0PATH=/bin\0');
    expect(g.dv.getUint32(104, true)).toBe(204);
  });

  it('preopens get fds 3, 4 in order with their names', () => {
    const g = new Guest(makeHost({ mounts: [{ guestPath: '/a', kind: 'memory' }, { guestPath: '/tmp', kind: 'memory' }] }));
    g.ok('fd_prestat_get', 4, 16);
    expect(g.dv.getUint32(20, true)).toBe(4);
    g.ok('fd_prestat_dir_name', 4, 64, 4);
    expect(dec.decode(g.u8.subarray(64, 68))).toBe('/tmp');
    expect(g.call('fd_prestat_get', 5, 16)).toBe(ERRNO.BADF);
    expect(g.call('fd_prestat_get', 1, 16)).toBe(ERRNO.BADF);
  });

  it('proc_exit throws ProcExit; sockets and raise are refused', () => {
    const g = new Guest(makeHost({ mounts: [] }));
    expect(() => g.call('proc_exit', 5)).toThrow(ProcExit);
    try {
      g.call('proc_exit', 5);
    } catch (e) {
      expect((e as ProcExit).code).toBe(5);
    }
    expect(g.call('sock_send', 1, 0, 0, 0, 16)).toBe(ERRNO.NOTSOCK);
    expect(g.call('sock_shutdown', 99, 1)).toBe(ERRNO.BADF);
    expect(g.call('proc_raise', 2)).toBe(ERRNO.NOSYS);
  });

  it('imports all 46 preview1 functions', () => {
    expect(Object.keys(makeHost({ mounts: [] }).imports)).toHaveLength(46);
  });

  it('poll_oneoff sleeps for a relative clock subscription', () => {
    const g = new Guest(makeHost({ mounts: [] }));
    g.dv.setBigUint64(0, 77n, true);
    g.dv.setUint8(8, EVENTTYPE.CLOCK);
    g.dv.setUint32(16, CLOCKID.MONOTONIC, true);
    g.dv.setBigUint64(24, 30_000_000n, true);
    g.dv.setUint16(40, 0, true);
    const t0 = process.hrtime.bigint();
    g.ok('poll_oneoff', 0, 1000, 1, 16);
    expect(process.hrtime.bigint() - t0).toBeGreaterThanOrEqual(30_000_000n);
    expect(g.dv.getUint32(16, true)).toBe(1);
    expect(g.dv.getBigUint64(1000, true)).toBe(77n);
    expect(g.dv.getUint16(1008, true)).toBe(ERRNO.SUCCESS);
  });

  it('views follow memory.grow', () => {
    const host = makeHost({ args: ['p'], mounts: [] });
    const g = new Guest(host);
    g.ok('args_sizes_get', 16, 20);
    g.memory.grow(1);
    g.ok('args_sizes_get', 65536 + 16, 65536 + 20);
    expect(g.dv.getUint32(65536 + 16, true)).toBe(1);
    expect(g.call('args_sizes_get', 3 * 65536, 20)).toBe(ERRNO.FAULT);
  });

  it('stdout writes reach the host fd; stdin reads count consumed bytes', () => {
    const dir = tmpDir();
    const inPath = path.join(dir, 'in');
    const outPath = path.join(dir, 'out');
    fs.writeFileSync(inPath, 'abcdefgh');
    const stdin = fs.openSync(inPath, 'r');
    const stdout = fs.openSync(outPath, 'w');
    try {
      const g = new Guest(makeHost({ mounts: [], stdio: { stdin, stdout, stderr: stdout } }));
      expect(g.read(0, 3)).toBe('abc');
      expect(g.host.stdinOffset).toBe(3);
      expect(g.write(1, 'out!')).toBe(4);
      expect(g.write(0, 'x')).toBe(-ERRNO.NOTCAPABLE); // stdin has no FD_WRITE
      expect(g.call('fd_seek', 1, 0n, WHENCE.SET, 16)).toBe(ERRNO.SPIPE);
      expect(fs.readFileSync(outPath, 'utf8')).toBe('out!');
      const { host } = roundTrip(g.host);
      const thawed = restore(host, []);
      expect(thawed.stdinOffset).toBe(3);
    } finally {
      fs.closeSync(stdin);
      fs.closeSync(stdout);
    }
  });
});

describe('capture and restore', () => {
  it('the monotonic clock never goes backwards across a migration', () => {
    const g = new Guest(makeHost({ mounts: [] }));
    const now = () => {
      g.ok('clock_time_get', CLOCKID.MONOTONIC, 1n, 16);
      return g.dv.getBigUint64(16, true);
    };
    const before = now();
    const { host, files } = roundTrip(g.host);
    const captured = BigInt((host as { monotonicNs: string }).monotonicNs);
    expect(captured).toBeGreaterThanOrEqual(before);
    const g2 = new Guest(restore(host, files));
    g2.ok('clock_time_get', CLOCKID.MONOTONIC, 1n, 16);
    expect(g2.dv.getBigUint64(16, true)).toBeGreaterThanOrEqual(captured);
    // A snapshot whose clock is far ahead of this machine's hrtime still continues from it.
    const ahead = { ...(host as object), monotonicNs: String(process.hrtime.bigint() * 10n) };
    const g3 = new Guest(restore(ahead, files));
    g3.ok('clock_time_get', CLOCKID.MONOTONIC, 1n, 16);
    expect(g3.dv.getBigUint64(16, true)).toBeGreaterThanOrEqual(process.hrtime.bigint() * 10n - 1_000_000_000n);
    g.ok('clock_res_get', CLOCKID.REALTIME, 16);
    expect(g.dv.getBigUint64(16, true)).toBeGreaterThan(0n);
    expect(g.call('clock_time_get', 9, 1n, 16)).toBe(ERRNO.INVAL);
  });

  it('continues host files at the same offsets after re-binding to a copied directory', () => {
    const src = tmpDir();
    fs.writeFileSync(path.join(src, 'input.txt'), '0123456789');
    const g = new Guest(makeHost({ mounts: [{ guestPath: '/data', kind: 'host', hostPath: src }] }));
    const rd = g.open(3, 'input.txt', 0, { rights: READ_RIGHTS });
    expect(g.read(rd, 4)).toBe('0123');
    const wr = g.open(3, 'out.txt', OFLAGS.CREAT);
    g.write(wr, 'first,');
    g.ok('path_create_directory', 3, ...g.str('sub'));
    const dfd = g.open(3, 'sub', OFLAGS.DIRECTORY);

    // Capture changes nothing (only the clock reading moves on).
    const withoutClock = () => ({ ...(g.host.capture().host as object), monotonicNs: '' });
    const capturedBefore = withoutClock();
    const { host, files } = roundTrip(g.host);
    expect(withoutClock()).toEqual(capturedBefore);
    expect(g.tell(wr)).toBe(6n);
    g.host.close();

    const dst = tmpDir();
    fs.cpSync(src, dst, { recursive: true });
    const g2 = new Guest(restore(host, files, [{ guestPath: '/data', kind: 'host', hostPath: dst }]));
    expect(g2.read(rd, 100)).toBe('456789');
    g2.write(wr, 'second');
    expect(fs.readFileSync(path.join(dst, 'out.txt'), 'utf8')).toBe('first,second');
    expect(fs.readFileSync(path.join(src, 'out.txt'), 'utf8')).toBe('first,');
    g2.ok('fd_close', g2.open(dfd, 'made-in-sub', OFLAGS.CREAT));
    expect(fs.existsSync(path.join(dst, 'sub', 'made-in-sub'))).toBe(true);
    // The next fd is the lowest free one, as before the migration.
    expect(g2.open(3, 'input.txt')).toBe(dfd + 1);
  });

  it('fails with REBIND_FAILED when the directory or an open file is missing', () => {
    const src = tmpDir();
    fs.writeFileSync(path.join(src, 'a.txt'), 'a');
    const g = new Guest(makeHost({ mounts: [{ guestPath: '/data', kind: 'host', hostPath: src }] }));
    const fd = g.open(3, 'a.txt');
    const { host, files } = roundTrip(g.host);
    const gone = path.join(src, 'no-such-dir');
    expect(() => restore(host, files, [{ guestPath: '/data', kind: 'host', hostPath: gone }]))
      .toThrow(/mount \/data: host directory .*no-such-dir: not found/);
    const empty = tmpDir();
    let err: unknown;
    try {
      restore(host, files, [{ guestPath: '/data', kind: 'host', hostPath: empty }]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(WmigError);
    expect((err as WmigError).kind).toBe('REBIND_FAILED');
    expect((err as WmigError).message).toContain(`fd ${fd} (/data/a.txt)`);
    expect(() => restore(host, files, [{ guestPath: '/elsewhere', kind: 'host', hostPath: src }])).toThrow(/no such mount/);
  });

  it('rejects malformed state as CORRUPT_SNAPSHOT', () => {
    const g = new Guest(makeHost({ mounts: [{ guestPath: '/m', kind: 'memory' }] }));
    g.ok('fd_close', g.open(3, 'f', OFLAGS.CREAT));
    const { host, files } = roundTrip(g.host);
    const bad = [null, 42, { ...(host as object), version: 99 }, { ...(host as object), handles: [{ fd: 'x' }] },
      { ...(host as object), monotonicNs: 12 }];
    for (const b of bad) {
      expect(() => restore(b, files)).toThrow(expect.objectContaining({ kind: 'CORRUPT_SNAPSHOT' }) as unknown as Error);
    }
    expect(() => restore(host, [])).toThrow(expect.objectContaining({ kind: 'CORRUPT_SNAPSHOT' }) as unknown as Error);
  });

  it('memfs contents, links and open offsets survive capture/restore', () => {
    const g = new Guest(makeHost({ mounts: [{ guestPath: '/m', kind: 'memory' }] }));
    g.ok('path_create_directory', 3, ...g.str('d'));
    const fd = g.open(3, 'd/file', OFLAGS.CREAT);
    g.write(fd, 'persisted bytes');
    g.seek(fd, 3n, WHENCE.SET);
    g.ok('path_link', 3, 0, ...g.str('d/file'), 3, ...g.str('hard', 2048));
    // An unlinked file stays readable through its open handle, across the thaw too.
    const tmp = g.open(3, 'scratch', OFLAGS.CREAT);
    g.write(tmp, 'scratch data');
    g.ok('path_unlink_file', 3, ...g.str('scratch'));
    const { host, files } = roundTrip(g.host);
    expect(files.length).toBe(2);

    const g2 = new Guest(restore(host, files));
    expect(g2.read(fd, 100)).toBe('sisted bytes');
    g2.write(fd, '+more');
    const hard = g2.open(3, 'hard');
    expect(g2.read(hard, 100)).toBe('persisted bytes+more');
    expect(g2.readdir(3).map((e) => e.name)).toEqual(['.', '..', 'd', 'hard']);
    g2.seek(tmp, 0n, WHENCE.SET);
    expect(g2.read(tmp, 100)).toBe('scratch data');
    // The source host is untouched by the restored one.
    g.seek(fd, 0n, WHENCE.SET);
    expect(g.read(fd, 100)).toBe('persisted bytes');
  });

  it('a host file unlinked while open survives capture/restore: its bytes travel once, no name comes back', () => {
    const src = tmpDir();
    const g = new Guest(makeHost({ mounts: [{ guestPath: '/h', kind: 'host', hostPath: src }] }));
    const fd = g.open(3, 'scratch', OFLAGS.CREAT);
    const other = g.open(3, 'scratch');
    g.write(fd, 'scratch data');
    g.ok('path_unlink_file', 3, ...g.str('scratch'));
    g.seek(fd, 2n, WHENCE.SET);
    const { host, files } = roundTrip(g.host);
    expect(files.map((f) => Buffer.from(f).toString())).toEqual(['scratch data']); // one blob for both handles

    const dest = tmpDir();
    const g2 = new Guest(restore(host, files, [{ guestPath: '/h', kind: 'host', hostPath: dest }]));
    expect(g2.read(fd, 4)).toBe('ratc');
    g2.write(fd, '+more');
    g2.seek(fd, 0n, WHENCE.SET);
    expect(g2.read(fd, 100)).toBe('scratc+morea');
    // Still one file: what one handle wrote, the other reads.
    expect(g2.read(other, 100)).toBe('scratc+morea');
    expect(g2.host.capture().host).toMatchObject({
      handles: expect.arrayContaining([expect.objectContaining({ fd, detached: 0 }), expect.objectContaining({ fd: other, detached: 0 })]),
    });
    expect(fs.readdirSync(dest)).toEqual([]);
    // The source's file is its own: unchanged by the restored one.
    expect(g.read(fd, 100)).toBe('ratch data');
  });

  it('a host file moved or replaced by another process travels as its bytes', () => {
    const src = tmpDir();
    const g = new Guest(makeHost({ mounts: [{ guestPath: '/h', kind: 'host', hostPath: src }] }));
    const moved = g.open(3, 'moved', OFLAGS.CREAT);
    g.write(moved, 'moved away');
    const kept = g.open(3, 'kept', OFLAGS.CREAT);
    g.write(kept, 'still here');
    fs.renameSync(path.join(src, 'moved'), path.join(src, 'elsewhere'));
    fs.writeFileSync(path.join(src, 'moved'), 'a stranger');
    const { host, files } = roundTrip(g.host);
    const handles = (host as { handles: { fd: number; detached?: number }[] }).handles;
    expect(handles.find((h) => h.fd === moved)!.detached).toBe(0);
    expect(handles.find((h) => h.fd === kept)!.detached).toBeUndefined();
    const g2 = new Guest(restore(host, files));
    g2.seek(moved, 0n, WHENCE.SET);
    expect(g2.read(moved, 100)).toBe('moved away');
    g2.seek(kept, 0n, WHENCE.SET);
    expect(g2.read(kept, 100)).toBe('still here');
  });

  it('a read-only mount re-bound from the snapshot still refuses writes', () => {
    const src = tmpDir();
    const g = new Guest(makeHost({ mounts: [{ guestPath: '/r', kind: 'host', hostPath: src, readOnly: true }] }));
    const { host, files } = roundTrip(g.host);
    const g2 = new Guest(restore(host, files));
    expect(g2.tryOpen(3, 'x', OFLAGS.CREAT)).toBe(ERRNO.ROFS);
  });
});

describe('stdio on a non-blocking pipe', () => {
  it('writes everything although the pipe is full and non-blocking (EAGAIN)', () => {
    const dir = tmpDir();
    const script = path.join(dir, 'writer.ts');
    const hostModule = path.resolve(import.meta.dirname, '../runtime/wasi/host.ts');
    fs.writeFileSync(script, `
      import { WasiHost } from ${JSON.stringify(hostModule)};
      process.stdout; // libuv switches a stdout pipe to non-blocking mode
      const host = new WasiHost({ args: [], env: [], mounts: [] });
      const memory = new WebAssembly.Memory({ initial: 40 });
      host.setMemory(memory);
      const n = 2_000_000;
      new Uint8Array(memory.buffer).fill(65, 1024, 1024 + n);
      const dv = new DataView(memory.buffer);
      dv.setUint32(0, 1024, true);
      dv.setUint32(4, n, true);
      const errno = (host.imports.fd_write as unknown as (...a: number[]) => number)(1, 0, 1, 16);
      process.stderr.write(\`errno=\${errno} written=\${dv.getUint32(16, true)}\`);
    `);
    const viteNode = path.resolve(import.meta.dirname, '../node_modules/.bin/vite-node');
    // The reader starts late, so the pipe fills up and the writer sees partial writes and EAGAIN.
    const r = spawnSync('bash', ['-c', `"${viteNode}" "${script}" | (sleep 1; wc -c)`], { encoding: 'utf8' });
    expect(r.stderr).toContain('errno=0 written=2000000');
    expect(r.stdout.trim()).toBe('2000000');
  });
});

describe('fd_write of several iovecs to a pipe shared with another writer', () => {
  it('is one write: records of two processes never interleave inside a record (each under PIPE_BUF)', () => {
    const got = sharedPipeRecords(tmpDir(), false);
    expect(got.A).toBeGreaterThan(100);
    expect(got.B).toBeGreaterThan(100);
    expect(got.split, 'records split by the other writer').toBe(0);
  });
});

describe('fd_write on stdout and stderr', () => {
  /** A host whose stdout and stderr are the file `out` opened with `flags`; fd_write of `parts` as separate iovecs at 64. */
  const setup = (flags: string) => {
    const out = path.join(tmpDir(), 'out');
    fs.writeFileSync(out, '');
    const fd = fs.openSync(out, flags);
    const g = new Guest(makeHost({ mounts: [], stdio: { stdin: 0, stdout: fd, stderr: fd } }));
    const write = (stdioFd: number, parts: string[], outPtr = 16) => {
      let at = 8192;
      parts.forEach((p, i) => {
        const b = enc.encode(p);
        g.u8.set(b, at);
        g.dv.setUint32(64 + 8 * i, at, true);
        g.dv.setUint32(68 + 8 * i, b.length, true);
        at += b.length;
      });
      return g.call('fd_write', stdioFd, 64, parts.length, outPtr);
    };
    return { g, write, contents: () => fs.readFileSync(out, 'utf8'), close: () => fs.closeSync(fd) };
  };

  it('writes every iovec in order (one empty) and reports the total; memory.grow in between changes nothing', () => {
    const { g, write, contents, close } = setup('w');
    try {
      expect(write(1, ['ab', '', 'cde'])).toBe(ERRNO.SUCCESS);
      expect(g.dv.getUint32(16, true)).toBe(5);
      g.memory.grow(1); // detaches every view of the old buffer
      expect(write(2, ['fg'])).toBe(ERRNO.SUCCESS);
      expect(g.dv.getUint32(16, true)).toBe(2);
      expect(contents()).toBe('abcdefg');
    } finally {
      close();
    }
  });

  it('BADF on a read-only fd (out untouched), FAULT for a bad out pointer after the bytes are written', () => {
    const readOnly = setup('r');
    try {
      readOnly.g.dv.setUint32(16, 0xdeadbeef, true);
      expect(readOnly.write(1, ['x'])).toBe(ERRNO.BADF);
      expect(readOnly.g.dv.getUint32(16, true)).toBe(0xdeadbeef);
    } finally {
      readOnly.close();
    }
    const { write, contents, close } = setup('w');
    try {
      expect(write(1, ['late'], 2 * 65536 - 2)).toBe(ERRNO.FAULT);
      expect(contents()).toBe('late');
    } finally {
      close();
    }
  });
});

describe('rights (runtime/wasi/rights.ts)', () => {
  type Case = [what: string, on: 'file' | 'dir', needs: bigint, call: (g: Guest, fd: number) => number];
  /** A poll_oneoff with one fd subscription; returns the event's errno. */
  const pollFd = (g: Guest, fd: number, type: number) => {
    g.u8.fill(0, 0, 48);
    g.dv.setBigUint64(0, 1n, true);
    g.dv.setUint8(8, type);
    g.dv.setUint32(16, fd, true);
    expect(g.call('poll_oneoff', 0, 1024, 1, 2048)).toBe(ERRNO.SUCCESS);
    return g.dv.getUint16(1024 + 8, true);
  };
  const opened = (g: Guest, dir: number, oflags: number, fdflags = 0) =>
    g.call('path_open', dir, 0, ...g.str('x'), oflags, READ_RIGHTS, READ_RIGHTS, fdflags, 16);
  /** Calls on a file d/x or on the directory d (holding x) of a memfs /data, every fd right needs. */
  const CASES: Case[] = [
    ['fd_advise', 'file', NEEDS.fd_advise, (g, fd) => g.call('fd_advise', fd, 0n, 0n, 0)],
    ['fd_allocate', 'file', NEEDS.fd_allocate, (g, fd) => g.call('fd_allocate', fd, 0n, 1n)],
    ['fd_datasync', 'file', NEEDS.fd_datasync, (g, fd) => g.call('fd_datasync', fd)],
    ['fd_fdstat_set_flags', 'file', NEEDS.fd_fdstat_set_flags, (g, fd) => g.call('fd_fdstat_set_flags', fd, 0)],
    ['fd_filestat_get', 'file', NEEDS.fd_filestat_get, (g, fd) => g.call('fd_filestat_get', fd, 256)],
    ['fd_filestat_set_size', 'file', NEEDS.fd_filestat_set_size, (g, fd) => g.call('fd_filestat_set_size', fd, 0n)],
    ['fd_filestat_set_times', 'file', NEEDS.fd_filestat_set_times, (g, fd) => g.call('fd_filestat_set_times', fd, 0n, 0n, FSTFLAGS.MTIM_NOW)],
    ['fd_filestat_set_times on a directory', 'dir', NEEDS.fd_filestat_set_times, (g, fd) => g.call('fd_filestat_set_times', fd, 0n, 0n, FSTFLAGS.MTIM_NOW)],
    ['fd_pread', 'file', NEEDS.fd_pread, (g, fd) => g.call('fd_pread', fd, 64, 1, 0n, 16)],
    ['fd_pwrite', 'file', NEEDS.fd_pwrite, (g, fd) => g.call('fd_pwrite', fd, 64, 1, 0n, 16)],
    ['fd_read', 'file', NEEDS.fd_read, (g, fd) => g.call('fd_read', fd, 64, 1, 16)],
    ['fd_readdir', 'dir', NEEDS.fd_readdir, (g, fd) => g.call('fd_readdir', fd, 4096, 256, 0n, 16)],
    ['fd_seek', 'file', NEEDS.fd_seek, (g, fd) => g.call('fd_seek', fd, 1n, WHENCE.SET, 16)],
    ['fd_seek CUR 0 (the offset stays: FD_TELL)', 'file', NEEDS.fd_tell, (g, fd) => g.call('fd_seek', fd, 0n, WHENCE.CUR, 16)],
    ['fd_sync', 'file', NEEDS.fd_sync, (g, fd) => g.call('fd_sync', fd)],
    ['fd_tell', 'file', NEEDS.fd_tell, (g, fd) => g.call('fd_tell', fd, 16)],
    ['fd_write', 'file', NEEDS.fd_write, (g, fd) => g.call('fd_write', fd, 64, 1, 16)],
    ['path_create_directory', 'dir', NEEDS.path_create_directory, (g, fd) => g.call('path_create_directory', fd, ...g.str('new'))],
    ['path_filestat_get', 'dir', NEEDS.path_filestat_get, (g, fd) => g.call('path_filestat_get', fd, 0, ...g.str('x'), 256)],
    ['path_filestat_set_times', 'dir', NEEDS.path_filestat_set_times, (g, fd) => g.call('path_filestat_set_times', fd, 0, ...g.str('x'), 0n, 0n, FSTFLAGS.MTIM_NOW)],
    ['path_link from', 'dir', NEEDS.path_link.from, (g, fd) => g.call('path_link', fd, 0, ...g.str('x'), 3, ...g.str('linked', 2048))],
    ['path_link to', 'dir', NEEDS.path_link.to, (g, fd) => g.call('path_link', 3, 0, ...g.str('d/x'), fd, ...g.str('linked', 2048))],
    ['path_open', 'dir', NEEDS.path_open.always, (g, fd) => opened(g, fd, 0)],
    ['path_open O_CREAT', 'dir', NEEDS.path_open.creat, (g, fd) => opened(g, fd, OFLAGS.CREAT)],
    ['path_open O_TRUNC', 'dir', NEEDS.path_open.trunc, (g, fd) => opened(g, fd, OFLAGS.TRUNC)],
    ['path_open DSYNC', 'dir', NEEDS.path_open.dsync, (g, fd) => opened(g, fd, 0, FDFLAGS.DSYNC)],
    ['path_open RSYNC', 'dir', NEEDS.path_open.rsyncOrSync, (g, fd) => opened(g, fd, 0, FDFLAGS.RSYNC)],
    ['path_open SYNC', 'dir', NEEDS.path_open.rsyncOrSync, (g, fd) => opened(g, fd, 0, FDFLAGS.SYNC)],
    ['path_readlink', 'dir', NEEDS.path_readlink, (g, fd) => g.call('path_readlink', fd, ...g.str('x'), 4096, 64, 16)],
    ['path_remove_directory', 'dir', NEEDS.path_remove_directory, (g, fd) => g.call('path_remove_directory', fd, ...g.str('x'))],
    ['path_rename from', 'dir', NEEDS.path_rename.from, (g, fd) => g.call('path_rename', fd, ...g.str('x'), 3, ...g.str('moved', 2048))],
    ['path_rename to', 'dir', NEEDS.path_rename.to, (g, fd) => g.call('path_rename', 3, ...g.str('d/x'), fd, ...g.str('moved', 2048))],
    ['path_symlink', 'dir', NEEDS.path_symlink, (g, fd) => g.call('path_symlink', ...g.str('x', 2048), fd, ...g.str('sym'))],
    ['path_unlink_file', 'dir', NEEDS.path_unlink_file, (g, fd) => g.call('path_unlink_file', fd, ...g.str('x'))],
    ['poll_oneoff FD_READ', 'file', NEEDS.poll_oneoff.read, (g, fd) => pollFd(g, fd, EVENTTYPE.FD_READ)],
    ['poll_oneoff FD_WRITE', 'file', NEEDS.poll_oneoff.write, (g, fd) => pollFd(g, fd, EVENTTYPE.FD_WRITE)],
  ];
  /** A fresh guest with /data/d/x ("data") and a handle with every right on the file or the directory. */
  const setup = (on: 'file' | 'dir') => {
    const g = new Guest(makeHost({ mounts: [{ guestPath: '/data', kind: 'memory' }] }));
    g.ok('path_create_directory', 3, ...g.str('d'));
    g.write(g.open(3, 'd/x', OFLAGS.CREAT), 'data');
    g.dv.setUint32(64, 8192, true); // one 4-byte iovec for reads and writes
    g.dv.setUint32(68, 4, true);
    return { g, fd: on === 'file' ? g.open(3, 'd/x') : g.open(3, 'd', OFLAGS.DIRECTORY) };
  };
  const bits = (rights: bigint) => Array.from({ length: 64 }, (_, i) => 1n << BigInt(i)).filter((b) => rights & b);

  it.each(CASES)('%s needs its right: NOTCAPABLE without it (each right it needs alone), not with all', (_what, on, needs, call) => {
    expect(needs).not.toBe(0n);
    for (const right of bits(needs)) {
      const { g, fd } = setup(on);
      const dropped = right === RIGHTS.FD_TELL ? right | RIGHTS.FD_SEEK : right; // FD_SEEK implies FD_TELL
      g.ok('fd_fdstat_set_rights', fd, RIGHTS_ALL & ~dropped, RIGHTS_ALL);
      expect(call(g, fd), `without right ${right}`).toBe(ERRNO.NOTCAPABLE);
    }
    const { g, fd } = setup(on);
    expect(call(g, fd)).not.toBe(ERRNO.NOTCAPABLE);
  });

  it('NEEDS lists every call on fds but those that need no right; the cases cover it (sock_*: wasi-runtime.test.ts)', () => {
    const noRight = ['fd_close', 'fd_fdstat_get', 'fd_fdstat_set_rights', 'fd_prestat_dir_name', 'fd_prestat_get', 'fd_renumber'];
    const onFds = Object.keys(makeHost({ mounts: [] }).imports).filter((n) => /^(fd|path|sock|poll)_/.test(n) && !noRight.includes(n));
    expect(onFds.sort()).toEqual(Object.keys(NEEDS).sort());
    const covered = new Set(CASES.map(([what]) => what.split(' ')[0]));
    expect(Object.keys(NEEDS).filter((n) => !n.startsWith('sock_') && !covered.has(n))).toEqual([]);
  });

  it('fd_fdstat_set_rights only drops rights; dropped rights survive a capture and restore', () => {
    const { g, fd } = setup('file');
    const fewer = RIGHTS_ALL & ~(RIGHTS.FD_READ | RIGHTS.FD_SEEK);
    g.ok('fd_fdstat_set_rights', fd, fewer, RIGHTS.FD_READ);
    expect(g.call('fd_fdstat_set_rights', fd, RIGHTS_ALL, RIGHTS.FD_READ)).toBe(ERRNO.NOTCAPABLE);
    expect(g.call('fd_fdstat_set_rights', fd, fewer, RIGHTS.FD_READ | RIGHTS.FD_WRITE)).toBe(ERRNO.NOTCAPABLE);
    g.ok('fd_fdstat_set_rights', 3, RIGHTS_ALL, READ_RIGHTS); // the preopen no longer passes on write rights
    const { host, files } = roundTrip(g.host);
    const g2 = new Guest(restore(host, files));
    g2.dv.setUint32(64, 8192, true);
    g2.dv.setUint32(68, 4, true);
    expect(g2.fdstat(fd).rightsBase).toBe(fewer);
    expect(g2.call('fd_read', fd, 64, 1, 16)).toBe(ERRNO.NOTCAPABLE);
    expect(g2.call('fd_seek', fd, 1n, WHENCE.SET, 16)).toBe(ERRNO.NOTCAPABLE);
    expect(g2.call('fd_tell', fd, 16)).toBe(ERRNO.SUCCESS);
    g2.ok('fd_fdstat_set_rights', fd, fewer & ~RIGHTS.FD_TELL, 0n);
    expect(g2.call('fd_tell', fd, 16)).toBe(ERRNO.NOTCAPABLE);
    expect(g2.call('fd_fdstat_set_rights', fd, RIGHTS_ALL, 0n)).toBe(ERRNO.NOTCAPABLE);
    // path_open asks for no more than the directory passes on.
    expect(g2.tryOpen(3, 'd/x', 0, { rights: READ_RIGHTS })).toBe(ERRNO.NOTCAPABLE); // inheriting RIGHTS_ALL asked for
    expect(g2.call('path_open', 3, 0, ...g2.str('d/x'), 0, RIGHTS.FD_WRITE, 0n, 0, 16)).toBe(ERRNO.NOTCAPABLE);
    expect(g2.call('path_open', 3, 0, ...g2.str('d/x'), 0, RIGHTS.FD_READ, READ_RIGHTS, 0, 16)).toBe(ERRNO.SUCCESS);
  });

  it('a read-only mount: no rights to modify it; calls that would are ROFS, also where a thaw made it read-only', () => {
    const src = tmpDir();
    fs.writeFileSync(path.join(src, 'x'), 'keep');
    const g = new Guest(makeHost({ mounts: [{ guestPath: '/r', kind: 'host', hostPath: src, readOnly: true }] }));
    expect(g.fdstat(3).rightsBase & RIGHTS_MODIFY).toBe(0n);
    expect(g.fdstat(3).rightsBase & RIGHTS.PATH_OPEN).toBe(RIGHTS.PATH_OPEN);
    expect(g.tryOpen(3, 'x', OFLAGS.CREAT, { rights: READ_RIGHTS })).toBe(ERRNO.ROFS); // no PATH_CREATE_FILE, even for an existing file
    // Asking for every right is fine there (Rust's std does); opening for writing is not.
    const fd = g.open(3, 'x', 0, { rights: READ_RIGHTS });
    expect(g.fdstat(fd).rightsBase & RIGHTS_MODIFY).toBe(0n);
    expect(g.write(fd, 'x')).toBe(-ERRNO.ROFS);
    expect(g.call('fd_filestat_set_size', fd, 0n)).toBe(ERRNO.ROFS);
    expect(g.tryOpen(3, 'x')).toBe(ERRNO.ROFS);
    // Writable at first, bound read-only at the thaw: its handles hold every right, and still may not modify it.
    const rw = new Guest(makeHost({ mounts: [{ guestPath: '/r', kind: 'host', hostPath: src }] }));
    const file = rw.open(3, 'x', 0, { rights: READ_RIGHTS }); // (a file open for writing fails such a thaw)
    const { host, files } = roundTrip(rw.host);
    const ro = new Guest(restore(host, files, [{ guestPath: '/r', kind: 'host', hostPath: src, readOnly: true }]));
    expect(ro.pathCall('path_create_directory', 3, 'd')).toBe(ERRNO.ROFS);
    expect(ro.call('fd_filestat_set_times', file, 0n, 0n, FSTFLAGS.MTIM_NOW)).toBe(ERRNO.ROFS);
    expect(fs.readFileSync(path.join(src, 'x'), 'utf8')).toBe('keep');
  });
});
