#!/bin/bash
# daemon_drift.sh - cairnd finds and corrects drift by itself (issue 10,
# docs/daemon.md "Drift"): two apps from one bare repository synced by a
# push (post-receive hook) to cairn-sim, `web-dev` in detect mode and
# `web-heal` with selfHeal; `kubectl scale` / `kubectl patch` of a managed
# field is recorded (GET /api/v1/drift, `cairn drift list`), announced
# (drift.* events, /metrics) and, with selfHeal only, put back; a second
# push that adds an object is watched, a reload that drops an app stops
# watching it; SIGTERM stops the watcher promptly; a bad
# CAIRN_DRIFT_INTERVAL or --drift-interval is refused (the flag wins).
#
# Tier: fast (bounded: every wait has a timeout; about 15 s).
. "$(dirname "$0")/lib.sh"

SIM=${CAIRN_SIM:-$BUILDDIR/cairn-sim}
CAIRND=${CAIRND:-$BUILDDIR/cairnd}
for t in kubectl git curl python3; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "1..0 # SKIP $t is not installed"
		exit 0
	fi
done
SIMPID= DPID= EVPID=
trap '[ -n "$EVPID" ] && kill "$EVPID" 2>/dev/null; [ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null; [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
export GIT_CONFIG_NOSYSTEM=1 HOME="$TMP/home" KUBECONFIG="$TMP/kubeconfig"
export CAIRN_STATE_DIR="$TMP/state"
unset CAIRN_CONFIG CAIRN_TOKEN CAIRN_DRIFT_INTERVAL
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

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
API="http://127.0.0.1:$PORT"
hash() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
HOOKTOK=hook-secret-token VIEWTOK=viewer-token-9
mkdir -p envs
for e in dev heal; do
	cat >envs/$e.yaml <<Y
apiVersion: cairn.dev/v1alpha1
kind: Environment
metadata: {name: $e}
spec:
  cluster: {server: "$SERVER", kubeconfig: "$KUBECONFIG"}
  namespaces: ["$e*"]
  defaultNamespace: $e
Y
done
git init -q --bare repo.git
app() { # app NAME ENV SELFHEAL
	cat <<Y
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: $1
  labels: {cairn.dev/environment: $2}
spec:
  project: default
  source: {repoURL: "file://$TMP/repo.git", targetRevision: main, path: app}
  destination: {server: "$SERVER", namespace: $2}
  syncPolicy:
    automated: {selfHeal: $3}
    syncOptions: [CreateNamespace=true]
Y
}
{ app web-dev dev false; app web-heal heal true; } >apps.yaml
cat >cairn.yaml <<Y
stateDir: $TMP/state
listen: {api: "127.0.0.1:$PORT"}
apps:
- path: apps.yaml
environmentsDir: envs
api:
  tokens:
  - {name: hook, sha256: $(hash $HOOKTOK), role: deployer}
  - {name: viewer, sha256: $(hash $VIEWTOK), role: viewer}
Y
printf '%s\n' "$HOOKTOK" >token
chmod 600 token
"$CAIRN" hooks install repo.git --url "$API" --token-file token >/dev/null
"$CAIRND" --config cairn.yaml --poll off --grace 20s >"$TMP/cairnd.out" 2>"$TMP/cairnd.err" &
DPID=$!
ready() { for _ in $(seq 100); do curl -sf "$API/readyz" >/dev/null && return 0; sleep 0.1; done; return 1; }
check "cairnd starts and is ready" ready
curl -sN -H "Authorization: Bearer $VIEWTOK" "$API/api/v1/events" >"$TMP/ev" 2>/dev/null &
EVPID=$!

