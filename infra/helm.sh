#!/usr/bin/env bash
# Installs Helm (the `helm` CLI used by `make k8s-check`) into the project's own bin folder,
# `.state/bin/helm` (git-ignored), with the machine's Go toolchain — the project installs its tools
# from their registries, nothing system-wide. Idempotent: prints the path and does nothing more
# when that version is already there.
#   bash infra/helm.sh          # -> .state/bin/helm
# Knobs: PANTAU_HELM_VERSION (v3.22.0), PANTAU_BIN_DIR (.state/bin), GO (go).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="${PANTAU_HELM_VERSION:-v3.22.0}"
BIN_DIR="${PANTAU_BIN_DIR:-$ROOT/.state/bin}"
HELM="$BIN_DIR/helm"
GO="${GO:-$(command -v go || echo /usr/local/go/bin/go)}"

# Helm's release build stamps its version and the Kubernetes version of its client-go (the
# default of `helm template`/`helm lint` without --kube-version; unstamped it would be 1.20 and
# refuse the chart's kubeVersion) with linker flags; a plain `go install` would not.
KUBE_MINOR="${PANTAU_HELM_KUBE_MINOR:-37}"  # helm v3.22 is built on client-go v0.37
LDFLAGS="-X helm.sh/helm/v3/internal/version.version=$VERSION"
for pkg in pkg/chartutil pkg/lint/rules; do
  LDFLAGS+=" -X helm.sh/helm/v3/$pkg.k8sVersionMajor=1 -X helm.sh/helm/v3/$pkg.k8sVersionMinor=$KUBE_MINOR"
done
if [[ -x "$HELM" && "$(cat "$HELM.ldflags" 2>/dev/null)" == "$LDFLAGS" ]] &&
   "$HELM" version --template '{{.Version}}' 2>/dev/null | grep -qx "$VERSION"; then
  echo "$HELM"; exit 0
fi
[[ -x "$GO" ]] || { echo "infra/helm.sh: no Go toolchain (set GO=/path/to/go)" >&2; exit 1; }
mkdir -p "$BIN_DIR"
echo "installing helm $VERSION into $BIN_DIR (go install)" >&2
GOBIN="$BIN_DIR" CGO_ENABLED=0 "$GO" install -ldflags "$LDFLAGS" \
  "helm.sh/helm/v3/cmd/helm@$VERSION" >&2
echo "$LDFLAGS" > "$HELM.ldflags"
echo "$HELM"
