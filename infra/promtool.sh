#!/usr/bin/env bash
# Installs promtool (Prometheus's rule/config checker) into the git-ignored .tools/bin, the way
# the project installs its other Go tools: `go install` from the Go module proxy, pinned.
# Idempotent: does nothing when the pinned version is there. Prints the binary's path.
# Used by tests/unit/test_monitoring.py (which fails, not skips, when it cannot be had).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
VERSION=v0.316.0 # github.com/prometheus/prometheus module version of Prometheus 3.16.0
BIN="$ROOT/.tools/bin"
STAMP="$BIN/.promtool-$VERSION"
if [ ! -x "$BIN/promtool" ] || [ ! -e "$STAMP" ]; then
    command -v go >/dev/null 2>&1 || { echo "promtool: a Go toolchain is needed (go install)" >&2; exit 1; }
    mkdir -p "$BIN"
    echo "installing promtool $VERSION into $BIN" >&2
    GOBIN="$BIN" GOFLAGS=-mod=mod go install "github.com/prometheus/prometheus/cmd/promtool@$VERSION" >&2
    rm -f "$BIN"/.promtool-* && touch "$STAMP"
fi
echo "$BIN/promtool"