get() { curl -s -H "Authorization: Bearer $VIEWTOK" "$API$1"; }
status() { get /api/v1/applications/$1 | python3 -c 'import json,sys; s=json.load(sys.stdin)["status"]; print(s["sync"], s.get("revision",""))' 2>/dev/null; }
# wait_rev APP REV: until APP is Synced at REV (10 s)
wait_rev() { for _ in $(seq 200); do [ "$(status "$1")" = "Synced $2" ] && return 0; sleep 0.05; done; echo "# $1: $(status "$1")"; return 1; }
# watching N: until the drift watcher runs over N objects (10 s)
watching() { for _ in $(seq 200); do grep '"drift watch running"' "$TMP/cairnd.err" | grep -q "\"objects\":\"$1\"" && return 0; sleep 0.05; done; return 1; }
replicas() { timeout 10 kubectl -n "$1" get deploy web -o jsonpath='{.spec.replicas}' 2>/dev/null; }
cmval() { timeout 10 kubectl -n "$1" get cm "${2:-web}" -o jsonpath='{.data.k}' 2>/dev/null; }
# drift_rec APP NAME: the newest drift record of APP's object NAME as "KIND CORRECTED PATH OLD NEW" (10 s)
drift_rec() {
	for _ in $(seq 200); do
		get /api/v1/drift | python3 -c '
import json, sys
d = json.load(sys.stdin); d = d.get("items", d) if isinstance(d, dict) else d
for r in d:
    if r["app"] == sys.argv[1] and r["name"] == sys.argv[2]:
        p = r["paths"][0]
        print(r["kind"], "yes" if r.get("correctedAt") else "no", p["path"], json.dumps(p["old"]), json.dumps(p["new"]))
        break' "$1" "$2" 2>/dev/null | grep . && return 0
		sleep 0.05
	done
	return 1
}
# until CMD's output is WANT (T tenths of a second)
until_is() { local want=$1 t=$2; shift 2; for _ in $(seq "$t"); do [ "$("$@")" = "$want" ] && return 0; sleep 0.1; done; return 1; }

git clone -q repo.git work 2>/dev/null
mkdir -p work/app
cat >work/app/deploy.yaml <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.25"}]
Y
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {k: v1}\n' >work/app/cm.yaml
(cd work && git add -A && git commit -qm v1 && git push -q origin HEAD:main 2>"$TMP/push.err")
REV=$(git -C repo.git rev-parse main)
check "a push syncs web-dev" wait_rev web-dev "$REV"
check "and web-heal" wait_rev web-heal "$REV"
check "the drift watcher runs over both apps' objects (2 x 2)" watching 4

# detect mode: recorded, left alone
kubectl -n dev scale deploy web --replicas=5 >/dev/null
REC=$(drift_rec web-dev web)
check "kubectl scale in detect mode is recorded (API)" test "$REC" = "Deployment no /spec/replicas 2 5"
check "cairn drift list shows it" sh -c "'$CAIRN' drift list --app web-dev | grep -q 'Deployment/dev/web .*detect .*kubectl'"
sleep 1
check "and the object is left alone (still 5 replicas)" test "$(replicas dev)" = 5

# selfHeal: recorded and put back
kubectl -n heal scale deploy web --replicas=7 >/dev/null
check "kubectl scale with selfHeal is put back within 5 s" until_is 2 50 replicas heal
check "its record says corrected" until_is "Deployment yes /spec/replicas 2 7" 50 drift_rec web-heal web
kubectl -n heal patch cm web --type merge -p '{"data":{"k":"live"}}' >/dev/null
check "kubectl patch of a ConfigMap value with selfHeal is put back within 5 s" until_is v1 50 cmval heal
check "its record names the path" until_is 'ConfigMap yes /data/k "v1" "live"' 50 drift_rec web-heal web

# events and metrics
has_event() { grep -A1 "^event: $1" "$TMP/ev" | grep -q "\"app\":\"$2\""; }
check "a drift.detected event for web-dev" until_is 0 50 sh -c "grep -A1 '^event: drift.detected' '$TMP/ev' | grep -q '\"app\":\"web-dev\"'; echo \$?"
check "a drift.corrected event for web-heal" has_event drift.corrected web-heal
check "no drift.corrected event for web-dev" sh -c "! grep -A1 '^event: drift.corrected' '$TMP/ev' | grep -q '\"app\":\"web-dev\"'"
curl -s "$API/metrics" >"$TMP/metrics"
check "/metrics counts the detections" grep -q '^cairn_drift_detected_total{app="web-heal",env="heal"} 2' "$TMP/metrics"
check "/metrics counts the corrections" grep -q '^cairn_drift_corrected_total{app="web-heal",env="heal"} 2' "$TMP/metrics"
check "web-dev has no correction counted" sh -c "! grep -q '^cairn_drift_corrected_total{app=\"web-dev\"' '$TMP/metrics'"

