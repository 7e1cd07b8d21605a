#!/usr/bin/env bash
# Build every example in examples/c/*.c and examples/rust/*.rs to
# examples/build/<name>.wasm (examples/cpu and examples/bench to subdirectories). Targets newer than both their source and this
# script are skipped. Works from any cwd.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
self="$here/$(basename "${BASH_SOURCE[0]}")"
out="$root/examples/build"

bash "$here/ensure-toolchain.sh"
mkdir -p "$out"

# up_to_date TARGET SOURCE: true when TARGET exists and is newer than SOURCE and this script.
up_to_date() {
  [ -f "$1" ] && [ "$1" -nt "$2" ] && [ "$1" -nt "$self" ]
}

# build_c SRC_DIR OUT_DIR: every SRC_DIR/*.c to OUT_DIR/<name>.wasm.
# 1 MiB shadow stack (wasm-ld defaults to 64 KiB, too small for recursion.c);
# drop the DWARF that Debian's wasi-libc carries (wasm-ld 14 drops the name section with it).
# A program that includes setjmp.h gets wmig's setjmp/longjmp (examples/include/setjmp.h): LLVM's
# Emscripten setjmp lowering, the runtime beside the header, and its table exported (for hosts other
# than wmig: the benchmarks run such programs under node:wasi).
sjlj="$root/examples/include/wmig-sjlj.c"
build_c() {
  mkdir -p "$2"
  local src dst sjlj_args
  for src in "$1"/*.c; do
    dst="$2/$(basename "$src" .c).wasm"
    sjlj_args=()
    grep -q '#include <setjmp.h>' "$src" && sjlj_args=(-mllvm -enable-emscripten-sjlj -Wl,--export-table "$sjlj")
    up_to_date "$dst" "$src" && { [ ${#sjlj_args[@]} -eq 0 ] || up_to_date "$dst" "$sjlj"; } && continue
    clang --target=wasm32-wasi -O2 -Wall -Wextra -isystem "$root/examples/include" \
      -Wl,-z,stack-size=1048576 -Wl,--strip-debug -o "$dst" "$src" "${sjlj_args[@]}"
    echo "built ${dst#"$root"/}"
  done
}

# build_rust SRC_DIR OUT_DIR: every SRC_DIR/*.rs to OUT_DIR/<name>.wasm.
build_rust() {
  mkdir -p "$2"
  local src dst
  for src in "$1"/*.rs; do
    dst="$2/$(basename "$src" .rs).wasm"
    up_to_date "$dst" "$src" && up_to_date "$dst" "$here/rust-to-wasm.sh" && continue
    bash "$here/rust-to-wasm.sh" "$src" "$dst"
    echo "built ${dst#"$root"/}"
  done
}

shopt -s nullglob
build_c "$root/examples/c" "$out"
# CPU benchmark programs (bench/cpu-suite.js), the WASI call-cost program (bench/wasi-calls.js) and
# the line printer (bench/stdout-program.js), kept apart so the migration oracle tests do not pick them up.
build_c "$root/examples/cpu" "$out/cpu"
build_c "$root/examples/bench" "$out/bench"
build_rust "$root/examples/rust" "$out"
build_rust "$root/examples/bench" "$out/bench"
# The WASI conformance programs (examples/conformance → examples/build/conformance).
bash "$here/build-conformance.sh"
