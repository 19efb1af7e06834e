#!/bin/bash
# sync.sh - `cairn app sync|diff|get|wait|history|rollback` end to end:
# a real git repository read through the mirror cache, a real cairn-sim,
# real kubectl to look at and change the cluster.
#
# Tier: fast (every check here runs in `make check`, about 90 s). The
# checks marked "soak-only" run only with CAIRN_LONG=1.
. "$(dirname "$0")/lib.sh"

SIM=${CAIRN_SIM:-$BUILDDIR/cairn-sim}
if ! command -v kubectl >/dev/null 2>&1 || ! command -v git >/dev/null 2>&1; then
	echo "1..0 # SKIP kubectl or git is not installed"
	exit 0
fi
SIMPID=
trap '[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
export GIT_CONFIG_NOSYSTEM=1 HOME="$TMP/home" KUBECONFIG="$TMP/kubeconfig"
export CAIRN_STATE_DIR="$TMP/state"
unset CAIRN_CONFIG
mkdir -p "$HOME"
"$SIM" --listen 127.0.0.1:0 --kubeconfig-out "$KUBECONFIG" --pod-ready-delay 200ms \
	--fail-rule '*:bad*=fail' >"$TMP/sim.out" 2>"$TMP/sim.err" &
SIMPID=$!
for _ in $(seq 100); do
	[ -s "$KUBECONFIG" ] && break
	sleep 0.1
done
check "cairn-sim starts and writes its kubeconfig" test -s "$KUBECONFIG"
SERVER=$(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.server}')

# The repository: two ConfigMaps and a Deployment in wave 0.
mkdir -p repo/app envs
cm() { # cm NAME VALUE [ANNOTATIONS]
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: %s\n%s\ndata: {k: "%s"}\n---\n' \
		"$1" "${3:-}" "$2"
}
cm one v1 >repo/app/cms.yaml
cm two v2 >>repo/app/cms.yaml
cat >repo/app/deploy.yaml <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.25}]}
Y
commit() { (cd repo && git add -A && git -c user.name=t -c user.email=t@t commit -qm "$1"); }
(cd repo && git init -q .) && commit one || exit 1
URL="file://$TMP/repo"

cat >envs/dev.yaml <<Y
apiVersion: cairn.dev/v1alpha1
kind: Environment
metadata: {name: dev}
spec:
  cluster: {server: "$SERVER", kubeconfig: "$KUBECONFIG"}
  namespaces: ["demo*"]
  defaultNamespace: demo
Y
cat >apps.yaml <<Y
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: demo
  labels: {cairn.dev/environment: dev}
spec:
  project: default
  source: {repoURL: "$URL", targetRevision: HEAD, path: app}
  destination: {server: "$SERVER", namespace: demo}
  syncPolicy:
    syncOptions: [CreateNamespace=true]
    retry: {limit: 3, backoff: {duration: 1s, factor: 2, maxDuration: 2s}}
Y
OUT="$TMP/out"
# a SUB ARGS...: cairn app SUB demo (bounded); output in $OUT, status in $RC
a() { local s=$1; shift; timeout 120 "$CAIRN" app "$s" --apps apps.yaml --environments envs "$@" >"$OUT" 2>&1; RC=$?; }
has() { grep -q -- "$1" "$OUT" || { echo "# expected '$1' in:"; sed 's/^/#   /' "$OUT"; return 1; }; }
rc_is() { [ "$RC" = "$1" ] || { echo "# exit $RC, expected $1:"; sed 's/^/#   /' "$OUT"; return 1; }; }
kval() { timeout 30 kubectl -n demo get cm "$1" -o jsonpath='{.data.k}' 2>/dev/null; }

# The namespace does not exist before the first sync: diff treats the dry
# run against it as "would create" and CreateNamespace=true makes it.
check "the destination namespace does not exist yet" \
	sh -c "! timeout 30 kubectl get namespace demo >/dev/null 2>&1"