# a second push adds an object: the new render is watched
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra}\ndata: {k: e1}\n' >work/app/extra.yaml
sed -i 's/nginx:1.25/nginx:1.26/' work/app/deploy.yaml
(cd work && git add -A && git commit -qm v2 && git push -q origin HEAD:main 2>>"$TMP/push.err")
REV2=$(git -C repo.git rev-parse main)
check "a second push syncs web-dev" wait_rev web-dev "$REV2"
check "and web-heal" wait_rev web-heal "$REV2"
check "the watcher restarts over the new renders (2 x 3 objects)" watching 6
image() { timeout 10 kubectl -n heal get deploy web -o jsonpath='{.spec.template.spec.containers[0].image}' 2>/dev/null; }
sleep 1
check "the new image synced to the selfHeal app stays (the old render is not put back)" \
	test "$(image)" = nginx:1.26
check "and cairn's own sync is never recorded as drift" \
	sh -c "! curl -s -H 'Authorization: Bearer $VIEWTOK' '$API/api/v1/drift' | grep -q '\"fieldManager\":\"cairn\"'"
kubectl -n dev patch cm extra --type merge -p '{"data":{"k":"changed"}}' >/dev/null
check "a drift of the newly added object is recorded" until_is 'ConfigMap no /data/k "e1" "changed"' 50 drift_rec web-dev extra
kubectl -n heal patch cm extra --type merge -p '{"data":{"k":"changed"}}' >/dev/null
check "and with selfHeal put back" until_is e1 50 cmval heal extra

# a reload that drops an app stops watching it
app web-heal heal true >apps.yaml
# a new "running" line after the reload (an earlier one said 3 objects too)
NRUN=$(grep -c '"drift watch running"' "$TMP/cairnd.err")
rewatching() { for _ in $(seq 200); do [ "$(grep -c '"drift watch running"' "$TMP/cairnd.err")" -gt "$NRUN" ] &&
	grep '"drift watch running"' "$TMP/cairnd.err" | tail -n 1 | grep -q "\"objects\":\"$1\"" && return 0; sleep 0.05; done; return 1; }
kill -HUP "$DPID"
check "a reload dropping web-dev restarts the watcher over web-heal's 3 objects" rewatching 3
kubectl -n dev scale deploy web --replicas=6 >/dev/null
sleep 1.5
check "web-dev, no longer defined, is not watched (no new record)" \
	test "$(drift_rec web-dev web)" = "Deployment no /spec/replicas 2 5"

# SIGTERM stops the watcher promptly
kill "$EVPID" 2>/dev/null
wait "$EVPID" 2>/dev/null
EVPID=
t0=$(date +%s%N)
kill -TERM "$DPID"
wait "$DPID"
RC=$?
t1=$(date +%s%N)
DPID=
MS=$(((t1 - t0) / 1000000))
echo "# SIGTERM to exit: $MS ms"
check "SIGTERM: cairnd exits 0" test "$RC" = 0
check "within 5 s with the drift watches running" test "$MS" -lt 5000
CAIRN_DRIFT_INTERVAL=soon "$CAIRND" --config cairn.yaml --poll off >/dev/null 2>"$TMP/bad.err"
check "a bad CAIRN_DRIFT_INTERVAL stops cairnd at start" test $? = 1
check "saying why" grep -q "bad CAIRN_DRIFT_INTERVAL 'soon': expected a duration" "$TMP/bad.err"
"$CAIRND" --config cairn.yaml --poll off --drift-interval 10ms >/dev/null 2>"$TMP/bad.err"
check "--drift-interval under 1s stops cairnd at start" test $? != 0
check "saying why" grep -q "bad --drift-interval '10ms': want at least 1s" "$TMP/bad.err"
# the flag wins over a bad variable: cairnd starts
CAIRN_DRIFT_INTERVAL=soon "$CAIRND" --config cairn.yaml --poll off --drift-interval 30s \
	>/dev/null 2>"$TMP/ok.err" &
DPID=$!
check "--drift-interval 30s overrides a bad CAIRN_DRIFT_INTERVAL (cairnd ready)" \
	sh -c "for i in \$(seq 100); do curl -sf '$API/readyz' >/dev/null && exit 0; sleep 0.1; done; exit 1"
kill -TERM "$DPID"
wait "$DPID"
check "... and stops with exit 0" test $? = 0
DPID=
if [ -n "${VERBOSE:-}" ]; then sed 's/^/# /' "$TMP/cairnd.err"; fi
done_testing
