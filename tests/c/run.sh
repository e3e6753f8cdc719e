#!/usr/bin/env bash
# Builds the libhievc C suite with -Wall -Wextra -Werror under AddressSanitizer (+ UBSan) and
# runs it against the staged library (ffi-c/dist.sh), linking through pkg-config.
#
#   tests/c/run.sh [dist-prefix]      default target/hievc-dist
#
# Environment: HIEVC_KAFKA_BOOTSTRAP (Kafka tests), HIEVC_FHIR_URL (FHIR server for the client
# tests): a part whose variable is unset fails; it is never skipped.
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
DIST="${1:-$ROOT/target/hievc-dist}"
OUT="$ROOT/target/hievc-ctest"
mkdir -p "$OUT"

export PKG_CONFIG_PATH="$DIST/lib/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
CC="${CC:-cc}"
CFLAGS=(-std=c11 -D_DEFAULT_SOURCE -g -O1 -Wall -Wextra -Werror -Wno-unused-function
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
read -r -a PC_CFLAGS <<<"$(pkg-config --cflags hievc)"
read -r -a PC_LIBS <<<"$(pkg-config --libs hievc)"

# test_behaviour reads the behaviour spec's JSON with cJSON (Debian's libcjson-dev).
if ! pkg-config --exists libcjson && [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "installing libcjson-dev"
    { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libcjson-dev ||
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libcjson-dev; }; } \
        >"$OUT/apt.log" 2>&1
fi
pkg-config --exists libcjson || echo "libcjson not found: test_behaviour cannot build (apt-get install libcjson-dev)"
read -r -a CJSON_FLAGS <<<"$(pkg-config --cflags --libs libcjson 2>/dev/null)"

# Leaks: the library's runtime threads and process-wide caches (librdkafka's global state,
# rustls' root store, thread-locals of the runtime threads) live until exit by design;
# everything a test allocates through the ABI must be freed, which ASan checks.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:halt_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$ROOT/tests/c/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"
export HIEVC_TEST_DATA="$ROOT/tests/c/data"

failed=0
for src in tests/c/test_*.c; do
    name=$(basename "$src" .c)
    extra=()
    [[ $name == test_behaviour ]] && extra=("${CJSON_FLAGS[@]}")
    if ! "$CC" "${CFLAGS[@]}" "${PC_CFLAGS[@]}" -o "$OUT/$name" "$src" "${PC_LIBS[@]}" "${extra[@]}" -lpthread \
        -Wl,-rpath,"$DIST/lib"; then
        echo "FAILED to build $name"
        failed=1
        continue
    fi
    echo "== $name"
    if ! "$OUT/$name"; then
        echo "FAILED $name"
        failed=1
    fi
done
# The static library with the system libraries hievc.pc lists for static linking
# (`Libs.private`): one test, linked against libhievc.a, without sanitizers.
read -r -a PC_STATIC <<<"$(pkg-config --static --libs-only-l hievc | sed 's/-lhievc//')"
echo "== test_basic (static libhievc.a)"
if "$CC" -std=c11 -D_DEFAULT_SOURCE -O1 -Wall -Wextra -Werror -Wno-unused-function "${PC_CFLAGS[@]}" \
    -o "$OUT/test_basic_static" tests/c/test_basic.c "$DIST/lib/libhievc.a" "${PC_STATIC[@]}"; then
    if ldd "$OUT/test_basic_static" | grep -q libhievc; then
        echo "FAILED: test_basic_static still loads libhievc.so"
        failed=1
    elif ! "$OUT/test_basic_static"; then
        echo "FAILED test_basic (static)"
        failed=1
    fi
else
    echo "FAILED to link test_basic against libhievc.a"
    failed=1
fi
exit $failed
