// The `wmig` command and its guest worker as one file each (dist/bundle/cli.js, dist/bundle/worker.js),
// from tsc's output. Node 20 loads ES modules one by one (resolve, read, compile): the ~90 files of
// dist/ cost a CLI run ~100 ms in the main thread and as much again in the worker. The library
// (dist/runtime/index.js) stays unbundled. Run by `npm run build` after tsc.
import { build } from 'esbuild';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Native addon and a 10 MB wasm-in-JS package loaded only when instrumenting: left as imports.
  external: ['@node-rs/xxhash', 'binaryen'],
  // commander is CommonJS; in an ES module bundle its require() needs one.
  banner: { js: "import { createRequire as __wmigCreateRequire } from 'node:module'; const require = __wmigCreateRequire(import.meta.url);" },
  logLevel: 'warning',
};
// Side by side: process.ts starts the worker from './worker.js' next to itself.
await build({ ...common, entryPoints: [join(root, 'dist/runtime/cli/main.js')], outfile: join(root, 'dist/bundle/cli.js') });
await build({ ...common, entryPoints: [join(root, 'dist/runtime/process/worker.js')], outfile: join(root, 'dist/bundle/worker.js') });
