#!/usr/bin/env bash
# Build off-the-shelf programs for wasm32-wasi from their upstream sources, unmodified:
#   real/build/bzip2.wasm     bzip2 1.0.8        (Debian bookworm source package bzip2)
#   real/build/minigzip.wasm  zlib 1.2.13        (bookworm zlib, its test/minigzip.c)
#   real/build/sqlite3.wasm   SQLite 3.46.1 shell (trixie sqlite3; bookworm's 3.40 does not build for WASI)
#   real/build/lua.wasm       Lua 5.4.4          (bookworm lua5.4, upstream tree)
#   real/build/rsum.wasm      a std-only Rust program (scripts/real/rsum.rs) built by Debian's rustc
#   real/build/yosys.wasm     yosys 0.55, prebuilt: the core module of the npm package @yowasp/yosys;
#                             its share/ tree in real/build/yosys/share (scripts/real/yosys-share.mjs),
#                             the package itself (with its own runner) in real/build/yosys/package
#
# Sources come from Debian through `apt-get source`, with a private APT_CONFIG under real/build/apt
# (deb-src entries for bookworm and trixie); /etc/apt is left alone. Sources are unpacked under
# real/build/src (git-ignored) and never edited: compiler flags and the stubs in scripts/real/ are
# all that is ours. Idempotent and incremental: each step is skipped when its output is newer than
# its inputs and this script. Installs what it needs with apt when run as root. Works from any cwd.
#
# Programs that use setjmp/longjmp (Lua's error handling) get wmig's setjmp.h (examples/include),
# LLVM's Emscripten setjmp lowering (-mllvm -enable-emscripten-sjlj) and its runtime, wmig-sjlj.c,
# with the table exported (the benchmarks run Lua under node:wasi too).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
self="$here/$(basename "${BASH_SOURCE[0]}")"
stubs="$here/real"
build="$root/real/build"
src="$build/src"
obj="$build/obj"
apt_dir="$build/apt"

say() { echo "build-real: $*" >&2; }

# newer TARGET INPUT...: TARGET exists and is newer than every INPUT.
newer() {
  local target="$1"; shift
  [ -f "$target" ] || return 1
  local input
  for input in "$@"; do [ "$target" -nt "$input" ] || return 1; done
}
# up_to_date TARGET INPUT...: likewise, and newer than this script (whose flags may have changed).
up_to_date() { newer "$@" "$self"; }

# ---------------------------------------------------------------------------------------------
# Tools: the wasm32-wasi toolchains (shared with the examples), what unpacking and generating the
# sources needs (dpkg-source, make, a host C compiler, tclsh for SQLite's amalgamation), and the
# native programs the tests compare against (bzip2, gzip, sqlite3, lua5.4, sha256sum from coreutils).
bash "$here/ensure-toolchain.sh"
HOST_PKGS="dpkg-dev make gcc libc6-dev tcl bzip2 gzip sqlite3 lua5.4 xz-utils ca-certificates"
missing=()
for cmd in dpkg-source make gcc tclsh bzip2 gzip sqlite3 lua5.4 xz sha256sum; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "missing: ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update
    # shellcheck disable=SC2086
    apt-get install -y --no-install-recommends $HOST_PKGS
  else
    say "run as root, or: sudo apt-get install -y --no-install-recommends $HOST_PKGS"
    exit 1
  fi
fi

mkdir -p "$src" "$obj" "$apt_dir"/{lists/partial,cache/archives/partial,sources.list.d,preferences.d,apt.conf.d}

# ---------------------------------------------------------------------------------------------
# A private apt: only deb-src lists, in real/build/apt. The system's dpkg status is read (apt wants
# one) but never written: we only download source packages.
cat >"$apt_dir/sources.list.d/wmig-real.sources.new" <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
cat >"$apt_dir/apt.conf.new" <<EOF
Dir::State "$apt_dir";
Dir::State::Lists "$apt_dir/lists";
Dir::State::status "/var/lib/dpkg/status";
Dir::Cache "$apt_dir/cache";
Dir::Etc::SourceList "/dev/null";
Dir::Etc::SourceParts "$apt_dir/sources.list.d";
Dir::Etc::Preferences "/dev/null";
Dir::Etc::PreferencesParts "$apt_dir/preferences.d";
Dir::Etc::Parts "$apt_dir/apt.conf.d";
APT::Sandbox::User "root";
EOF
for f in "$apt_dir/sources.list.d/wmig-real.sources" "$apt_dir/apt.conf"; do
  if cmp -s "$f.new" "$f"; then rm "$f.new"; else mv "$f.new" "$f"; fi
done
export APT_CONFIG="$apt_dir/apt.conf"

