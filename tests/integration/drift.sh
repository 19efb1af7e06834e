#!/bin/bash
# drift.sh - `cairn drift watch|list|show` against cairn-sim with real
# kubectl: drift made with `kubectl scale` and `kubectl edit` (KUBE_EDITOR a
# sed script) is recorded within a second with its path, old and new value
# and field manager; left alone in detect mode, reverted in correct mode
# (taken from the Environment's `drift: correct`); orphans reported; the
# detection latency (kubectl returned -> record written) measured.
# Tier: fast (bounded: every wait has a deadline, about 15 s in all).
. "$(dirname "$0")/lib.sh"

SIM=${CAIRN_SIM:-$BUILDDIR/cairn-sim}
SIMPID=
WPID=
trap '[ -n "$WPID" ] && kill "$WPID" 2>/dev/null; [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null;
      wait 2>/dev/null; rm -rf "$TMP"' EXIT
if ! command -v kubectl >/dev/null; then
	echo "1..0 # SKIP kubectl is not installed"
	exit 0
fi
export HOME="$TMP/home" KUBECONFIG="$TMP/kubeconfig" CAIRN_STATE_DIR="$TMP/state"
mkdir -p "$HOME" "$TMP/app" "$TMP/envs"
"$SIM" --listen 127.0.0.1:0 --kubeconfig-out "$KUBECONFIG" >"$TMP/sim.out" 2>"$TMP/sim.err" &
SIMPID=$!
for _ in $(seq 100); do
	[ -s "$KUBECONFIG" ] && break
	sleep 0.1
done
check "cairn-sim starts" test -s "$KUBECONFIG"

# The app as a sync leaves it: applied by cairn's field manager, tracked.
cat >"$TMP/app/objs.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: default
  annotations: {argocd.argoproj.io/tracking-id: "guestbook:/ConfigMap:default/cfg"}
data: {color: blue}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
  annotations: {argocd.argoproj.io/tracking-id: "guestbook:apps/Deployment:default/web"}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.25"}]}
