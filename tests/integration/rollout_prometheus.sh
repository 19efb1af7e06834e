#!/bin/bash
# rollout_prometheus.sh - rollouts gated by a real Prometheus, driven by
# cairnd end to end on 127.0.0.1: cairn-sim (Pods ready at once, traffic by
# image tag: app:v3 answers 30% errors, app:v4 15%, every other image 1%)
# scraped every second by Prometheus; a bare repository with a canary
# Rollout (5 replicas: setWeight 20, analysis, setWeight 50, pause 1 s), a
# blue-green Rollout with pre-promotion analysis, the AnalysisTemplates of
# tests/integration/data/rollout/templates.yaml (error ratio of the canary's
# ReplicaSet, passed as podTemplateHashValue: Latest). Cases: v2 (1%)
# promoted through 20% and 50%; v3 (30%) rolled back by itself (decision and
# measurements in `cairn rollout get -o json` and the audit trail, the
# revision not re-attempted by later polls or a sync request); v4 (15%)
# Inconclusive -> Paused, a self-heal sync during the pause leaves the
# rollout's replica counts alone, `cairn rollout promote` continues; NaN,
# empty and per-ReplicaSet results aborting the rollout; blue-green with
# failing pre-promotion analysis never switching the active Service;
# Prometheus stopped mid-analysis -> aborted after consecutiveErrorLimit.
#
# Tier: fast (bounded: every wait has a timeout; about 90 s).
. "$(dirname "$0")/lib.sh"

SIM=${CAIRN_SIM:-$BUILDDIR/cairn-sim}
CAIRND=${CAIRND:-$BUILDDIR/cairnd}
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
for t in kubectl git curl python3 prometheus; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "1..0 # SKIP $t is not installed"
		exit 0
	fi
done
SIMPID= DPID= NUDGEPID= PROMPID=
trap '[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null; [ -n "$PROMPID" ] && kill "$PROMPID" 2>/dev/null; [ -n "$NUDGEPID" ] && kill "$NUDGEPID" 2>/dev/null; [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
export GIT_CONFIG_NOSYSTEM=1 HOME="$TMP/home" KUBECONFIG="$TMP/kubeconfig"
export CAIRN_STATE_DIR="$TMP/state"
unset CAIRN_CONFIG CAIRN_TOKEN CAIRN_SERVER
mkdir -p "$HOME"
git config --global user.name t && git config --global user.email t@t &&
	git config --global init.defaultBranch main
freeport() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$SIM" --listen 127.0.0.1:0 --kubeconfig-out "$KUBECONFIG" --pod-ready-delay 0s \
	--metrics-listen 127.0.0.1:0 --traffic-rps 200 \
	--traffic-rule 'image=*:v3,error_ratio=0.3' --traffic-rule 'image=*:v4,error_ratio=0.15' \
	--traffic-rule 'error_ratio=0.01' >"$TMP/sim.out" 2>"$TMP/sim.err" &
SIMPID=$!
for _ in $(seq 100); do
	grep -q '^metrics on' "$TMP/sim.out" 2>/dev/null && [ -s "$KUBECONFIG" ] && break
	sleep 0.1
done
check "cairn-sim starts with its metrics listener" test -s "$KUBECONFIG"
MPORT=$(sed -n 's/^metrics on 127.0.0.1://p' "$TMP/sim.out")
SERVER=$(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.server}')
# cairn-sim advances a bare ReplicaSet's Pods on its next store write (see
# rollout_daemon.sh): a write every 0.3 s.
kubectl create configmap nudge >/dev/null
( while kill -0 "$SIMPID" 2>/dev/null; do
	kubectl annotate --overwrite configmap nudge "n=$RANDOM" >/dev/null 2>&1
	sleep 0.3
done ) &
NUDGEPID=$!

PPORT=$(freeport)
PROM="http://127.0.0.1:$PPORT"
cat >prometheus.yml <<Y
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: sim
    static_configs: [{targets: ['127.0.0.1:$MPORT']}]
