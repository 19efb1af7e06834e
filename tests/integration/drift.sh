#!/bin/bash
# drift.sh - `cairn drift watch|list|show` against cairn-sim with real
# kubectl: drift made with `kubectl scale` and `kubectl edit` (KUBE_EDITOR a
# sed script) is recorded within a second with its path, old and new value
# and field manager; left alone in detect mode, reverted in correct mode
# (taken from the Environment's `drift: correct`); orphans reported; the
# detection latency (kubectl returned -> record written) measured. Then two
# Applications read from a real git repository, deployed to two clusters
# (two cairn-sims) by `cairn app sync`, watched at once by one
# `cairn drift watch`: drift of each recorded under its app, detect and
# correct from each one's Environment, orphans listed by `drift list`.
# Tier: fast (bounded: every wait has a deadline, about 25 s in all).
. "$(dirname "$0")/lib.sh"

SIM=${CAIRN_SIM:-$BUILDDIR/cairn-sim}
SIMPID=
SIM2PID=
WPID=
trap '[ -n "$WPID" ] && kill "$WPID" 2>/dev/null; [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null;
      [ -n "$SIM2PID" ] && kill "$SIM2PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
if ! command -v kubectl >/dev/null || ! command -v git >/dev/null; then
	echo "1..0 # SKIP kubectl or git is not installed"
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
start_watch() { start_watch_of guestbook --path "$TMP/app" -n default "$@"; }
start_watch_of() {
	: >"$W"
	timeout 60 "$CAIRN" drift watch "$@" >"$W" 2>&1 &
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
# ---- two Applications from git, two clusters, one watch ---------------------------
K2="$TMP/kubeconfig2"
"$SIM" --listen 127.0.0.1:0 --kubeconfig-out "$K2" >"$TMP/sim2.out" 2>"$TMP/sim2.err" &
SIM2PID=$!
for _ in $(seq 100); do
	[ -s "$K2" ] && break
	sleep 0.1
done
check "a second cairn-sim starts" test -s "$K2"
S1=$(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.server}')
S2=$(KUBECONFIG=$K2 kubectl config view --raw -o jsonpath='{.clusters[0].cluster.server}')
export GIT_CONFIG_NOSYSTEM=1
unset CAIRN_CONFIG
G="$TMP/git"
mkdir -p "$G/repo/alpha" "$G/repo/beta" "$G/envs"
cat >"$G/repo/alpha/cm.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: alpha-cfg}
data: {size: small}
YAML
cat >"$G/repo/beta/cm.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: beta-cfg}
data: {tier: gold}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: beta-extra}
data: {k: v}
YAML
(cd "$G/repo" && git init -q . && git add -A && git -c user.name=t -c user.email=t@t commit -qm one) ||
	exit 1
cat >"$G/envs/dev.yaml" <<YAML
apiVersion: cairn.dev/v1alpha1
kind: Environment
metadata: {name: dev}
spec:
  cluster: {server: "$S1", kubeconfig: "$KUBECONFIG"}
  namespaces: ["alpha"]
  drift: detect
YAML
cat >"$G/envs/edge.yaml" <<YAML
apiVersion: cairn.dev/v1alpha1
kind: Environment
metadata: {name: edge}
spec:
  cluster: {server: "$S2", kubeconfig: "$K2"}
  namespaces: ["beta"]
  drift: correct
YAML
cat >"$G/apps.yaml" <<YAML
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: alpha
  labels: {cairn.dev/environment: dev}
spec:
  project: default
  source: {repoURL: "file://$G/repo", targetRevision: HEAD, path: alpha}
  destination: {server: "$S1", namespace: alpha}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: beta
  labels: {cairn.dev/environment: edge}
spec:
  project: default
  source: {repoURL: "file://$G/repo", targetRevision: HEAD, path: beta}
  destination: {server: "$S2", namespace: beta}
YAML
kubectl create namespace alpha >/dev/null
KUBECONFIG=$K2 kubectl create namespace beta >/dev/null
GA=(--apps "$G/apps.yaml" --environments "$G/envs")
sync_app() {
	timeout 60 "$CAIRN" app sync "$1" "${GA[@]}" >"$TMP/out" 2>&1 ||
		{ sed 's/^/#   /' "$TMP/out"; return 1; }
}
check "alpha is synced to the first cluster" sync_app alpha
check "beta is synced to the second cluster" sync_app beta

check "drift watch of two apps in two clusters starts" start_watch_of "${GA[@]}" --no-fetch
check "one watch covers the 3 objects of both apps" grep -q '^watching 3 objects through 2 watches' "$W"
check "the synced apps show no drift" sh -c "! grep -q '^drift ' '$W'"
KUBE_EDITOR="sed -i -e s/size:\ small/size:\ large/" kubectl -n alpha edit configmap alpha-cfg >/dev/null
check "an edit in the first cluster is recorded under alpha/dev" \
	wait_line '^drift .*app=alpha env=dev object=/ConfigMap/alpha/alpha-cfg ' 2
