#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft) for the integration tests.
#
#   tests/services/kafka.sh start|stop|restart|status|reset|install|tls-dir
#
# Listeners (all on 127.0.0.1):
#   $KAFKA_PORT        (9092) PLAINTEXT
#   $KAFKA_SASL_PORT   (9093) SASL_PLAINTEXT, mechanisms PLAIN, SCRAM-SHA-256,
#                             SCRAM-SHA-512; user hievc / hievc-secret
#   $KAFKA_CONTROLLER_PORT (9094) KRaft controller (internal)
#   $KAFKA_SSL_PORT      (9095) SSL (server certificate only)
#   $KAFKA_SASL_SSL_PORT (9096) SASL_SSL, the mechanisms and users of the SASL port
#   $KAFKA_MTLS_PORT     (9097) SSL that requires a client certificate (mutual TLS)
#   $KAFKA_OTHER_HOST_PORT (9098) SSL whose certificate names another host
#                             (not-this-broker.invalid): hostname verification refuses it
#
# TLS material, made with openssl on the first start and kept in $TLS_DIR
# (default $HIEVC_KAFKA_DATA/tls; `reset` wipes it with the data), PEM files:
#   ca.pem          the test CA every broker certificate is signed by
#   other-ca.pem    a CA that signed nothing here (a client trusting it must fail)
#   broker.pem      broker key + certificate for IP 127.0.0.1 / localhost
#   other-host.pem  broker key + certificate for not-this-broker.invalid
#   client.pem      client certificate (mutual TLS), signed by ca.pem
#   client.key      its key, PKCS#8 encrypted with $TLS_KEY_PASSWORD
#   (hievc-key-secret)
# `tests/services/kafka.sh tls-dir` prints the directory.
#
# The broker is not installed system-wide: its jars come from Maven Central
# through `mvn` (the only way to fetch them here) into
# $HIEVC_CACHE/kafka-<version>/libs, once. Data, config, pidfile and log live
# in $HIEVC_KAFKA_DATA (default /tmp/hie-vc-kafka).
#
# Environment:
#   KAFKA_VERSION       Kafka release to run (default 4.3.1, see below)
#   KAFKA_FRESH=1       with start/restart: wipe the data dir first
#   KAFKA_START_TIMEOUT seconds to wait for the broker to answer (default 90)
#   KAFKA_HEAP          JVM heap options (default "-Xms256m -Xmx512m")
#   JAVA                java binary (default: $JAVA_HOME/bin/java or java); needs 17+
set -euo pipefail

SVC_NAME=kafka
# shellcheck source=common.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# 4.3.1 is the newest 4.x that resolves from Maven Central: 4.4.0's
# kafka_2.13 pom is published but its kafka-tools-api dependency is not, so
# dependency resolution fails. Kafka 4.x brokers need Java 17+.
KAFKA_VERSION="${KAFKA_VERSION:-4.3.1}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_SASL_PORT="${KAFKA_SASL_PORT:-9093}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9094}"
KAFKA_SSL_PORT="${KAFKA_SSL_PORT:-9095}"
KAFKA_SASL_SSL_PORT="${KAFKA_SASL_SSL_PORT:-9096}"
KAFKA_MTLS_PORT="${KAFKA_MTLS_PORT:-9097}"
KAFKA_OTHER_HOST_PORT="${KAFKA_OTHER_HOST_PORT:-9098}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
KAFKA_HEAP="${KAFKA_HEAP:--Xms256m -Xmx512m}"
SASL_USER=hievc
SASL_PASSWORD=hievc-secret
TLS_KEY_PASSWORD=hievc-key-secret

KAFKA_HOME="$HIEVC_CACHE/kafka-$KAFKA_VERSION"
LIBS="$KAFKA_HOME/libs"
DATA="${HIEVC_KAFKA_DATA:-/tmp/hie-vc-kafka}"
LOG_DIRS="$DATA/logs"     # Kafka's "log dirs" = partition data, not text logs
CONFIG="$DATA/server.properties"
LOG4J_CONFIG="$DATA/log4j2.properties"
PIDFILE="$DATA/kafka.pid"
LOGFILE="$DATA/kafka.log"
LOCKFILE="${HIEVC_KAFKA_LOCK:-/tmp/hie-vc-kafka.lock}"  # outside DATA: reset wipes DATA
PID_PATTERN="kafka.Kafka $CONFIG"   # identifies our broker in /proc/<pid>/cmdline
TLS_DIR="${HIEVC_KAFKA_TLS_DIR:-$DATA/tls}"
# The CA and certificates are valid this long; a start regenerates them when less than a day
# is left (a cached test CA must never make the suite fail by expiring).
TLS_DAYS=3650