a diff demo
check "diff before the first sync: differences (exit 1)" rc_is 1
check "diff names a missing object" has 'ConfigMap demo/one'
a sync demo
check "first sync succeeds" rc_is 0
check "first sync prints the operation" has 'Operation: *sync #[0-9]* Succeeded'
check "kubectl sees the synced ConfigMap" test "$(kval one)" = v1
a diff demo
check "diff right after the sync: none (exit 0)" rc_is 0
a diff demo -o json
check "diff -o json with no difference is an empty array" \
	python3 -c 'import json,sys; sys.exit(json.load(open(sys.argv[1])) != [])' "$OUT"

# A value changed in git.
cm one v1b >repo/app/cms.yaml
cm two v2 >>repo/app/cms.yaml
commit two
a diff demo
check "diff after a commit: differences (exit 1)" rc_is 1
check "diff shows the changed value" sh -c "grep -q -- '-  k: v1$' '$OUT' && grep -q -- '+  k: v1b$' '$OUT'"
a diff demo -o json
check "diff -o json names the path" \
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(not any(p["path"]=="/data/k" and p["wanted"]=="v1b" for r in d for p in r["differences"]))' "$OUT"
a sync demo --dry-run
check "sync --dry-run says it would update" has '/ConfigMap/demo/one *update'
check "sync --dry-run changed nothing" test "$(kval one)" = v1
a sync demo
check "sync after a commit succeeds" rc_is 0
check "kubectl sees the new value" test "$(kval one)" = v1b
a get demo
check "get shows Synced and Healthy" sh -c "grep -q '^Sync Status:  Synced' '$OUT' && grep -q '^Health:       Healthy' '$OUT'"
check "get shows the revision of the commit" has "^Revision:     $(git -C repo rev-parse HEAD)"

# Prune: 'two' leaves git.
cm one v1b >repo/app/cms.yaml
commit three
a diff demo
check "diff shows the object to prune (exit 1)" sh -c "[ $RC = 1 ] && grep -q 'would be pruned' '$OUT'"
a sync demo
check "sync without --prune leaves it" sh -c "[ $RC = 0 ] && [ '$(kval two)' = v2 ]"
a sync demo --prune
check "sync --prune deletes it" sh -c "[ $RC = 0 ] && ! timeout 30 kubectl -n demo get cm two >/dev/null 2>&1"

# History and rollback to the first entry (one=v1, two=v2).
a history demo
check "history lists every successful sync" test "$(grep -c '^[0-9]' "$OUT")" -ge 4
FIRST=$(awk '/^[0-9]/ { id = $1 } END { print id }' "$OUT")
a history demo -o json
check "history -o json names the first commit's revision" \
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(d[-1]["revision"] != sys.argv[2])' "$OUT" "$(git -C repo rev-list --max-parents=0 HEAD)"
a rollback demo "$FIRST"
check "rollback to history $FIRST succeeds" rc_is 0
check "rollback restored the old value" test "$(kval one)" = v1
check "rollback says auto-sync is paused" has 'paused'
a get demo
check "get shows the pin" has 'pinned to history'
a rollback demo 99999
check "rollback to an unknown entry fails (exit 1)" rc_is 1
check "and names it" has '99999'
a sync demo --prune
check "a sync returns to git" sh -c "[ $RC = 0 ] && [ '$(kval one)' = v1b ]"

# Waves with a failing hook: the Sync hook in wave 1 fails, so the
# SyncFail hook runs and the ConfigMap of wave 2 is never created.
cat >repo/app/hooks.yaml <<'Y'
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations: {argocd.argoproj.io/hook: Sync, argocd.argoproj.io/sync-wave: "1"}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: m, image: "busybox:bad"}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: sync-failed
  annotations: {argocd.argoproj.io/hook: SyncFail}
data: {k: ran}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: late
  annotations: {argocd.argoproj.io/sync-wave: "2"}
