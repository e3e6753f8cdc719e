#!/usr/bin/env bash
# Runs every test of hie-vc on a fresh machine: installs what is missing, starts the real
# services the tests use (Apache Kafka, the Helios FHIR server), runs the Rust suites, a bounded
# fuzz run and the checks (fmt, clippy), stops the services, and prints one summary line.
#
#   tests/run.sh            everything
#   HIEVC_FUZZ_SECONDS=30   length of the fuzz run (default 60)
#   HIEVC_NO_SERVICES=1     leave out the service-backed tests (reported ignored, and said so)
#
# Caches between runs: ~/.cargo (crates, installed binaries: helios `hfs`, cargo-fuzz), ~/.m2
# and ~/.cache/hie-vc (build outputs, Kafka jars, Helios search parameters).
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# Build outputs live in a cache outside the checkout, so a fresh clone (CI) reuses the last run's
# compiled dependencies; set CARGO_TARGET_DIR to choose another place.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/hie-vc/target}"
LOG_DIR="${HIEVC_LOG_DIR:-$ROOT/target/test-logs}"
mkdir -p "$LOG_DIR"

passed=0
failed=0
failures=()
step() {
    local name=$1
    shift
    echo "=== $name"
    local start=$SECONDS
    if "$@"; then
        passed=$((passed + 1))
        echo "=== $name: ok ($((SECONDS - start)) s)"
    else
        failed=$((failed + 1))
        failures+=("$name")
        echo "=== $name: FAILED ($((SECONDS - start)) s)"
    fi
}

apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [[ ${#missing[@]} -eq 0 ]] && return 0
    echo "installing ${missing[*]}"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}") >"$LOG_DIR/apt.log" 2>&1
}

prerequisites() {
    apt_install kcat libsasl2-dev || return 1
    # Kafka's and HAPI FHIR's jars come from Maven Central through mvn; HAPI runs on a JDK 17+
    command -v mvn >/dev/null 2>&1 || apt_install maven || return 1
    command -v javac >/dev/null 2>&1 || apt_install openjdk-17-jdk-headless || return 1
    rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt
}

# What later steps need but the first compile does not: fetched and built in the background
# while fmt and clippy run (downloads overlap compiling; on a warm machine each is a no-op).
background_pids=()
in_background() {
    local name=$1
    shift
    ("$@" >"$LOG_DIR/$name.log" 2>&1; echo $? >"$LOG_DIR/$name.rc") &
    background_pids+=($!)
}
fuzz_tools() {
    rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal || return 1
    command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz
}
# wait_background NAME: wait for that background job; its log is shown if it failed.
wait_background() {
    local name=$1
    while [[ ! -f $LOG_DIR/$name.rc ]]; do sleep 2; done
    [[ $(<"$LOG_DIR/$name.rc") == 0 ]] && return 0
    tail -n 30 "$LOG_DIR/$name.log"
    return 1
}

services_up=()
# Starts a service and remembers to stop it afterwards, unless it was already running (a
# developer's own broker or server is left as it was found).
start_service() {
    local s=$1
    if tests/services/"$s".sh status >/dev/null 2>&1; then
        echo "$s already running: reused, left running"
        return 0
    fi
    tests/services/"$s".sh start && services_up+=("$s")
}

start_services() {
    [[ -n ${HIEVC_NO_SERVICES:-} ]] && return 0
    wait_background kafka-install || return 1
    wait_background helios-install || return 1
    if start_service kafka; then
        export HIEVC_KAFKA_BOOTSTRAP="${HIEVC_KAFKA_BOOTSTRAP:-127.0.0.1:${KAFKA_PORT:-9092}}"
        export HIEVC_KAFKA_SASL_BOOTSTRAP="${HIEVC_KAFKA_SASL_BOOTSTRAP:-127.0.0.1:${KAFKA_SASL_PORT:-9093}}"
        # The TLS listeners and the CA / certificates kafka.sh made for them.
        export HIEVC_KAFKA_SSL_BOOTSTRAP="${HIEVC_KAFKA_SSL_BOOTSTRAP:-127.0.0.1:${KAFKA_SSL_PORT:-9095}}"
        export HIEVC_KAFKA_SASL_SSL_BOOTSTRAP="${HIEVC_KAFKA_SASL_SSL_BOOTSTRAP:-127.0.0.1:${KAFKA_SASL_SSL_PORT:-9096}}"
        export HIEVC_KAFKA_MTLS_BOOTSTRAP="${HIEVC_KAFKA_MTLS_BOOTSTRAP:-127.0.0.1:${KAFKA_MTLS_PORT:-9097}}"
        export HIEVC_KAFKA_OTHER_HOST_BOOTSTRAP="${HIEVC_KAFKA_OTHER_HOST_BOOTSTRAP:-127.0.0.1:${KAFKA_OTHER_HOST_PORT:-9098}}"
        export HIEVC_KAFKA_TLS_DIR="${HIEVC_KAFKA_TLS_DIR:-$(tests/services/kafka.sh tls-dir)}"
    else
        return 1
    fi
    if start_service helios; then
        export HIEVC_FHIR_URL="${HIEVC_FHIR_URL:-http://127.0.0.1:${HELIOS_PORT:-8090}}"
    else
        return 1
    fi
}

stop_services() {
    for s in "${services_up[@]+"${services_up[@]}"}"; do
        tests/services/"$s".sh stop >/dev/null 2>&1 || true
    done
}
trap stop_services EXIT

fuzz() {
    local secs="${HIEVC_FUZZ_SECONDS:-60}"
    wait_background fuzz-tools || return 1
    # `-s none`: the cc crate passes rustc's -Zsanitizer=address on to C code, which breaks the
    # configure checks of librdkafka's build; the decoder is safe Rust, so coverage-guided
    # fuzzing for panics and round-trip failures does not need ASan.
    # cargo-fuzz has no `--locked`, so the lock is checked first: a fuzz build must use exactly
    # the committed core/fuzz/Cargo.lock (reproducible), never quietly re-resolve it. When core's
    # dependencies change, refresh it from the workspace lock (same versions as the tests use):
    #   cp Cargo.lock core/fuzz/ && (cd core/fuzz && cargo +nightly metadata --format-version 1 >/dev/null)
    if ! (cd core/fuzz && cargo +nightly fetch --locked) >"$LOG_DIR/fuzz.log" 2>&1; then
        tail -n 5 "$LOG_DIR/fuzz.log"
        echo "core/fuzz/Cargo.lock is out of date; refresh it as tests/run.sh's fuzz() says" >&2
        return 1
    fi
    (cd core/fuzz && mkdir -p corpus && CARGO_TARGET_DIR="$CARGO_TARGET_DIR/fuzz" cargo +nightly fuzz run -s none json_decoder corpus seeds -- -max_total_time="$secs" -rss_limit_mb=2048) \
        >>"$LOG_DIR/fuzz.log" 2>&1
    local rc=$?
    tail -n 3 "$LOG_DIR/fuzz.log"
    return $rc
}

# Service-backed tests are #[ignore = "needs <service>: ..."]: a plain `cargo test` reports them
# ignored, never passed. With the services started they run (--include-ignored) and fail if
# their variable is missing; the summary says how many ran against each service.
service_summary="service-backed tests: not run"
cargo_tests() {
    local include=(-- --include-ignored)
    [[ -n ${HIEVC_NO_SERVICES:-} ]] && include=()
    cargo test --workspace --all-targets --no-fail-fast "${include[@]}" 2>&1 | tee "$LOG_DIR/cargo-test.log"
    local rc=${PIPESTATUS[0]}
    cargo test --workspace --doc 2>&1 | tee -a "$LOG_DIR/cargo-test.log"
    local doc_rc=${PIPESTATUS[0]}
    service_summary=$(service_tests "$LOG_DIR/cargo-test.log")
    echo "$service_summary"
    [[ $rc -eq 0 && $doc_rc -eq 0 ]]
}

# service_tests LOG: counts the service-backed tests (found by their #[ignore = "needs ..."]
# attribute in the sources) among the results in LOG, per service.
service_tests() {
    local log=$1
    grep -rn -A3 --include='*.rs' '#\[ignore = "needs ' core cli sandbox ffi-c tests 2>/dev/null \
        | awk -v results="$log" -v no_services="${HIEVC_NO_SERVICES:-}" '
            /#\[ignore = "needs / {
                service = ($0 ~ /needs Kafka/) ? "Kafka" : ($0 ~ /Helios/) ? "Helios" : "other"
                next
            }
            service != "" && match($0, /fn [A-Za-z0-9_]+/) {
                name = substr($0, RSTART + 3, RLENGTH - 3)
                of[name] = service
                declared++
                service = ""
            }
            END {
                while ((getline line < results) > 0) {
                    if (line !~ /^test .* \.\.\. /) continue
                    split(line, w, " ")
                    name = w[2]
                    sub(/.*::/, "", name)
                    if (!(name in of)) continue
                    if (line ~ /\.\.\. ok$/) { ran[of[name]]++; ok++ }
                    else if (line ~ /\.\.\. FAILED$/) { ran[of[name]]++; bad++ }
                }
                if (no_services != "") {
                    printf "service-backed tests: not run (HIEVC_NO_SERVICES is set; %d are ignored)\n", declared
                    exit
                }
                total = ok + bad
                detail = ""
                for (s in ran) detail = detail (detail == "" ? "" : ", ") s " " ran[s]
                printf "service-backed tests run: %d (%s) of %d declared, %d failed\n", total, detail, declared, bad + 0
            }'
}

