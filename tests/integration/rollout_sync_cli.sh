#!/bin/bash
# rollout_sync_cli.sh - `cairn app sync` without a daemon drives the app's
# Rollouts in the foreground on cairn-sim (Pods ready at once; image app:bad
# never pulls): the first version to Healthy (exit 0), a canary through
# setWeight 50 with its steps printed, a canary that never pulls aborted
# (exit 1, "rolled back from <sha>"), the same commit refused afterwards
# (exit 1), an indefinite pause (exit 0, says to promote), --async returning
# once the rollout started.
#
# Tier: fast (bounded: every wait has a timeout; about 15 s).
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
Y
printf 'stateDir: %s\napps:\n- path: apps.yaml\nenvironmentsDir: envs\n' "$TMP/state" >cairn.yaml
git clone -q repo.git work 2>/dev/null
mkdir -p work/app
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
  strategy: {canary: {steps: $2}}
Y
	(cd work && git add -A && git commit -qm "$1" && git push -q origin HEAD:main)
}
sync() { timeout 60 "$CAIRN" app sync web --config cairn.yaml "$@" >"$TMP/out" 2>&1; RC=$?; }
replicas() { timeout 10 kubectl -n dev get rs -l cairn.dev/rollout=web \
	-o jsonpath='{range .items[*]}{.spec.template.spec.containers[0].image} {.spec.replicas}{"\n"}{end}' |
	awk -v img="$1" '$1 == img {print $2}'; }

push app:v1 '[{setWeight: 50}, {pause: {duration: 1s}}]'
sync
check "v1: cairn app sync exits 0" test "$RC" = 0
check "v1: it says the rollout is Healthy" grep -q "^rollout web  *Healthy" "$TMP/out"
check "v1: the ReplicaSet runs 4" test "$(replicas app:v1)" = 4

push app:v2 '[{setWeight: 50}, {pause: {duration: 1s}}]'
sync
check "v2: exits 0" test "$RC" = 0
check "v2: prints the weight 50 step" grep -q '"weight":50' "$TMP/out"
check "v2: ends Healthy" grep -q "^rollout web  *Healthy" "$TMP/out"
check "v2: the new ReplicaSet runs 4, the old 0" test "$(replicas app:v2) $(replicas app:v1)" = "4 0"

push app:bad '[{setWeight: 50}, {pause: {duration: 1s}}]'
BAD=$(git -C repo.git rev-parse main)
sync
check "bad: exits 1" test "$RC" = 1
check "bad: says it rolled back from the commit" grep -q "rolled back from ${BAD:0:7}" "$TMP/out"
check "bad: the stable ReplicaSet is back at 4" test "$(replicas app:v2)" = 4
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

push app:v4 '[{setWeight: 25}, {pause: {}}]'
sync
check "v4: an indefinite pause exits 0" test "$RC" = 0
check "v4: and says to promote" grep -q "continue it with 'cairn rollout promote web'" "$TMP/out"
check "v4: the canary runs 1 of 4" test "$(replicas app:v4)" = 1

push app:v5 '[{setWeight: 50}, {pause: {duration: 5s}}]'
t0=$(date +%s%N)
sync --async
t1=$(date +%s%N)
check "--async: exits 0" test "$RC" = 0
check "--async: says the rollouts started" grep -q "rollouts started" "$TMP/out"
check "--async: returns before the 5 s pause is over ($(((t1 - t0) / 1000000)) ms)" \
	test $(((t1 - t0) / 1000000)) -lt 5000
done_testing
