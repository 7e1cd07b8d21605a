/**
 * `node bench/lib/instrument-cold.js MODULE.wasm CACHE_DIR`: instruments MODULE through the public
 * API (instrumentCached) into CACHE_DIR, which must not hold it yet, in a process of its own so that
 * its peak RSS is the transform's. Prints one JSON line: wall time, time per stage, peak RSS, RSS
 * before the call (node + wmig loaded), and the transform's stats.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DIST } from './env-paths.js';

const { instrumentCached } = await import(path.join(DIST, 'transforms/index.js'));

const [file, cacheDir] = process.argv.slice(2);
const wasm = fs.readFileSync(file);
const stageMs = {};
let stage;
let stageStart;
const endStage = (at) => {
  if (stage) stageMs[stage] = (stageMs[stage] ?? 0) + (at - stageStart);
};
const rssBeforeBytes = process.memoryUsage().rss;
const t0 = performance.now();
const result = await instrumentCached(wasm, {
  cacheDir,
  onProgress: (next) => {
    const at = performance.now();
    endStage(at);
    stage = next;
    stageStart = at;
  },
});
const end = performance.now();
endStage(end);
if (result.cached || result.alreadyInstrumented) throw new Error(`${file}: not a cold instrumentation (cached ${result.cached})`);
console.log(
  JSON.stringify({
    ms: end - t0,
    stageMs,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    rssBeforeBytes,
    stats: result.stats,
    cachePath: result.cachePath,
  }),
);
