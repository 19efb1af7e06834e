#!/bin/bash
# rollout_daemon.sh - cairnd runs Argo Rollouts' canaries itself, end to end
# on 127.0.0.1: cairn-sim (Pods ready at once; image app:bad never pulls), a
# bare repository with an app holding a Rollout, cairnd with the
# post-receive hook. Cases: the first version rolled out to Healthy (its
# ReplicaSet checked with real kubectl); v2 through setWeight 50 and a 1 s
# pause to Healthy, never above the planned canary size; a canary whose Pods
# never become ready aborted by its 3 s progress deadline (stable back at
# full size, app Degraded, failed revision reported, not re-attempted by a
# later sync); an indefinite pause continued by `cairn rollout promote`;
# kill -9 of cairnd in a pause and a restart, which resumes and completes
# without going above the planned canary size; the API's scope rules.
#
# Tier: fast (bounded: every wait has a timeout; about 60 s).
. "$(dirname "$0")/lib.sh"

SIM=${CAIRN_SIM:-$BUILDDIR/cairn-sim}
CAIRND=${CAIRND:-$BUILDDIR/cairnd}
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3 # no version-manager shim in the polling loops
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
export CAIRN_STATE_DIR="$TMP/state"
unset CAIRN_CONFIG CAIRN_TOKEN
mkdir -p "$HOME"
git config --global user.name t && git config --global user.email t@t &&
	git config --global init.defaultBranch main
"$SIM" --listen 127.0.0.1:0 --kubeconfig-out "$KUBECONFIG" --pod-ready-delay 0s \
	--fail-rule 'app:bad*=imagepull' >"$TMP/sim.out" 2>"$TMP/sim.err" &
SIMPID=$!
for _ in $(seq 100); do
	[ -s "$KUBECONFIG" ] && break
	sleep 0.1
done
check "cairn-sim starts" test -s "$KUBECONFIG"
SERVER=$(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.server}')

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
API="http://127.0.0.1:$PORT"
hash() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
HOOKTOK=hook-token-1 DEPTOK=dep-token-2 PRODTOK=prod-token-3 VIEWTOK=view-token-4
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
  - {name: hook, sha256: $(hash $HOOKTOK), role: deployer}
  - {name: ci-dev, sha256: $(hash $DEPTOK), role: deployer, environments: [dev]}
  - {name: ci-prod, sha256: $(hash $PRODTOK), role: deployer, environments: [prod]}
  - {name: viewer, sha256: $(hash $VIEWTOK), role: viewer}
Y
printf '%s\n' "$HOOKTOK" >token
chmod 600 token
"$CAIRN" hooks install repo.git --url "$API" --token-file token >/dev/null

start() { "$CAIRND" --config cairn.yaml --poll off --grace 5s \
	>>"$TMP/cairnd.out" 2>>"$TMP/cairnd.err" & DPID=$!; }
ready() { for _ in $(seq 100); do curl -sf "$API/readyz" >/dev/null && return 0; sleep 0.1; done; return 1; }
start
check "cairnd starts and is ready" ready

get() { CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -H "Authorization: Bearer $1" "$API$2"); cat "$TMP/body"; }
post() { CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $1" --data-binary "${3:-}" "$API$2"); cat "$TMP/body"; }
# field F of the rollout 'web' from the API (phase, step, weight, failedRevision, ...)
ro() { get $VIEWTOK /api/v1/apps/web/rollouts | $PY -c '
import json,sys
items=json.load(sys.stdin).get("items",[])
print(items[0].get(sys.argv[1]) if items else "")' "$1" 2>/dev/null; }
ro_pw() { get $VIEWTOK /api/v1/apps/web/rollouts | $PY -c '
import json,sys
items=json.load(sys.stdin).get("items",[])
print(items[0]["phase"], items[0]["weight"]) if items else print("none 0")' 2>/dev/null; }
app_health() { get $VIEWTOK /api/v1/applications/web | $PY -c 'import json,sys; s=json.load(sys.stdin)["status"]; print(s["health"])'; }
app_message() { get $VIEWTOK /api/v1/applications/web | $PY -c 'import json,sys; s=json.load(sys.stdin)["status"]; print(s.get("message") or "")'; }
# wait_phase P [N tenths]: until the rollout's phase is P
wait_phase() { for _ in $(seq "${2:-150}"); do [ "$(ro phase)" = "$1" ] && return 0; sleep 0.1; done; echo "# phase $(ro phase): $(ro message)"; return 1; }
# replicas of the ReplicaSet whose Pods run IMAGE (empty when none)
rs_replicas() { timeout 10 kubectl -n dev get rs -l cairn.dev/rollout=web \
	-o jsonpath='{range .items[*]}{.spec.template.spec.containers[0].image} {.spec.replicas}{"\n"}{end}' |
	awk -v img="$1" '$1 == img {print $2}'; }
rs_count() { timeout 10 kubectl -n dev get rs -l cairn.dev/rollout=web -o name | wc -l; }

git clone -q repo.git work 2>/dev/null
mkdir -p work/app
# rollout IMAGE STEPS-YAML: the app's Rollout (4 replicas, progress deadline 3 s)
rollout() {
	cat >work/app/rollout.yaml <<Y
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  replicas: 4
  progressDeadlineSeconds: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "$1"}]}
  strategy:
    canary:
      steps: $2
Y
}
push() { (cd work && git add -A && git commit -qm "$1" && git push -q origin HEAD:main 2>>"$TMP/push.err"); }

