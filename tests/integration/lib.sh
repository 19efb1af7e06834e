# lib.sh - helpers for integration tests (sourced). Tests speak TAP.
set -u
SRCDIR=${CAIRN_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILDDIR=${CAIRN_BUILDDIR:-$SRCDIR}
CAIRN="$BUILDDIR/cairn"
# The Kubernetes v1.28 OpenAPI documents, read in place (never copied).
K8S_OPENAPI=${CAIRN_K8S_OPENAPI:-$SRCDIR/../shared/k8s-openapi/v1.28}
TAP_N=0
TAP_FAILED=0
TMP=$(mktemp -d "${TMPDIR:-/tmp}/cairn-it.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
not_ok() { TAP_N=$((TAP_N + 1)); TAP_FAILED=$((TAP_FAILED + 1)); echo "not ok $TAP_N - $*"; }
# check DESCRIPTION COMMAND...: passes when the command succeeds
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
done_testing() { echo "1..$TAP_N"; [ "$TAP_FAILED" = 0 ]; }
