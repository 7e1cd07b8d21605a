/**
 * A sequence of WASI calls about symlinks, run in order against one preopen (fd 3). Each step
 * returns what the guest saw; running the script on two backends and comparing step by step makes
 * one the oracle for the other.
 */
import { OFLAGS } from '../../runtime/wasi/defs.js';
import { kind, listing, onePath, open, readlink, setTimes, stat, symlink, twoPaths, writeVia, type Seen } from './guest-probes.js';
import type { Guest } from './wasi-guest.js';

export type Step = [label: string, run: (g: Guest) => Seen];

const { CREAT, DIRECTORY, EXCL, TRUNC } = OFLAGS;
/** Whole seconds: hostfs sets times through a float of seconds. */
const T1 = 1_600_000_000n * 1_000_000_000n;
const T2 = 1_700_000_000n * 1_000_000_000n;
/** Links that chain-N follows: N + 1 (chain-0 → f). Linux gives up after 40. */
const CHAIN = 42;

const both = (p: string): Step[] => [
  [`lstat ${p}`, (g) => kind(g, p, false)],
  [`stat ${p}`, (g) => kind(g, p, true)],
];

export const SYMLINK_SCRIPT: Step[] = [
  ['mkdir d', (g) => onePath(g, 'path_create_directory', 'd')],
  ['mkdir e', (g) => onePath(g, 'path_create_directory', 'e')],
  ['write f', (g) => writeVia(g, 'f', 'data', { oflags: CREAT })],
  ['write d/inner', (g) => writeVia(g, 'd/inner', 'in', { oflags: CREAT })],

  // Creation: targets are stored verbatim; only an absolute or empty one is refused.
  ...([
    ['f', 'lf'], ['d', 'ld'], ['nowhere', 'dangling'], ['nodir/x', 'dangling-deep'], ['../outside', 'escape'],
    ['..', 'up'], ['..', 'd/up'], ['ld/inner', 'chained'], ['d/../f', 'dotdot'], ['.', 'dot'], ['d/', 'dslash'],
    ['f/', 'fslash'], ['loop-b', 'loop-a'], ['loop-a', 'loop-b'], ['self', 'self'], ['zä', 'utf8'],
    ['dang-b', 'dang-a'], ['made-by-chain', 'dang-b'], ['../f', 'ld/back'],
    ['x', 'lf'], ['x', 'dangling'], ['x', 'd'], ['/etc/passwd', 'abs'], ['', 'empty-target'], ['f', 'nope/l'], ['x', 'f/l'], ['a\0b', 'nul'],
  ] as const).map(([target, p]): Step => [`symlink ${p} -> ${JSON.stringify(target)}`, (g) => symlink(g, target, p)]),
  ...Array.from({ length: CHAIN }, (_, i): Step => [`symlink chain-${i}`, (g) => symlink(g, i === 0 ? 'f' : `chain-${i - 1}`, `chain-${i}`)]),

  // readlink: the link itself, truncated to the buffer; intermediate links are followed.
  ...['lf', 'ld', 'dangling', 'escape', 'chained', 'dotdot', 'utf8', 'ld/back', 'f', 'd', '.', 'missing', 'dangling/x', 'lf/x', 'loop-a/x']
    .map((p): Step => [`readlink ${p}`, (g) => readlink(g, p)]),
  ['readlink short buffer', (g) => readlink(g, 'dotdot', 3)],
  ['readlink empty buffer', (g) => readlink(g, 'dotdot', 0)],

  // lstat and stat, and intermediate components.
  ...['lf', 'ld', 'dangling', 'escape', 'up', 'd/up', 'chained', 'dotdot', 'dot', 'dslash', 'fslash', 'loop-a', 'self', 'utf8',
    'chain-38', 'chain-39', 'chain-40', 'ld/inner', 'ld/back', 'd/up/f', 'dot/f', 'lf/x', 'dangling/x', 'loop-a/x'].flatMap(both),

  // path_open: the last component is followed only with SYMLINK_FOLLOW; O_EXCL never follows.
  ...([
    ['lf', {}], ['lf', { follow: true }], ['lf', { oflags: DIRECTORY }], ['lf', { follow: true, oflags: DIRECTORY }],
    ['ld', {}], ['ld', { follow: true }], ['ld', { oflags: DIRECTORY }], ['ld', { follow: true, oflags: DIRECTORY }],
    ['ld', { follow: true, write: true }], ['ld', { follow: true, oflags: CREAT }], ['ld/', {}], ['ld/', { follow: true }],
    ['ld/inner', {}],
    ['dangling', {}], ['dangling', { follow: true }], ['dangling', { oflags: DIRECTORY }], ['dangling', { follow: true, oflags: DIRECTORY }],
    ['dangling', { follow: true, oflags: CREAT | EXCL, write: true }], ['dangling', { oflags: CREAT, write: true }],
    ['dangling-deep', { follow: true, oflags: CREAT, write: true }],
    ['escape', { follow: true }], ['escape', { follow: true, oflags: CREAT, write: true }],
    ['up', { follow: true, oflags: DIRECTORY }], ['d/up', { follow: true, oflags: DIRECTORY }], ['d/up/f', {}],
    ['chained', { follow: true }], ['dotdot', { follow: true }], ['dot', { follow: true, oflags: DIRECTORY }],
    ['dslash', { follow: true }], ['fslash', { follow: true }],
    ['loop-a', {}], ['loop-a', { follow: true }], ['self', { follow: true }], ['loop-a/x', {}],
    ['chain-38', { follow: true }], ['chain-39', { follow: true }], ['chain-40', { follow: true }],
    ['lf', { follow: true, oflags: CREAT | EXCL, write: true }],
  ] as const).map(([p, how]): Step => [`open ${p} ${JSON.stringify(how)}`, (g) => open(g, p, how)]),
  ['O_TRUNC through a link', (g) => writeVia(g, 'lf', 'new', { follow: true, oflags: TRUNC })],
  ['target was written', (g) => open(g, 'f')],
  ['O_CREAT through a dangling link', (g) => writeVia(g, 'dangling', 'made', { follow: true, oflags: CREAT })],
  ['dangling target now exists', (g) => open(g, 'nowhere')],
  ['the link is still a link', (g) => readlink(g, 'dangling')],
  ['O_CREAT through a chain of dangling links', (g) => writeVia(g, 'dang-a', 'end', { follow: true, oflags: CREAT })],
  ['chain target now exists', (g) => open(g, 'made-by-chain')],

  // fd_readdir lists symlinks as SYMBOLIC_LINK; a directory opened through a link lists its target.
  ['list root', (g) => listing(g, '.')],
  ['list through ld', (g) => listing(g, 'ld')],
  ['list through dot', (g) => listing(g, 'dot')],
  ['list a file link', (g) => listing(g, 'lf')],

  // path_filestat_set_times: with follow the target's times change, without it the link's.
  ['set times follow', (g) => setTimes(g, 'lf', true, T1, T1)],
  ['target times set', (g) => stat(g, 'f', false)],
  ['link times untouched by follow', (g) => ({ errno: 0, untouched: stat(g, 'lf', false).mtim !== T1 })],
  ['set times nofollow', (g) => setTimes(g, 'lf', false, T2, T2)],
  ['link times set', (g) => stat(g, 'lf', false)],
  ['target times kept', (g) => stat(g, 'f', true)],
  ['set times dangling follow', (g) => setTimes(g, 'dangling-deep', true, T1, T1)],
  ['set times dangling nofollow', (g) => setTimes(g, 'dangling-deep', false, T2, T1)],
  ['dangling link times set', (g) => stat(g, 'dangling-deep', false)],
  ['set times through intermediate link', (g) => setTimes(g, 'ld/inner', false, T2, T2)],
  ['d/inner times set', (g) => stat(g, 'd/inner', false)],

  // path_link links the symlink itself (Linux link(2) does not follow).
  ['link lf', (g) => twoPaths(g, 'path_link', 'lf', 'hard-lf')],
  ...both('hard-lf'),
  ...both('lf'),
  ['link a dangling link', (g) => twoPaths(g, 'path_link', 'dangling-deep', 'hard-dangling')],
  ['link a dir link', (g) => twoPaths(g, 'path_link', 'ld', 'hard-ld')],
  ['link through a dir link', (g) => twoPaths(g, 'path_link', 'ld/inner', 'inner-link')],
  ...both('inner-link'),
  ['link a dir', (g) => twoPaths(g, 'path_link', 'd', 'dl')],
  ['link a dir onto a file', (g) => twoPaths(g, 'path_link', 'd', 'f')],
  ['link onto a link', (g) => twoPaths(g, 'path_link', 'f', 'lf')],
  ['link missing', (g) => twoPaths(g, 'path_link', 'missing', 'x')],

  // path_rename moves links verbatim (a relative target then resolves from the new place).
  ['rename lf', (g) => twoPaths(g, 'path_rename', 'lf', 'lf2')],
  ['renamed link', (g) => readlink(g, 'lf2')],
  ...both('lf'),
  ['rename dotdot into d', (g) => twoPaths(g, 'path_rename', 'dotdot', 'd/dotdot')],
  ...both('d/dotdot'),
  ['rename through a dir link', (g) => twoPaths(g, 'path_rename', 'ld/dotdot', 'dotdot')],
  ...both('dotdot'),
  ['rename a file over a link', (g) => twoPaths(g, 'path_rename', 'f', 'lf2')],
  ...both('lf2'),
  ['rename it back', (g) => twoPaths(g, 'path_rename', 'lf2', 'f')],
  ['rename a link over a dir', (g) => twoPaths(g, 'path_rename', 'ld', 'e')],
  ['rename a dir over a link', (g) => twoPaths(g, 'path_rename', 'e', 'dangling')],
  ['rename a dir into itself through a link', (g) => twoPaths(g, 'path_rename', 'd', 'ld/sub')],
  ['rename a dir through a link to .', (g) => twoPaths(g, 'path_rename', 'd', 'dot/d2')],
  ['rename it back through the link', (g) => twoPaths(g, 'path_rename', 'd2', 'dot/d')],
  ['rename a link onto itself', (g) => twoPaths(g, 'path_rename', 'ld', 'ld')],
  ['rename a link onto its hard link', (g) => twoPaths(g, 'path_rename', 'ld', 'hard-ld')],
  ...both('ld'),

  // Removing: the link goes, never its target.
  ['unlink ld/', (g) => onePath(g, 'path_unlink_file', 'ld/')],
  ['rmdir ld', (g) => onePath(g, 'path_remove_directory', 'ld')],
  ['mkdir over ld', (g) => onePath(g, 'path_create_directory', 'ld')],
  ['mkdir over a dangling link', (g) => onePath(g, 'path_create_directory', 'dangling-deep')],
  ['unlink ld', (g) => onePath(g, 'path_unlink_file', 'ld')],
  ['unlink hard-ld', (g) => onePath(g, 'path_unlink_file', 'hard-ld')],
  ...both('ld'),
  ['d survives', (g) => listing(g, 'd')],
  ['unlink self', (g) => onePath(g, 'path_unlink_file', 'self')],
  ['unlink hard-lf', (g) => onePath(g, 'path_unlink_file', 'hard-lf')],
  ['list root at the end', (g) => listing(g, '.')],
];