YAML
cat >"$TMP/envs/prod.yaml" <<'YAML'
apiVersion: cairn.dev/v1alpha1
kind: Environment
metadata: {name: prod}
spec:
  cluster: {server: https://127.0.0.1:6443}
  namespaces: ["default"]
  drift: correct
YAML
check "the app is applied" timeout 30 "$CAIRN" kube apply -f "$TMP/app/objs.yaml"

W="$TMP/watch.out"
# start_watch ARGS...: cairn drift watch in the background, ready when it says so
start_watch() {
	: >"$W"
	timeout 60 "$CAIRN" drift watch guestbook --path "$TMP/app" -n default "$@" >"$W" 2>&1 &
	WPID=$!
	for _ in $(seq 100); do
		grep -q '^watching ' "$W" && return 0
		sleep 0.1
	done
	echo "# watch not ready:"; sed 's/^/#   /' "$W"
	return 1
}
stop_watch() { kill -TERM "$WPID" 2>/dev/null; wait "$WPID"; WRC=$?; WPID=; }
# wait_line PATTERN SECONDS: the watch printed a line matching PATTERN in time
wait_line() {
	local i n=$(($2 * 20))
	for i in $(seq "$n"); do
		grep -q -- "$1" "$W" && return 0
		sleep 0.05
	done
	echo "# no '$1' within $2 s in:"; sed 's/^/#   /' "$W"
	return 1
}
# wait_for FN SECONDS: FN succeeds (quietly) within SECONDS, else once more aloud
wait_for() {
	local i
	for i in $(seq $(($2 * 20))); do
		"$1" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	"$1"
}
# record_of OBJECT: the id of the last drift line of OBJECT
record_of() { grep "^drift .*object=$1 " "$W" | tail -1 | sed 's/.* id=\([0-9]*\) .*/\1/'; }
jq_is() { [ "$(jq -r "$2" <"$1")" = "$3" ] || { echo "# $2 is '$(jq -r "$2" <"$1")', expected '$3'"; return 1; }; }

# ---- detect mode -------------------------------------------------------------
check "drift watch (detect) starts with 2 objects" start_watch --mode detect
check "watch reports the objects and watches" grep -q '^watching 2 objects through 2 watches' "$W"
check "an in-sync app records no drift" sh -c "! grep -q '^drift ' '$W'"

kubectl scale deployment web --replicas=5 >/dev/null
check "kubectl scale is recorded within 1 s" wait_line 'object=apps/Deployment/default/web ' 1
ID=$(record_of apps/Deployment/default/web)
"$CAIRN" drift show "$ID" -o json >"$TMP/show.json"
check "the record names /spec/replicas 2 -> 5" sh -c "jq_is() { [ \"\$(jq -c \"\$2\" <\"\$1\")\" = \"\$3\" ]; };
	jq_is '$TMP/show.json' '[.paths[] | {path, old, new}]' '[{\"path\":\"/spec/replicas\",\"old\":2,\"new\":5}]'"
check "the record names kubectl as the field manager" jq_is "$TMP/show.json" .fieldManager kubectl
check "the record is in detect mode, not corrected" jq_is "$TMP/show.json" '.mode + " " + (.correctedAt|tostring)' "detect 0"

KUBE_EDITOR="sed -i -e s/color:\ blue/color:\ red/" kubectl edit configmap cfg >/dev/null
check "kubectl edit is recorded within 1 s" wait_line 'object=/ConfigMap/default/cfg ' 1
ID=$(record_of /ConfigMap/default/cfg)
"$CAIRN" drift show "$ID" -o json >"$TMP/show.json"
check "the edit's record: /data/color blue -> red by kubectl-edit" jq_is "$TMP/show.json" \
	'.paths[0].path + " " + .paths[0].old + " " + .paths[0].new + " " + .fieldManager' \
	"/data/color blue red kubectl-edit"
"$CAIRN" drift show "$ID" >"$TMP/show.txt"
check "drift show prints the path, values and manager" \
	grep -q '^  /data/color: "blue" -> "red" (by kubectl-edit)$' "$TMP/show.txt"
sleep 0.3
check "detect mode leaves the replicas at 5" \
	test "$(kubectl get deployment web -o jsonpath='{.spec.replicas}')" = 5
check "detect mode leaves the colour red" \
	test "$(kubectl get configmap cfg -o jsonpath='{.data.color}')" = red

kubectl create configmap stray --from-literal=a=b >/dev/null
check "an untracked object in the app's namespace is reported as an orphan" \
	wait_line '^orphan app=guestbook env=- object=/ConfigMap/default/stray$' 2
check "the orphan is not deleted" kubectl get configmap stray -o name

# Latency: N scales, each a new drift. The API call's return is the time
# kubectl -v=6 logs its PATCH answer (klog, microseconds, UTC); the record's
# time is the written= of the watch's line (taken once the record is committed).
N=9
: >"$TMP/lat"
for r in $(seq 11 $((10 + N))); do
	TZ=UTC kubectl scale deployment web --replicas=$r -v=6 >"$TMP/kv" 2>&1
	t=$(grep -m1 ' PATCH .*/scale 200 ' "$TMP/kv" | awk '{print $2}')
	t0=$(date -u -d "$(date -u +%Y-%m-%d) $t" +%s%6N)
	wait_line "^  /spec/replicas: 2 -> $r " 2 >/dev/null || break
	seen=$(grep "^drift .*object=apps/Deployment/default/web " "$W" | tail -1 | sed 's/.* written=\([0-9]*\).*/\1/')
	echo $((seen - t0)) >>"$TMP/lat"
done
check "every one of $N scales was recorded" test "$(wc -l <"$TMP/lat")" = $N
MED=$(sort -n "$TMP/lat" | sed -n "$(((N + 1) / 2))p")
echo "# detection latency (PATCH answered -> drift record written): median ${MED} us over $N edits" \
	"(min $(sort -n "$TMP/lat" | head -1) us, max $(sort -n "$TMP/lat" | tail -1) us)"
check "median detection latency is under 1 s" test "$MED" -lt 1000000
stop_watch
check "SIGTERM stops the watch with status 0" test "$WRC" = 0

"$CAIRN" drift list -o json >"$TMP/list.json"
check "drift list has every record, newest first" jq_is "$TMP/list.json" \
	'(length >= 11) and (.[0].id > .[1].id)' true
"$CAIRN" drift list >"$TMP/list.txt"
check "drift list prints a table" grep -q '^[0-9]* *guestbook *- *ConfigMap/default/cfg *detect *kubectl-edit *no$' "$TMP/list.txt"

# ---- correct mode, from the Environment -----------------------------------------
check "drift watch (correct, from the environment) starts" \
	start_watch --env prod --environments "$TMP/envs"
check "the drift found by the full comparison at start is corrected" \
	wait_line '^drift .*object=apps/Deployment/default/web .* corrected$' 2
check "kubectl get shows the git replicas again" \
	test "$(kubectl get deployment web -o jsonpath='{.spec.replicas}')" = 2
check "kubectl get shows the git colour again" \
	test "$(kubectl get configmap cfg -o jsonpath='{.data.color}')" = blue
kubectl scale deployment web --replicas=4 >/dev/null
check "a new scale is detected within 1 s" wait_line '^  /spec/replicas: 2 -> 4 ' 1
corrected() {
	grep -B1 '^  /spec/replicas: 2 -> 4 ' "$W" | grep -q ' env=prod .* corrected$' ||
		{ echo "# not corrected:"; sed 's/^/#   /' "$W"; return 1; }
}
check "and corrected" wait_for corrected 1
sleep 0.2
check "kubectl get shows replicas 2 after the correction" \
	test "$(kubectl get deployment web -o jsonpath='{.spec.replicas}')" = 2
ID=$(record_of apps/Deployment/default/web)
"$CAIRN" drift show "$ID" -o json >"$TMP/show.json"
check "the corrected record has time-to-correct" jq_is "$TMP/show.json" \
	'(.mode == "correct") and (.correctedAt > 0) and (.timeToCorrectUs >= 0)' true
stop_watch

"$CAIRN" drift list --env prod -o json >"$TMP/list.json"
check "drift list --env keeps the environment's records only" jq_is "$TMP/list.json" \
	'length >= 2 and all(.[]; .env == "prod")' true
"$CAIRN" drift show 999999 >"$TMP/out" 2>&1
check "show of an unknown id fails (exit 1)" test $? = 1
"$CAIRN" drift frob >"$TMP/out" 2>&1
check "an unknown subcommand is a usage error (exit 2)" test $? = 2
done_testing