Y
prom_start() {
	prometheus --config.file=prometheus.yml --storage.tsdb.path="$TMP/tsdb" \
		--web.listen-address="127.0.0.1:$PPORT" >>"$TMP/prom.log" 2>&1 &
	PROMPID=$!
	for _ in $(seq 150); do
		curl -sf --max-time 2 "$PROM/-/ready" >/dev/null && return 0
		sleep 0.2
	done
	return 1
}
check "prometheus starts" prom_start

PORT=$(freeport)
API="http://127.0.0.1:$PORT"
hash() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
HOOKTOK=hook-token-1 DEPTOK=dep-token-2 VIEWTOK=view-token-4
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
app() { # NAME PATH
	cat <<Y
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: $1
  labels: {cairn.dev/environment: dev}
spec:
  project: default
  source: {repoURL: "file://$TMP/repo.git", targetRevision: main, path: $2}
  destination: {server: "$SERVER", namespace: dev}
  syncPolicy:
    automated: {selfHeal: true}
    syncOptions: [CreateNamespace=true]
Y
}
{ app web app; app bg bg; } >apps.yaml
"$CAIRN" audit keygen --name test-audit --out "$TMP/audit" >/dev/null
cat >cairn.yaml <<Y
stateDir: $TMP/state
listen: {api: "127.0.0.1:$PORT"}
apps:
- path: apps.yaml
environmentsDir: envs
audit:
  key: $TMP/audit.key
  trustedKey: $TMP/audit.pub
api:
  tokens:
  - {name: hook, sha256: $(hash $HOOKTOK), role: deployer}
  - {name: ci-dev, sha256: $(hash $DEPTOK), role: deployer, environments: [dev]}
  - {name: viewer, sha256: $(hash $VIEWTOK), role: viewer}
Y
printf '%s\n' "$HOOKTOK" >token
chmod 600 token
"$CAIRN" hooks install repo.git --url "$API" --token-file token >/dev/null

# --poll 2s: automated polls (and self-heal) run during every rollout below
start() { "$CAIRND" --config cairn.yaml --poll 2s --grace 5s \
	>>"$TMP/cairnd.out" 2>>"$TMP/cairnd.err" & DPID=$!; }
ready() { for _ in $(seq 100); do curl -sf "$API/readyz" >/dev/null && return 0; sleep 0.1; done; return 1; }
start
check "cairnd starts and is ready" ready

get() { CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -H "Authorization: Bearer $1" "$API$2"); cat "$TMP/body"; }
post() { CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $1" --data-binary "${3:-}" "$API$2"); cat "$TMP/body"; }
# rget APP: `cairn rollout get APP -o json` (every event) into $TMP/APP.json
rget() { timeout 20 "$CAIRN" rollout get "$1" --config cairn.yaml -o json --events 0 >"$TMP/$1.json" 2>"$TMP/$1.jerr"; }
# ro APP FIELD: a top-level field of the rollout
ro() { rget "$1" && $PY -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("" if v is None else v)' "$TMP/$1.json" "$2" 2>/dev/null; }
ro_pw() { rget "$1" && $PY -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["phase"], j["weight"], j["revision"])' "$TMP/$1.json" 2>/dev/null; }
app_status() { get $VIEWTOK "/api/v1/applications/$1" | $PY -c 'import json,sys; s=json.load(sys.stdin)["status"]; print(s["health"] + " " + (s.get("message") or ""))'; }
# wait_phase APP PHASE REV [N tenths]: until the rollout of REV is in PHASE
wait_phase() {
	for _ in $(seq "${4:-300}"); do
		read -r p _ r <<<"$(ro_pw "$1")"
		[ "$p" = "$2" ] && [ "$r" = "$3" ] && return 0
		sleep 0.1
	done
	echo "# $1: phase $p revision $r (want $2 $3): $(ro "$1" message)"
	return 1
}
# replicas APP IMAGE: spec.replicas of the app's ReplicaSet running IMAGE
replicas() { timeout 10 kubectl -n dev get rs -l "cairn.dev/rollout=$1" \
	-o jsonpath='{range .items[*]}{.spec.template.spec.containers[0].image} {.spec.replicas}{"\n"}{end}' |
	awk -v img="$2" '$1 == img {print $2}'; }
nonzero_rs() { timeout 10 kubectl -n dev get rs -l "cairn.dev/rollout=$1" \
	-o jsonpath='{range .items[*]}{.spec.replicas}{"\n"}{end}' | grep -vc '^0$'; }
# events APP KIND: the data of the rollout's events of that kind, one JSON a line
events() { $PY -c '
import json,sys
for e in json.load(open(sys.argv[1])).get("events", []):
    if e["kind"] == sys.argv[2]: print(json.dumps(e["data"], sort_keys=True))' "$TMP/$1.json" "$2"; }

git clone -q repo.git work 2>/dev/null
mkdir -p work/app work/bg
sed "s|PROM_ADDRESS|$PROM|" "$SRCDIR/tests/integration/data/rollout/templates.yaml" >work/app/templates.yaml
cp work/app/templates.yaml work/bg/templates.yaml
cat >work/app/service.yaml <<Y
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web}
data: {v: "1"}
Y
# canary IMAGE TEMPLATE [ARGS]: the app's Rollout, 5 replicas, analysis by
# TEMPLATE with the canary's hash as 'hash' (and ', ARGS' after it)
canary() {
	cat >work/app/rollout.yaml <<Y
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  replicas: 5
  progressDeadlineSeconds: 30
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "$1"}]}
  strategy:
    canary:
      steps:
      - setWeight: 20
      - analysis:
          templates: [{templateName: $2}]
          args: [{name: hash, valueFrom: {podTemplateHashValue: Latest}}${3:-}]
      - setWeight: 50
      - pause: {duration: 1s}
