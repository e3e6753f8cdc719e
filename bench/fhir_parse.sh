#!/usr/bin/env bash
# Runs the typed-parse benchmark and prints, per input, the throughput of each side and the
# ratio typed/Value (goal >= 0.7). Both sides run in the same criterion invocation.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p hie-vc-bench --bench fhir_parse -- --noplot "$@" >/dev/null
for g in encounter_2kb searchset_1mb; do
  python3 - "$g" <<'PY'
import json, os, sys
g = sys.argv[1]
def mean(name):
    return json.load(open(f"{os.environ.get('CARGO_TARGET_DIR', 'target')}/criterion/{g}/{name}/new/estimates.json"))["mean"]["point_estimate"]
v, t, o = mean("serde_json_value"), mean("typed_read_validate"), mean("validate_only")
print(f"{g}: Value parse {v/1e3:.1f} µs, typed read + validate {t/1e3:.1f} µs (validation alone {o/1e3:.2f} µs), ratio {v/t:.2f}x of Value-parse throughput")
PY
done
