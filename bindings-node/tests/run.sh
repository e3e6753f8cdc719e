#!/usr/bin/env bash
# The Node package's checks, as tests/run.sh runs them: installs the npm dev dependencies,
# builds the addon in the shared target directory and dev profile (the core compiled by
# `cargo test` is reused), checks that the committed loader and native types are what the
# build generates, runs node's test runner (the behaviour spec, the API tests, the real-broker
# listener tests, the portal example end to end), `tsc --strict --noEmit` over the TypeScript
# example and the tests' type usage, and packs the npm tarball and installs it into an empty
# project (no Rust toolchain used there).
#
#   bindings-node/tests/run.sh              everything
#   HIEVC_NODE_QUICK=1                      node --test only (no tsc, no tarball)
#   HIEVC_NO_SERVICES=1                     leave out the real-broker tests (reported as skipped)
set -uo pipefail
cd "$(dirname "$0")/.."
: "${CARGO_TARGET_DIR:=$HOME/.cache/hie-vc/target}"
export CARGO_TARGET_DIR

npm install --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null || exit 1
node tools/build.mjs || exit 1
if ! git diff --quiet -- native.js native.d.ts; then
    echo "native.js / native.d.ts differ from what the build generates: commit the regenerated files" >&2
    git --no-pager diff --stat -- native.js native.d.ts >&2
    exit 1
fi

# The portal example depends on this package (a link to bindings-node, no copy).
(cd ../examples/node/portal && npm install --no-audit --no-fund --loglevel=error >/dev/null) || exit 1
node --test --test-concurrency=1 tests/ ../examples/node/portal/ || exit 1
[[ -n ${HIEVC_NODE_QUICK:-} ]] && exit 0

npx tsc -p tsconfig.json || exit 1
tests/pack.sh || exit 1
