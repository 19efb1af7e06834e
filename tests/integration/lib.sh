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

# ---- set-up shared by the tests that run git, cairn-sim or cairnd ----------
# (older scripts spell these out; new ones use them)

# need TOOL...: skip the whole test when a tool is not installed
need() {
	local t
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || { echo "1..0 # SKIP $t is not installed"; exit 0; }
	done
}
# git_home: a HOME of the test's own with git's identity, main as the
# default branch, and no system configuration
git_home() {
	export GIT_CONFIG_NOSYSTEM=1 HOME="$TMP/home"
	mkdir -p "$HOME"
	git config --global user.name t && git config --global user.email t@t &&
		git config --global init.defaultBranch main
}
# freeport: a free TCP port on 127.0.0.1
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# sim_start [ARGS...]: cairn-sim on 127.0.0.1 writing $KUBECONFIG (set it
# first); sets SIMPID and SERVER; fails when it did not come up in 10 s
sim_start() {
	"${SIM:-$BUILDDIR/cairn-sim}" --listen 127.0.0.1:0 --kubeconfig-out "$KUBECONFIG" "$@" \
		>"$TMP/sim.out" 2>"$TMP/sim.err" &
	SIMPID=$!
	for _ in $(seq 100); do
		[ -s "$KUBECONFIG" ] && break
		sleep 0.1
	done
	[ -s "$KUBECONFIG" ] || return 1
	SERVER=$(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.server}')
}
# env_yaml NAME: an Environment NAME on cairn-sim's cluster owning the
# namespaces NAME*, NAME the default
env_yaml() {
	cat <<Y
apiVersion: cairn.dev/v1alpha1
kind: Environment
metadata: {name: $1}
spec:
  cluster: {server: "$SERVER", kubeconfig: "$KUBECONFIG"}
  namespaces: ["$1*"]
  defaultNamespace: $1
Y
}
# wait_ready URL: until URL/readyz answers 200 (10 s at most)
wait_ready() {
	for _ in $(seq 100); do
		curl -sf "$1/readyz" >/dev/null && return 0
		sleep 0.1
	done
	return 1
}
