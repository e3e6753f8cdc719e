#!/usr/bin/env bash
# The differential test: HAPI FHIR's validator (8.8.0, offline, with the MY Core IG's
# profiles and terminology) and `hie-vc validate` over the IG's 19 published examples and
# 500+ mutations of them; fails on any disagreement tests/hapi/allow.json does not explain.
#
#   tests/hapi/run.sh            # fetch the jars once (~/.m2, ~/.cache/hie-vc/hapi-8.8.0)
#
# Prints the agreement table (recorded in tests/VALIDATION.md) and each side's time.
# Needs java/javac 17+, mvn (for the first fetch), python3 and cargo.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HAPI_VERSION=8.8.0
CACHE=${HIEVC_CACHE:-$HOME/.cache/hie-vc}/hapi-$HAPI_VERSION
LIBS=$CACHE/libs
SPEC=${HIEVC_SPEC_DIR:-$ROOT/../shared/spec}
IG=$SPEC/mycore-ig
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/hie-vc/target}

log() { printf 'hapi: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[[ -d $IG/profiles ]] || die "the MY Core IG is not at $IG (set HIEVC_SPEC_DIR)"
command -v javac >/dev/null || die "javac not found (a JDK 17+ is needed)"

# The jars, fetched through Maven Central into a temporary directory and renamed when
# complete, so an interrupted fetch is never taken for a finished one.
if [[ ! -f $LIBS/.complete ]]; then
    command -v mvn >/dev/null || die "mvn not found (apt-get install -y maven)"
    log "fetching HAPI FHIR $HAPI_VERSION jars from Maven Central into $LIBS"
    work=$CACHE/fetch
    rm -rf "$work" "$LIBS"
    mkdir -p "$work"
    deps=""
    for a in hapi-fhir-validation hapi-fhir-validation-resources-r4 hapi-fhir-structures-r4 hapi-fhir-caching-caffeine; do
        deps+="<dependency><groupId>ca.uhn.hapi.fhir</groupId><artifactId>$a</artifactId><version>$HAPI_VERSION</version></dependency>"
    done
    cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>hie-vc</groupId>
  <artifactId>hapi-jars</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>$deps
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-nop</artifactId><version>2.0.17</version></dependency>
  </dependencies>
</project>
EOF
    if ! (cd "$work" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$work/libs") >"$work/mvn.log" 2>&1; then
        cat "$work/mvn.log" >&2
        die "mvn could not fetch HAPI FHIR $HAPI_VERSION (log: $work/mvn.log)"
    fi
    touch "$work/libs/.complete"
    mv "$work/libs" "$LIBS"
    rm -rf "$work"
fi

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
mkdir -p "$OUT/classes" "$OUT/corpus"

javac -nowarn -d "$OUT/classes" -cp "$LIBS/*" "$ROOT/tests/hapi/Differential.java" 2>"$OUT/javac.log" \
    || { cat "$OUT/javac.log" >&2; die "Differential.java does not compile"; }
n=$(python3 "$ROOT/tests/hapi/mutate.py" "$IG/examples" "$OUT/corpus")
log "corpus: $n files (19 examples and their mutations)"
((n >= 519)) || die "the corpus has $n files, fewer than the 19 examples + 500 mutations"

(cd "$ROOT" && cargo build -q -p hie-vc-cli)
HIEVC=$CARGO_TARGET_DIR/debug/hie-vc

t0=$(date +%s.%N)
(cd "$OUT/corpus" && "$HIEVC" validate --lenient --format json -- *.json >"$OUT/ours.jsonl") || true
t1=$(date +%s.%N)
(cd "$OUT/corpus" && java -cp "$OUT/classes:$LIBS/*" Differential "$IG" *.json >"$OUT/hapi.jsonl")
t2=$(date +%s.%N)
log "hie-vc validate: $(echo "$t1 - $t0" | bc) s; HAPI (JVM start, snapshots, validation): $(echo "$t2 - $t1" | bc) s"

python3 "$ROOT/tests/hapi/compare.py" "$OUT/hapi.jsonl" "$OUT/ours.jsonl" "$ROOT/tests/hapi/allow.json" \
    --table "${HIEVC_HAPI_TABLE:-$OUT/table.md}"
