import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadModule, WmigError } from '../../index.js';
import { say } from '../say.js';

export function registerInstrument(program: Command, exit: (code: number) => void): void {
  program
    .command('instrument')
    .description('instrument a WASI module for freezing (Asyncify at WASI calls, globals exported)')
    .argument('<in>', 'the plain .wasm module')
    .requiredOption('-o, --output <FILE>', 'where to write the instrumented module')
    .option('--cache-dir <DIR>', 'where instrumented modules are cached')
    .option('--preempt', 'add preemption points at loop headers (freezes in compute loops)')
    .option('--compact', "Asyncify's bodies only, no fast bodies beside them: about half the added code, slower")
    .action(async (input: string, flags: { output: string; cacheDir?: string; preempt?: boolean; compact?: boolean }) => {
      const started = performance.now();
      let last = started;
      let lastStage: string | null = null;
      // Each stage is reported as it starts, with the time the previous one took.
      const onProgress = (stage: string) => {
        const t = performance.now();
        say(lastStage === null ? stage : `${stage} (${lastStage} took ${(t - last).toFixed(0)} ms)`);
        last = t;
        lastStage = stage;
      };
      const loaded = await loadModule(input, { cacheDir: flags.cacheDir, onProgress, preempt: flags.preempt ?? false, fastPaths: !flags.compact });
      try {
        writeFileSync(flags.output, loaded.bytes);
      } catch (error) {
        throw new WmigError('CANT_WRITE', `cannot write ${flags.output}: ${(error as Error).message}`);
      }
      const ms = (performance.now() - started).toFixed(0);
      process.stdout.write(`${flags.output}: ${loaded.bytes.length} bytes, ${loaded.info.freezePoints.length} freeze points, ${loaded.info.globals.length} globals exported (${ms} ms)\n`);
      exit(0);
    });
}
