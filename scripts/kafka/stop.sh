#!/usr/bin/env bash
# Stop the broker started by start.sh: SIGTERM (clean shutdown, so the next
# start needs no log recovery), SIGKILL after 30 s. No broker -> nothing to do.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if ! pid="$(broker_pid)"; then
  rm -f "$PID_FILE"
  if port_open "$KAFKA_HOST" "$KAFKA_PORT"; then
    log "no broker started by these scripts, but something listens on $BOOTSTRAP; leaving it alone"
  else
    log "no broker running"
  fi
  exit 0
fi

log "stopping broker (pid $pid)"
kill -TERM "$pid" 2>/dev/null || true
for _ in $(seq 1 30); do
  if ! kill -0 "$pid" 2>/dev/null; then
    rm -f "$PID_FILE"
    log "broker stopped"
    exit 0
  fi
  sleep 1
done
log "broker still alive after 30s, sending SIGKILL"
kill -KILL "$pid" 2>/dev/null || true
sleep 1
rm -f "$PID_FILE"
log "broker killed"
