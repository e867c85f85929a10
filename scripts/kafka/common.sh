# shellcheck shell=bash disable=SC2034  # variables are used by the scripts that source this
# Shared settings for the scripts in scripts/kafka/. Sourced, not executed.
#
# Knobs (environment):
#   KAFKA_HOME_DIR        cache dir for jars, config, data, logs (default: <repo>/.cache/kafka)
#   KAFKA_PORT            broker port on 127.0.0.1 (default 9092); the KRaft controller uses KAFKA_PORT+1
#   KAFKA_VERSION         Kafka version to fetch (default 4.4.0, falls back to 4.3.1 if unresolvable)
#   KAFKA_HEAP_OPTS       broker JVM heap flags (default -Xms256m -Xmx512m)
#   KAFKA_READY_TIMEOUT   seconds wait-until-ready.sh waits (default 90)

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$SCRIPT_DIR/../.." && pwd)"

CACHE="${KAFKA_HOME_DIR:-$REPO/.cache/kafka}"
LIBS="$CACHE/libs"
CONFIG_DIR="$CACHE/config"
DATA_DIR="$CACHE/data"
LOG_DIR="$CACHE/logs"
PID_FILE="$CACHE/kafka.pid"
SERVER_LOG="$LOG_DIR/server.log"

KAFKA_HOST=127.0.0.1
KAFKA_PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT=$((KAFKA_PORT + 1))
BOOTSTRAP="$KAFKA_HOST:$KAFKA_PORT"

log() { echo "[kafka] $*"; }
die() { echo "[kafka] ERROR: $*" >&2; exit 1; }

# True if something accepts TCP connections on host:port. Pure bash, no nc needed;
# `timeout` guards against a SYN that is never answered.
port_open() {
  timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

# Pid from the pid file if that process is alive and really is our broker
# (guards against a stale pid file whose pid got reused by something else).
broker_pid() {
  local pid
  [[ -f "$PID_FILE" ]] || return 1
  pid="$(cat "$PID_FILE")"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q 'kafka\.Kafka' || return 1
  echo "$pid"
}

# Log4j2 config for short-lived CLI tools: warnings only, to stderr. Without a
# config file log4j2 complains on every run.
write_tools_log_config() {
  mkdir -p "$CONFIG_DIR"
  cat > "$CONFIG_DIR/log4j2-tools.xml" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <Console name="stderr" target="SYSTEM_ERR">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Root level="WARN"><AppenderRef ref="stderr"/></Root>
  </Loggers>
</Configuration>
XML
}

# Run a Kafka CLI class with a small heap and quick JIT: these are short-lived.
# Set TOOL_TIMEOUT=<seconds> to bound the run (admin clients retry for a long time).
kafka_tool() {
  [[ -f "$CONFIG_DIR/log4j2-tools.xml" ]] || write_tools_log_config
  # shellcheck disable=SC2086  # intentionally splits into: timeout N
  ${TOOL_TIMEOUT:+timeout $TOOL_TIMEOUT} java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
    -Dlog4j2.configurationFile="$CONFIG_DIR/log4j2-tools.xml" \
    -cp "$LIBS/*" "$@"
}
