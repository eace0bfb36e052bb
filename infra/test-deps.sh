#!/usr/bin/env bash
# Installs what the test suite needs beyond the stack: Debian's Chromium for the browser test.
# Idempotent; does nothing when it is already there.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  echo "installing chromium (browser tests)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q chromium >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q chromium >/dev/null; }
fi
