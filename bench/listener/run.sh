#!/usr/bin/env bash
# Listener throughput and memory benchmark (issues 4 and 14).
#
#   bench/listener/run.sh [count] [partitions] [rounds] [layouts]
#
# For each record layout (default "hie sorted"), produces <count> (default 200 000) MY Core VC
# Encounter records of ~1.5 KB to a fresh topic on the local broker (tests/services/kafka.sh):
#   hie     as HIE's FHIR server writes a resource, `resourceType` first;
#   sorted  the same records with every object's keys sorted, `resourceType` late (the typed
#           reader's slow path: what comes before it must be buffered).
# Then alternates, <rounds> times (default 3):
#   (a) raw      — a bare rdkafka BaseConsumer reading the topic and doing nothing (the limit);
#   (d) syntax   — (a) plus serde_json's syntax-only pass (`IgnoredAny`) per payload, the floor
#                  of any decoder on this machine;
#   (e) value    — (a) plus `serde_json::from_slice::<serde_json::Value>` per payload and a
#                  look-up of its `class.code`: what a Rust team writes without this SDK;
#   (b) listener — hie_vc::listener decoding each record into a typed Encounter, classifying it
#                  (VC or not), calling a no-op handler and storing its offset.
# Each run is its own process in a fresh consumer group, timed from its first record to its
# last, with its CPU time (user + system) over the same span and its peak RSS (VmHWM). For
# context, (c): the FHIR decode + classification alone on one thread (no Kafka).
# Prints the medians and the goals of issue 14 — (b) >= 2.0 x (e) in records/s, (b)'s CPU per
# record <= 0.75 x (e)'s, (b)'s peak RSS <= 64 MB — and appends a table to bench/RESULTS.md
# with this command line when BENCH_RECORD=1. The machine's load average is printed at the
# start and the end: the cores are shared, and the numbers are only as quiet as the machine.
set -euo pipefail
cd "$(dirname "$0")/../.."

COUNT=${1:-200000}
PARTITIONS=${2:-4}
ROUNDS=${3:-3}
LAYOUTS=${4:-hie sorted}
BOOTSTRAP=${HIEVC_KAFKA_BOOTSTRAP:-127.0.0.1:9092}

tests/services/kafka.sh start >&2
cargo build -q --release -p hie-vc --example listener_bench
BIN="${CARGO_TARGET_DIR:-target}/release/examples/listener_bench"
TOPICS=()
trap 'for t in "${TOPICS[@]+"${TOPICS[@]}"}"; do "$BIN" delete "$BOOTSTRAP" "$t" >&2 || true; done' EXIT

load() { cut -d' ' -f1-3 /proc/loadavg; }
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
cpu_us() { awk -v c="$(field cpu_secs <<<"$1")" -v n="$COUNT" 'BEGIN {printf "%.1f", c * 1e6 / n}'; }
mb() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
div() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

LOAD_START=$(load)
echo "load average at start: $LOAD_START ($(nproc) cores)" >&2
RECORD=""
SUMMARIES=()
for LAYOUT in $LAYOUTS; do
    TOPIC="bench-listener-$LAYOUT-$$-$(date +%s)"
    TOPICS+=("$TOPIC")
    "$BIN" produce "$BOOTSTRAP" "$TOPIC" "$COUNT" "$PARTITIONS" "$LAYOUT" >&2
    declare -A rate=() cpu=() rss=()
    for ((i = 1; i <= ROUNDS; i++)); do
        for mode in raw syntax value listener; do
            out=$("$BIN" "$mode" "$BOOTSTRAP" "$TOPIC" "$COUNT")
            echo "$LAYOUT round $i: $out" >&2
            [[ $(field count <<<"$out") == "$COUNT" ]] \
                || { echo "$mode did not read all $COUNT records" >&2; exit 1; }
            rate[$mode,$i]=$(field msgs_per_sec <<<"$out")
            cpu[$mode,$i]=$(cpu_us "$out")
            rss[$mode,$i]=$(field peak_rss_kb <<<"$out")
        done
    done
    declare -A M=()
    for mode in raw syntax value listener; do
        M[rate,$mode]=$(for ((i = 1; i <= ROUNDS; i++)); do echo "${rate[$mode,$i]}"; done | median)
        M[cpu,$mode]=$(for ((i = 1; i <= ROUNDS; i++)); do echo "${cpu[$mode,$i]}"; done | median)
        M[rss,$mode]=$(for ((i = 1; i <= ROUNDS; i++)); do echo "${rss[$mode,$i]}"; done | sort -n | tail -1)
    done
    DEC=$("$BIN" decode - - "$COUNT" "$LAYOUT")
    echo "$LAYOUT decode: $DEC" >&2
    RATE_RATIO=$(div "${M[rate,listener]}" "${M[rate,value]}")
    CPU_RATIO=$(div "${M[cpu,listener]}" "${M[cpu,value]}")
    SUMMARY="records '$LAYOUT': listener (b) ${M[rate,listener]} rec/s vs hand-written Value loop (e) ${M[rate,value]} rec/s = ${RATE_RATIO}x (goal >= 2.0); CPU per record (b) ${M[cpu,listener]} us vs (e) ${M[cpu,value]} us = ${CPU_RATIO}x (goal <= 0.75); peak RSS (b) $(mb "${M[rss,listener]}") MB (goal <= 64), (e) $(mb "${M[rss,value]}") MB; limits: raw (a) ${M[rate,raw]} rec/s at ${M[cpu,raw]} us, syntax-only (d) ${M[rate,syntax]} rec/s at ${M[cpu,syntax]} us; FHIR decode + classify alone (c) $(field us_per_record <<<"$DEC") us/record on one thread"
    echo "$SUMMARY"
    SUMMARIES+=("$SUMMARY")
    RECORD+=$'\n'"Records \`$LAYOUT\`:"$'\n\n'
    RECORD+="| round | (a) raw rec/s | (d) syntax rec/s | (e) Value rec/s | (b) listener rec/s | CPU µs/record a / d / e / b | peak RSS (e) / (b) |"$'\n'
    RECORD+="|---|---|---|---|---|---|---|"$'\n'
    for ((i = 1; i <= ROUNDS; i++)); do
        RECORD+="| $i | ${rate[raw,$i]} | ${rate[syntax,$i]} | ${rate[value,$i]} | ${rate[listener,$i]} | ${cpu[raw,$i]} / ${cpu[syntax,$i]} / ${cpu[value,$i]} / ${cpu[listener,$i]} | $(mb "${rss[value,$i]}") / $(mb "${rss[listener,$i]}") MB |"$'\n'
    done
    RECORD+=$'\n'"Result: $SUMMARY."$'\n'
    unset rate cpu rss M
done
LOAD_END=$(load)
echo "load average at end: $LOAD_END" >&2

if [[ ${BENCH_RECORD:-0} == 1 ]]; then
    {
        echo
        echo "## Kafka listener vs the hand-written consumer (issue 14) — $(date -u +%Y-%m-%d)"
        echo
        echo "Command: \`bench/listener/run.sh $COUNT $PARTITIONS $ROUNDS\` (release build, local single-node"
        echo "Kafka from tests/services/kafka.sh, $(nproc) cores shared with the broker and with other builds:"
        echo "load average $LOAD_START at the start, $LOAD_END at the end; $COUNT VC Encounters of ~1.5 KB on"
        echo "$PARTITIONS partitions; median of $ROUNDS alternating rounds of a, d, e, b, each a fresh process and"
        echo "consumer group, timed from its first record to its last)."
        echo "$RECORD"
    } >>bench/RESULTS.md
fi