apt_updated=0
apt_update() {
  [ "$apt_updated" -eq 1 ] && return 0
  say "apt-get update (private lists in ${apt_dir#"$root"/})"
  apt-get -q update >/dev/null
  apt_updated=1
}

# fetch PKG SUITE [--skip-patches]: download PKG's source package from SUITE (once) and unpack it
# into $src/PKG-SUITE, with Debian's patches applied as Debian ships it (or, with --skip-patches,
# upstream's tree as released). Prints that directory.
fetch() {
  local pkg="$1" suite="$2" dir="$src/$1-$2" skip="${3:-}"
  if [ ! -f "$dir/.unpacked" ]; then
    compgen -G "$apt_dir/lists/*_${suite}_main_source_Sources*" >/dev/null || apt_update
    rm -rf "$dir" "$src/dl-$pkg-$suite"
    mkdir -p "$src/dl-$pkg-$suite"
    say "apt-get source $pkg/$suite"
    (cd "$src/dl-$pkg-$suite" && { apt-get -q source --download-only "$pkg/$suite" >/dev/null 2>&1 ||
      { apt_update && apt-get -q source --download-only "$pkg/$suite" >/dev/null; }; })
    # shellcheck disable=SC2086
    dpkg-source --no-check $skip -x "$(ls "$src/dl-$pkg-$suite"/*.dsc)" "$dir" >/dev/null
    touch "$dir/.unpacked"
  fi
  echo "$dir"
}

# ---------------------------------------------------------------------------------------------
CC=(clang --target=wasm32-wasi)
# 1 MiB shadow stack (wasm-ld's 64 KiB default is small for real programs); no DWARF, keep names.
LDFLAGS=(-Wl,-z,stack-size=1048576 -Wl,--strip-debug)
EMU_DEFS=(-D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_MMAN -D_WASI_EMULATED_GETPID)
EMU_LIBS=(-lwasi-emulated-signal -lwasi-emulated-process-clocks -lwasi-emulated-mman -lwasi-emulated-getpid)
STUB_H="$stubs/wasi-posix-stubs.h"
STUB_C="$stubs/wasi-posix-stubs.c"

# bzip2: the `bzip2` program, as upstream's Makefile builds it (same files, -D_FILE_OFFSET_BITS=64).
bz="$(fetch bzip2 bookworm)"
out="$build/bzip2.wasm"
bz_srcs=(blocksort.c huffman.c crctable.c randtable.c compress.c decompress.c bzlib.c bzip2.c)
if ! up_to_date "$out" "$bz/.unpacked" "$STUB_H" "$STUB_C"; then
  say "compiling bzip2"
  (cd "$bz" && "${CC[@]}" -O2 -D_FILE_OFFSET_BITS=64 "${EMU_DEFS[@]}" -include "$STUB_H" "${LDFLAGS[@]}" \
    -o "$out.tmp" "${bz_srcs[@]}" "$STUB_C" "${EMU_LIBS[@]}")
  mv "$out.tmp" "$out"
  say "built ${out#"$root"/}"
fi

# zlib: minigzip (test/minigzip.c) linked with the library's sources; zconf.h as shipped.
zl="$(fetch zlib bookworm)"
out="$build/minigzip.wasm"
zl_srcs=(adler32.c crc32.c deflate.c infback.c inffast.c inflate.c inftrees.c trees.c zutil.c
  compress.c uncompr.c gzclose.c gzlib.c gzread.c gzwrite.c test/minigzip.c)
if ! up_to_date "$out" "$zl/.unpacked" "$STUB_H" "$STUB_C"; then
  say "compiling zlib minigzip"
  (cd "$zl" && "${CC[@]}" -O2 -D_FILE_OFFSET_BITS=64 -D_LARGEFILE64_SOURCE=1 -DHAVE_UNISTD_H -DHAVE_STDARG_H \
    -I. -include "$STUB_H" "${LDFLAGS[@]}" -o "$out.tmp" "${zl_srcs[@]}" "$STUB_C")
  mv "$out.tmp" "$out"
  say "built ${out#"$root"/}"
fi

# SQLite: the amalgamation (sqlite3.c) and shell.c are generated from the canonical tree by its own
# configure/make on the host (tclsh, host cc), then compiled for WASI with the flags of DESIGN.md.
sq="$(fetch sqlite3 trixie)"
sqgen="$obj/sqlite3-gen"
if ! newer "$sqgen/.generated" "$sq/.unpacked"; then
  say "generating the SQLite amalgamation (host configure + make sqlite3.c shell.c)"
  rm -rf "$sqgen" && mkdir -p "$sqgen"
  (cd "$sqgen" && "$sq/configure" --disable-tcl >configure.log 2>&1 && make -j2 sqlite3.c shell.c >make.log 2>&1)
  touch "$sqgen/.generated"
