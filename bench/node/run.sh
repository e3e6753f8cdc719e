#!/usr/bin/env bash
# Node consumers of 200 000 VC Encounters (~1.5 KB) on the local broker, in one run (issue 12):
#   (a) kafkajs + JSON.parse, (b) @confluentinc/kafka-javascript + JSON.parse,
#   (c) the hie-vc listener into a no-op async handler with typed, validated events.
#
#   bench/node/run.sh [count] [partitions] [rounds]
#
# Each run is its own process and fresh consumer group, timed from its first record to its
# last; the three alternate <rounds> times (default 3) and the median of each is printed.
# Needs the addon's release build (`node bindings-node/tools/build.mjs --release`).
set -euo pipefail
cd "$(dirname "$0")"
COUNT=${1:-200000}
PARTITIONS=${2:-4}
ROUNDS=${3:-3}
BOOTSTRAP=${HIEVC_KAFKA_BOOTSTRAP:-127.0.0.1:9092}

../../tests/services/kafka.sh start >&2
npm install --no-audit --no-fund --loglevel=error >/dev/null
TOPIC="bench-node-$$-$(date +%s)"
node produce.mjs "$BOOTSTRAP" "$TOPIC" "$COUNT" "$PARTITIONS"

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# @confluentinc/kafka-javascript is optional: its install downloads a prebuilt binary from
# GitHub or builds librdkafka >= 2.4 from sources it downloads; where neither works it is
# missing, and (b) is reported as not measured.
modes=(kafkajs hievc)
node -e "require('@confluentinc/kafka-javascript')" 2>/dev/null && modes=(kafkajs confluent hievc)
declare -A rate cpu rss p99 lagmax
for ((i = 1; i <= ROUNDS; i++)); do
    for mode in "${modes[@]}"; do
        line=$(node consume.mjs "$mode" "$BOOTSTRAP" "$TOPIC" "$COUNT")
        echo "round $i: $line"
        rate[$mode]+="$(field rate <<<"$line") "
        cpu[$mode]+="$(field cpu_us <<<"$line") "
        rss[$mode]+="$(field rss_mb <<<"$line") "
        p99[$mode]+="$(field lag_p99_ms <<<"$line") "
        lagmax[$mode]+="$(field lag_max_ms <<<"$line") "
    done
done
med() { tr ' ' '\n' <<<"$1" | grep -v '^$' | median; }
echo
echo "| consumer | records/s | CPU µs/record | peak RSS MB | loop delay p99 ms | max ms |"
echo "|---|---|---|---|---|---|"
for mode in "${modes[@]}"; do
    echo "| $mode | $(med "${rate[$mode]}") | $(med "${cpu[$mode]}") | $(med "${rss[$mode]}") | $(med "${p99[$mode]}") | $(med "${lagmax[$mode]}") |"
done
a=$(med "${rate[kafkajs]}"); c=$(med "${rate[hievc]}")
awk -v a="$a" -v c="$c" 'BEGIN {printf "\n(c)/(a) = %.2f (goal >= 2)\n", c / a}'
if [[ -n ${rate[confluent]:-} ]]; then
    b=$(med "${rate[confluent]}")
    awk -v b="$b" -v c="$c" 'BEGIN {printf "(c)/(b) = %.2f (goal >= 1)\n", c / b}'
else
    echo "(b) @confluentinc/kafka-javascript: not installed here, not measured"
fi
