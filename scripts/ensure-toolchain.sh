#!/usr/bin/env bash
# Check that the wasm32-wasi C and Rust toolchains used by the examples are
# installed; install them with apt when running as root. Also fetches the native
# wasm-opt wmig instruments with (scripts/ensure-wasm-opt.sh). Silent when all present.
set -euo pipefail

# gcc + libc6-dev: native builds of test programs, the oracle for what they print.
PKGS="clang lld wasi-libc libclang-rt-14-dev-wasm32 rustc libstd-rust-dev-wasm32 gcc libc6-dev"

# wmig's own instrumentation tool, unpacked privately into .wmig-tools/ (not an apt install).
bash "$(dirname "${BASH_SOURCE[0]}")/ensure-wasm-opt.sh"

missing=()
command -v clang >/dev/null 2>&1 || missing+=("clang")
command -v wasm-ld >/dev/null 2>&1 || missing+=("wasm-ld")
[ -f /usr/include/wasm32-wasi/stdio.h ] || missing+=("/usr/include/wasm32-wasi/stdio.h")
# Debian puts the wasm32 compiler runtime under the clang resource dir:
#   /usr/lib/llvm-<N>/lib/clang/<version>/lib/wasi/libclang_rt.builtins-wasm32.a
compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a" >/dev/null \
  || missing+=("libclang_rt.builtins-wasm32.a")
[ -x /usr/bin/rustc ] || missing+=("/usr/bin/rustc")
command -v gcc >/dev/null 2>&1 || missing+=("gcc")
[ -f /usr/include/setjmp.h ] || missing+=("/usr/include/setjmp.h")
[ -d /usr/lib/rustlib/wasm32-wasi/lib ] || missing+=("/usr/lib/rustlib/wasm32-wasi")

[ ${#missing[@]} -eq 0 ] && exit 0

echo "ensure-toolchain: missing: ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  # shellcheck disable=SC2086
  apt-get install -y --no-install-recommends $PKGS
else
  echo "ensure-toolchain: run as root:" >&2
  echo "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $PKGS" >&2
  exit 1
fi
