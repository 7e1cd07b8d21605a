#!/usr/bin/env bash
# Build every example in examples/c/*.c and examples/rust/*.rs to
# examples/build/<name>.wasm. Targets newer than both their source and this
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

shopt -s nullglob
for src in "$root"/examples/c/*.c; do
  dst="$out/$(basename "$src" .c).wasm"
  up_to_date "$dst" "$src" && continue
  # 1 MiB shadow stack (wasm-ld defaults to 64 KiB, too small for recursion.c);
  # drop the DWARF that Debian's wasi-libc carries but keep the name section.
  # examples/include supplies setjmp.h (wmig's setjmp/longjmp imports).
  clang --target=wasm32-wasi -O2 -Wall -Wextra -isystem "$root/examples/include" \
    -Wl,-z,stack-size=1048576 -Wl,--strip-debug -o "$dst" "$src"
  echo "built ${dst#"$root"/}"
done
# CPU benchmark programs (bench/cpu-suite.js), kept apart so the migration oracle tests do not pick them up.
mkdir -p "$out/cpu"
for src in "$root"/examples/cpu/*.c; do
  dst="$out/cpu/$(basename "$src" .c).wasm"
  up_to_date "$dst" "$src" && continue
  clang --target=wasm32-wasi -O2 -Wall -Wextra -Wl,-z,stack-size=1048576 -Wl,--strip-debug -o "$dst" "$src"
  echo "built ${dst#"$root"/}"
done
# WASI call-cost benchmark program (bench/wasi-calls.js), likewise kept apart.
mkdir -p "$out/bench"
for src in "$root"/examples/bench/*.c; do
  dst="$out/bench/$(basename "$src" .c).wasm"
  up_to_date "$dst" "$src" && continue
  clang --target=wasm32-wasi -O2 -Wall -Wextra -Wl,-z,stack-size=1048576 -Wl,--strip-debug -o "$dst" "$src"
  echo "built ${dst#"$root"/}"
done
for src in "$root"/examples/rust/*.rs; do
  dst="$out/$(basename "$src" .rs).wasm"
  up_to_date "$dst" "$src" && continue
  # Call Debian's rustc explicitly: a rustup rustc earlier on PATH has no wasm32-wasi std.
  /usr/bin/rustc --target wasm32-wasi -O --edition 2021 -C strip=debuginfo -o "$dst" "$src"
  echo "built ${dst#"$root"/}"
done
# The WASI conformance programs (examples/conformance → examples/build/conformance).
bash "$here/build-conformance.sh"