Y
}
push() { (cd work && git add -A && git commit -qm "$1" && git push -q origin HEAD:main 2>>"$TMP/push.err") &&
	REV=$(git -C repo.git rev-parse main); }
# sample APP IMAGE WHILE-PHASE: until the rollout leaves WHILE-PHASE, every
# 0.1 s: the weights seen (SEEN) and the most replicas IMAGE's ReplicaSet
# had while the weight stayed the same around the count (MAXC, by weight)
sample() {
	SEEN= MAXC20=0 MAXC50=0
	for _ in $(seq 300); do
		read -r p w r <<<"$(ro_pw "$1")"
		[ "$r" = "$REV" ] || { sleep 0.1; continue; }
		SEEN="$SEEN $p/$w"
		[ "$p" = "$3" ] || [ "$p" = Paused ] || break
		c=$(replicas "$1" "$2")
		read -r _ w2 _ <<<"$(ro_pw "$1")"
		if [ "$w" = "$w2" ]; then
			[ "$w" = 20 ] && [ "${c:-0}" -gt "$MAXC20" ] && MAXC20=${c:-0}
			[ "$w" = 50 ] && [ "${c:-0}" -gt "$MAXC50" ] && MAXC50=${c:-0}
		fi
		sleep 0.1
	done
	SEEN=$(tr ' ' '\n' <<<"$SEEN" | uniq | tr '\n' ' ')
	echo "# $2: phase/weight seen: $SEEN"
}

# 1. v1: nothing to compare with, rolled out at once
canary app:v1 error-ratio
push v1
check "v1: the rollout reaches Healthy" wait_phase web Healthy "$REV"
check "v1: its ReplicaSet runs 5" test "$(replicas web app:v1)" = 5

