#!/usr/bin/env bash
# Stop the broker and delete its data (topics, offsets, cluster id) and logs.
# The fetched jars are kept, so the next start.sh formats a fresh cluster quickly.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

"$SCRIPT_DIR/stop.sh"
rm -rf "$DATA_DIR" "$LOG_DIR"
log "deleted $DATA_DIR and $LOG_DIR (jars in $LIBS kept)"
