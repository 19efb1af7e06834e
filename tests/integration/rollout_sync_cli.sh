#!/bin/bash
# rollout_sync_cli.sh - `cairn app sync` without a daemon drives the app's
# Rollouts in the foreground on cairn-sim (Pods ready at once; image app:bad
# never pulls): the first version to Healthy (exit 0), a canary through
# setWeight 50 with its steps printed, a canary that never pulls aborted
# (exit 1, "rolled back from <sha>"), the same commit refused afterwards
# (exit 1), an indefinite pause (exit 0, says to promote), --async returning
# once the rollout started. The canary's Services (canaryService,
# stableService) and a blue-green app's activeService: the hash each
# selects at weight 20, after completion, after an abort, kept by a later
# sync and a self-heal correction; a missing canaryService refused by name.
#
# Tier: fast (bounded: every wait has a timeout; about 16 s).
. "$(dirname "$0")/lib.sh"

SIM=${CAIRN_SIM:-$BUILDDIR/cairn-sim}
for t in kubectl git; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "1..0 # SKIP $t is not installed"
		exit 0
	fi
done
SIMPID=
trap '[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
export GIT_CONFIG_NOSYSTEM=1 HOME="$TMP/home" KUBECONFIG="$TMP/kubeconfig"
export CAIRN_STATE_DIR="$TMP/state"
unset CAIRN_CONFIG CAIRN_TOKEN CAIRN_SERVER
mkdir -p "$HOME" envs
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
metadata: {name: web, labels: {cairn.dev/environment: dev}}
spec:
  project: default
  source: {repoURL: "file://$TMP/repo.git", targetRevision: main, path: app}
  destination: {server: "$SERVER", namespace: dev}
  syncPolicy: {syncOptions: [CreateNamespace=true]}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: bg, labels: {cairn.dev/environment: dev}}
spec:
  project: default
  source: {repoURL: "file://$TMP/repo.git", targetRevision: main, path: bg}
  destination: {server: "$SERVER", namespace: dev}
  syncPolicy: {syncOptions: [CreateNamespace=true]}
Y
printf 'stateDir: %s\napps:\n- path: apps.yaml\nenvironmentsDir: envs\n' "$TMP/state" >cairn.yaml
git clone -q repo.git work 2>/dev/null
mkdir -p work/app work/bg
# the canary's Services, as Argo's docs write them: the engine adds the hash
for n in web-canary web-stable; do
	printf 'apiVersion: v1\nkind: Service\nmetadata: {name: %s}\nspec:\n  selector: {app: web}\n  ports: [{port: 80}]\n---\n' "$n"
done >work/app/services.yaml
# push IMAGE STEPS: commit the app's Rollout (4 replicas, deadline 3 s) and push
push() {
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
  strategy: {canary: {canaryService: ${CSVC:-web-canary}, stableService: web-stable, steps: $2}}
Y
	(cd work && git add -A && git commit -qm "$1" && git push -q origin HEAD:main)
}
sync() { timeout 60 "$CAIRN" app sync web --config cairn.yaml "$@" >"$TMP/out" 2>&1; RC=$?; }
# hash IMAGE: the pod-template hash of the ReplicaSet running IMAGE
hash() { timeout 10 kubectl -n dev get rs -l cairn.dev/rollout="${2:-web}" \
	-o jsonpath='{range .items[*]}{.spec.template.spec.containers[0].image} {.metadata.name}{"\n"}{end}' |
	awk -v img="$1" '$1 == img {n = split($2, p, "-"); print p[n]}'; }
# sel SVC...: "HASH APP MARK" of each Service's selector and rollout mark,
# joined by '/' (one kubectl call)
sel() {
	local f='{.spec.selector.rollouts-pod-template-hash}|{.spec.selector.app}|{.metadata.annotations.cairn\.dev/rollout}{"\n"}'
	[ $# -gt 1 ] && f="{range .items[*]}$f{end}"
	timeout 10 kubectl -n dev get svc "$@" -o jsonpath="$f" |
		awk -F'|' '{for (i = 1; i <= 3; i++) if ($i == "") $i = "-"
			printf "%s%s %s %s", (NR > 1 ? "/" : ""), $1, $2, $3} END {print ""}'
}
replicas() { timeout 10 kubectl -n dev get rs -l cairn.dev/rollout=web \
	-o jsonpath='{range .items[*]}{.spec.template.spec.containers[0].image} {.spec.replicas}{"\n"}{end}' |
	awk -v img="$1" '$1 == img {print $2}'; }

