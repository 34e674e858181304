#!/usr/bin/env bash
# The whole demo on one machine: a local Kafka broker, the demo CRM, the service polling it, and the events as
# they arrive (the service is started before the manifest is applied: it creates the topics). Ctrl-C stops what this script started (a broker that was already running is left alone).
#
#   bash deploy/demo/run.sh        (or `make demo`)
#
# KAFKA_PORT [9092]  CRM_PORT [8081]  HTTP_PORT [8080]  CRM_RATE [0.5 changes/s]
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
PYTHON=${PYTHON:-python3}
CRM_PORT=${CRM_PORT:-8081}
HTTP_PORT=${HTTP_PORT:-8080}
CRM_RATE=${CRM_RATE:-0.5}
LOGS=${LOGS:-$(mktemp -d "${TMPDIR:-/tmp}/connector-events-demo.XXXXXX")}
CLI=(connector-events)
command -v connector-events >/dev/null 2>&1 || CLI=("$PYTHON" -m service)

pids=()
started_kafka=0

cleanup() {
  trap - INT TERM EXIT
  echo >&2
  echo "demo: stopping" >&2
  # Reverse order: tail, the service (it commits and leaves its group), then the CRM.
  for (( i=${#pids[@]}-1; i>=0; i-- )); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  if [[ $started_kafka == 1 ]]; then
    bash deploy/kafka.sh stop >&2 || true
  fi
  echo "demo: logs are in $LOGS" >&2
}
trap cleanup INT TERM EXIT

if bootstrap=$(bash deploy/kafka.sh status 2>/dev/null); then
  echo "demo: using the Kafka broker already running at $bootstrap" >&2
else
  echo "demo: starting Kafka (deploy/kafka.sh start)" >&2
  bootstrap=$(bash deploy/kafka.sh start | tail -n 1)
  started_kafka=1
fi
export CONNECTOR_EVENTS_KAFKA__BOOTSTRAP_SERVERS=$bootstrap
export CONNECTOR_EVENTS_HTTP__PORT=$HTTP_PORT
export CONNECTOR_EVENTS_LOG_FORMAT=${CONNECTOR_EVENTS_LOG_FORMAT:-text}
export DEMO_CRM_TOKEN=${DEMO_CRM_TOKEN:-demo-token}

echo "demo: starting the demo CRM on 127.0.0.1:$CRM_PORT (log: $LOGS/crm.log)" >&2
"$PYTHON" deploy/demo/crm.py --port "$CRM_PORT" --rate "$CRM_RATE" --token "$DEMO_CRM_TOKEN" >"$LOGS/crm.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do
  curl -fsS "http://127.0.0.1:$CRM_PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done

# The service first: it creates the topics at start, and picks up instances applied while it runs.
echo "demo: starting connector-events run (log: $LOGS/service.log; metrics on :$HTTP_PORT/metrics)" >&2
"${CLI[@]}" run >"$LOGS/service.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do
  curl -fsS "http://127.0.0.1:$HTTP_PORT/readyz" >/dev/null 2>&1 && break
  kill -0 "${pids[-1]}" 2>/dev/null || { echo "demo: the service exited; see $LOGS/service.log" >&2; exit 1; }
  sleep 0.2
done

echo "demo: applying deploy/demo/config.yaml" >&2
config=deploy/demo/config.yaml
if [[ $CRM_PORT != 8081 ]]; then
  config="$LOGS/config.yaml"
  sed "s#http://127.0.0.1:8081/api#http://127.0.0.1:$CRM_PORT/api#" deploy/demo/config.yaml >"$config"
fi
"${CLI[@]}" apply -f "$config" >&2

echo "demo: events as they arrive (Ctrl-C to stop everything)" >&2
# In the background and waited for, so that Ctrl-C (or a TERM to this script) runs the cleanup at once.
"${CLI[@]}" tail --from-beginning &
pids+=($!)
wait "${pids[-1]}"
