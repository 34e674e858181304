#!/usr/bin/env bash
# A single-node Apache Kafka broker (KRaft, broker+controller in one JVM) for development and CI.
# Its jars come from Maven Central through deploy/kafka/pom.xml and run on the machine's Java 17.
#
#   deploy/kafka.sh fetch    download the broker jars into the cache (nothing when already cached)
#   deploy/kafka.sh start    fetch, format storage, start, wait until it answers; prints the bootstrap address
#   deploy/kafka.sh stop     SIGTERM, then SIGKILL after KAFKA_STOP_TIMEOUT seconds
#   deploy/kafka.sh status   exit 0 and print the bootstrap address when running, exit 1 otherwise
#
# Environment (defaults in brackets):
#   KAFKA_VERSION [3.9.2]   KAFKA_PORT [9092]   KAFKA_CONTROLLER_PORT [KAFKA_PORT+1]
#   KAFKA_HOME [~/.cache/connector-events/kafka-$KAFKA_VERSION]   jars in $KAFKA_HOME/libs
#   KAFKA_STATE_DIR [~/.cache/connector-events/kafka-state]       config, data, logs, pid of one broker
#   KAFKA_HEAP_OPTS [-Xms256m -Xmx512m]   KAFKA_START_TIMEOUT [90]   KAFKA_STOP_TIMEOUT [30]
#   KAFKA_CLEAN=1            wipe the data directory before starting
#   KAFKA_AUTO_CREATE_TOPICS [true]
#   KAFKA_MVN_ARGS           extra Maven arguments for fetch (e.g. -Dmaven.repo.local=/path)
# Messages go to stderr; `start` and `status` print only the bootstrap address on stdout.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/connector-events"

KAFKA_VERSION=${KAFKA_VERSION:-3.9.2}
KAFKA_HOME=${KAFKA_HOME:-$CACHE_ROOT/kafka-$KAFKA_VERSION}
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
KAFKA_STATE_DIR=${KAFKA_STATE_DIR:-$CACHE_ROOT/kafka-state}
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}
KAFKA_START_TIMEOUT=${KAFKA_START_TIMEOUT:-90}
KAFKA_STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}
KAFKA_AUTO_CREATE_TOPICS=${KAFKA_AUTO_CREATE_TOPICS:-true}
KAFKA_MVN_ARGS=${KAFKA_MVN_ARGS:-}

LIBS="$KAFKA_HOME/libs"
MAJOR=${KAFKA_VERSION%%.*}
if ((MAJOR >= 4)); then
    LOGGING=log4j2
    LOG_OPTS=(-Dlog4j2.configurationFile="$HERE/kafka/log4j2.properties")
else
    LOGGING=reload4j
    LOG_OPTS=(-Dlog4j.configuration="file:$HERE/kafka/log4j.properties")
fi
MARKER="$LIBS/.fetched-$KAFKA_VERSION-$LOGGING"

DATA_DIR="$KAFKA_STATE_DIR/data"
LOG_DIR="$KAFKA_STATE_DIR/logs"
CONFIG="$KAFKA_STATE_DIR/server.properties"
PID_FILE="$KAFKA_STATE_DIR/kafka.pid"
BOOTSTRAP_FILE="$KAFKA_STATE_DIR/bootstrap"
BOOTSTRAP="127.0.0.1:$KAFKA_PORT"

say() { echo "kafka.sh: $*" >&2; }
die() { say "$*"; exit 1; }

need() {
    command -v "$1" >/dev/null 2>&1 || die "$1 is not installed ($2)"
}

fetch() {
    if [[ -f "$MARKER" ]]; then
        say "Kafka $KAFKA_VERSION jars cached in $LIBS"
        return
    fi
    need mvn "Maven downloads the broker jars"
    say "downloading Kafka $KAFKA_VERSION ($LOGGING logging) from Maven Central into $LIBS"
    mkdir -p "$KAFKA_HOME"
    local tmp
    tmp=$(mktemp -d "$KAFKA_HOME/libs.tmp.XXXXXX")
    # shellcheck disable=SC2086 # KAFKA_MVN_ARGS is a list of arguments
    if ! mvn -B -q -Dstyle.color=never -f "$HERE/kafka/pom.xml" $KAFKA_MVN_ARGS \
        -Dkafka.version="$KAFKA_VERSION" -Dkafka.logging="$LOGGING" \
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" 2>&1 |
        sed $'s/\e\\[[0-9;]*m//g' >&2; then  # Maven 3.8 -q prints colour resets even with -B
        rm -rf "$tmp"
        die "Maven could not resolve org.apache.kafka:kafka_2.13:$KAFKA_VERSION (does that version exist?)"
    fi
    touch "$tmp/.fetched-$KAFKA_VERSION-$LOGGING"
    # Replace the whole directory: jars of an interrupted or other-logging fetch must not stay on the classpath.
    rm -rf "$LIBS"
    mv "$tmp" "$LIBS"
    say "fetched $(find "$LIBS" -name '*.jar' | wc -l) jars, $(du -sh "$LIBS" | cut -f1)"
}

# The pid of our broker, when it runs: the pid file names a live java process running kafka.Kafka.
running_pid() {
    [[ -f "$PID_FILE" ]] || return 1
    local pid
    pid=$(<"$PID_FILE")
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' || return 1
    echo "$pid"
}

port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

random_cluster_id() {
    # Kafka's Uuid format: 16 random bytes, URL-safe base64 without padding, never starting with '-'.
    python3 -c '
import base64, uuid
while True:
    cid = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
    if not cid.startswith("-"):
        print(cid)
        break'
}