# 2. v2 at 1% errors: 20% -> analysis (Successful) -> 50% -> promoted
canary app:v2 error-ratio
push v2
V2=$REV
t0=$(date +%s%N)
sample web app:v2 Progressing
t1=$(date +%s%N)
check "v2: the rollout is promoted to Healthy" wait_phase web Healthy "$V2"
echo "# v2: push to Healthy $(((t1 - t0) / 1000000)) ms"
rget web
# the weights of the rollout's weight events since its newest start
WEIGHTS=$($PY -c '
import json,sys
w=[]
for e in json.load(open(sys.argv[1]))["events"]:
    if e["kind"] == "start": w=[]
    if e["kind"] == "weight": w.append(str(e["data"]["weight"]))
print(" ".join(w))' "$TMP/web.json")
check "v2: its weight events go 20, 50, 100 ($WEIGHTS)" test "$WEIGHTS" = "20 50 100"
check "v2: at weight 20 the canary had at most 1 of 5 replicas (max $MAXC20)" test "$MAXC20" -le 1
check "v2: at weight 50 the canary had at most 3 of 5 replicas (max $MAXC50)" test "$MAXC50" -le 3
check "v2: the new ReplicaSet runs 5" test "$(replicas web app:v2)" = 5
check "v2: it is the only ReplicaSet left with replicas" test "$(nonzero_rs web)" = 1
rget web
events web measurement >"$TMP/v2.meas"
sed 's/^/# v2 measurement: /' "$TMP/v2.meas"
# the first measurement can be an Error (an empty vector: Prometheus has not
# scraped the new canary twice yet); it counts towards consecutiveErrorLimit,
# never as a success
check "v2: Successful measurements of error-ratio were recorded, none Failed" \
	bash -c "[ \$(grep -c '\"phase\": \"Successful\"' '$TMP/v2.meas') -ge 1 ] && ! grep -q '\"phase\": \"Failed\"' '$TMP/v2.meas'"
check "v2: the measured value is about 1% ([0.00..])" grep -q '"value": "\[0\.0[01]' "$TMP/v2.meas"
check "v2: the measurement keeps the query with the canary's hash" \
	grep -q "$(ro web canaryHash)" "$TMP/v2.meas"
check "v2: the app is Healthy" grep -q '^Healthy' <<<"$(app_status web)"

# 3. v3 at 30% errors: the analysis fails, the rollout rolls back by itself
canary app:v3 error-ratio
push v3
V3=$REV
sample web app:v3 Progressing
check "v3: the rollout aborts (Degraded)" wait_phase web Degraded "$V3"
check "v3: the canary never got past weight 20 (max $MAXC20 replicas at 20)" \
	sh -c "[ '$MAXC20' -le 1 ] && ! grep -q '/50' <<EOF
$SEEN
EOF"
check "v3: the canary is at 0 replicas" test "$(replicas web app:v3)" = 0
check "v3: the stable (v2) is back at 5" test "$(replicas web app:v2)" = 5
check "v3: the rollout says rolled back from the commit" \
	grep -q "rolled back from ${V3:0:7}" <<<"$(ro web message)"
check "v3: the failed revision is recorded" test "$(ro web failedRevision)" = "$V3"
for _ in $(seq 50); do grep -q '^Degraded' <<<"$(app_status web)" && break; sleep 0.1; done
check "v3: the app is Degraded, rolled back from the commit" \
	grep -q "^Degraded .*rolled back from ${V3:0:7}" <<<"$(app_status web)"
rget web
events web abort >"$TMP/v3.abort"
sed 's/^/# v3 abort: /' "$TMP/v3.abort"
check "v3: the abort event carries the deciding measurement (about 30%) and the reason" \
	grep -q '"v": \[0\.[23].*"reason": "analysis .error-ratio. metric .error-ratio. Failed' "$TMP/v3.abort"
"$CAIRN" audit show --config cairn.yaml --app web -o json >"$TMP/audit.json" 2>"$TMP/audit.err"
grep rollout.aborted "$TMP/audit.json" | sed 's/^/# v3 audit: /'
check "v3: the audit trail has rollout.aborted for the commit" \
	grep -q "\"action\":\"rollout.aborted\".*\"objects\":\[\"argoproj.io/Rollout/dev/web\"\],\"revision\":\"$V3\"" "$TMP/audit.json"
check "v3: the audit entry holds the deciding measurement" \
	sh -c "grep '\"action\":\"rollout.aborted\"' '$TMP/audit.json' | grep -q 'Failed.*0\.[23]'"
check "v3: the audit trail has the measurements too" \
	grep -q '"event":"measurement"\|"action":"rollout.measurement"' "$TMP/audit.json"
STARTS=$(events web start | wc -l)
OPS=$(get $VIEWTOK /api/v1/operations | grep -o '"kind":"sync"' | wc -l)
sleep 4.5 # two polls
post $DEPTOK /api/v1/applications/web/sync >/dev/null
sleep 1
rget web
check "v3: polls and a sync request do not start it again (no new start event)" \
	test "$(events web start | wc -l)" = "$STARTS"
check "v3: ... nor a new sync operation" \
	test "$(get $VIEWTOK /api/v1/operations | grep -o '"kind":"sync"' | wc -l)" = "$OPS"
check "v3: the canary stays at 0, the stable at 5" \
	test "$(replicas web app:v3) $(replicas web app:v2)" = "0 5"

# 4. v4 at 15%: between the conditions -> Inconclusive -> Paused;
# a self-heal sync in the pause leaves the rollout's objects alone;
# `cairn rollout promote` goes on to 50% and Healthy
canary app:v4 error-band
push v4
V4=$REV
check "v4: the rollout pauses (Inconclusive)" wait_phase web Paused "$V4"
check "v4: the message says Inconclusive" grep -qi inconclusive <<<"$(ro web message)"
check "v4: the canary runs 1 of 5, the stable 4" \
	test "$(replicas web app:v4) $(replicas web app:v2)" = "1 4"
for _ in $(seq 50); do grep -q '^Suspended' <<<"$(app_status web)" && break; sleep 0.1; done
check "v4: the app is Suspended" grep -q '^Suspended' <<<"$(app_status web)"
kubectl -n dev patch configmap web --type=merge -p '{"data":{"v":"drifted"}}' >/dev/null
for _ in $(seq 100); do
	[ "$(kubectl -n dev get cm web -o jsonpath='{.data.v}')" = 1 ] && break
	sleep 0.1
done
check "v4: self-heal puts the drifted ConfigMap back during the pause" \
	test "$(kubectl -n dev get cm web -o jsonpath='{.data.v}')" = 1
post $DEPTOK /api/v1/applications/web/sync >/dev/null
sleep 1.5
check "v4: after self-heal and a sync the canary still runs 1, the stable 4" \
	test "$(replicas web app:v4) $(replicas web app:v2)" = "1 4"
check "v4: and the rollout is still Paused at weight 20" \
	test "$(ro_pw web)" = "Paused 20 $V4"
check "v4: cairn rollout promote" sh -c "'$CAIRN' rollout promote web --config cairn.yaml >/dev/null"
check "v4: promoted to Healthy" wait_phase web Healthy "$V4"
check "v4: the new ReplicaSet runs 5, the only one with replicas" \
	test "$(replicas web app:v4) $(nonzero_rs web)" = "5 1"

# 5-7. results that must never pass: NaN, an empty vector, several series
# one of which (the canary's, 30%) is bad
bad_result() { # NAME IMAGE TEMPLATE MESSAGE-REGEX [ARGS]
	canary "$2" "$3" "${5:-}"
	push "$1"
	local rev=$REV
	sample web "$2" Progressing >/dev/null
	check "$1: the rollout aborts (Degraded)" wait_phase web Degraded "$rev"
	check "$1: never promoted: the canary is at 0, the stable ($STABLE) at 5" \
		test "$(replicas web "$2") $(replicas web "$STABLE") $MAXC50" = "0 5 0"
	echo "# $1: $(ro web message)"
	events web measurement | grep "\"metric\": \"$3\"" | tail -n 1 | sed "s/^/# $1 measurement: /"
	check "$1: the rollout's message says why ($4)" grep -Eq "$4" <<<"$(ro web message)"
}
STABLE=app:v4
bad_result nan app:v5 nan-ratio "metric 'nan-ratio' Error \(last value \[NaN\]\)"
bad_result empty app:v6 empty-ratio "metric 'empty-ratio' Error \(last value \[\]\)"
# a good stable first (v7 at 1%), so that only the canary's series is bad
canary app:v7 error-ratio
push v7
check "v7: promoted to Healthy" wait_phase web Healthy "$REV"
STABLE=app:v7
# the template measures the stable's and the canary's ReplicaSets, and only
# once the canary has a rate (an empty vector before: Error, which does not
# count), so the deciding value holds both series
NUM='[0-9.e+-]+'
bad_result multi app:v3 per-replicaset \
	"metric 'per-replicaset' Failed \(last value \[$NUM,$NUM\]\)" \
	', {name: stable, valueFrom: {podTemplateHashValue: Stable}}'
check "multi: the deciding value lists both ReplicaSets' ratios, one about 30%, one about 1%" \
	grep -Eq '"v": \[(0\.0[0-9.e+-]*|0), (0\.[23][0-9]*)\]|"v": \[(0\.[23][0-9]*), (0\.0[0-9.e+-]*|0)\]' <<<"$(events web abort | tail -n 1)"

# 8. blue-green, pre-promotion analysis failing: the active Service's
# selector never leaves the stable
cat >work/bg/service.yaml <<Y
apiVersion: v1
kind: Service
metadata: {name: bg-active}
spec: {selector: {app: bg}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: bg-preview}
spec: {selector: {app: bg}, ports: [{port: 80}]}
Y
bluegreen() {
	cat >work/bg/rollout.yaml <<Y
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: bg}
spec:
  replicas: 3
  selector: {matchLabels: {app: bg}}
  template:
    metadata: {labels: {app: bg}}
    spec: {containers: [{name: bg, image: "$1"}]}
  strategy:
    blueGreen:
      activeService: bg-active
      previewService: bg-preview
      scaleDownDelaySeconds: 1
      prePromotionAnalysis:
        templates: [{templateName: error-ratio}]
        args: [{name: hash, valueFrom: {podTemplateHashValue: Latest}}]
Y
}
active() { kubectl -n dev get svc bg-active -o jsonpath='{.spec.selector.rollouts-pod-template-hash}'; }
bluegreen app:v1
push bg-v1
check "bg v1: Healthy" wait_phase bg Healthy "$REV"
H1=$(ro bg stableHash)
check "bg v1: the active Service selects its hash" test -n "$H1" -a "$(active)" = "$H1"
bluegreen app:v3
push bg-v3
BG3=$REV
SWITCHED=0 N=0
for _ in $(seq 300); do
	read -r p _ r <<<"$(ro_pw bg)"
	[ "$(active)" = "$H1" ] || SWITCHED=1
	N=$((N + 1))
	[ "$r" = "$BG3" ] && [ "$p" = Degraded ] && break
	sleep 0.1
