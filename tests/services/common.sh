# shellcheck shell=bash
# Shared helpers for the local test services (kafka.sh, helios.sh).
# Sourced, not executed. Every helper is safe to call repeatedly, so the
# service scripts stay idempotent: a second `start` finds the running process
# through its pidfile and returns at once.

# Where downloaded artifacts (Kafka jars) are cached between runs.
HIEVC_CACHE="${HIEVC_CACHE:-$HOME/.cache/hie-vc}"

svc_log() { printf '[%s] %s\n' "${SVC_NAME:-service}" "$*" >&2; }
svc_die() { svc_log "ERROR: $*"; exit 1; }

# svc_lock FILE: serialise concurrent start/stop calls (two test runners
# calling `start` at once must not launch two brokers). The lock is held on
# fd 9 until the script exits.
svc_lock() {
    mkdir -p "$(dirname "$1")"
    exec 9>"$1"
    flock -w 300 9 || svc_die "could not take lock $1 within 300 s"
}

# svc_pid PIDFILE PATTERN: print the pid recorded in PIDFILE if that process
# is alive AND its command line contains PATTERN. The pattern check guards
# against a stale pidfile whose pid was reused by an unrelated process.
svc_pid() {
    local pidfile=$1 pattern=$2 pid cmdline
    [[ -s $pidfile ]] || return 1
    pid=$(<"$pidfile")
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # Read into a variable rather than `| grep -q`: under pipefail an early
    # grep exit can fail the pipeline with SIGPIPE even on a match.
    cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ $cmdline == *"$pattern"* ]] || return 1
    printf '%s\n' "$pid"
}

# svc_spawn PIDFILE LOGFILE WORKDIR CMD...: start CMD in the background in its
# own session (setsid), so it outlives the calling shell and is not hit by a
# Ctrl-C or a process-group kill aimed at the test runner. stdin/stdout/stderr
# are detached from the caller: a caller reading our output through a pipe
# (e.g. `$(kafka.sh start)` or `| tee`) must not hang on the child holding it.
# The inner shell writes its own pid and then execs, so the pidfile holds the
# real server pid.
svc_spawn() {
    local pidfile=$1 logfile=$2 workdir=$3
    shift 3
    mkdir -p "$(dirname "$pidfile")" "$(dirname "$logfile")" "$workdir"
    # Keep the previous run's log for post-mortems of a crash.
    [[ -f $logfile ]] && mv -f "$logfile" "$logfile.1"
    rm -f "$pidfile"
    (
        cd "$workdir" || exit 1
        # 9>&-: do not hand the svc_lock fd to the server, or it would hold
        # the lock for its whole life and block the next stop/start.
        # shellcheck disable=SC2016  # $$ and $@ are for the inner shell
        setsid bash -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$@" \
            </dev/null >>"$logfile" 2>&1 9>&- &
    )
    # The pidfile appears almost immediately; wait for it briefly.
    local i
    for ((i = 0; i < 50; i++)); do
        [[ -s $pidfile ]] && return 0
        sleep 0.1
    done
    svc_die "process did not write its pidfile $pidfile"
}

# svc_wait TIMEOUT_S PIDFILE PATTERN CHECK...: poll CHECK (a command) every
# half second until it succeeds; fail early if the process died, or after
# TIMEOUT_S seconds.
svc_wait() {
    local timeout=$1 pidfile=$2 pattern=$3
    shift 3
    local deadline=$((SECONDS + timeout))
    while ((SECONDS < deadline)); do
        if "$@" >/dev/null 2>&1; then
            return 0
        fi
        if ! svc_pid "$pidfile" "$pattern" >/dev/null; then
            svc_log "process exited during startup"
            return 1
        fi
        sleep 0.5
    done
    svc_log "not ready after ${timeout} s"
    return 1
}

# svc_stop PIDFILE PATTERN TIMEOUT_S: SIGTERM, wait up to TIMEOUT_S for a
# clean exit (Kafka flushes its logs and writes a clean-shutdown marker, which
# makes the next start fast), then SIGKILL. Succeeds when nothing is running.
svc_stop() {
    local pidfile=$1 pattern=$2 timeout=$3 pid
    if ! pid=$(svc_pid "$pidfile" "$pattern"); then
        rm -f "$pidfile"
        svc_log "not running"
        return 0
    fi
    svc_log "stopping pid $pid"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + timeout))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
        sleep 0.2
    done
    if kill -0 "$pid" 2>/dev/null; then
        svc_log "still alive after ${timeout} s; sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    rm -f "$pidfile"
    svc_log "stopped"
}

# svc_port_open HOST PORT: true when something accepts TCP connections there.
svc_port_open() {
    (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null
}

# svc_show_log LOGFILE: print the tail of a log after a failed start so the
# reason is visible in CI output, and say where the full log is.
svc_show_log() {
    svc_log "start failed; full log: $1"
    if [[ -f $1 ]]; then
        svc_log "last 40 lines of $1:"
        tail -n 40 "$1" >&2 || true
    fi
}
