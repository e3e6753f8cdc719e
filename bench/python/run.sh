#!/usr/bin/env bash
# Python listener benchmark (issue 11): records/s, CPU per record and peak RSS of
#   (a)  confluent-kafka + json.loads                 (untyped: the Python limit)
#   (b)  confluent-kafka + fhir.resources R4B          (what a data team writes today)
#   (c)  hie_vc.Listener.run into a no-op handler      (typed, validated events)
#   (c') as (c), the handler also builds the typed Python Encounter and VC view
#   (d)  hie_vc.Listener.batches(1000)
# on <count> (default 200 000) MY Core VC Encounters of ~1.5 KB on the local broker
# (tests/services/kafka.sh), each run its own process and consumer group, alternated <rounds>
# times (default 3); medians, and the goals' ratios (c)/(b) >= 10 and (c)/(a) >= 0.5.
# (b) reads the first FHIRRES_COUNT records only (default 20 000: ~1.5 ms a record here).
#
#   bench/python/run.sh [count] [rounds]        BENCH_RECORD=1 appends to bench/RESULTS.md
#
# The package is built with `maturin develop --release` into its own venv
# (~/.cache/hie-vc/bench-venv; HIEVC_BENCH_VENV overrides) from the shared target dir.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
COUNT=${1:-200000}
ROUNDS=${2:-3}
PARTITIONS=${PARTITIONS:-4}
FHIRRES_COUNT=${FHIRRES_COUNT:-20000}
BOOTSTRAP=${HIEVC_KAFKA_BOOTSTRAP:-127.0.0.1:9092}
VENV=${HIEVC_BENCH_VENV:-$HOME/.cache/hie-vc/bench-venv}
: "${CARGO_TARGET_DIR:=$HOME/.cache/hie-vc/target}"
export CARGO_TARGET_DIR

tests/services/kafka.sh start >&2
[[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "maturin>=1.16,<2" "confluent-kafka>=2.3" "fhir.resources>=8,<9" >&2
(source "$VENV/bin/activate" && cd bindings-python && maturin develop --release --quiet >&2)
PY=("$VENV/bin/python" "$ROOT/bench/python/bench.py")

TOPIC="bench-python-$$-$(date +%s)"
"${PY[@]}" produce "$BOOTSTRAP" "$TOPIC" "$COUNT" "$PARTITIONS"
trap '"${PY[@]}" delete "$BOOTSTRAP" "$TOPIC" >&2 || true' EXIT

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
declare -A rate cpu rss
MODES=(raw fhirres listener typed batches)
for ((i = 1; i <= ROUNDS; i++)); do
    for m in "${MODES[@]}"; do
        n=$COUNT
        [[ $m == fhirres ]] && n=$((FHIRRES_COUNT < COUNT ? FHIRRES_COUNT : COUNT))
        out=$(cd /tmp && "${PY[@]}" "$m" "$BOOTSTRAP" "$TOPIC" "$n")
        echo "round $i: $out" >&2
        [[ $(field count <<<"$out") -ge $n ]] || { echo "$m did not read $n records" >&2; exit 1; }
        rate[$m]+="$(field msgs_per_sec <<<"$out") "
        cpu[$m]+="$(field cpu_us_per_record <<<"$out") "
        rss[$m]+="$(field peak_rss_kb <<<"$out") "
    done
done
med() { tr ' ' '\n' <<<"$1" | grep . | median; }
max() { tr ' ' '\n' <<<"$1" | grep . | sort -n | tail -1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
C=$(med "${rate[listener]}") A=$(med "${rate[raw]}") B=$(med "${rate[fhirres]}")
{
    echo
    echo "### Python listener — $(date -u +%F), $COUNT records, $PARTITIONS partitions, $ROUNDS rounds, load $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo "\`bench/python/run.sh $COUNT $ROUNDS\` (release build; (b) on the first $((FHIRRES_COUNT < COUNT ? FHIRRES_COUNT : COUNT)) records)"
    echo
    echo "| run | records/s (median) | CPU µs/record | peak RSS MB (max) |"
    echo "|---|---|---|---|"
    for m in "${MODES[@]}"; do
        case $m in
            raw) label="(a) confluent-kafka + json.loads" ;;
            fhirres) label="(b) confluent-kafka + fhir.resources R4B" ;;
            listener) label="(c) hie_vc.Listener, no-op handler" ;;
            typed) label="(c') hie_vc.Listener, handler builds the typed Encounter + VC view" ;;
            batches) label="(d) hie_vc.Listener.batches(1000)" ;;
        esac
        echo "| $label | $(med "${rate[$m]}") | $(med "${cpu[$m]}") | $(awk -v k="$(max "${rss[$m]}")" 'BEGIN {printf "%.0f", k / 1024}') |"
    done
    echo
    echo "(c)/(b) = **$(ratio "$C" "$B")×** (goal ≥ 10), (c)/(a) = **$(ratio "$C" "$A")×** (goal ≥ 0.5), (c) peak RSS $(awk -v k="$(max "${rss[listener]}")" 'BEGIN {printf "%.0f", k / 1024}') MB (goal ≤ 100)."
} | tee /tmp/bench-python.md
if [[ -n ${BENCH_RECORD:-} ]]; then
    cat /tmp/bench-python.md >>bench/RESULTS.md
fi
