#!/usr/bin/env bash
# Restarts this machine's PostgreSQL cluster (Debian's pg_ctlcluster), as a power blip would.
set -euo pipefail
version=$(ls /etc/postgresql | sort -V | tail -n 1)
pg_ctlcluster --skip-systemctl-redirect "$version" main restart