if [[ -n ${JAVA:-} ]]; then :
elif [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java ]]; then JAVA="$JAVA_HOME/bin/java"
else JAVA=java
fi

check_java() {
    command -v "$JAVA" >/dev/null || svc_die "java not found (set JAVA or JAVA_HOME; Kafka $KAFKA_VERSION needs 17+)"
    local v
    v=$("$JAVA" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
    if ! [[ ${v%%.*} =~ ^[0-9]+$ ]] || ((${v%%.*} < 17)); then
        svc_die "Kafka $KAFKA_VERSION needs Java 17+, $JAVA is '$v'"
    fi
}

# Fetch kafka_2.13 and its runtime dependencies with a throwaway pom. Done
# into a temporary directory and renamed at the end, so an interrupted
# download is never mistaken for a complete one.
fetch_jars() {
    if [[ -f $LIBS/.complete ]]; then
        return 0
    fi
    command -v mvn >/dev/null || svc_die "mvn not found (apt-get install -y maven)"
    svc_log "fetching Kafka $KAFKA_VERSION jars from Maven Central into $LIBS"
    local work="$KAFKA_HOME/fetch"
    rm -rf "$work" "$LIBS"
    mkdir -p "$work"
    # slf4j-api 2 + log4j-slf4j2-impl: kafka_2.13's pom only brings
    # slf4j-api 1.7 with no binding, which silently drops every log line
    # (the official distribution ships this pair).
    cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>hie-vc</groupId>
  <artifactId>kafka-jars</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$KAFKA_VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-api</artifactId>
      <version>2.0.17</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j2-impl</artifactId>
      <version>2.25.4</version>
    </dependency>
  </dependencies>
</project>
EOF
    # mvn's chatter goes to a file: callers may parse this script's stdout.
    if ! (cd "$work" && mvn -q -B -Dstyle.color=never dependency:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$work/libs") >"$work/mvn.log" 2>&1; then
        cat "$work/mvn.log" >&2
        svc_die "mvn could not fetch Kafka $KAFKA_VERSION (log: $work/mvn.log)"
    fi
    touch "$work/libs/.complete"
    mv "$work/libs" "$LIBS"
    rm -rf "$work"
}

write_config() {
    mkdir -p "$LOG_DIRS"
    # Written on every start so a port override (KAFKA_PORT=...) takes effect;
    # the data itself is kept.
    cat >"$CONFIG" <<EOF
# Generated by tests/services/kafka.sh -- edits are overwritten on start.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,SASL_PLAINTEXT://127.0.0.1:$KAFKA_SASL_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT,SSL://127.0.0.1:$KAFKA_SSL_PORT,SASL_SSL://127.0.0.1:$KAFKA_SASL_SSL_PORT,MTLS://127.0.0.1:$KAFKA_MTLS_PORT,OTHERHOST://127.0.0.1:$KAFKA_OTHER_HOST_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,SASL_PLAINTEXT://127.0.0.1:$KAFKA_SASL_PORT,SSL://127.0.0.1:$KAFKA_SSL_PORT,SASL_SSL://127.0.0.1:$KAFKA_SASL_SSL_PORT,MTLS://127.0.0.1:$KAFKA_MTLS_PORT,OTHERHOST://127.0.0.1:$KAFKA_OTHER_HOST_PORT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,MTLS:SSL,OTHERHOST:SSL
inter.broker.listener.name=PLAINTEXT

# SASL on its own listener. PLAIN checks the user_<name> entries of its JAAS
# line; SCRAM checks the credentials stored in the cluster metadata by
# 'kafka-storage format --add-scram' (see format_storage).
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256,SCRAM-SHA-512
listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="$SASL_USER" password="$SASL_PASSWORD" user_$SASL_USER="$SASL_PASSWORD";
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;

# TLS (PEM files, which Kafka 4 reads directly; see make_tls). Every TLS listener presents
# broker.pem and trusts ca.pem for client certificates; the listener-prefixed keys override
# that per listener. The SCRAM users live in the cluster metadata, so they are the same on
# every SASL listener; PLAIN's users are per listener (its JAAS line).
ssl.keystore.type=PEM
ssl.keystore.location=$TLS_DIR/broker.pem
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.pem
ssl.client.auth=none
listener.name.mtls.ssl.client.auth=required
listener.name.otherhost.ssl.keystore.location=$TLS_DIR/other-host.pem
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="$SASL_USER" password="$SASL_PASSWORD" user_$SASL_USER="$SASL_PASSWORD";
listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;

# Test-friendly defaults: one node, so every internal topic has RF 1; few
# internal partitions so the first consumer group / transaction is quick.
auto.create.topics.enable=true
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0

log.dirs=$LOG_DIRS
EOF
    cat >"$LOG4J_CONFIG" <<'EOF'
# Broker log to stdout (redirected to kafka.log). INFO for the broker's own
# lifecycle messages; the chattiest per-partition loggers at WARN.
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.log.name = org.apache.kafka.storage.internals.log
logger.log.level = WARN
logger.unifiedlog.name = kafka.log
logger.unifiedlog.level = WARN
logger.partition.name = kafka.cluster.Partition
logger.partition.level = WARN
EOF
}

# tls_fresh FILE: the certificate in FILE exists and is valid for at least another day.
tls_fresh() {
    [[ -f $1 ]] && openssl x509 -in "$1" -noout -checkend 86400 >/dev/null 2>&1
}

# tls_leaf NAME CN SAN EKU: a key and a certificate signed by the test CA, in $work.
tls_leaf() {
    local name=$1 cn=$2 san=$3 eku=$4
    openssl req -new -newkey rsa:2048 -nodes -keyout "$work/$name.key" -out "$work/$name.csr" \
        -subj "/O=hie-vc tests/CN=$cn"
    printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=%s\n%s\n' \
        "$eku" "${san:+subjectAltName=$san}" >"$work/$name.ext"
    openssl x509 -req -in "$work/$name.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" \
        -set_serial "0x$(openssl rand -hex 16)" -days "$TLS_DAYS" -sha256 \
        -extfile "$work/$name.ext" -out "$work/$name.crt"
}

# The test CA and the certificates of the TLS listeners (see the header), made once and kept
# with the broker's data. Made in a temporary directory and renamed at the end, so a broker
# never starts on half of them.
make_tls() {
    if tls_fresh "$TLS_DIR/ca.pem" && tls_fresh "$TLS_DIR/broker.pem" \
        && tls_fresh "$TLS_DIR/other-host.pem" && tls_fresh "$TLS_DIR/client.pem" \
        && [[ -f $TLS_DIR/other-ca.pem && -f $TLS_DIR/client.key ]]; then
        return 0
    fi
    command -v openssl >/dev/null || svc_die "openssl not found (apt-get install -y openssl)"
    svc_log "making the test CA and certificates in $TLS_DIR"
    local work="$TLS_DIR.new"
    rm -rf "$work"
    mkdir -p "$work"
    # set -e inside a subshell is ignored when the subshell is tested (`( ... ) || ...`), so
    # its status is read afterwards instead.
    local rc=0
    set +e
    (
        set -e
        for ca in ca other-ca; do
            openssl req -new -x509 -newkey rsa:2048 -nodes -keyout "$work/$ca.key" \
                -out "$work/$ca.pem" -days "$TLS_DAYS" -sha256 -subj "/O=hie-vc tests/CN=hie-vc test $ca" \
                -addext "basicConstraints=critical,CA:TRUE" \
                -addext "keyUsage=critical,keyCertSign,cRLSign"
        done
        tls_leaf broker 127.0.0.1 "IP:127.0.0.1,DNS:localhost" serverAuth
        tls_leaf other-host not-this-broker.invalid "DNS:not-this-broker.invalid" serverAuth
        tls_leaf client hievc-test-client "" clientAuth
        # Kafka's PEM keystore: the (unencrypted PKCS#8) key and the certificate chain.
        cat "$work/broker.key" "$work/broker.crt" "$work/ca.pem" >"$work/broker.pem"
        cat "$work/other-host.key" "$work/other-host.crt" "$work/ca.pem" >"$work/other-host.pem"
        cp "$work/client.crt" "$work/client.pem"
        # The client key is encrypted: the tests pass its password (ssl.key.password).
        openssl pkcs8 -topk8 -v2 aes-256-cbc -in "$work/client.key" -out "$work/client.key.enc" \
            -passout "pass:$TLS_KEY_PASSWORD"
        mv "$work/client.key.enc" "$work/client.key"
        rm -f "$work"/*.csr "$work"/*.ext "$work"/*.crt "$work/broker.key" "$work/other-host.key" \
            "$work/other-ca.key" "$work/ca.key"
        chmod 600 "$work"/*.key "$work"/*.pem
    ) >"$DATA/tls.log" 2>&1
    rc=$?
    set -e
    ((rc == 0)) || { cat "$DATA/tls.log" >&2; svc_die "making the TLS certificates failed"; }
    rm -rf "$TLS_DIR"
    mv "$work" "$TLS_DIR"
}

# The JVM command line shared by the storage tool and the broker, in JVM_CMD.
jvm_cmd() {
    local heap
    read -ra heap <<<"$KAFKA_HEAP"   # a list of JVM options
    JVM_CMD=("$JAVA" "${heap[@]}" -XX:+UseG1GC -Djava.awt.headless=true
        -Dlog4j2.configurationFile="$LOG4J_CONFIG" -cp "$LIBS/*")
}

kafka_java() {
    jvm_cmd
    "${JVM_CMD[@]}" "$@"
}

# Format the KRaft storage once (meta.properties marks a formatted dir). The
# SCRAM credentials can only be put into a fresh cluster's metadata here,
# before the first start, without an admin client.
format_storage() {
    [[ -f $LOG_DIRS/meta.properties ]] && return 0
    svc_log "formatting storage in $LOG_DIRS"
    local cluster_id
    cluster_id=$(kafka_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
    # Note: Debian's kcat (librdkafka 2.0.2) cannot do SCRAM against any
    # Kafka 4.x broker (a client nonce bug fixed in librdkafka 2.6.1; Kafka 4
    # checks the nonce strictly). PLAIN works with it; use librdkafka >= 2.6.1
    # (e.g. the rdkafka crate's bundled one) or the Java client for SCRAM.
    kafka_java kafka.tools.StorageTool format --config "$CONFIG" --cluster-id "$cluster_id" \
        --add-scram "SCRAM-SHA-256=[name=$SASL_USER,password=\"$SASL_PASSWORD\"]" \
        --add-scram "SCRAM-SHA-512=[name=$SASL_USER,password=\"$SASL_PASSWORD\"]" \
        >"$DATA/format.log" 2>&1 \
        || { cat "$DATA/format.log" >&2; svc_die "storage format failed"; }
}

ensure_kcat() {
    command -v kcat >/dev/null && return 0
    # Debian's kcat is the probe (and the test suite's independent client).
    # Only try apt as root, and refresh the index only if the first try fails.
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        svc_log "installing kcat with apt-get"
        { apt-get install -y -q kcat || { apt-get update -q && apt-get install -y -q kcat; }; } \
            >/dev/null 2>&1 || true
    fi
    command -v kcat >/dev/null
}

# "Answering" = the broker serves a metadata request on the PLAINTEXT port and
# the SASL port accepts connections. Without kcat, fall back to the log line
# the broker prints once fully started plus open ports.
answering() {
    if command -v kcat >/dev/null; then
        kcat -b "127.0.0.1:$KAFKA_PORT" -L -m 5 >/dev/null 2>&1 || return 1
    else
        svc_port_open 127.0.0.1 "$KAFKA_PORT" || return 1
        grep -q 'Kafka Server started' "$LOGFILE" 2>/dev/null || return 1
    fi
    local p
    for p in "$KAFKA_SASL_PORT" "$KAFKA_SSL_PORT" "$KAFKA_SASL_SSL_PORT" "$KAFKA_MTLS_PORT" \
        "$KAFKA_OTHER_HOST_PORT"; do
        svc_port_open 127.0.0.1 "$p" || return 1
    done
}

ports_line() {
    echo "127.0.0.1:$KAFKA_PORT, SASL :$KAFKA_SASL_PORT, SSL :$KAFKA_SSL_PORT, SASL_SSL :$KAFKA_SASL_SSL_PORT, mTLS :$KAFKA_MTLS_PORT, other-host TLS :$KAFKA_OTHER_HOST_PORT (TLS files in $TLS_DIR)"
}

do_start() {
    if [[ ${KAFKA_FRESH:-0} == 1 ]]; then
        do_reset
    fi
    ensure_kcat || svc_log "kcat unavailable; probing with TCP + log line instead"
    if svc_pid "$PIDFILE" "$PID_PATTERN" >/dev/null; then
        # A broker started by an older version of this script has no TLS listeners, and
        # waiting for them would only time out.
        if ! grep -q "OTHERHOST://127.0.0.1:$KAFKA_OTHER_HOST_PORT" "$CONFIG" 2>/dev/null; then
            svc_die "the running broker (pid $(<"$PIDFILE")) was started without the TLS listeners; restart it: $0 restart"
        fi
        # Already running (or still starting from a concurrent call): just
        # wait until it answers.
        if svc_wait "$KAFKA_START_TIMEOUT" "$PIDFILE" "$PID_PATTERN" answering; then
            svc_log "already running (pid $(<"$PIDFILE")) on $(ports_line)"
            return 0
        fi
        svc_show_log "$LOGFILE"
        return 1
    fi
    # Something else on our ports (e.g. a broker from another data dir) would
    # make the new broker fail to bind, or worse, tests talk to the wrong one.
    local p
    for p in "$KAFKA_PORT" "$KAFKA_SASL_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_SSL_PORT" \
        "$KAFKA_SASL_SSL_PORT" "$KAFKA_MTLS_PORT" "$KAFKA_OTHER_HOST_PORT"; do
        svc_port_open 127.0.0.1 "$p" && svc_die "port $p is already in use by another process"
    done
    check_java
    fetch_jars
    write_config
    make_tls
    format_storage
    local t0=$SECONDS
    jvm_cmd
    svc_spawn "$PIDFILE" "$LOGFILE" "$DATA" "${JVM_CMD[@]}" kafka.Kafka "$CONFIG"
    if svc_wait "$KAFKA_START_TIMEOUT" "$PIDFILE" "$PID_PATTERN" answering; then
        svc_log "started (pid $(<"$PIDFILE")) in $((SECONDS - t0)) s on $(ports_line); log: $LOGFILE"
        return 0
    fi
    # Do not leave a half-started broker behind.
    svc_stop "$PIDFILE" "$PID_PATTERN" 30 || true
    svc_show_log "$LOGFILE"
    return 1
}

do_stop() {
    # 60 s: a clean shutdown lets the next start skip log recovery.
    svc_stop "$PIDFILE" "$PID_PATTERN" 60
}

do_status() {
    local pid
    if pid=$(svc_pid "$PIDFILE" "$PID_PATTERN") && answering; then
        echo "kafka running (pid $pid) on $(ports_line)"
        return 0
    fi
    echo "kafka not running"
    return 1
}

do_reset() {
    do_stop
    # Guard against a surprising HIEVC_KAFKA_DATA such as "/" or "$HOME".
    [[ $DATA == /tmp/* || -f $DATA/server.properties || ! -e $DATA ]] \
        || svc_die "refusing to wipe $DATA (not under /tmp and not a Kafka data dir)"
    svc_log "wiping $DATA"
    rm -rf "$DATA"
}

case "${1:-}" in
    start) svc_lock "$LOCKFILE"; do_start ;;
    stop) svc_lock "$LOCKFILE"; do_stop ;;
    restart) svc_lock "$LOCKFILE"; do_stop; do_start ;;
    status) do_status ;;
    tls-dir) echo "$TLS_DIR" ;;
    reset) svc_lock "$LOCKFILE"; do_reset ;;
    # Fetch the jars (and kcat) without starting the broker.
    install) svc_lock "$LOCKFILE"; check_java; fetch_jars; ensure_kcat || true ;;
    *) echo "usage: $0 start|stop|restart|status|reset|install|tls-dir" >&2; exit 2 ;;
esac