done
check "bg v3: the failing pre-promotion analysis aborts" wait_phase bg Degraded "$BG3"
check "bg v3: the active Service's selector never left the stable ($N samples)" test "$SWITCHED" = 0
check "bg v3: the new version is at 0 replicas, the stable at 3" \
	test "$(replicas bg app:v3) $(replicas bg app:v1)" = "0 3"
check "bg v3: the preview Service points back at the stable" \
	test "$(kubectl -n dev get svc bg-preview -o jsonpath='{.spec.selector.rollouts-pod-template-hash}')" = "$H1"

# 9. Prometheus stopped mid-analysis: Errors, aborted after
# consecutiveErrorLimit (4) + 1, never promoted
canary app:v9 error-ratio-long
push v9
V9=$REV
for _ in $(seq 150); do
	rget web
	events web measurement | grep -q 'Successful.*error-ratio-long\|error-ratio-long.*Successful' && break
	sleep 0.2
done
check "down: a first measurement succeeded" grep -q 'error-ratio-long' <<<"$(events web measurement)"
kill "$PROMPID"
wait "$PROMPID" 2>/dev/null
PROMPID=
t0=$(date +%s%N)
sample web app:v9 Progressing
t1=$(date +%s%N)
echo "# down: Prometheus stopped to the rollout's end $(((t1 - t0) / 1000000)) ms"
check "down: the rollout aborts (Degraded)" wait_phase web Degraded "$V9"
check "down: never promoted: the canary never passed weight 20, now 0; stable ($STABLE) at 5" \
	test "$(replicas web app:v9) $(replicas web "$STABLE") $MAXC50" = "0 5 0"
rget web
NERR=$(events web measurement | grep '"metric": "error-ratio-long"' | grep -c '"phase": "Error"')
check "down: 5 Error measurements in a row (consecutiveErrorLimit 4 + 1), saw $NERR" test "$NERR" = 5
check "down: the reason names the Error" grep -qi "error" <<<"$(ro web message)"

kill -TERM "$DPID"
wait "$DPID"
RC=$?
DPID=
check "SIGTERM: cairnd exits 0" test "$RC" = 0
if [ -n "${VERBOSE:-}" ]; then sed 's/^/# /' "$TMP/cairnd.err"; fi
done_testing
