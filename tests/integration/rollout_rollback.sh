#!/bin/bash
# rollout_rollback.sh - `cairn app rollback` of an app whose workload is a
# Rollout hands the rolled-back Rollout to the engine, directly and through
# cairnd: v1 then v2 rolled out (canary, cairn-sim, Pods ready at once),
# then a rollback to v1's history entry rolls v1's template out again (its
# ReplicaSet back at full size, v2's at 0), and while the app is pinned a
# compare of the tracked revision does not roll v2 out again.
#
# Tier: fast (bounded: every wait has a timeout; about 20 s).
. "$(dirname "$0")/lib.sh"

CAIRND=${CAIRND:-$BUILDDIR/cairnd}
need kubectl git curl python3
SIMPID= DPID=
trap '[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null; [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
export KUBECONFIG="$TMP/kubeconfig" CAIRN_STATE_DIR="$TMP/state"
unset CAIRN_CONFIG CAIRN_TOKEN CAIRN_SERVER
git_home
mkdir -p envs
check "cairn-sim starts" sim_start --pod-ready-delay 0s
# cairn-sim advances a bare ReplicaSet's Pods on its next store write
kubectl create configmap nudge >/dev/null
(while kill -0 "$SIMPID" 2>/dev/null; do
	kubectl annotate --overwrite configmap nudge "n=$RANDOM" >/dev/null 2>&1
	sleep 0.3
done) &
env_yaml dev >envs/dev.yaml
git init -q --bare repo.git
app() { # NAME PATH
	cat <<Y
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: $1, labels: {cairn.dev/environment: dev}}
spec:
  project: default
  source: {repoURL: "file://$TMP/repo.git", targetRevision: main, path: $2}
  destination: {server: "$SERVER", namespace: dev}
  syncPolicy: {syncOptions: [CreateNamespace=true]}
Y
}
{ app cli cli; app api api; } >apps.yaml
PORT=$(freeport)
API="http://127.0.0.1:$PORT"
TOK=deploy-token-5
cat >cairn.yaml <<Y
stateDir: $TMP/state
listen: {api: "127.0.0.1:$PORT"}
apps:
- path: apps.yaml
environmentsDir: envs
api:
  tokens:
  - {name: ci, sha256: $(printf %s "$TOK" | sha256sum | cut -d' ' -f1), role: deployer}
Y
git clone -q repo.git work 2>/dev/null
mkdir -p work/cli work/api
rollout() { # DIR NAME IMAGE
	cat >"work/$1/rollout.yaml" <<Y
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: $2}
spec:
  replicas: 2
  selector: {matchLabels: {app: $2}}
  template:
    metadata: {labels: {app: $2}}
    spec: {containers: [{name: web, image: "$3"}]}
  strategy: {canary: {steps: [{setWeight: 50}, {pause: {duration: 1s}}]}}
Y
	# the same in every version: only the Rollout changes between them
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\ndata: {k: v}\n' "$2" \
		>"work/$1/cm.yaml"
}
push() { (cd work && git add -A && git commit -qm "$1" && git push -q origin HEAD:main); }
# replicas APP IMAGE: spec.replicas of the app's ReplicaSet running IMAGE
replicas() { timeout 10 kubectl -n dev get rs -l "cairn.dev/rollout=$1" \
	-o jsonpath='{range .items[*]}{.spec.template.spec.containers[0].image} {.spec.replicas}{"\n"}{end}' |
	awk -v img="$2" '$1 == img {print $2}'; }
sync() { timeout 60 "$CAIRN" app sync "$1" --config cairn.yaml >"$TMP/out" 2>&1; }
# rrev APP: the revision the app's rollout rolls out (or rolled out)
rrev() { "$CAIRN" rollout get "$1" --config cairn.yaml -o json 2>/dev/null |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["revision"])'; }
# hid APP REV: the id of the app's history entry at REV
hid() { "$CAIRN" app history "$1" --config cairn.yaml -o json 2>/dev/null | python3 -c '
import json,sys
for h in json.load(sys.stdin):
    if h["revision"] == sys.argv[1]: print(h["id"]); break' "$2"; }

# 1. without a daemon: cairn app rollback drives the rollout in the foreground
rollout cli cli app:v1
rollout api api app:v1
push v1
V1=$(git -C repo.git rev-parse main)
check "cli v1: synced and rolled out" sync cli
check "api v1: synced and rolled out" sync api
rollout cli cli app:v2
rollout api api app:v2
push v2
check "cli v2: synced and rolled out" sync cli
check "api v2: synced and rolled out" sync api
check "cli v2: v2 runs 2, v1 0" test "$(replicas cli app:v2) $(replicas cli app:v1)" = "2 0"
H=$(hid cli "$V1")
check "cli: v1 has a history entry ($H)" test -n "$H"
timeout 60 "$CAIRN" app rollback cli "$H" --config cairn.yaml >"$TMP/rb" 2>&1
RC=$?
sed 's/^/# /' "$TMP/rb"
check "cli rollback: exits 0" test "$RC" = 0
check "cli rollback: the Rollout rolled v1 out again (v1 runs 2, v2 0)" \
	test "$(replicas cli app:v1) $(replicas cli app:v2)" = "2 0"
check "cli rollback: it printed the rollout ending Healthy" grep -q "^rollout cli  *Healthy" "$TMP/rb"
check "cli rollback: the rollout's revision is v1's" \
	test "$(rrev cli)" = "$V1"

# 2. through cairnd: POST /api/v1/applications/api/rollback
"$CAIRND" --config cairn.yaml --poll 1s >"$TMP/cairnd.out" 2>"$TMP/cairnd.err" &
DPID=$!
check "cairnd is ready" wait_ready "$API"
H=$(hid api "$V1")
check "api: v1 has a history entry ($H)" test -n "$H"
check "api: v2 runs 2 before the rollback" test "$(replicas api app:v2)" = 2
CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $TOK" \
	--data-binary "{\"id\": $H}" "$API/api/v1/applications/api/rollback")
check "api rollback: 200 ($CODE: $(head -c 200 "$TMP/body"))" test "$CODE" = 200
for _ in $(seq 150); do
	[ "$(replicas api app:v1) $(replicas api app:v2)" = "2 0" ] && break
	sleep 0.2
done
check "api rollback: the Rollout rolled v1 out again (v1 runs 2, v2 0)" \
	test "$(replicas api app:v1) $(replicas api app:v2)" = "2 0"
# two polls: each compares the tracked revision (v2), whose objects other
# than the Rollout equal the live ones; nobody synced v2 after the rollback,
# so its Rollout must not reach the engine
sleep 2.5
check "api: after two polls v1 still runs 2, v2 0" \
	test "$(replicas api app:v1) $(replicas api app:v2)" = "2 0"
check "api: the rollout's revision is still v1's" \
	test "$(rrev api)" = "$V1"

done_testing
