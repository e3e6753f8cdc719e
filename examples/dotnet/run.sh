#!/usr/bin/env bash
# Compiles the C# binding sample with Mono's mcs and runs it with mono against the staged
# libhievc (installs mono-devel when missing). The .NET SDK cannot be installed here; the
# LibraryImport/ variant (.NET 7+) is therefore not compiled or run by this script.
#
#   examples/dotnet/run.sh [dist-prefix]      default target/hievc-dist
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DIST="${1:-$ROOT/target/hievc-dist}"
OUT="$ROOT/target/hievc-dotnet"
mkdir -p "$OUT"
if ! command -v mcs >/dev/null 2>&1 || ! command -v mono >/dev/null 2>&1; then
    echo "installing mono-devel"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mono-devel) >"$OUT/apt.log" 2>&1
fi
mcs -nologo -warnaserror -out:"$OUT/hievc-sample.exe" "$ROOT/examples/dotnet/Hievc.cs" "$ROOT/examples/dotnet/Program.cs"
echo "mono: $(mono --version | head -n 1)"
LD_LIBRARY_PATH="$DIST/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" mono --debug "$OUT/hievc-sample.exe" "$ROOT/tests/c/data"