data: {k: late}
Y
commit hooks
a sync demo
check "a sync with a failing hook fails (exit 1)" rc_is 1
check "the SyncFail hook ran" test "$(kval sync-failed)" = ran
check "the later wave did not run" sh -c "! timeout 30 kubectl -n demo get cm late >/dev/null 2>&1"
check "every attempt was made (retry.limit 3)" has 'after 4 attempts'
git -C repo rm -q app/hooks.yaml && commit nohooks

# allowEmpty: an empty render never prunes everything.
mv repo/app/cms.yaml repo/app/deploy.yaml "$TMP/"
printf 'resources: []\n' >repo/app/kustomization.yaml
commit empty
a sync demo --prune
check "an empty render is refused without allowEmpty (exit 1)" sh -c "[ $RC = 1 ] && grep -qi 'empty' '$OUT'"
check "and nothing was pruned" test "$(kval one)" = v1b
rm repo/app/kustomization.yaml
mv "$TMP/cms.yaml" "$TMP/deploy.yaml" repo/app/
commit back

# Retry through injected API faults: every write is refused with 409 until
# the second attempt has started; a later attempt succeeds.
cfg() { kubectl config view --raw -o jsonpath="$1"; }
cfg '{.clusters[0].cluster.certificate-authority-data}' | base64 -d >"$TMP/ca.pem"
TOKEN=$(cfg '{.users[0].user.token}')
admin() { curl -s --max-time 20 --cacert "$TMP/ca.pem" -H "Authorization: Bearer $TOKEN" \
	-o /dev/null -w '%{http_code}' -X PUT -H 'Content-Type: application/json' --data "$2" "$SERVER/admin/$1"; }
cm one v1c >repo/app/cms.yaml
commit four
if command -v curl >/dev/null 2>&1 && [ -n "$TOKEN" ]; then
	check "faults switched on" test "$(admin faults '{"reset":true,"conflict_rate":1}')" = 200
	# the faults go once the second attempt has started (or after 20 s)
	"$CAIRN" app sync demo --apps apps.yaml --environments envs >"$TMP/retry.out" 2>&1 &
	SYNCPID=$!
	for _ in $(seq 100); do
		"$CAIRN" app get demo --apps apps.yaml --environments envs 2>/dev/null |
			grep -q '(attempt [2-4])' && break
		sleep 0.2
	done
	admin faults '{"reset":true}' >/dev/null
	wait "$SYNCPID"
	RC=$?
	cp "$TMP/retry.out" "$OUT"
	check "the sync succeeded after retrying" rc_is 0
	check "the new value is live" test "$(kval one)" = v1c
	check "more than one attempt was made" has 'after [2-4] attempts'
else
	ok "# SKIP curl or the token is missing: no fault injection"
fi

# kill -9 in the middle of a sync (Pods take 4 s to be ready, so the sync
# waits for the Deployment's wave), then a clean re-sync.
admin workloads '{"podReadyDelayMs":4000}' >/dev/null
sed -i 's/nginx:1.25/nginx:1.26/' repo/app/deploy.yaml
commit five
"$CAIRN" app sync demo --apps apps.yaml --environments envs >"$TMP/killed.out" 2>&1 &
SYNCPID=$!
for _ in $(seq 100); do
	grep -q 'Deployment/demo/web' "$TMP/killed.out" && break
	sleep 0.1
done
kill -9 "$SYNCPID"
wait "$SYNCPID" 2>/dev/null
check "the sync was killed while it waited for the Deployment" grep -q 'Deployment/demo/web' "$TMP/killed.out"
admin workloads '{"podReadyDelayMs":200}' >/dev/null
a get demo
check "get (read-only) shows the killed sync as the last operation" has 'Operation: *sync #[0-9]* Running'
a diff demo
a get demo
check "the next read-write open marks it interrupted" has 'Operation: *sync #[0-9]* Error.*interrupted'
a sync demo
check "a clean re-sync after kill -9 succeeds" rc_is 0
a wait demo --health --sync --timeout 30s
check "wait: Synced and Healthy" sh -c "[ $RC = 0 ] && grep -q 'Synced, Healthy' '$OUT'"
check "the new image is live" \
	test "$(timeout 30 kubectl -n demo get deploy web -o jsonpath='{.spec.template.spec.containers[0].image}')" = nginx:1.26