# 1. the first version: nothing to canary against, rolled out at once
rollout app:v1 '[{setWeight: 50}, {pause: {duration: 1s}}]'
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {v: "1"}\n' >work/app/cm.yaml
push v1
check "v1: the rollout reaches Healthy" wait_phase Healthy
check "v1: its ReplicaSet runs 4 replicas (kubectl)" test "$(rs_replicas app:v1)" = 4
check "v1: the Rollout object itself is not applied" \
	test -z "$(kubectl get crd rollouts.argoproj.io -o name 2>/dev/null)"
check "v1: the ConfigMap beside it is applied" \
	test "$(kubectl -n dev get cm web -o jsonpath='{.data.v}')" = 1
check "v1: the app is Healthy" test "$(app_health)" = Healthy

# 2. v2: setWeight 50 (2 of 4), a 1 s pause, then promoted to Healthy;
# the canary never has more than its planned 2 replicas before the end
rollout app:v2 '[{setWeight: 50}, {pause: {duration: 1s}}]'
push v2
V2=$(git -C repo.git rev-parse main)
for _ in $(seq 100); do [ "$(ro revision)" = "$V2" ] && break; sleep 0.05; done
MAXC=0 SAW50=0 SEEN=
for _ in $(seq 150); do
	read -r p w <<<"$(ro_pw)"
	SEEN="$SEEN $p/$w"
	[ "$p" = Healthy ] && break
	c=$(rs_replicas app:v2)
	[ "$w" = 50 ] && SAW50=1
	# counted only while the weight was 50 before and after the count
	read -r _ w2 <<<"$(ro_pw)"
	[ "$w" = 50 ] && [ "$w2" = 50 ] && [ "${c:-0}" -gt "$MAXC" ] && MAXC=${c:-0}
	sleep 0.05
done
echo "# v2 phases/weights seen:$(tr ' ' '\n' <<<"$SEEN" | uniq | tr '\n' ' ')"
check "v2: the rollout went through weight 50" test "$SAW50" = 1
check "v2: the canary had at most 2 replicas at weight 50 (max $MAXC)" test "$MAXC" -le 2
check "v2: the rollout completes" wait_phase Healthy
check "v2: a second ReplicaSet exists" test "$(rs_count)" = 2
check "v2: the new ReplicaSet runs 4" test "$(rs_replicas app:v2)" = 4
check "v2: the old one is scaled to 0" test "$(rs_replicas app:v1)" = 0

# 3. a canary whose Pods never become ready: aborted by the 3 s deadline
rollout app:bad '[{setWeight: 50}, {pause: {duration: 1s}}]'
push bad
BAD=$(git -C repo.git rev-parse main)
t0=$(date +%s%N)
check "bad: the rollout aborts (progress deadline)" wait_phase Degraded 150
t1=$(date +%s%N)
echo "# push to abort: $(((t1 - t0) / 1000000)) ms (progressDeadlineSeconds 3)"
check "bad: the canary is scaled to 0" test "$(rs_replicas app:bad)" = 0
check "bad: the stable ReplicaSet is back at 4" test "$(rs_replicas app:v2)" = 4
check "bad: the failed revision is reported" test "$(ro failedRevision)" = "$BAD"
check "bad: the app is Degraded" test "$(app_health)" = Degraded
check "bad: the app says it was rolled back from the commit" \
	grep -q "rolled back from ${BAD:0:7}" <<<"$(app_message)"