KUBECONFIG=$K2 kubectl -n beta patch configmap beta-cfg --type merge -p '{"data":{"tier":"tin"}}' >/dev/null
check "an edit in the second cluster is recorded under beta/edge" \
	wait_line '^drift .*app=beta env=edge object=/ConfigMap/beta/beta-cfg .* corrected$' 2
check "the edit's path and values are printed" grep -q '^  /data/tier: "gold" -> "tin" ' "$W"
sleep 0.2
check "dev detects: alpha-cfg keeps the edit" \
	test "$(kubectl -n alpha get configmap alpha-cfg -o jsonpath='{.data.size}')" = large
check "edge corrects: beta-cfg is back to the git value" \
	test "$(KUBECONFIG=$K2 kubectl -n beta get configmap beta-cfg -o jsonpath='{.data.tier}')" = gold
KUBECONFIG=$K2 kubectl -n beta create configmap beta-stray --from-literal=a=b >/dev/null
check "an untracked object in beta's namespace is an orphan of beta" \
	wait_line '^orphan app=beta env=edge object=/ConfigMap/beta/beta-stray$' 2
stop_watch
check "SIGTERM stops the two-cluster watch with status 0" test "$WRC" = 0

"$CAIRN" drift list --app beta -o json >"$TMP/list.json"
check "drift list --app beta has beta's record, corrected" jq_is "$TMP/list.json" \
	'length == 1 and .[0].app == "beta" and .[0].env == "edge" and .[0].correctedAt > 0' true
"$CAIRN" drift list --orphans -o json >"$TMP/list.json"
check "drift list --orphans -o json names beta's orphan" jq_is "$TMP/list.json" \
	'map(select(.app == "beta")) | map(.env + " " + .object) | join(",")' 'edge /ConfigMap/beta/beta-stray'
"$CAIRN" drift list --orphans --app alpha -o json >"$TMP/list.json"
check "drift list --orphans --app alpha has none" jq_is "$TMP/list.json" 'length' 0
"$CAIRN" drift list >"$TMP/list.txt"
check "drift list prints an orphans section" sh -c "grep -q '^ORPHANS$' '$TMP/list.txt' &&
	grep -q '^beta  *edge  *[/]ConfigMap/beta/beta-stray$' '$TMP/list.txt'"

# cairn.yaml: the Applications read from the repository itself, the
# Environments from environmentsDir; a drift made while nothing watches is
# found by the first full comparison and corrected (edge), --events ends it.
cp "$G/apps.yaml" "$G/repo/apps.yaml"
(cd "$G/repo" && git add apps.yaml && git -c user.name=t -c user.email=t@t commit -qm apps) || exit 1
cat >"$G/cairn.yaml" <<YAML
apps:
- repoURL: "file://$G/repo"
  path: apps.yaml
environmentsDir: "$G/envs"
YAML
KUBECONFIG=$K2 kubectl -n beta patch configmap beta-extra --type merge -p '{"data":{"k":"w"}}' >/dev/null
timeout 30 "$CAIRN" drift watch beta --config "$G/cairn.yaml" --events 2 --for 20s >"$W" 2>&1
check "drift watch --config (apps from git) exits 0 after --events" test $? = 0
check "it watched beta only" grep -q '^watching 2 objects through 1 watches' "$W"
check "the drift made before it started is found and corrected" \
	grep -q '^drift .*app=beta env=edge object=/ConfigMap/beta/beta-extra .* corrected$' "$W"
check "kubectl shows beta-extra back at the git value" \
	test "$(KUBECONFIG=$K2 kubectl -n beta get configmap beta-extra -o jsonpath='{.data.k}')" = v

timeout 30 "$CAIRN" drift watch gamma "${GA[@]}" --no-fetch >"$TMP/out" 2>&1
check "watching an undefined application fails (exit 1)" test $? = 1
check "and says which" grep -q "application 'gamma' is not defined" "$TMP/out"
timeout 30 "$CAIRN" drift watch alpha >"$TMP/out" 2>&1
check "watch with no apps source says what to give" \
	grep -q 'give --apps PATH, --config FILE or --path DIR' "$TMP/out"

"$CAIRN" drift show 999999 >"$TMP/out" 2>&1
check "show of an unknown id fails (exit 1)" test $? = 1
"$CAIRN" drift frob >"$TMP/out" 2>&1
check "an unknown subcommand is a usage error (exit 2)" test $? = 2
done_testing
