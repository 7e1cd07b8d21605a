import { TransformError } from './errors.js';

// A minimal reader of the module's section framing. It never decodes code, so finding a
// custom section or an export name costs one hop per section even on 30 MB modules.

const MAGIC = [0x00, 0x61, 0x73, 0x6d];
const VERSION = [0x01, 0x00, 0x00, 0x00];
const CUSTOM_SECTION = 0;
const EXPORT_SECTION = 7;
const FUNCTION_EXPORT = 0;

const utf8 = new TextDecoder('utf-8', { fatal: true });

class Cursor {
  constructor(
    private readonly bytes: Uint8Array,
    public pos: number,
    private readonly end: number,
  ) {}

  byte(): number {
    if (this.pos >= this.end) throw malformed('unexpected end of data');
    return this.bytes[this.pos++]!;
  }

  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) throw malformed('LEB128 value exceeds u32');
        return result;
      }
    }
    throw malformed('LEB128 value longer than 5 bytes');
  }

  take(length: number): Uint8Array {
    if (length > this.end - this.pos) throw malformed('length runs past the end');
    const slice = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return slice;
  }

  name(): string {
    try {
      return utf8.decode(this.take(this.u32()));
    } catch (e) {
      if (e instanceof TransformError) throw e;
      throw malformed('name is not valid UTF-8');
    }
  }

  atEnd(): boolean {
    return this.pos === this.end;
  }
}

function malformed(what: string): TransformError {
  return new TransformError('not-wasm', `malformed WebAssembly module: ${what}`);
}

export interface Section {
  id: number;
  /** Set for custom sections only. */
  name?: string;
  /** The payload (after the custom section's name), a view into the module bytes. */
  payload: Uint8Array;
}

/** Every section in order; throws 'not-wasm' on bad magic, unknown version, or bad framing. */
export function readSections(wasm: Uint8Array): Section[] {
  if (wasm.length < 8 || MAGIC.some((b, i) => wasm[i] !== b)) {
    throw new TransformError('not-wasm', 'not a WebAssembly module (bad magic number)');
  }
  if (VERSION.some((b, i) => wasm[4 + i] !== b)) {
    throw new TransformError('not-wasm', 'not a WebAssembly core module (unsupported version; components are not supported)');
  }
  const sections: Section[] = [];
  const top = new Cursor(wasm, 8, wasm.length);
  while (!top.atEnd()) {
    const id = top.byte();
    const body = top.take(top.u32());
    if (id === CUSTOM_SECTION) {
      const inner = new Cursor(body, 0, body.length);
      const name = inner.name();
      sections.push({ id, name, payload: body.subarray(inner.pos) });
    } else {
      sections.push({ id, payload: body });
    }
  }
  return sections;
}

export function findCustomSection(sections: Section[], name: string): Uint8Array | null {
  return sections.find((s) => s.id === CUSTOM_SECTION && s.name === name)?.payload ?? null;
}

/** The index of the function exported as `name`, or null. */
export function exportedFunction(sections: Section[], name: string): number | null {
  const payload = sections.find((s) => s.id === EXPORT_SECTION)?.payload;
  if (!payload) return null;
  const cursor = new Cursor(payload, 0, payload.length);
  for (let count = cursor.u32(); count > 0; count--) {
    const exported = cursor.name();
    const kind = cursor.byte();
    const index = cursor.u32();
    if (kind === FUNCTION_EXPORT && exported === name) return index;
  }
  return null;
}

export function exportNames(sections: Section[]): string[] {
  const payload = sections.find((s) => s.id === EXPORT_SECTION)?.payload;
  if (!payload) return [];
  const cursor = new Cursor(payload, 0, payload.length);
  const names: string[] = [];
  for (let count = cursor.u32(); count > 0; count--) {
    names.push(cursor.name());
    cursor.byte(); // kind
    cursor.u32(); // index
  }
  return names;
}
