#!/usr/bin/env bash
# C ABI overhead: runs ffi-c/benches/ffi_overhead.rs (both sides in one criterion run) and
# prints each side's mean time and the ratio C ABI / Rust (goal for validate: <= 1.1x).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -p hie-vc-ffi --bench ffi_overhead -- --noplot "$@" >/dev/null
python3 - <<'PY'
import json
def mean(g, n):
    return json.load(open(f"target/criterion/{g}/{n}/new/estimates.json"))["mean"]["point_estimate"]
def fmt(ns):
    return f"{ns:.2f} ns" if ns < 1000 else f"{ns/1e3:.2f} µs"
r, c = mean("ffi_trivial", "rust"), mean("ffi_trivial", "c_abi")
print(f"trivial (version string): Rust {fmt(r)}, C ABI {fmt(c)}, overhead {c - r:.2f} ns per call, ratio {c/r:.2f}x")
r = mean("ffi_validate", "rust")
for n, label in [("c_abi", "hievc_validate"), ("c_abi_validator", "hievc_validator_validate")]:
    c = mean("ffi_validate", n)
    print(f"validate 1.7 KB VC Encounter: Rust read+validate {fmt(r)}, {label} {fmt(c)}, overhead {fmt(c - r)}, ratio {c/r:.3f}x")
i = json.load(open("target/criterion/ffi_validate/interleaved.json"))
print(f"validate, interleaved batches (median of {i['rounds']} rounds): Rust {fmt(i['rust_ns'])}, hievc_validate {fmt(i['c_abi_ns'])}, ratio {i['median_ratio']:.3f}x")
PY

# Instruction counts (callgrind), immune to the machine's load: the same loop through Rust and
# through the C ABI, per call.
if command -v valgrind >/dev/null 2>&1; then
    cargo build -p hie-vc-ffi --release --example validate_loop 2>/dev/null
    bin="${CARGO_TARGET_DIR:-target}/release/examples/validate_loop"
    count() { # side -> instructions per call (2000 calls minus 1000 calls: start-up cancels out)
        local a b
        a=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" 1000 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
        b=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" "$1" 2000 2>&1 | sed -n 's/.*Collected : \([0-9]*\).*/\1/p')
        echo $(((b - a) / 1000))
    }
    r=$(count rust)
    c=$(count c_abi)
    python3 -c "print(f'validate, instructions per call (callgrind): Rust {$r}, hievc_validate {$c}, ratio {$c/$r:.3f}x')"
fi
