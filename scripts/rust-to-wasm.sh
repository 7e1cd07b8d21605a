#!/usr/bin/env bash
# rust-to-wasm.sh SRC DST: compile one Rust source file to a wasm32-wasi command (used by
# build-examples.sh and build-conformance.sh, so both build Rust the same way).
set -euo pipefail
# Call Debian's rustc explicitly: a rustup rustc earlier on PATH has no wasm32-wasi std.
/usr/bin/rustc --target wasm32-wasi -O --edition 2021 -C strip=debuginfo -o "$2" "$1"
