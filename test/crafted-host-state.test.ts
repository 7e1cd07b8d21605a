// A snapshot's host state is untrusted input: its checksums catch damage, not edits. A crafted one
// must be refused (CORRUPT_SNAPSHOT) before it can name anything outside its mounts or leave a
// memfs that MemFs's walks and inode numbering cannot rely on. Each case edits a real capture.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ERRNO, OFLAGS } from '../runtime/wasi/defs.js';
import { WasiError } from '../runtime/wasi/errno.js';
import { HandleTable, MAX_FDS, type Handle } from '../runtime/wasi/handles.js';
import { WasiHost } from '../runtime/wasi/host.js';
import type { MountSpec } from '../runtime/wasi/types.js';
import { Guest } from './helpers/wasi-guest.js';

type Json = Record<string, any>; // edited freely, as an attacker would

const cleanup: (() => void)[] = [];
afterEach(() => {
  for (const f of cleanup.splice(0)) f();
});

/** A host directory `mount/` with a sibling file beside it, which the guest must never see. */
function hostTree(): { mount: string; parent: string } {
  const parent = fs.mkdtempSync(path.join(os.tmpdir(), 'wmig-crafted-'));
  cleanup.push(() => fs.rmSync(parent, { recursive: true, force: true }));
  fs.mkdirSync(path.join(parent, 'mount', 'sub'), { recursive: true });
  fs.writeFileSync(path.join(parent, 'mount', 'sub', 'f.txt'), 'inside');
  fs.writeFileSync(path.join(parent, 'SIBLING'), 'outside');
  return { mount: path.join(parent, 'mount'), parent };
}

function host(mounts: MountSpec[]): WasiHost {
  const h = new WasiHost({ args: ['prog'], env: [], mounts });
  cleanup.push(() => h.close());
  return h;
}

function capture(h: WasiHost): { state: Json; files: Uint8Array[] } {
  const cap = h.capture();
  return { state: JSON.parse(JSON.stringify(cap.host)) as Json, files: cap.files };
}

function restore(state: Json, files: Uint8Array[]): WasiHost {
  const h = WasiHost.restore(state, files, {});
  cleanup.push(() => h.close());
  return h;
}

function refused(state: Json, files: Uint8Array[], message: RegExp): void {
  expect(() => restore(state, files)).toThrow(expect.objectContaining({ kind: 'CORRUPT_SNAPSHOT', message: expect.stringMatching(message) }) as unknown as Error);
}

describe('a crafted host state cannot name paths outside its mounts', () => {
  /** fd 3: the preopen of a host mount; fd 4: its directory sub; fd 5: sub/f.txt. */
  function captured() {
    const tree = hostTree();
    const g = new Guest(host([{ guestPath: '/data', kind: 'host', hostPath: tree.mount }]));
    expect(g.open(3, 'sub', OFLAGS.DIRECTORY)).toBe(4);
    expect(g.open(3, 'sub/f.txt')).toBe(5);
    return { ...capture(g.host), tree };
  }
  const handle = (state: Json, fd: number): Json => (state.handles as Json[]).find((h) => h.fd === fd)!;

  it('the captured state restores and lists the mount (control)', () => {
    const { state, files } = captured();
    const g = new Guest(restore(state, files));
    expect(g.readdir(3).map((e) => e.name)).toEqual(['.', '..', 'sub']);
    expect(g.read(5, 100)).toBe('inside');
  });

  it('a preopen or directory handle at ".." (it would list the directory holding the mount)', () => {
    const { state, files } = captured();
    handle(state, 3).path = '..';
    refused(state, files, /fd 3: path "\.\." is not a normalized path in its mount/);
    const other = captured();
    handle(other.state, 4).path = '..';
    refused(other.state, other.files, /fd 4: path "\.\." is not a normalized path/);
  });

  it('paths with ".", "..", empty names, a leading slash or NUL', () => {
    for (const bad of ['sub/..', '../mount/sub', './sub', 'sub//f.txt', '/sub', 'sub/', 'sub\0']) {
      const { state, files } = captured();
      handle(state, 4).path = bad;
      refused(state, files, /fd 4: path .* is not a normalized path/);
    }
    const { state, files } = captured();
    handle(state, 5).path = 'sub/../sub/f.txt';
    refused(state, files, /fd 5: path .* is not a normalized path/);
    // A preopen is its mount's root.
    const p = captured();
    handle(p.state, 3).path = 'sub';
    refused(p.state, p.files, /fd 3: path "sub" is not a normalized path/);
  });

  it(`fd numbers from ${MAX_FDS} on (the handle table is an array indexed by fd)`, () => {
    const { state, files } = captured();
    handle(state, 5).fd = 4294967294;
    refused(state, files, /fd 4294967294: not below 1048576/);
  });
});

