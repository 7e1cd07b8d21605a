import binaryen from 'binaryen';
import { expect } from 'vitest';

/** A module from WebAssembly text, checked valid; MutableGlobals on unless `features` says otherwise. */
export function wat(text: string, features = binaryen.Features.MutableGlobals): Uint8Array {
  const module = binaryen.parseText(text);
  try {
    module.setFeatures(features);
    expect(module.validate()).toBe(1);
    return module.emitBinary();
  } finally {
    module.dispose();
  }
}
