/**
 * `node bench/lib/instrument-once.js IN OUT OPTIONS_JSON`: one instrumentation in a fresh process (so
 * /usr/bin/time sees its time and peak memory alone), no cache. Prints a JSON line: the tool, the
 * seconds each stage took, and the output size.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from './env-paths.js';

const { instrument } = await import(path.join(ROOT, 'dist/transforms/index.js'));
const [input, output, optionsJson] = process.argv.slice(2);
const stages = [];
let last = performance.now();
const onProgress = (stage) => {
  const t = performance.now();
  if (stages.length) stages[stages.length - 1].s = (t - last) / 1000;
  stages.push({ stage, s: 0 });
  last = t;
};
const result = await instrument(fs.readFileSync(input), { ...JSON.parse(optionsJson), onProgress });
stages[stages.length - 1].s = (performance.now() - last) / 1000;
fs.writeFileSync(output, result.wasm);
console.log(JSON.stringify({ tool: result.stats.tool, stages, bytes: result.wasm.length, preciseFunctions: result.stats.preciseFunctions }));
