#!/usr/bin/env bash
# Listener throughput and memory benchmark (issue 4).
#
#   bench/listener/run.sh [count] [partitions] [rounds]
#
# Produces <count> (default 200 000) MY Core VC Encounter records of ~1.5 KB to a fresh topic
# on the local broker (tests/services/kafka.sh), then alternates, <rounds> times (default 3):
#   (a) raw  — a bare rdkafka BaseConsumer reading the topic and doing nothing (the limit);
#   (b) listener — hie_vc::listener decoding each record into a typed Encounter, classifying
#       it (VC or not), calling a no-op handler and storing its offset.
# Each run is its own process in a fresh consumer group, timed from its first record to its
# last; (b)'s peak RSS is its VmHWM. For context it also measures (c): the FHIR decode +
# classification alone on one thread (no Kafka), the per-record cost (b) cannot avoid, and
# (d): the raw consumer of (a) plus a JSON syntax-only pass over each payload (serde_json
# `IgnoredAny`), the floor of any decoder on this machine. Each run also reports its CPU time
# per record (user + system, from its first record to its last). Prints the median of each and the ratio (b)/(a), and
# appends them to bench/RESULTS.md with this command line when BENCH_RECORD=1.
set -euo pipefail
cd "$(dirname "$0")/../.."

COUNT=${1:-200000}
PARTITIONS=${2:-4}
ROUNDS=${3:-3}
BOOTSTRAP=${HIEVC_KAFKA_BOOTSTRAP:-127.0.0.1:9092}

tests/services/kafka.sh start >&2
cargo build -q --release -p hie-vc --example listener_bench
BIN="${CARGO_TARGET_DIR:-target}/release/examples/listener_bench"
TOPIC="bench-listener-$$-$(date +%s)"
"$BIN" produce "$BOOTSTRAP" "$TOPIC" "$COUNT" "$PARTITIONS"
trap '"$BIN" delete "$BOOTSTRAP" "$TOPIC" >&2 || true' EXIT

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
cpu_us() { awk -v c="$(field cpu_secs <<<"$1")" -v n="$COUNT" 'BEGIN {printf "%.1f", c * 1e6 / n}'; }
raw_rates=() ; syn_rates=() ; lis_rates=() ; lis_rss=() ; raw_cpu=() ; syn_cpu=() ; lis_cpu=()
for ((i = 1; i <= ROUNDS; i++)); do
    r=$("$BIN" raw "$BOOTSTRAP" "$TOPIC" "$COUNT")
    s=$("$BIN" syntax "$BOOTSTRAP" "$TOPIC" "$COUNT")
    l=$("$BIN" listener "$BOOTSTRAP" "$TOPIC" "$COUNT")
    echo "round $i: $r" >&2
    echo "round $i: $s" >&2
    echo "round $i: $l" >&2
    [[ $(field count <<<"$r") == "$COUNT" && $(field count <<<"$s") == "$COUNT" \
        && $(field count <<<"$l") == "$COUNT" ]] \
        || { echo "a run did not read all $COUNT records" >&2; exit 1; }
    raw_rates+=("$(field msgs_per_sec <<<"$r")")
    syn_rates+=("$(field msgs_per_sec <<<"$s")")
    lis_rates+=("$(field msgs_per_sec <<<"$l")")
    lis_rss+=("$(field peak_rss_kb <<<"$l")")
    raw_cpu+=("$(cpu_us "$r")")
    syn_cpu+=("$(cpu_us "$s")")
    lis_cpu+=("$(cpu_us "$l")")
done
DEC=$("$BIN" decode - - "$COUNT")
echo "decode: $DEC" >&2
DEC_RATE=$(field msgs_per_sec <<<"$DEC")
DEC_US=$(field us_per_record <<<"$DEC")
RAW=$(printf '%s\n' "${raw_rates[@]}" | median)
SYN=$(printf '%s\n' "${syn_rates[@]}" | median)
LIS=$(printf '%s\n' "${lis_rates[@]}" | median)
RAW_CPU=$(printf '%s\n' "${raw_cpu[@]}" | median)
SYN_CPU=$(printf '%s\n' "${syn_cpu[@]}" | median)
LIS_CPU=$(printf '%s\n' "${lis_cpu[@]}" | median)
SYN_RATIO=$(awk -v a="$RAW" -v b="$SYN" 'BEGIN {printf "%.2f", b / a}')
RSS=$(printf '%s\n' "${lis_rss[@]}" | sort -n | tail -1)
RATIO=$(awk -v a="$RAW" -v b="$LIS" 'BEGIN {printf "%.2f", b / a}')
RSS_MB=$(awk -v k="$RSS" 'BEGIN {printf "%.1f", k / 1024}')
SUMMARY="raw ${RAW} msg/s, listener ${LIS} msg/s, ratio ${RATIO} (goal >= 0.8); listener peak RSS ${RSS_MB} MB (goal <= 64 MB); syntax-only floor ${SYN} msg/s (${SYN_RATIO} of raw); CPU per record: raw ${RAW_CPU} us, syntax-only ${SYN_CPU} us, listener ${LIS_CPU} us; FHIR decode + classify alone ${DEC_RATE} records/s on one thread (${DEC_US} us/record)"
echo "$SUMMARY"

if [[ ${BENCH_RECORD:-0} == 1 ]]; then
    {
        echo
        echo "## Kafka listener throughput (issue 4) — $(date -u +%Y-%m-%d)"
        echo
        echo "Command: \`bench/listener/run.sh $COUNT $PARTITIONS $ROUNDS\` (release build, local single-node"
        echo "Kafka from tests/services/kafka.sh, $(nproc) cores shared with the broker; $COUNT VC Encounters of ~1.5 KB"
        echo "on $PARTITIONS partitions; median of $ROUNDS alternating runs, each a fresh process and consumer group, timed"
        echo "from its first record to its last)."
        echo
        echo "| run | raw rdkafka (a) msg/s | raw + syntax-only (d) msg/s | listener (b) msg/s | CPU µs/record a / d / b | listener peak RSS (VmHWM) |"
        echo "|---|---|---|---|---|---|"
        for ((i = 0; i < ROUNDS; i++)); do
            echo "| $((i + 1)) | ${raw_rates[$i]} | ${syn_rates[$i]} | ${lis_rates[$i]} | ${raw_cpu[$i]} / ${syn_cpu[$i]} / ${lis_cpu[$i]} | $(awk -v k="${lis_rss[$i]}" 'BEGIN {printf "%.1f MB", k / 1024}') |"
        done
        echo
        echo "Result: $SUMMARY."
    } >> bench/RESULTS.md
fi
