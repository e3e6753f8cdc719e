#!/usr/bin/env bash
# Runs tests/java/HievcTest.java (a single-file Java FFM program) against the staged libhievc.
#
#   tests/java/run.sh [dist-prefix]       default target/hievc-dist
#
# The final FFM API needs Java 22+; the JDK is located in this order: $HIEVC_JAVA_HOME,
# $JAVA_HOME (if 22+), any /usr/lib/jvm/*, /opt/*jdk*, ~/.sdkman and ~/.jdks JDK 22+ (newest
# first), `java` on PATH (if 22+).
set -uo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DIST="${1:-$ROOT/target/hievc-dist}"

feature_of() { # prints the feature release of a java binary (e.g. 25), or nothing
    "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -n 1
}

find_java() {
    local candidates=()
    [[ -n ${HIEVC_JAVA_HOME:-} ]] && candidates+=("$HIEVC_JAVA_HOME/bin/java")
    [[ -n ${JAVA_HOME:-} ]] && candidates+=("$JAVA_HOME/bin/java")
    local d
    for d in $(ls -d /usr/lib/jvm/* /opt/*jdk* "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/* 2>/dev/null | sort -rV); do
        candidates+=("$d/bin/java")
    done
    command -v java >/dev/null 2>&1 && candidates+=("$(command -v java)")
    local j v
    for j in "${candidates[@]}"; do
        [[ -x $j ]] || continue
        v=$(feature_of "$j")
        if [[ ${v%%.*} =~ ^[0-9]+$ ]] && ((${v%%.*} >= 22)); then
            echo "$j"
            return 0
        fi
    done
    return 1
}

JAVA=$(find_java) || {
    echo "java: no JDK 22+ found (the FFM API is final since 22; Temurin 25 is expected under /usr/lib/jvm)" >&2
    exit 1
}
echo "java: $JAVA ($(feature_of "$JAVA"))"
exec "$JAVA" --enable-native-access=ALL-UNNAMED -Dhievc.lib="$DIST/lib/libhievc.so" \
    -Dhievc.data="$ROOT/tests/c/data" "$ROOT/tests/java/HievcTest.java"
