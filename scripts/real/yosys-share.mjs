// Writes the share/ tree of @yowasp/yosys to a directory, to be mounted at /share. The package keeps
// most of it inline in gen/resources-yosys.js (strings) and the largest files beside it (URLs);
// its own runner builds the same tree in memory.
// Usage: node yosys-share.mjs PACKAGE_GEN_DIR DEST_DIR
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [gen, dest] = process.argv.slice(2).map((p) => resolve(p));
const { filesystem } = await import(pathToFileURL(join(gen, 'resources-yosys.js')).href);

function write(tree, dir) {
  mkdirSync(dir, { recursive: true });
  for (const [name, entry] of Object.entries(tree)) {
    const path = join(dir, name);
    if (typeof entry === 'string' || entry instanceof Uint8Array) writeFileSync(path, entry);
    else if (entry instanceof URL) copyFileSync(entry, path);
    else write(entry, path);
  }
}
write(filesystem.share, dest);
