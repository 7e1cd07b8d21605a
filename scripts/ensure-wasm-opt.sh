#!/usr/bin/env bash
# Put Debian's native wasm-opt (package `binaryen`) in .wmig-tools/binaryen/, private to this
# checkout: `apt-get download` + `dpkg -x`, never installed system-wide and never on PATH (with
# wasm-opt on PATH, clang runs it after linking and changes every example's output). wmig's
# transform uses it instead of binaryen.js when present (transforms/wasm-opt.ts): SQLite in ~10 s
# instead of ~30 s, and modules binaryen.js cannot hold in its 4 GB heap. Silent when present.
# Needs only apt's package lists; as root it refreshes them when the package is not found.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
dest="$root/.wmig-tools/binaryen"
wasm_opt="$dest/usr/bin/wasm-opt"

# Its --version line goes beside it, so a run names its cache entries without starting it.
if [ -x "$wasm_opt" ] && "$wasm_opt" --version >"$dest/version.tmp" 2>/dev/null; then
  mv "$dest/version.tmp" "$dest/version"
  exit 0
fi

say() { echo "ensure-wasm-opt: $*" >&2; }
if ! apt-cache show binaryen >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get -q update >/dev/null
  else
    say "apt knows no package binaryen; run as root: sudo apt-get update"
    exit 1
  fi
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# Only downloads a file into our temp dir: apt's _apt sandbox user need not (and cannot) write there.
(cd "$work" && apt-get -q -o APT::Sandbox::User=root download binaryen >/dev/null)
rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
dpkg -x "$work"/binaryen_*.deb "$dest.tmp"
# The binary finds libbinaryen.so through its RUNPATH ($ORIGIN/../lib/<multiarch>): no LD_LIBRARY_PATH.
"$dest.tmp/usr/bin/wasm-opt" --version >/dev/null
rm -rf "$dest" && mv "$dest.tmp" "$dest"
"$wasm_opt" --version >"$dest/version"
say "installed $("$wasm_opt" --version) from $(basename "$work"/binaryen_*.deb) into ${dest#"$root"/}"
