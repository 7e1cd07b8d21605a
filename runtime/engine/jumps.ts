import type { JumpTable as JumpTableState, JumpTarget } from '../snapshot/types.js';

/** Marks a jmp_buf the host filled: ASCII "WMJB", then the token. Garbage rarely looks like this. */
const JMP_BUF_MAGIC = 0x424a4d57;
/** Bytes of a jmp_buf the host uses (examples/include/setjmp.h declares it at least this big). */
export const JMP_BUF_BYTES = 8;

/** A setjmp or longjmp on a jmp_buf the host cannot use. */
export class JumpError extends Error {}

/**
 * The stacks recorded by setjmp, by token. setjmp writes the token into the guest's jmp_buf, so
 * a jmp_buf copied elsewhere (memcpy) still finds its stack. A new setjmp on the same jmp_buf
 * replaces that buffer's previous stack: the table holds one stack per jmp_buf address, so a
 * program that calls setjmp in a loop does not grow it.
 */
export class JumpTable {
  #byToken = new Map<number, JumpTarget>();
  #tokenAt = new Map<number, number>();
  #nextToken = 1;

  /** Records the stack setjmp(env) unwound, and marks the guest's jmp_buf with its token. */
  record(memory: WebAssembly.Memory, env: number, stackPointer: number | null, stack: Uint8Array): void {
    const view = jmpBufView(memory, env);
    const previous = this.#tokenAt.get(env);
    if (previous !== undefined) this.#byToken.delete(previous);
    const token = this.#nextToken;
    this.#nextToken = token === 0xffffffff ? 1 : token + 1;
    this.#byToken.set(token, { token, env, stackPointer, stack });
    this.#tokenAt.set(env, token);
    view.setUint32(0, JMP_BUF_MAGIC, true);
    view.setUint32(4, token, true);
  }

  /** The stack longjmp(env) returns to. Throws JumpError if setjmp never filled env. */
  target(memory: WebAssembly.Memory, env: number): JumpTarget {
    const view = jmpBufView(memory, env);
    const token = view.getUint32(4, true);
    const target = view.getUint32(0, true) === JMP_BUF_MAGIC ? this.#byToken.get(token) : undefined;
    if (!target) {
      throw new JumpError(`longjmp to a jmp_buf at 0x${env.toString(16)} that setjmp did not fill (or that a later setjmp on its original replaced)`);
    }
    return target;
  }

  toState(): JumpTableState | undefined {
    if (this.#byToken.size === 0) return undefined;
    return { nextToken: this.#nextToken, targets: [...this.#byToken.values()] };
  }

  load(state: JumpTableState | undefined): void {
    this.#byToken.clear();
    this.#tokenAt.clear();
    this.#nextToken = state?.nextToken ?? 1;
    for (const t of state?.targets ?? []) {
      // Copied: a decoded snapshot's views alias the snapshot bytes, which the caller may drop.
      this.#byToken.set(t.token, { ...t, stack: t.stack.slice() });
      this.#tokenAt.set(t.env, t.token);
    }
  }
}

/** Throws JumpError unless env is a jmp_buf address inside memory. */
export function checkJmpBuf(memory: WebAssembly.Memory, env: number): void {
  jmpBufView(memory, env);
}

function jmpBufView(memory: WebAssembly.Memory, env: number): DataView {
  if (env + JMP_BUF_BYTES > memory.buffer.byteLength) {
    throw new JumpError(`jmp_buf address 0x${env.toString(16)} is outside linear memory`);
  }
  return new DataView(memory.buffer, env, JMP_BUF_BYTES);
}