write_config() {
    cat >"$CONFIG" <<EOF
# Written by deploy/kafka.sh start: single-node KRaft broker for development and tests.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$DATA_DIR

# One broker: every internal topic has one replica, and one in-sync replica is enough.
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=10
auto.create.topics.enable=$KAFKA_AUTO_CREATE_TOPICS
# Tests start consumer groups all the time: no waiting for more members.
group.initial.rebalance.delay.ms=0

# Small footprint on a 2-core machine; tests make many small topics.
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
background.threads=4
log.segment.bytes=1048576
log.retention.hours=24
log.retention.check.interval.ms=60000
EOF
    if ((MAJOR >= 4)); then
        cat >>"$CONFIG" <<EOF
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
EOF
    fi
}

# shellcheck disable=SC2206 # KAFKA_HEAP_OPTS is a list of JVM options
JAVA=(java $KAFKA_HEAP_OPTS -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:+ExitOnOutOfMemoryError
    -Djava.awt.headless=true -Dkafka.logs.dir="$LOG_DIR" "${LOG_OPTS[@]}" -cp "$LIBS/*")

format_storage() {
    # A data directory formatted for another version or other ports is a different broker: start afresh.
    local stamp="$KAFKA_VERSION $KAFKA_PORT $KAFKA_CONTROLLER_PORT"
    if [[ "${KAFKA_CLEAN:-0}" == 1 ]] || [[ "$(cat "$KAFKA_STATE_DIR/data.stamp" 2>/dev/null)" != "$stamp" ]]; then
        rm -rf "$DATA_DIR" "$KAFKA_STATE_DIR/data.stamp"
    fi
    [[ -f "$DATA_DIR/meta.properties" ]] && return
    mkdir -p "$DATA_DIR"
    local cluster_id
    cluster_id=$(random_cluster_id)
    if ! "${JAVA[@]}" kafka.tools.StorageTool format -t "$cluster_id" -c "$CONFIG" --ignore-formatted \
        >"$LOG_DIR/format.log" 2>&1; then
        cat "$LOG_DIR/format.log" >&2
        die "formatting $DATA_DIR failed"
    fi
    echo "$stamp" >"$KAFKA_STATE_DIR/data.stamp"
}

start() {
    local pid
    if pid=$(running_pid); then
        say "already running (pid $pid), logs in $LOG_DIR"
        cat "$BOOTSTRAP_FILE"
        return
    fi
    need java "Java 17 runs the broker"
    need python3 "the readiness probe is a Python script"
    fetch
    port_in_use "$KAFKA_PORT" && die "port $KAFKA_PORT is taken by another process (set KAFKA_PORT)"
    port_in_use "$KAFKA_CONTROLLER_PORT" &&
        die "controller port $KAFKA_CONTROLLER_PORT is taken by another process (set KAFKA_CONTROLLER_PORT)"

    mkdir -p "$KAFKA_STATE_DIR" "$LOG_DIR"
    write_config
    format_storage

    # This run's log starts empty, so the tail printed on failure is about this run.
    [[ -f "$LOG_DIR/server.log" ]] && mv "$LOG_DIR/server.log" "$LOG_DIR/server.log.previous"
    local started=$SECONDS
    # Own session, stdin/stdout/stderr detached: the broker outlives this script and holds none of its pipes
    # (a caller capturing our output would otherwise wait for the broker to exit).
    local detach=()
    command -v setsid >/dev/null 2>&1 && detach=(setsid)
    "${detach[@]}" bash -c 'echo $$ >"$0"; exec "$@"' "$PID_FILE" "${JAVA[@]}" kafka.Kafka "$CONFIG" \
        </dev/null >"$LOG_DIR/kafka.out" 2>&1 &
    echo "$BOOTSTRAP" >"$BOOTSTRAP_FILE"

    local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
    while ! python3 "$HERE/kafka/probe.py" 127.0.0.1 "$KAFKA_PORT" 1; do
        local failure=""
        ((SECONDS >= deadline)) && failure="did not answer within ${KAFKA_START_TIMEOUT}s"
        ((SECONDS - started > 2)) && ! running_pid >/dev/null && failure="exited"
        if [[ -n "$failure" ]]; then
            say "the broker $failure; last lines of its logs:"
            tail -n 40 "$LOG_DIR/server.log" "$LOG_DIR/kafka.out" >&2 2>/dev/null || true
            stop >/dev/null 2>&1 || true
            exit 1
        fi
        sleep 0.25
    done
    say "Kafka $KAFKA_VERSION up in $((SECONDS - started))s (pid $(<"$PID_FILE")), logs in $LOG_DIR"
    echo "$BOOTSTRAP"
}

stop() {
    local pid
    if ! pid=$(running_pid); then
        say "not running"
        rm -f "$PID_FILE"
        return
    fi
    kill -TERM "$pid"
    local deadline=$((SECONDS + KAFKA_STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null; do
        if ((SECONDS >= deadline)); then
            say "no exit ${KAFKA_STOP_TIMEOUT}s after SIGTERM: SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
    rm -f "$PID_FILE"
    say "stopped (pid $pid)"
}

status() {
    local pid
    if pid=$(running_pid); then
        say "running (pid $pid), logs in $LOG_DIR"
        cat "$BOOTSTRAP_FILE"
    else
        say "not running"
        return 1
    fi
}

case "${1:-}" in
    fetch) fetch ;;
    start) start ;;
    stop) stop ;;
    status) status ;;
    *)
        echo "usage: $0 {start|stop|status|fetch}" >&2
        exit 2
        ;;
esac
