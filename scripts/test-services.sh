#!/usr/bin/env bash
# Installs what the test suite needs beyond Python packages, from Debian packages:
# Chromium (browser tests of the app) and a PostgreSQL server (store tests on PostgreSQL).
# Idempotent; skipped with a note when not root (those tests then skip and say why).
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing: ${need[*]}" >&2
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "note: cannot install ${need[*]} (not root or no apt-get); those tests will skip" >&2
  fi
fi