# The Python package: built in the shared target dir and profile, its pytest suite (the
# listener tests against the real broker when the services run), mypy --strict, stubtest and
# the wheel on the oldest and newest CPython (bindings-python/tests/run.sh).
python_package() {
    bindings-python/tests/run.sh
}

# Tokens minted by the SDK checked by an independent verifier (PyJWT), and the reverse.
python_tests() {
    python3 -m pip install -q -r tests/python/requirements.txt >"$LOG_DIR/pip.log" 2>&1 || { tail -n 20 "$LOG_DIR/pip.log"; return 1; }
    python3 -m pytest -q tests/python
}

step "prerequisites" prerequisites
rm -f "$LOG_DIR"/*.rc
in_background fuzz-tools fuzz_tools
if [[ -z ${HIEVC_NO_SERVICES:-} ]]; then
    in_background kafka-install tests/services/kafka.sh install
    in_background helios-install tests/services/helios.sh install
fi
step "cargo fmt --check" cargo fmt --all -- --check
step "clippy -D warnings" cargo clippy --workspace --all-targets -- -D warnings
step "services (kafka, helios)" start_services
step "cargo test" cargo_tests
step "pytest (tests/python)" python_tests
step "Python package (bindings-python: pytest, mypy, stubtest, wheel)" python_package
step "Node package (bindings-node: node:test incl. real-broker listener, tsc --strict, npm pack)" bindings-node/tests/run.sh
if [[ -n ${HIEVC_NO_SERVICES:-} ]]; then
    echo "=== C ABI suites: not run (they need the services; HIEVC_NO_SERVICES is set)"
else
    step "C ABI: header, C (ASan), Java FFM, C# on Mono" tests/ffi.sh
fi
step "MY Core validation vs HAPI FHIR's validator (differential)" tests/hapi/run.sh
step "fuzz json_decoder (${HIEVC_FUZZ_SECONDS:-60} s)" fuzz

echo
echo "$service_summary"
if [[ $failed -gt 0 ]]; then
    echo "failed steps: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
