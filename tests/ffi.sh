#!/usr/bin/env bash
# The C ABI (libhievc) test command: builds the library, checks the committed header against
# cbindgen, stages lib + header + pkg-config file, and runs
#   * the C suite (tests/c) with -Wall -Wextra -Werror under AddressSanitizer + UBSan,
#   * the Java 25 FFM test (tests/java),
#   * the C# [DllImport] sample with Mono (examples/dotnet),
# against a real FHIR server (Helios, started here unless HIEVC_FHIR_URL is set) and the real
# Kafka broker named by HIEVC_KAFKA_BOOTSTRAP / HIEVC_KAFKA_SASL_BOOTSTRAP and its TLS listeners
# (HIEVC_KAFKA_SASL_SSL_BOOTSTRAP, HIEVC_KAFKA_MTLS_BOOTSTRAP, HIEVC_KAFKA_TLS_DIR; tests/services/kafka.sh
# starts one; without them the suite fails, it never skips). Prints one summary line; non-zero exit on any failure.
#
#   tests/ffi.sh               everything
#   HIEVC_FFI_SKIP=java,dotnet skip parts (c, java, dotnet)
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
LOG_DIR="${HIEVC_LOG_DIR:-$ROOT/target/test-logs}"
mkdir -p "$LOG_DIR"
DIST="$ROOT/target/hievc-dist"

passed=0
failed=0
failures=()
step() {
    local name=$1
    shift
    echo "=== ffi: $name"
    local start=$SECONDS
    if "$@"; then
        passed=$((passed + 1))
        echo "=== ffi: $name: ok ($((SECONDS - start)) s)"
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "=== ffi: $name: FAILED ($((SECONDS - start)) s)"
    fi
}
skipped() { [[ ,${HIEVC_FFI_SKIP:-}, == *,$1,* ]]; }

build() {
    cargo build -p hie-vc-ffi --lib 2>&1 | tail -n 3
    [[ ${PIPESTATUS[0]} -eq 0 ]]
}

header() {
    if ! command -v cbindgen >/dev/null 2>&1; then
        echo "installing cbindgen"
        cargo install cbindgen --locked --version '^0.29' >"$LOG_DIR/cbindgen-install.log" 2>&1 || return 1
    fi
    local tmp
    tmp=$(mktemp)
    # Exactly the documented command, into a temporary file.
    if ! cbindgen --config ffi-c/cbindgen.toml --crate hie-vc-ffi --output "$tmp" ffi-c 2>"$LOG_DIR/cbindgen.log"; then
        cat "$LOG_DIR/cbindgen.log"
        rm -f "$tmp"
        return 1
    fi
    if ! cmp -s "$tmp" include/hie_vc.h; then
        echo "include/hie_vc.h is stale; regenerate it with:"
        echo "  cbindgen --config ffi-c/cbindgen.toml --crate hie-vc-ffi --output include/hie_vc.h ffi-c"
        diff -u include/hie_vc.h "$tmp" | head -n 40
        rm -f "$tmp"
        return 1
    fi
    rm -f "$tmp"
    echo "include/hie_vc.h matches cbindgen's output"
}

stage() { ffi-c/dist.sh "$DIST" 2>&1 | tail -n 1; [[ ${PIPESTATUS[0]} -eq 0 ]]; }

helios_started=
fhir_server() {
    if [[ -n ${HIEVC_FHIR_URL:-} ]]; then
        echo "using HIEVC_FHIR_URL=$HIEVC_FHIR_URL"
        return 0
    fi
    # A private Helios instance: other suites' servers are left alone.
    export HELIOS_PORT="${HIEVC_FFI_HELIOS_PORT:-8097}" HIEVC_HELIOS_DIR=/tmp/hievc-ffi-helios
    if tests/services/helios.sh start >"$LOG_DIR/ffi-helios.log" 2>&1; then
        helios_started=1
        export HIEVC_FHIR_URL="http://127.0.0.1:$HELIOS_PORT"
        echo "started Helios at $HIEVC_FHIR_URL"
    else
        echo "no FHIR server: Helios did not start (see $LOG_DIR/ffi-helios.log)"
        return 1
    fi
    return 0
}
# The services the suites use must be configured: a missing one fails, never skips.
services() {
    local missing=()
    for v in HIEVC_KAFKA_BOOTSTRAP HIEVC_KAFKA_SASL_BOOTSTRAP HIEVC_KAFKA_SASL_SSL_BOOTSTRAP \
        HIEVC_KAFKA_MTLS_BOOTSTRAP HIEVC_KAFKA_TLS_DIR; do
        [[ -n ${!v:-} ]] || missing+=("$v")
    done
    command -v kcat >/dev/null 2>&1 || missing+=("kcat (apt-get install -y kcat)")
    if [[ ${#missing[@]} -gt 0 ]]; then
        echo "missing: ${missing[*]} (tests/services/kafka.sh start)"
        return 1
    fi
    echo "Kafka at $HIEVC_KAFKA_BOOTSTRAP (SASL $HIEVC_KAFKA_SASL_BOOTSTRAP, SASL_SSL $HIEVC_KAFKA_SASL_SSL_BOOTSTRAP, mTLS $HIEVC_KAFKA_MTLS_BOOTSTRAP)"
}
cleanup() {
    [[ -n $helios_started ]] && tests/services/helios.sh stop >/dev/null 2>&1
}
trap cleanup EXIT

c_suite() { tests/c/run.sh "$DIST" 2>&1 | tee "$LOG_DIR/ffi-c.log" | grep -E '^(==|--|  FAIL|test_|FAILED|SUMMARY|==[0-9]+==ERROR)'; [[ ${PIPESTATUS[0]} -eq 0 ]]; }
java_test() { tests/java/run.sh "$DIST" 2>&1 | tee "$LOG_DIR/ffi-java.log" | tail -n 20; [[ ${PIPESTATUS[0]} -eq 0 ]]; }
dotnet_test() { examples/dotnet/run.sh "$DIST" 2>&1 | tee "$LOG_DIR/ffi-dotnet.log" | tail -n 20; [[ ${PIPESTATUS[0]} -eq 0 ]]; }

step "services configured" services
step "build libhievc" build
step "header is cbindgen's output" header
step "stage lib, header, hievc.pc" stage
step "FHIR server" fhir_server
skipped c || step "C suite (ASan + UBSan)" c_suite
skipped java || step "Java 25 FFM" java_test
skipped dotnet || step "C# (Mono, DllImport)" dotnet_test

echo
[[ $failed -gt 0 ]] && echo "ffi failed steps: ${failures[*]}"
echo "ffi: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
