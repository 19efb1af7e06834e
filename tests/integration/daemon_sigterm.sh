#!/bin/bash
# daemon_sigterm.sh - SIGTERM while a sync is in flight (issue 10). The
# sync is made slow with cairn-sim's fault switch `latency_ms` on
# ConfigMaps (set at run time through /admin/faults), so it is still
# Running when the signal arrives.
#
# What cairnd does (src/cairnd/main.c, cairn_sched_stop): stop taking work,
# drop the queue, wait up to --grace for reconciles in flight, exit 0 when
# they finished, 1 when some were still running at the deadline. A row left
# Running by a process that ended is marked Error "interrupted: ..." by the
# state store when the next process opens it, and the next poll reconciles
# the app again.
#
#   1. a slow sync shorter than the grace: exit 0 after it finished, the
#      operation Succeeded at the pushed commit, the object live, /readyz
#      not ready during the grace period;
#   2. a sync longer than the grace: exit 1 within the grace + 1 s; after a
#      restart the operation is Error "interrupted", and the first poll
#      syncs the commit (nothing lost).
#
# Tier: fast (bounded: every wait has a timeout; about 25 s).
. "$(dirname "$0")/lib.sh"

SIM=${CAIRN_SIM:-$BUILDDIR/cairn-sim}
CAIRND=${CAIRND:-$BUILDDIR/cairnd}
for t in kubectl git curl python3; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "1..0 # SKIP $t is not installed"
		exit 0
	fi
done
SIMPID= DPID=
trap '[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null; [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
export GIT_CONFIG_NOSYSTEM=1 HOME="$TMP/home" KUBECONFIG="$TMP/kubeconfig"
unset CAIRN_CONFIG CAIRN_TOKEN CAIRN_STATE_DIR CAIRN_WEBHOOK_SECRET_GITHUB
mkdir -p "$HOME"
git config --global user.name t && git config --global user.email t@t &&
	git config --global init.defaultBranch main
"$SIM" --listen 127.0.0.1:0 --kubeconfig-out "$KUBECONFIG" --pod-ready-delay 0s \
	>"$TMP/sim.out" 2>"$TMP/sim.err" &
SIMPID=$!
for _ in $(seq 100); do
	[ -s "$KUBECONFIG" ] && break
	sleep 0.1
done
check "cairn-sim starts" test -s "$KUBECONFIG"
SERVER=$(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.server}')
# faults JSON: set the simulator's fault switches
faults() { printf %s "$1" >"$TMP/faults.json" && timeout 10 kubectl create --raw /admin/faults -f "$TMP/faults.json" >/dev/null; }

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
API="http://127.0.0.1:$PORT"
TOK=hook-token-1 VIEW=viewer-token-1
hash() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
mkdir -p envs
cat >envs/dev.yaml <<Y
apiVersion: cairn.dev/v1alpha1
kind: Environment
metadata: {name: dev}
spec:
  cluster: {server: "$SERVER", kubeconfig: "$KUBECONFIG"}
  namespaces: ["dev*"]
  defaultNamespace: dev
Y
git init -q --bare repo.git
cat >apps.yaml <<Y
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
  labels: {cairn.dev/environment: dev}
spec:
  project: default
  source: {repoURL: "file://$TMP/repo.git", targetRevision: main, path: app}
  destination: {server: "$SERVER", namespace: dev}
  syncPolicy:
    automated: {}
    syncOptions: [CreateNamespace=true]
Y
cat >cairn.yaml <<Y
stateDir: $TMP/state
listen: {api: "127.0.0.1:$PORT"}
apps:
- path: apps.yaml
environmentsDir: envs
api:
  tokens:
  - {name: hook, sha256: $(hash $TOK), role: deployer}
  - {name: viewer, sha256: $(hash $VIEW), role: viewer}
Y
printf '%s\n' "$TOK" >token
chmod 600 token
"$CAIRN" hooks install repo.git --url "$API" --token-file token >/dev/null

