#!/usr/bin/env bash
# Build the WASI conformance programs examples/conformance/*.{c,rs} to
# examples/build/conformance/<name>.wasm (called by build-examples.sh). Targets newer than their
# source, conf.h and this script are skipped. Works from any cwd.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
self="$here/$(basename "${BASH_SOURCE[0]}")"
src_dir="$root/examples/conformance"
out="$root/examples/build/conformance"
mkdir -p "$out"

up_to_date() {
  [ -f "$1" ] && [ "$1" -nt "$2" ] && [ "$1" -nt "$self" ] && [ "$1" -nt "$src_dir/conf.h" ]
}

shopt -s nullglob
for src in "$src_dir"/*.c; do
  dst="$out/$(basename "$src" .c).wasm"
  up_to_date "$dst" "$src" && continue
  # The programs ignore some results on purpose (setup steps) and share one header of helpers.
  clang --target=wasm32-wasi -O2 -Wall -Wextra -Wno-unused-result -Wno-unused-function \
    -Wl,-z,stack-size=1048576 -Wl,--strip-debug -o "$dst" "$src"
  echo "built ${dst#"$root"/}"
done
for src in "$src_dir"/*.rs; do
  dst="$out/$(basename "$src" .rs).wasm"
  up_to_date "$dst" "$src" && up_to_date "$dst" "$here/rust-to-wasm.sh" && continue
  bash "$here/rust-to-wasm.sh" "$src" "$dst"
  echo "built ${dst#"$root"/}"
done
