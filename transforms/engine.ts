// The host engine decides what the runtime can compile, so it is the judge of validity.
// @types/node does not declare WebAssembly (no DOM lib here), hence this narrow view.
interface EngineWasm {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => unknown;
}
const engine = (globalThis as unknown as { WebAssembly: EngineWasm }).WebAssembly;

/** null if the engine accepts the module, else its compile error message. */
export function engineRejection(bytes: Uint8Array): string | null {
  if (engine.validate(bytes)) return null;
  try {
    new engine.Module(bytes);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return 'rejected by WebAssembly.validate';
}
