/**
 * The timing half of bench/cpu-suite.js, in a process of its own so that the suite can give it
 * V8 flags: `node [V8 flags] bench/lib/cpu-measure.js MANIFEST.json` prints JSON results on stdout.
 *
 * Every module is compiled eagerly and optimized up front (the suite passes --no-liftoff
 * --no-wasm-dynamic-tiering --no-wasm-lazy-compilation), so the timed runs execute optimized code only and no compiler
 * thread runs beside them: run time measures the code instrumentation produced, and compile
 * time is reported apart. Each sample is the process CPU time of instantiate + `_start` under
 * node:wasi, after a full GC; variants are interleaved, round by round.
 *
 * Manifest: { rounds, programs: [{ name, args, preopens, variants: [{ key, file }] }] }.
 * Output: { programs: { [name]: { [key]: { samples: ms[], compileMs } } } }.
 */
import fs from 'node:fs';
import { WASI } from 'node:wasi';
import { fullGc } from './gc.js';
import { sjljImports } from './sjlj-shim.js';

const manifest = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const DEVNULL = fs.openSync('/dev/null', 'w');

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function runOnce(program, variant) {
  const wasi = new WASI({ version: 'preview1', args: [program.name, ...program.args], env: {}, preopens: program.preopens ?? {}, returnOnExit: true, stdout: DEVNULL, stderr: DEVNULL });
  const sjlj = sjljImports(variant.module);
  // Nothing sets the preemption flag here, as under wmig between freezes: the import is never called.
  const wmig = { ...sjlj.imports.wmig, preempt: () => 0 };
  const imports = { ...wasi.getImportObject(), env: sjlj.imports.env, wmig };
  // A clean heap per sample; it also finalizes the last run's node:wasi WASI object here, not inside
  // the next run, where Node 20 intermittently crashes (nodejs/node#52402; seen here as a segfault).
  fullGc();
  const c0 = cpuMs();
  const instance = new WebAssembly.Instance(variant.module, imports);
  sjlj.bind(instance);
  const code = wasi.start(instance);
  const t = cpuMs() - c0;
  if (code !== 0) throw new Error(`${program.name} (${variant.key}) exited ${code}`);
  return t;
}

const results = {};
for (const program of manifest.programs) {
  const variants = program.variants.map((v) => {
    const bytes = fs.readFileSync(v.file);
    const c0 = cpuMs();
    const module = new WebAssembly.Module(bytes);
    return { key: v.key, module, compileMs: cpuMs() - c0, samples: [] };
  });
  for (const v of variants) runOnce(program, v); // warm-up (also checks it runs)
  for (let round = 0; round < manifest.rounds; round++) {
    for (let i = 0; i < variants.length; i++) {
      const v = variants[(i + round) % variants.length];
      v.samples.push(runOnce(program, v));
    }
  }
  results[program.name] = Object.fromEntries(variants.map((v) => [v.key, { samples: v.samples, compileMs: v.compileMs }]));
  process.stderr.write(`  ${program.name}: done\n`);
}
process.stdout.write(JSON.stringify({ programs: results }));