# Audit and tracking from cairn.yaml: a second app tracked by label, synced
# with an audit key configured; the trail verifies and names the sync.
mkdir -p repo/lab
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: lab}\ndata: {k: l1}\n' >repo/lab/cm.yaml
commit lab
sed -e 's/name: demo$/name: lab/' -e 's/path: app}/path: lab}/' -e 's/namespace: demo}/namespace: demo-lab}/' \
	apps.yaml >lab.yaml
"$CAIRN" audit keygen --name sync-test --out "$TMP/audit" >/dev/null 2>&1
cat >cairn.yaml <<Y
tracking: label
audit: {key: "$TMP/audit.key", trustedKey: "$TMP/audit.pub"}
Y
l() { timeout 120 "$CAIRN" app "$1" lab --apps lab.yaml --environments envs --config cairn.yaml \
	"${@:2}" >"$OUT" 2>&1; RC=$?; }
l sync --actor ci-bot
check "sync with an audit key and label tracking succeeds" rc_is 0
check "label tracking: the instance label names the app" \
	test "$(timeout 30 kubectl -n demo-lab get cm lab -o jsonpath='{.metadata.labels.app\.kubernetes\.io/instance}')" = lab
check "label tracking: no tracking-id annotation" \
	test -z "$(timeout 30 kubectl -n demo-lab get cm lab -o jsonpath='{.metadata.annotations.argocd\.argoproj\.io/tracking-id}')"
l diff
check "diff in label mode after the sync: none (exit 0)" rc_is 0
timeout 30 "$CAIRN" audit verify --config cairn.yaml >"$OUT" 2>&1
RC=$?
check "audit verify passes after the sync" rc_is 0
timeout 30 "$CAIRN" audit show --app lab --config cairn.yaml >"$OUT" 2>&1
check "the trail holds sync.started for the app" has 'sync.started'
check "the trail holds sync.succeeded for the app" has 'sync.succeeded'
check "the trail names the --actor" has 'ci-bot'
printf 'tracking: sideways\n' >bad.yaml
timeout 60 "$CAIRN" app diff lab --apps lab.yaml --environments envs --config bad.yaml >"$OUT" 2>&1
RC=$?
check "an unknown tracking mode is refused with file and value" \
	sh -c "[ $RC = 2 ] && grep -q \"bad.yaml:1.*tracking 'sideways' is not annotation, label or annotation+label\" '$OUT'"

# Exit codes of diff on errors, and usage errors.
a diff demo --kubeconfig "$TMP/none"
check "diff with an unusable kubeconfig is an error (exit 2)" rc_is 2
a diff nope
check "diff of an unknown app is an error (exit 2)" rc_is 2
a wait demo --timeout soon
check "a bad --timeout is a usage error (exit 2)" sh -c "[ $RC = 2 ] && grep -q \"invalid --timeout 'soon'\" '$OUT'"

# soak-only (CAIRN_LONG=1): a hundred syncs in a row leave one Running-free
# history trimmed to revisionHistoryLimit (10).
if [ -n "${CAIRN_LONG:-}" ]; then
	for i in $(seq 100); do
		cm one "soak$i" >repo/app/cms.yaml
		commit "soak $i"
		a sync demo || break
	done
	check "soak-only: 100 syncs in a row succeed" test "$(kval one)" = soak100
	a history demo
	check "soak-only: history is trimmed to 10 entries" test "$(grep -c '^[0-9]' "$OUT")" -le 11
fi
done_testing