push app:v1 '[{setWeight: 50}, {pause: {duration: 1s}}]'
sync
check "v1: cairn app sync exits 0" test "$RC" = 0
check "v1: it says the rollout is Healthy" grep -q "^rollout web  *Healthy" "$TMP/out"
check "v1: the ReplicaSet runs 4" test "$(replicas app:v1)" = 4
H1=$(hash app:v1)
check "v1: first rollout, no stable: both Services select the new hash, unmarked at the end" \
	test "$(sel web-stable web-canary)" = "$H1 web -/$H1 web -"

push app:v2 '[{setWeight: 50}, {pause: {duration: 1s}}]'
sync
check "v2: exits 0" test "$RC" = 0
check "v2: prints the weight 50 step" grep -q '"weight":50' "$TMP/out"
check "v2: ends Healthy" grep -q "^rollout web  *Healthy" "$TMP/out"
check "v2: the new ReplicaSet runs 4, the old 0" test "$(replicas app:v2) $(replicas app:v1)" = "4 0"
H2=$(hash app:v2)
check "v2: completed: both Services select the new stable hash" \
	test "$(sel web-stable web-canary)" = "$H2 web -/$H2 web -"
check "v2: while it ran, stableService selected the stable hash" \
	grep -q "switch  *{\"hash\":\"$H1\",\"marked\":true,\"rollout\":\"web\",\"service\":\"web-stable\"}" "$TMP/out"
check "v2: and canaryService the canary's" \
	grep -q "switch  *{\"hash\":\"$H2\",\"marked\":true,\"rollout\":\"web\",\"service\":\"web-canary\"}" "$TMP/out"
sync
check "v2: a second 'cairn app sync' after completion exits 0" test "$RC" = 0
check "v2: and leaves the Services on the stable hash" \
	test "$(sel web-stable web-canary)" = "$H2 web -/$H2 web -"
timeout 20 "$CAIRN" app diff web --config cairn.yaml >"$TMP/diff" 2>&1
check "v2: the app is Synced afterwards (app diff exit 0)" test $? = 0
# a self-heal round: a correction of a drifted selector puts git's key back
# and keeps the rollout's hash
# (a patch before the watch is ready is found by its first full comparison;
# it stops after its first report, which comes after the correction)
timeout 20 "$CAIRN" drift watch web --config cairn.yaml --no-fetch --mode correct --for 10s --events 1 \
	>"$TMP/drift" 2>&1 &
DRIFT=$!
sleep 0.5
kubectl -n dev patch svc web-stable --type merge -p '{"spec":{"selector":{"app":"other"}}}' >/dev/null
wait "$DRIFT"
check "self-heal: the drifted selector was corrected" test "$(sel web-stable)" = "$H2 web -"
check "self-heal: the other Service was not touched (no drift reported for it)" \
	bash -c "! grep -q 'web-canary' '$TMP/drift'"
timeout 20 "$CAIRN" app diff web --config cairn.yaml >"$TMP/diff" 2>&1
check "self-heal: the app is Synced afterwards" test $? = 0

push app:bad '[{setWeight: 50}, {pause: {duration: 1s}}]'
BAD=$(git -C repo.git rev-parse main)
sync
check "bad: exits 1" test "$RC" = 1
check "bad: says it rolled back from the commit" grep -q "rolled back from ${BAD:0:7}" "$TMP/out"
check "bad: the stable ReplicaSet is back at 4" test "$(replicas app:v2)" = 4
check "bad: aborted: both Services back on the stable hash, unmarked" \
	test "$(sel web-stable web-canary)" = "$H2 web -/$H2 web -"
sync
check "bad: syncing the same commit again is refused (exit 1)" test "$RC" = 1
check "bad: and says why" grep -q "not synced again until a newer commit or 'cairn rollout retry web'" "$TMP/out"
check "bad: the canary stays at 0" test "$(replicas app:bad)" = 0
"$CAIRN" rollout retry web --config cairn.yaml >/dev/null
sync
check "bad: after 'cairn rollout retry' the commit is rolled out again (and aborts: exit 1)" \
	test "$RC" = 1