fi
SQ_DEFS=(-DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_NOHAVE_SYSTEM -DSQLITE_TEMP_STORE=3)
for unit in sqlite3 shell; do
  o="$obj/sqlite-$unit.o"
  if ! up_to_date "$o" "$sqgen/.generated" "$STUB_H"; then
    say "compiling SQLite $unit.c"
    "${CC[@]}" -O2 "${EMU_DEFS[@]}" "${SQ_DEFS[@]}" -include "$STUB_H" -I"$sqgen" -c -o "$o.tmp" "$sqgen/$unit.c"
    mv "$o.tmp" "$o"
  fi
done
out="$build/sqlite3.wasm"
if ! up_to_date "$out" "$obj/sqlite-sqlite3.o" "$obj/sqlite-shell.o" "$STUB_C"; then
  "${CC[@]}" -O2 -c -o "$obj/wasi-posix-stubs.o" "$STUB_C"
  "${CC[@]}" "${LDFLAGS[@]}" -o "$out.tmp" "$obj/sqlite-sqlite3.o" "$obj/sqlite-shell.o" "$obj/wasi-posix-stubs.o" "${EMU_LIBS[@]}"
  mv "$out.tmp" "$out"
  say "built ${out#"$root"/}"
fi

# Rust: a std-only program of our own (no std-only Rust source package could be fetched from Debian
# here), built by Debian's rustc: call /usr/bin/rustc explicitly, a rustup rustc on PATH has no
# wasm32-wasi std.
out="$build/rsum.wasm"
if ! up_to_date "$out" "$stubs/rsum.rs"; then
  /usr/bin/rustc --target wasm32-wasi -O --edition 2021 -C strip=debuginfo -o "$out.tmp" "$stubs/rsum.rs"
  mv "$out.tmp" "$out"
  say "built ${out#"$root"/}"
fi

# Lua 5.4. Default luaconf (64-bit integers, as native Lua); no LUA_USE_POSIX (no popen/mkstemp in
# WASI): os.tmpname/io.tmpfile/os.execute go to scripts/real/lua-stubs.c. Upstream's tree: Debian's
# patches make luaconf.h include a multiarch header of its build.
lua="$(fetch lua5.4 bookworm --skip-patches)"
out="$build/lua.wasm"
sjlj=("$root/examples/include/setjmp.h" "$root/examples/include/wmig-sjlj.c")
if ! up_to_date "$out" "$lua/.unpacked" "$stubs/lua-stubs.c" "$stubs/lua-stubs.h" "${sjlj[@]}"; then
  lua_srcs=()
  for f in "$lua"/src/*.c; do
    case "$(basename "$f")" in luac.c|onelua.c) ;; *) lua_srcs+=("$f") ;; esac
  done
  clang --target=wasm32-wasi -O2 -mllvm -enable-emscripten-sjlj "${EMU_DEFS[@]}" -isystem "$root/examples/include" \
    -include "$stubs/lua-stubs.h" "${LDFLAGS[@]}" -Wl,--export-table -o "$out.tmp" "${lua_srcs[@]}" "$stubs/lua-stubs.c" \
    "$root/examples/include/wmig-sjlj.c" "${EMU_LIBS[@]}"
  mv "$out.tmp" "$out"
  say "built ${out#"$root"/}"
fi
# yosys: not built, fetched as its users get it (npm pack checks the registry's integrity hash).
YOSYS_VERSION=0.55.944
yosys="$build/yosys"
if ! newer "$yosys/.fetched-$YOSYS_VERSION"; then
  say "fetching @yowasp/yosys@$YOSYS_VERSION"
  rm -rf "$yosys" && mkdir -p "$yosys"
  (cd "$yosys" && npm pack --silent "@yowasp/yosys@$YOSYS_VERSION" >/dev/null && tar xzf yowasp-yosys-*.tgz && rm yowasp-yosys-*.tgz)
  cp "$yosys/package/gen/yosys.core.wasm" "$build/yosys.wasm.tmp"
  mv "$build/yosys.wasm.tmp" "$build/yosys.wasm"
  touch "$yosys/.fetched-$YOSYS_VERSION"
fi
if ! up_to_date "$yosys/share/.unpacked" "$yosys/.fetched-$YOSYS_VERSION" "$stubs/yosys-share.mjs"; then
  rm -rf "$yosys/share"
  node "$stubs/yosys-share.mjs" "$yosys/package/gen" "$yosys/share"
  touch "$yosys/share/.unpacked"
fi
ls -l "$build"/*.wasm | sed "s#$root/##" >&2
