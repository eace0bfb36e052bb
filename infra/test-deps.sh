#!/usr/bin/env bash
# Installs what the test suite needs beyond the stack: Debian's Chromium for the browser test
# and promtool for the monitoring checks.
# Idempotent; does nothing when it is already there.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium (browser tests)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
fi
# promtool (tests/unit/test_monitoring.py): built with `go install`, minutes on a cold cache —
# done here, before the suite, not inside a test's time limit
bash "$(dirname "$0")/promtool.sh" >/dev/null
