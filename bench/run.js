/**
 * Runs every benchmark and prints markdown tables (progress goes to stderr).
 *   npm run bench            # or: node --expose-gc --no-warnings bench/run.js [instrumentation|freeze|thaw …]
 */
import os from 'node:os';
import { benchInstrumentation } from './instrumentation.js';
import { benchFreeze } from './freeze.js';
import { benchThaw } from './thaw.js';

const sections = { instrumentation: benchInstrumentation, freeze: benchFreeze, thaw: benchThaw };
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !(w in sections));
if (unknown.length) {
  console.error(`unknown section(s): ${unknown.join(', ')}; choose from ${Object.keys(sections).join(', ')}`);
  process.exit(2);
}

const log = (line) => console.error(line);
const load = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const started = performance.now();
const loadBefore = load();
const out = [];
for (const [name, fn] of Object.entries(sections)) {
  if (wanted.length && !wanted.includes(name)) continue;
  log(`${name}…`);
  const t0 = performance.now();
  out.push(await fn(log));
  log(`${name}: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
const cpu = os.cpus();
console.log(
  [
    `Node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? 'cpu'}, ${os.platform()} ${os.release()}. ` +
      `Load average before ${loadBefore}, after ${load()}; total ${((performance.now() - started) / 1000).toFixed(0)} s.`,
    '',
    out.join('\n\n'),
  ].join('\n'),
);
