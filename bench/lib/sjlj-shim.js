/**
 * The imports of a program built with wmig's setjmp.h (env.invoke_*, wmig.longjmp_unwind), for
 * running it outside wmig, under node:wasi, plain or instrumented: a longjmp is a JavaScript
 * exception that the nearest invoke catches (wmig-sjlj.c has already recorded the jmp_buf and the
 * value, and restored the stack pointer). Needs the module's table exported (-Wl,--export-table,
 * as scripts/build-*.sh link them). `bind(instance)` after instantiating.
 */
const LONGJMP = Symbol('longjmp');

export function sjljImports(module) {
  let table = null;
  const env = {};
  for (const imp of WebAssembly.Module.imports(module)) {
    if (imp.module !== 'env' || !imp.name.startsWith('invoke_')) continue;
    env[imp.name] = (fn, ...args) => {
      try {
        return table.get(fn)(...args);
      } catch (e) {
        if (e !== LONGJMP) throw e;
        return imp.name[7] === 'j' ? 0n : 0;
      }
    };
  }
  return {
    imports: { env, wmig: { longjmp_unwind: () => { throw LONGJMP; } } },
    bind(instance) {
      table = instance.exports.__indirect_function_table ?? instance.exports['wmig.table'] ?? null;
      if (Object.keys(env).length > 0 && !table) throw new Error('module imports env.invoke_* but exports no table (link with -Wl,--export-table)');
    },
  };
}
