// The tool that runs binaryen's Asyncify pass (select-backend.ts picks one). Every backend takes the
// same prepared bytes (globals exported, preemption checks spliced in) and returns Asyncify's output.

export interface AsyncifyJob {
  /** The imports that may unwind, as `module.base`. */
  freezePoints: string[];
  /** Given the tool's names for all functions (index order, imports first), the ones Asyncify must
   * leave alone; absent: Asyncify's own analysis decides. */
  removeList?: (names: string[]) => string[];
  /** Asyncify tidies the code it adds at this level (0: not at all); also the level of optimizeModule. */
  optimizeLevel: number;
  /** Then run the whole-module optimization pipeline too. */
  optimizeModule: boolean;
  progress: (stage: string) => void;
}

export interface AsyncifyBackend {
  /** The tool and its version: outputs of different tools differ, so this is part of the cache key. */
  readonly id: string;
  run(wasm: Uint8Array, job: AsyncifyJob): Promise<Uint8Array>;
}

/** asyncify-imports: an empty list would mean "unset", i.e. every import may unwind; name a non-existent one instead. */
export function asyncifyImports(freezePoints: string[]): string {
  return freezePoints.length > 0 ? freezePoints.join(',') : 'wmig.none';
}
