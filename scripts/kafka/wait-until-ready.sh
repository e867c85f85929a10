#!/usr/bin/env bash
# Wait until the broker really serves requests (not just an open port): a
# metadata round-trip via TopicCommand --list must succeed.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

timeout_s="${KAFKA_READY_TIMEOUT:-90}"
deadline=$((SECONDS + timeout_s))
attempt_log="$LOG_DIR/ready-check.log"
mkdir -p "$LOG_DIR"
: > "$attempt_log"   # don't report a previous run's output on failure
start=$SECONDS

fail() {
  log "$1"
  if [[ -f "$SERVER_LOG" ]]; then
    log "last 50 lines of $SERVER_LOG:"
    tail -n 50 "$SERVER_LOG" >&2
  fi
  [[ -s "$LOG_DIR/stdout.log" ]] && { log "broker stdout/stderr:"; tail -n 20 "$LOG_DIR/stdout.log" >&2; }
  [[ -s "$attempt_log" ]] && { log "last ready-check output:"; tail -n 10 "$attempt_log" >&2; }
  exit 1
}

while ((SECONDS < deadline)); do
  # If we started it and it died, waiting longer is pointless.
  if [[ -f "$PID_FILE" ]] && ! broker_pid >/dev/null; then
    pid="$(cat "$PID_FILE")"
    rm -f "$PID_FILE"   # stale now; a later start.sh or wait must not trip on it
    fail "broker process $pid exited during startup"
  fi
  # Cheap bash check first; only spend a JVM start when the port is open.
  # The per-attempt timeout bounds the admin client's own retries.
  if port_open "$KAFKA_HOST" "$KAFKA_PORT" &&
     TOOL_TIMEOUT=20 kafka_tool org.apache.kafka.tools.TopicCommand \
       --bootstrap-server "$BOOTSTRAP" --list > "$attempt_log" 2>&1; then
    log "broker ready on $BOOTSTRAP (waited $((SECONDS - start))s)"
    exit 0
  fi
  sleep 1
done
fail "broker not ready on $BOOTSTRAP after ${timeout_s}s"