check "bad: the retry started a new canary" grep -q '"request":"retry"' "$TMP/out"
check "bad: which was rolled back again" grep -q "rolled back from ${BAD:0:7}" "$TMP/out"

push app:v4 '[{setWeight: 20}, {pause: {}}]'
sync
check "v4: an indefinite pause exits 0" test "$RC" = 0
check "v4: and says to promote" grep -q "continue it with 'cairn rollout promote web'" "$TMP/out"
check "v4: the canary runs 1 of 4" test "$(replicas app:v4)" = 1
H4=$(hash app:v4)
check "v4: at weight 20 stableService selects the stable hash (marked)" \
	test "$(sel web-stable)" = "$H2 web web"
check "v4: and canaryService the canary's (marked)" test "$(sel web-canary)" = "$H4 web web"
sync
check "v4: a second sync in the pause writes no Service again" \
	test "$(grep -c '"service":"web-' "$TMP/out")" = 0

push app:v5 '[{setWeight: 50}, {pause: {duration: 5s}}]'
t0=$(date +%s%N)
sync --async
t1=$(date +%s%N)
check "--async: exits 0" test "$RC" = 0
check "--async: says the rollouts started" grep -q "rollouts started" "$TMP/out"
check "--async: returns before the 5 s pause is over ($(((t1 - t0) / 1000000)) ms)" \
	test $(((t1 - t0) / 1000000)) -lt 5000

CSVC=web-missing push app:v6 '[{setWeight: 50}, {pause: {duration: 1s}}]'
sync
check "missing canaryService: sync exits non-zero" test "$RC" != 0
check "missing canaryService: the message names the Service and the Rollout field" \
	grep -q "Service 'web-missing' named by spec.strategy.canary.canaryService of Rollout 'web' does not exist in namespace 'dev'" "$TMP/out"
check "missing canaryService: no canary Pods were started" test "$(replicas app:v6)" = ""
check "missing canaryService: no Service 'web-missing' was created" \
	bash -c "! kubectl -n dev get svc web-missing >/dev/null 2>&1"

# blue-green (app bg): after completion a sync leaves the active Service on
# the new hash and the app Synced
bg() {
	cat >work/bg/bg.yaml <<Y
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: bg}
spec:
  replicas: 2
  selector: {matchLabels: {app: bg}}
  template:
    metadata: {labels: {app: bg}}
    spec: {containers: [{name: bg, image: "$1"}]}
  strategy: {blueGreen: {activeService: bg-active, scaleDownDelaySeconds: 0}}
---
apiVersion: v1
kind: Service
metadata: {name: bg-active}
spec:
  selector: {app: bg}
  ports: [{port: 80}]
Y
	(cd work && git add -A && git commit -qm "bg $1" && git push -q origin HEAD:main)
}
bg app:b1
timeout 60 "$CAIRN" app sync bg --config cairn.yaml >"$TMP/out" 2>&1
bg app:b2
timeout 60 "$CAIRN" app sync bg --config cairn.yaml >"$TMP/out" 2>&1
check "blue-green: v2 completes" grep -q "^rollout bg  *Healthy" "$TMP/out"
B2=$(hash app:b2 bg)
check "blue-green: the active Service selects the new hash, app key kept" \
	test "$(sel bg-active)" = "$B2 bg -"
timeout 60 "$CAIRN" app sync bg --config cairn.yaml >"$TMP/out" 2>&1
check "blue-green: a later sync exits 0 and keeps the hash" \
	test "$?/$(sel bg-active)" = "0/$B2 bg -"
timeout 20 "$CAIRN" app diff bg --config cairn.yaml >"$TMP/diff" 2>&1
check "blue-green: the app is Synced" test $? = 0
timeout 20 "$CAIRN" drift watch bg --config cairn.yaml --no-fetch --mode correct --for 10s --events 1 \
	>"$TMP/drift" 2>&1 &
DRIFT=$!
sleep 0.5
kubectl -n dev patch svc bg-active --type merge -p '{"spec":{"selector":{"app":"other"}}}' >/dev/null
wait "$DRIFT"
check "blue-green: self-heal corrects the drifted selector and keeps the hash" \
	test "$(sel bg-active)" = "$B2 bg -"
timeout 20 "$CAIRN" app diff bg --config cairn.yaml >"$TMP/diff" 2>&1
check "blue-green: Synced after the self-heal round" test $? = 0
done_testing