curl -s "$API/metrics" >"$TMP/metrics"
check "bad: the metrics count one abort" grep -q '^cairn_rollout_aborts_total{app="web"} 1$' "$TMP/metrics"
sleep 0.3
curl -s "$API/metrics" >"$TMP/metrics"
check "bad: the phase gauge shows one Degraded rollout" grep -q '^cairn_rollouts{phase="Degraded"} 1$' "$TMP/metrics"
OPS=$(get $VIEWTOK /api/v1/operations | grep -o '"kind":"sync"' | wc -l)
post $DEPTOK /api/v1/applications/web/sync >/dev/null
sleep 1.5
check "bad: a later sync of the same commit is not attempted (no new operation)" \
	test "$(get $VIEWTOK /api/v1/operations | grep -o '"kind":"sync"' | wc -l)" = "$OPS"
check "bad: the canary stays at 0" test "$(rs_replicas app:bad)" = 0
check "bad: the message still names the rolled-back commit" \
	grep -q "rolled back from ${BAD:0:7}" <<<"$(app_message)"

# a retry through the API rolls the same commit out again (and it aborts again)
post $DEPTOK /api/v1/apps/web/rollout/retry >/dev/null
check "retry: POST .../rollout/retry is accepted (202)" test "$CODE" = 202
retried() { for _ in $(seq 150); do curl -s "$API/metrics" | grep -q '^cairn_rollout_aborts_total{app="web"} 2$' && return 0; sleep 0.1; done; return 1; }
check "retry: the commit is rolled out again and aborted a second time" retried
check "retry: the canary is back at 0, stable at 4" test "$(rs_replicas app:bad) $(rs_replicas app:v2)" = "0 4"

# 4. an indefinite pause continued by `cairn rollout promote`
rollout app:v4 '[{setWeight: 25}, {pause: {}}]'
push v4
check "v4: the rollout pauses" wait_phase Paused
check "v4: the app's health says so (Suspended)" test "$(app_health)" = Suspended
check "v4: the canary runs 1 of 4" test "$(rs_replicas app:v4)" = 1
sleep 0.5
check "v4: still paused half a second later" test "$(ro phase)" = Paused
post $VIEWTOK /api/v1/apps/web/rollout/promote >/dev/null
check "a viewer may not promote (403)" test "$CODE" = 403
post $PRODTOK /api/v1/apps/web/rollout/promote >/dev/null
check "a prod-scoped deployer may not promote a dev app (403)" test "$CODE" = 403
post $DEPTOK /api/v1/apps/web/rollout/explode >/dev/null
check "an unknown action is 404" test "$CODE" = 404
check "cairn rollout promote writes the request" \
	"$CAIRN" rollout promote web --config cairn.yaml
check "v4: promoted to Healthy" wait_phase Healthy
check "v4: the new ReplicaSet runs 4" test "$(rs_replicas app:v4)" = 4

# 5. kill -9 of cairnd in a pause, restart: resumes, never above weight 50
rollout app:v5 '[{setWeight: 50}, {pause: {duration: 2s}}]'
push v5
for _ in $(seq 100); do [ "$(ro_pw)" = "Paused 50" ] && break; sleep 0.05; done
check "v5: the rollout is at weight 50 in its pause" test "$(ro weight)" = 50
{ kill -9 "$DPID"; wait "$DPID"; } 2>/dev/null
DPID=
MAXC=0
for _ in $(seq 5); do c=$(rs_replicas app:v5); [ "${c:-0}" -gt "$MAXC" ] && MAXC=${c:-0}; sleep 0.1; done
start
check "cairnd restarts after kill -9" ready
for _ in $(seq 100); do
	read -r p w <<<"$(ro_pw)"
	[ "$p" = Healthy ] && break
	c=$(rs_replicas app:v5)
	read -r _ w2 <<<"$(ro_pw)"
	[ "$w" = 50 ] && [ "$w2" = 50 ] && [ "${c:-0}" -gt "$MAXC" ] && MAXC=${c:-0}
	sleep 0.05
done
check "v5: the canary never had more than 2 replicas at weight 50, across the restart (max $MAXC)" test "$MAXC" -le 2
check "v5: the resumed rollout completes" wait_phase Healthy
check "v5: the new ReplicaSet runs 4" test "$(rs_replicas app:v5)" = 4
check "v5: the previous one is at 0" test "$(rs_replicas app:v4)" = 0
get $VIEWTOK /api/v1/rollouts >"$TMP/all.json"
check "GET /api/v1/rollouts lists the rollout" grep -q '"name":"web"' "$TMP/all.json"
kill -TERM "$DPID"
wait "$DPID"
RC=$?
DPID=
check "SIGTERM: cairnd exits 0" test "$RC" = 0
if [ -n "${VERBOSE:-}" ]; then sed 's/^/# /' "$TMP/cairnd.err"; fi
done_testing