describe('a crafted memfs image is refused', () => {
  /** A memory mount holding d/ (with f) and a hard link h to f; fd 4 open on d/f. */
  function captured() {
    const g = new Guest(host([{ guestPath: '/m', kind: 'memory' }]));
    g.ok('path_create_directory', 3, ...g.str('d'));
    const fd = g.open(3, 'd/f', OFLAGS.CREAT);
    g.write(fd, 'memfs bytes');
    g.ok('path_link', 3, 0, ...g.str('d/f'), 3, ...g.str('h', 2048));
    const { state, files } = capture(g.host);
    const image = (state.mounts as Json[])[0]!.memfs as Json;
    const nodes = image.nodes as Json[];
    const root = nodes.find((n) => n.ino === image.root)!;
    const dir = nodes.find((n) => n.kind === 'dir' && n !== root)!;
    const file = nodes.find((n) => n.kind === 'file')!;
    return { state, files, image, nodes, root, dir, file };
  }

  it('the captured image restores (control)', () => {
    const { state, files } = captured();
    const g = new Guest(restore(state, files));
    expect(g.readdir(3).map((e) => e.name)).toEqual(['.', '..', 'd', 'h']);
    g.seek(4, 0n, 0);
    expect(g.read(4, 100)).toBe('memfs bytes');
  });

  it('entry names that no resolved path can name', () => {
    for (const bad of ['..', '.', '', 'a/b', 'x\0']) {
      const c = captured();
      (c.root.entries as [string, number][])[0]![0] = bad;
      refused(c.state, c.files, /memfs directory \d+: bad entry name/);
    }
    const c = captured();
    (c.root.entries as [string, number][]).push([...(c.root.entries as [string, number][])[0]!]);
    refused(c.state, c.files, /entry "d" twice/);
  });

  it('directories that are not one tree: a cycle through the root, a directory linked twice, one left over', () => {
    const cycle = captured();
    (cycle.dir.entries as [string, number][]).push(['up', cycle.root.ino as number]);
    refused(cycle.state, cycle.files, /memfs directory \d+ is linked more than once/);
    const twice = captured();
    (twice.root.entries as [string, number][]).push(['again', twice.dir.ino as number]);
    refused(twice.state, twice.files, /memfs directory \d+ is linked more than once/);
    const orphan = captured();
    orphan.root.entries = (orphan.root.entries as [string, number][]).filter(([name]) => name !== 'd');
    orphan.file.nlink = 1; // only h names it now
    refused(orphan.state, orphan.files, /memfs directory \d+ is not under the root/);
  });

  it('inode numbers twice or at nextIno and above, and link counts that disagree with the entries', () => {
    const dup = captured();
    dup.nodes.push({ ...dup.file });
    refused(dup.state, dup.files, /memfs inode \d+ twice/);
    const next = captured();
    next.image.nextIno = next.file.ino as number;
    refused(next.state, next.files, /is not below nextIno/);
    const nlink = captured();
    nlink.file.nlink = 1; // d/f and h name it
    refused(nlink.state, nlink.files, /link count 1, linked 2 times/);
  });
});

describe('the handle table', () => {
  it(`gives MFILE once fds 0 to ${MAX_FDS - 1} are taken`, () => {
    const table = new HandleTable();
    const h: Handle = { kind: 'preopen', mount: undefined as never, rel: '', fdflags: 0, rightsBase: 0n, rightsInheriting: 0n };
    for (let fd = 0; fd < MAX_FDS - 1; fd++) table.set(fd, h);
    expect(table.add(h)).toBe(MAX_FDS - 1);
    expect(() => table.add(h)).toThrow(expect.objectContaining({ errno: ERRNO.MFILE }) as unknown as WasiError);
    table.close(7); // the lowest free fd is taken again
    expect(table.add(h)).toBe(7);
  });
});
