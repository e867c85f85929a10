#!/usr/bin/env bash
# Fetch a real Apache Kafka broker (and its whole runtime classpath) from Maven
# Central into $KAFKA_HOME_DIR/libs. No Docker, no tarball download: only Maven,
# which dev machines and CI already reach. Idempotent: a marker file records what
# was fetched, so a second run downloads nothing.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

PRIMARY_VERSION="${KAFKA_VERSION:-4.4.0}"
FALLBACK_VERSION=4.3.1
MARKER="$LIBS/.fetched"
POM="$SCRIPT_DIR/pom.xml"

command -v java >/dev/null || die "java not found (Java 17+ needed)"
command -v mvn >/dev/null || die "mvn not found (Maven needed to fetch Kafka)"

# The marker is keyed on the requested version and the pom's hash, so editing
# the pom (or asking for another version) triggers a fresh fetch.
pom_hash="$(sha256sum "$POM" | cut -d' ' -f1)"
wanted="requested=$PRIMARY_VERSION pom=$pom_hash"
if [[ -f "$MARKER" ]] && grep -qxF "$wanted" "$MARKER"; then
  log "libs already complete in $LIBS ($(grep '^kafka=' "$MARKER")); nothing to download"
  exit 0
fi

# Download into a temp dir and swap it in at the end, so an interrupted fetch
# never leaves a half-filled libs dir that looks usable.
mkdir -p "$CACHE"
tmp="$CACHE/libs.tmp"
rm -rf "$tmp"

fetch_version() {
  log "resolving org.apache.kafka:kafka_2.13:$1 and runtime deps via Maven (first run on a fresh ~/.m2 takes a while)..."
  # The pom has <packaging>pom</packaging>, so nothing is built: Maven only resolves
  # and copies jars. Its output goes to a log (Debian's mvn 3.8 prints stray colour
  # codes even with -q -B) and is shown only on failure.
  if ! mvn -q -B -f "$POM" -Dkafka.version="$1" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" \
      > "$CACHE/fetch-maven.log" 2>&1; then
    sed 's/\x1b\[[0-9;]*m//g' "$CACHE/fetch-maven.log" |
      grep -m 3 -E '^\[ERROR\] .*(Failed|Could not)' | cut -c1-400 >&2 || true
    log "(full Maven output: $CACHE/fetch-maven.log)"
    return 1
  fi
}

start=$SECONDS
if fetch_version "$PRIMARY_VERSION"; then
  version="$PRIMARY_VERSION"
elif [[ -z "${KAFKA_VERSION:-}" ]]; then
  log "kafka $PRIMARY_VERSION did not resolve; falling back to $FALLBACK_VERSION"
  rm -rf "$tmp"
  fetch_version "$FALLBACK_VERSION"
  version="$FALLBACK_VERSION"
else
  die "could not fetch Kafka $PRIMARY_VERSION (set explicitly via KAFKA_VERSION)"
fi

# Sanity check: the broker main class and the logging backend must be there.
[[ -f "$tmp/kafka_2.13-$version.jar" ]] || die "kafka_2.13-$version.jar missing after fetch"
ls "$tmp"/log4j-core-*.jar >/dev/null 2>&1 || die "log4j-core missing after fetch"

rm -rf "$LIBS"
mv "$tmp" "$LIBS"
{
  echo "$wanted"
  echo "kafka=$version"
  echo "slf4j-api=$(find "$LIBS" -name 'slf4j-api-*.jar' -printf '%f\n' | sed 's/^slf4j-api-//; s/\.jar$//')"
} > "$MARKER"

log "fetched Kafka $version: $(find "$LIBS" -name '*.jar' | wc -l) jars, $(du -sh "$LIBS" | cut -f1) in $LIBS ($((SECONDS - start))s)"