start() { # start GRACE POLL
	"$CAIRND" --config cairn.yaml --poll "$2" --grace "$1" >>"$TMP/cairnd.out" 2>>"$TMP/cairnd.err" &
	DPID=$!
}
ready() { for _ in $(seq 100); do curl -sf "$API/readyz" >/dev/null && return 0; sleep 0.1; done; return 1; }
# op REV: "PHASE MESSAGE finished|open" of each of web's operations at REV
op() {
	curl -s -H "Authorization: Bearer $VIEW" "$API/api/v1/operations" | python3 -c '
import json, sys
for o in json.load(sys.stdin)["items"]:
    if o["app"] == "web" and o.get("revision") == sys.argv[1]:
        print(o["phase"], o.get("message") or "", "finished" if o["finishedAt"] > 0 else "open")' "$1" 2>/dev/null
}
# wait_op REV REGEX [SECONDS, default 15]: until one of them matches
wait_op() { local end=$((SECONDS + ${3:-15})); while :; do op "$1" | grep -Eq "$2" && return 0; [ $SECONDS -ge $end ] && break; sleep 0.05; done; echo "# ops at $1: $(op "$1" | tr '\n' ';')"; return 1; }
kval() { timeout 10 kubectl -n dev get cm web -o jsonpath='{.data.k}' 2>/dev/null; }
ms() { echo $(($(date +%s%N) / 1000000)); }

git clone -q repo.git work 2>/dev/null
mkdir -p work/app
cm() { printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {k: "%s"}\n' "$1" >work/app/cm.yaml; }
push() { cm "$1" && (cd work && git add -A && git commit -qm "$1" && git push -q origin HEAD:main 2>>"$TMP/push.err") &&
	git -C repo.git rev-parse main; }

start 10s off
check "cairnd starts" ready
REV1=$(push v1)
check "a first push is synced quickly" wait_op "$REV1" "^Succeeded .*finished$"

# 1. a sync of ~3 s (several ConfigMap requests, 600 ms each) in a 10 s grace
check "the simulator delays ConfigMap requests by 600 ms" \
	faults '{"reset":true,"latency_ms":600,"resource":"configmaps"}'
REV2=$(push v2)
check "the slow sync of the second push is Running" wait_op "$REV2" "^Running .*open$"
T0=$(ms)
kill -TERM "$DPID"
sleep 0.2
check "during the grace /readyz is not ready" test "$(curl -s -o /dev/null -w '%{http_code}' "$API/readyz")" != 200
wait "$DPID"
RC=$? T1=$(ms)
DPID=
echo "# slow sync in flight: exited $RC after $((T1 - T0)) ms (grace 10000 ms)"
check "SIGTERM with a sync in flight shorter than the grace: exit 0" test "$RC" = 0
check "within the grace" test $((T1 - T0)) -lt 10000
check "cairnd said it finished the work in flight" grep -q "finishing work in flight" "$TMP/cairnd.err"
faults '{"reset":true}'
check "the ConfigMap of the second push is live" test "$(kval)" = v2
start 10s off
check "cairnd restarts" ready
check "the operation of the second push is recorded Succeeded and finished" \
	wait_op "$REV2" "^Succeeded .*finished$" 0
kill -TERM "$DPID"
wait "$DPID"
DPID=

# 2. a sync far longer than a 2 s grace: 3 s per ConfigMap request
faults '{"reset":true,"latency_ms":3000,"resource":"configmaps"}'
start 2s off
check "cairnd starts with a 2 s grace" ready
REV3=$(push v3)
check "the long sync of the third push is Running" wait_op "$REV3" "^Running .*open$"
T0=$(ms)
kill -TERM "$DPID"
wait "$DPID"
RC=$? T1=$(ms)
DPID=
echo "# long sync in flight: exited $RC after $((T1 - T0)) ms (grace 2000 ms)"
check "a sync longer than the grace: cairnd exits within the grace + 1 s" test $((T1 - T0)) -lt 3000
check "and not before the grace" test $((T1 - T0)) -ge 1900
check "with status 1 (work was still running)" test "$RC" = 1
check "and says so" grep -q "still running after the 2000 ms grace" "$TMP/cairnd.err"
faults '{"reset":true}'
check "the third push is not live yet" test "$(kval)" = v2
start 10s 10s
check "cairnd restarts after the grace exit" ready
check "the operation left Running is marked interrupted" \
	wait_op "$REV3" "^Error interrupted.*finished$" 0
check "the first poll after the restart syncs the third push (nothing lost)" \
	wait_op "$REV3" "^Succeeded .*finished$" 20
check "the ConfigMap of the third push is live" test "$(kval)" = v3
kill -TERM "$DPID"
wait "$DPID"
RC=$?
DPID=
check "an idle cairnd exits 0 on SIGTERM" test "$RC" = 0
if [ -n "${VERBOSE:-}" ]; then sed 's/^/# /' "$TMP/cairnd.err"; fi
done_testing
