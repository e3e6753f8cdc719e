#!/usr/bin/env bash
# Builds libhievc and stages an installable tree:
#
#   <prefix>/include/hie_vc.h
#   <prefix>/lib/libhievc.so.<major>.<minor>.<patch>   (SONAME libhievc.so.<major>)
#   <prefix>/lib/libhievc.so.<major> -> libhievc.so.<version>
#   <prefix>/lib/libhievc.so         -> libhievc.so.<major>   (for -lhievc at link time)
#   <prefix>/lib/libhievc.a
#   <prefix>/lib/pkgconfig/hievc.pc  (generated from ffi-c/hievc.pc.in)
#
#   ffi-c/dist.sh [--release] [prefix]     default prefix: target/hievc-dist
#
# Then: PKG_CONFIG_PATH=<prefix>/lib/pkgconfig cc app.c $(pkg-config --cflags --libs hievc)
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"

profile=debug
cargo_flags=()
if [[ ${1:-} == --release ]]; then
    profile=release
    cargo_flags=(--release)
    shift
fi
prefix="${1:-$ROOT/target/hievc-dist}"
mkdir -p "$prefix"
prefix="$(cd "$prefix" && pwd)"

cargo build -p hie-vc-ffi --lib "${cargo_flags[@]}"

version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
major=${version%%.*}
target_dir="${CARGO_TARGET_DIR:-$ROOT/target}/$profile"

mkdir -p "$prefix/include" "$prefix/lib/pkgconfig"
cp include/hie_vc.h "$prefix/include/"
rm -f "$prefix/lib"/libhievc.so*
# Hard links where possible (the static library is hundreds of MB in a debug build).
put() { ln -f "$1" "$2" 2>/dev/null || cp "$1" "$2"; }
put "$target_dir/libhievc.so" "$prefix/lib/libhievc.so.$version"
ln -s "libhievc.so.$version" "$prefix/lib/libhievc.so.$major"
ln -s "libhievc.so.$major" "$prefix/lib/libhievc.so"
put "$target_dir/libhievc.a" "$prefix/lib/libhievc.a"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" ffi-c/hievc.pc.in >"$prefix/lib/pkgconfig/hievc.pc"

soname=$(readelf -d "$prefix/lib/libhievc.so.$version" 2>/dev/null | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
if [[ $soname != "libhievc.so.$major" ]]; then
    echo "dist.sh: SONAME is '$soname', expected libhievc.so.$major" >&2
    exit 1
fi
echo "staged libhievc $version ($profile, SONAME $soname) in $prefix"
