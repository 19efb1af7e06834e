#!/bin/bash
# demo.sh - the main job on the embedded default: Cairn as people run it.
#
# Builds Cairn, starts the local Kubernetes simulator (cairn-sim), makes a
# local bare git repository holding the guestbook example and the dev,
# staging and prod environments, installs Cairn's git hooks into it, starts
# cairnd, then walks through: push the app -> synced and healthy; push a
# change -> live, with the measured push-to-live time; change a live object
# with kubectl -> drift detected and corrected; the deployment history; the
# signed audit trail; then (Prometheus scraping cairn-sim) a canary
# Rollout promoted through 20% and 50% after its analysis passed, and a bad
# version rolled back by itself. Everything it starts is stopped (by PID) and its
# temporary directory removed when it exits, whatever happens.
#
# Needs nothing but a Debian 12 machine: scripts/install-deps.sh is run
# first. Exit 0 when every step passed; otherwise non-zero, with the step
# that failed named and the end of the daemon's log shown.
#
# Environment:
#   CAIRN_DEMO_BUILD=DIR   use the programs already built in DIR (cairn,
#                          cairn-git, cairnd, cairn-sim) instead of building
#                          build-demo (the smoke test reuses the check build)
#   CAIRN_DEMO_KEEP=1      keep the temporary directory (logs, repo, state)
set -euo pipefail
cd "$(dirname "$0")"
top=$(pwd)

if [ -t 1 ]; then
	bold=$(printf '\033[1m') dim=$(printf '\033[2m') off=$(printf '\033[0m')
else
	bold='' dim='' off=''
fi
STEP="setting up"
step() {
	STEP="$*"
	printf '\n%s== %s%s\n' "$bold" "$*" "$off"
}
say() { printf '   %s\n' "$*"; }
run() { # run CMD...: show the command, then its output indented
	printf '%s$ %s%s\n' "$dim" "$*" "$off"
	"$@" 2>&1 | sed 's/^/  /'
	return "${PIPESTATUS[0]}"
}
exec 3>&2 # fail() reaches the terminal even from a command whose output is discarded
fail() {
	printf 'demo: %s\n' "$*" >&3
	exit 1
}

# ---- build -------------------------------------------------------------------
step "build"
./scripts/install-deps.sh
for t in kubectl git curl python3 prometheus; do
	command -v "$t" >/dev/null 2>&1 || fail "'$t' is not installed (scripts/install-deps.sh should provide it)"
done
if [ -n "${CAIRN_DEMO_BUILD:-}" ]; then
	B=$(cd "$CAIRN_DEMO_BUILD" && pwd)
	say "using the programs built in $B"
else
	# The compiler's output goes to a log, shown when the build fails.
	mkdir -p build-demo
	blog="$top/build-demo/demo-build.log"
	if ! {
		if [ ! -f build-demo/Makefile ] || [ configure.ac -nt build-demo/config.status ]; then
			autoreconf -fi && (cd build-demo && "$top/configure" -q)
		fi && make -C build-demo -j"$(nproc)" cairn cairn-git cairnd cairn-sim
	} >"$blog" 2>&1; then
		tail -n 30 "$blog" | sed 's/^/  /' >&2
		fail "the build failed (whole log: $blog)"
	fi
	B="$top/build-demo"
	say "built cairn, cairnd and cairn-sim in build-demo/ (compiler output: build-demo/demo-build.log)"
fi
for p in cairn cairn-git cairnd cairn-sim; do
	[ -x "$B/$p" ] || fail "'$B/$p' was not built"
done
CAIRN="$B/cairn"

# ---- the clean-up, set before anything is started ------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-demo.XXXXXX")
sim_pid='' daemon_pid='' prom_pid=''
stop_pid() { # stop_pid PID: TERM, wait up to 10 s, then KILL
	local pid=$1
	[ -n "$pid" ] || return 0
	kill -TERM "$pid" 2>/dev/null || return 0
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}
finish() {
	local rc=$?
	trap - EXIT INT TERM
	if [ "$rc" != 0 ]; then
		printf '\ndemo: FAILED at step "%s" (exit %s)\n' "$STEP" "$rc" >&3
		if [ -s "$work/cairnd.log" ]; then
			printf 'demo: the last lines of cairnd'"'"'s log (CAIRN_DEMO_KEEP=1 keeps it all):\n' >&3
			tail -n 15 "$work/cairnd.log" | sed 's/^/  /' >&3
		fi
		if [ -s "$work/sim.err" ]; then
			printf 'demo: the last lines of cairn-sim'"'"'s log:\n' >&3
			tail -n 5 "$work/sim.err" | sed 's/^/  /' >&3
		fi
	fi
	stop_pid "$daemon_pid"
	stop_pid "$prom_pid"
	stop_pid "$sim_pid"
	if [ -n "${CAIRN_DEMO_KEEP:-}" ]; then
		printf 'demo: kept %s\n' "$work" >&3
	else
		rm -rf "$work"
	fi
	exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A private git and kubectl configuration: nothing of the user's is read or
# written, and nothing is left behind.
export HOME="$work/home" GIT_CONFIG_NOSYSTEM=1 KUBECONFIG="$work/kubeconfig"
export CAIRN_STATE_DIR="$work/state"
unset CAIRN_CONFIG CAIRN_TOKEN
mkdir -p "$HOME"
git config --global user.name "Demo Developer"
git config --global user.email dev@example.com
git config --global init.defaultBranch main
git config --global advice.detachedHead false

# wait_for SECONDS WHAT CMD...: retry CMD every 20 ms until it succeeds.
wait_for() {
	local secs=$1 what=$2 end
	shift 2
	end=$(($(date +%s%N) + secs * 1000000000))
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$end" ] || fail "timed out after ${secs}s waiting for $what"
		sleep 0.02
	done
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ---- the cluster ---------------------------------------------------------------
step "start cairn-sim, a local Kubernetes API on 127.0.0.1"
# Its traffic model answers every Service's requests (200 a second each) with
# the error ratio of the first rule matching the Pod's image: guestbook 1.8.0
# fails 30% of them, everything else 1%.
"$B/cairn-sim" --listen 127.0.0.1:0 --kubeconfig-out "$KUBECONFIG" --pod-ready-delay 200ms \
	--metrics-listen 127.0.0.1:0 --traffic-rps 200 \
	--traffic-rule 'image=*/guestbook:1.8.0,error_ratio=0.3' --traffic-rule 'error_ratio=0.01' \
	>"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
wait_for 10 "cairn-sim to write its kubeconfig" test -s "$KUBECONFIG"
wait_for 10 "cairn-sim to open its metrics listener" grep -q '^metrics on' "$work/sim.out"
SERVER=$(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.server}')
METRICS=$(sed -n 's/^metrics on //p' "$work/sim.out")
say "cairn-sim (pid $sim_pid) serves $SERVER; its pods become ready 200 ms after they are created"
say "its request counters per Pod: http://$METRICS/metrics (guestbook 1.8.0 answers 30% errors, others 1%)"

step "start Prometheus on 127.0.0.1, scraping cairn-sim every second"
PROM_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
PROM="http://127.0.0.1:$PROM_PORT"
cat >"$work/prometheus.yml" <<EOF
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
scrape_configs:
- job_name: cairn-sim
  static_configs: [{targets: ['$METRICS']}]
EOF
prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus" \
	--web.listen-address="127.0.0.1:$PROM_PORT" >"$work/prometheus.log" 2>&1 &
prom_pid=$!
prom_ready() {
	kill -0 "$prom_pid" 2>/dev/null || fail "prometheus exited (log: $work/prometheus.log)"
	curl -sf "$PROM/-/ready"
}
wait_for 30 "Prometheus to be ready" prom_ready
say "Prometheus (pid $prom_pid) serves $PROM; the canary's analysis queries it"

# ---- the repository --------------------------------------------------------------
step "create a git repository with the guestbook app and the dev/staging/prod environments"
git init -q --bare "$work/apps.git"
REPO="$work/apps.git"
git clone -q "$REPO" "$work/checkout" 2>/dev/null
W="$work/checkout"
mkdir -p "$W/guestbook" "$W/environments" "$W/apps"
cp -r examples/guestbook/base examples/guestbook/overlays "$W/guestbook/"
# guestbook-canary: the same app as an Argo Rollouts canary gated by
# Prometheus (examples/guestbook-canary), deployed to dev-canary.
cp -r examples/guestbook-canary "$W/guestbook-canary"
sed -i "s|PROMETHEUS_URL|$PROM|" "$W/guestbook-canary/analysis.yaml"
# The example environments name clusters on 127.0.0.1:6443/6444; here all
# three share the simulator.
for e in dev staging prod; do
	sed -e "s|^    server: .*|    server: \"$SERVER\"\n    kubeconfig: \"$KUBECONFIG\"|" \
		"environments/$e.yaml" >"$W/environments/$e.yaml"
	grep -q "kubeconfig: \"$KUBECONFIG\"" "$W/environments/$e.yaml" ||
		fail "could not point environments/$e.yaml at the simulator"
done
application() { # application ENV AUTOMATED [NAME PATH NAMESPACE]
	cat <<EOF
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: ${3:-guestbook-$1}
  labels:
    cairn.dev/app: guestbook
    cairn.dev/environment: $1
spec:
  project: default
  source:
    repoURL: file://$REPO
    targetRevision: main
    path: ${4:-guestbook/overlays/$1}
  destination:
    server: "$SERVER"
    namespace: ${5:-$1-guestbook}
  syncPolicy:
EOF
	if [ "$2" = yes ]; then
		printf '    automated: {prune: true, selfHeal: true}\n'
	fi
	printf '    syncOptions: [CreateNamespace=true]\n'
}
{
	application dev yes
	application staging yes
	application prod no
	application dev yes guestbook-canary guestbook-canary dev-canary
} >"$W/apps/guestbook.yaml"
say "$REPO: guestbook/{base,overlays/dev,staging,prod}, environments/, apps/guestbook.yaml"
say "guestbook-canary/: the guestbook as a canary Rollout with a Prometheus analysis (dev-canary)"
say "prod is not automated (environments/prod.yaml: autoSync false): it waits for a promotion"
say "cairnd reads the Applications and Environments from the checkout; the manifests from git"

# ---- cairnd ----------------------------------------------------------------------
step "configure cairnd: API tokens, the audit key, the git hooks"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
API="http://127.0.0.1:$PORT"
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
HOOK_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
VIEW_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
"$CAIRN" audit keygen --name demo --out "$work/audit" >/dev/null
cat >"$work/cairn.yaml" <<EOF
stateDir: $work/state
listen: {api: "127.0.0.1:$PORT"}
apps:
- path: $W/apps/guestbook.yaml
environmentsDir: $W/environments
audit: {key: $work/audit.key, trustedKey: $work/audit.pub}
api:
  tokens:
  - {name: git-hook, sha256: $(sha "$HOOK_TOKEN"), role: deployer}
  - {name: demo-viewer, sha256: $(sha "$VIEW_TOKEN"), role: viewer}
EOF
printf '%s\n' "$HOOK_TOKEN" >"$work/hook.token"
chmod 600 "$work/hook.token"
run "$CAIRN" hooks install "$REPO" --url "$API" --token-file "$work/hook.token"
say "cairn.yaml keeps only the tokens' SHA-256; the audit trail is signed with audit.key (Ed25519)"
CFG=(--config "$work/cairn.yaml")

step "start cairnd"
"$B/cairnd" "${CFG[@]}" --pidfile "$work/cairnd.pid" --poll off >"$work/cairnd.log" 2>&1 &
daemon_pid=$!
daemon_ready() {
	kill -0 "$daemon_pid" 2>/dev/null || fail "cairnd exited before it was ready"
	curl -sf "$API/readyz"
}
wait_for 15 "cairnd to answer /readyz" daemon_ready
say "cairnd (pid $daemon_pid) serves $API; log: ${work}/cairnd.log"
say "polling is off here: every sync below comes from the git hooks"

# status APP: "SYNC HEALTH REVISION" from the API
status() {
	curl -sf -H "Authorization: Bearer $VIEW_TOKEN" "$API/api/v1/applications/$1" |
		python3 -c 'import json,sys; s=json.load(sys.stdin).get("status") or {}; print(s.get("sync",""), s.get("health",""), s.get("revision",""))'
}
# synced APP REV [HEALTH]: the API says APP is Synced at REV (and HEALTH)
synced() {
	curl -sf -H "Authorization: Bearer $VIEW_TOKEN" "$API/api/v1/applications/$1" |
		grep -q "\"sync\":\"Synced\",\"health\":\"${3:-[A-Za-z]*}\",\"revision\":\"$2\""
}
push() { # push MESSAGE: commit everything in the checkout and git push it
	(cd "$W" && git add -A && git commit -qm "$1" && git push -q origin HEAD:main) 2>"$work/push.err" ||
		{ sed 's/^/  /' "$work/push.err" >&2; fail "git push was refused"; }
}

# ---- 1. push the app -------------------------------------------------------------
step "git push the guestbook app"
push "guestbook 1.5.0 in dev, staging and prod"
REV=$(git -C "$REPO" rev-parse main)
say "pushed $REV; the pre-receive hook validated it, post-receive told cairnd"
wait_for 30 "guestbook-dev to be Synced and Healthy at $REV" synced guestbook-dev "$REV" Healthy
wait_for 30 "guestbook-staging to be Synced and Healthy at $REV" synced guestbook-staging "$REV" Healthy
wait_for 30 "guestbook-canary to be Synced and Healthy at $REV" synced guestbook-canary "$REV" Healthy
run "$CAIRN" app get guestbook-dev "${CFG[@]}"
DEPLOY_COLS='custom-columns=DEPLOYMENT:.metadata.name,REPLICAS:.spec.replicas,READY:.status.readyReplicas,IMAGE:.spec.template.spec.containers[0].image'
run kubectl get deploy -n dev-guestbook -o "$DEPLOY_COLS"
run kubectl get svc -n dev-guestbook -o custom-columns=SERVICE:.metadata.name,CLUSTER-IP:.spec.clusterIP,PORTS:.spec.ports[*].port
say "guestbook-prod: $(status guestbook-prod) (compared, not synced: it waits for a promotion)"

# ---- 2. push a change --------------------------------------------------------------
step "git push a change: dev runs guestbook 1.6.0 with 2 replicas"
sed -i -e 's/newTag: .*/newTag: 1.6.0/' -e 's/count: .*/count: 2/' "$W/guestbook/overlays/dev/kustomization.yaml"
(cd "$W" && git --no-pager diff --stat)
(cd "$W" && git add -A && git commit -qm "guestbook-dev: 1.6.0, 2 replicas")
# The live Deployment read straight from the API server (curl is cheaper
# than kubectl for polling every few milliseconds).
kubectl config view --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' |
	base64 -d >"$work/sim-ca.pem"
SIM_TOKEN=$(kubectl config view --raw -o jsonpath='{.users[0].user.token}')
applied() {
	curl -sf --cacert "$work/sim-ca.pem" -H "Authorization: Bearer $SIM_TOKEN" \
		"$SERVER/apis/apps/v1/namespaces/dev-guestbook/deployments/guestbook" |
		grep -q '"image": *"registry.local/guestbook:1.6.0"'
}
t0=$(now_ms)
(cd "$W" && git push -q origin HEAD:main) 2>"$work/push.err" || fail "git push was refused"
t_push=$(now_ms)
REV2=$(git -C "$REPO" rev-parse main)
wait_for 30 "the 1.6.0 Deployment to be applied" applied
t_applied=$(now_ms)
wait_for 30 "guestbook-dev to be Synced at $REV2" synced guestbook-dev "$REV2"
t_synced=$(now_ms)
say "push-to-live, from the start of git push:"
say "  $((t_push - t0)) ms  git push returned (both hooks included)"
say "  $((t_applied - t0)) ms  the 1.6.0 Deployment is applied in the cluster"
say "  $((t_synced - t0)) ms  guestbook-dev Synced at $REV2 (the rolling update done and healthy)"
wait_for 30 "guestbook-dev to be Healthy at $REV2" synced guestbook-dev "$REV2" Healthy
run kubectl get deploy -n dev-guestbook -o "$DEPLOY_COLS"

# ---- 3. drift ------------------------------------------------------------------------
step "someone changes a live object by hand: kubectl scale --replicas=5"
# cairnd watches the live objects of every app it deployed (docs/daemon.md
# "Drift"); dev's environment says drift: correct.
say "cairnd watches what it deployed; dev's environment says drift: correct"
sleep 1
t0=$(now_ms)
run kubectl scale deploy guestbook -n dev-guestbook --replicas=5
replicas() { kubectl get deploy guestbook -n dev-guestbook -o jsonpath='{.spec.replicas}'; }
drift_recorded() {
	"$CAIRN" drift list --app guestbook-dev --state-dir "$CAIRN_STATE_DIR" |
		grep -q 'Deployment/dev-guestbook/guestbook'
}
back_to_two() { [ "$(replicas)" = 2 ]; }
wait_for 20 "the drift on guestbook-dev to be recorded" drift_recorded
wait_for 20 "the replicas to be corrected back to 2" back_to_two
t1=$(now_ms)
say "replicas are back to $(replicas), as git says ($((t1 - t0)) ms after kubectl scale started)"
run "$CAIRN" drift list --app guestbook-dev --state-dir "$CAIRN_STATE_DIR"

# ---- 4. history -------------------------------------------------------------------------
step "the deployment history of guestbook-dev"
run "$CAIRN" app history guestbook-dev "${CFG[@]}"

# ---- 5. rollouts ---------------------------------------------------------------------------
# Progressive delivery (issue 11): push v2 of guestbook-canary -> canary 20%
# -> analysis against Prometheus passes -> 50% -> promoted; then push a bad
# v3 -> the analysis fails -> rolled back by itself, with the decision, the
# measurements and the time from the breach to the rollback.
CANARY_DIR="$W/guestbook-canary"
RO_JSON="$work/rollout.json"
rollout_get() { # the rollout of guestbook-canary with all its events, as JSON
	"$CAIRN" rollout get guestbook-canary "${CFG[@]}" -o json --events 0 >"$RO_JSON" 2>/dev/null
}
rollout_is() { # rollout_is PHASE REV
	rollout_get && python3 -c 'import json,sys; j=json.load(open(sys.argv[1]))
sys.exit(0 if (j.get("phase"), j.get("revision")) == (sys.argv[2], sys.argv[3]) else 1)' \
		"$RO_JSON" "$1" "$2"
}
# The rollout followed from outside: every 50 ms, the rollout as cairnd's API
# reports it and the ReplicaSets as the API server does. Prints a line when
# either changes; exits 0 when the rollout of REV is Healthy, or Degraded
# with the new image at 0 ready Pods; its last line is "zero T_MS" (the first
# time after the canary had a ready Pod, or after the rollout went Degraded,
# that it had none), "up T_MS" the first time it had one.
cat >"$work/watch.py" <<'PY'
import json, ssl, sys, time, urllib.request
api, view, server, ca, token, ns, img, rev, t0 = sys.argv[1:10]
t0 = int(t0)
ctx = ssl.create_default_context(cafile=ca)
def get(url, tok, c=None):
    rq = urllib.request.Request(url, headers={"Authorization": "Bearer " + tok})
    with urllib.request.urlopen(rq, context=c, timeout=5) as r:
        return json.load(r)
now = lambda: int(time.time() * 1000)
last, up, zero, end = None, None, None, time.time() + 90
while time.time() < end:
    try:
        ro = get(api + "/api/v1/apps/guestbook-canary/rollouts", view)["items"][0]
        rs = get(server + "/apis/apps/v1/namespaces/" + ns +
                 "/replicasets?labelSelector=cairn.dev%2Frollout%3Dguestbook", token, ctx)["items"]
    except Exception:
        time.sleep(0.05)
        continue
    t = now()
    sets = sorted(((x["spec"]["template"]["spec"]["containers"][0]["image"].split(":")[-1],
                    (x.get("status") or {}).get("readyReplicas", 0), x["spec"].get("replicas", 0))
                   for x in rs))
    ready = sum(r for i, r, _ in sets if i == img)
    if up is None and ready > 0:
        up = t
    mine = ro.get("revision") == rev
    if zero is None and ready == 0 and mine and (up is not None or ro.get("phase") == "Degraded"):
        zero = t
    view_line = "%s  weight %s  %s" % (ro.get("phase"), ro.get("weight"),
                                       "  ".join("%s %d/%d" % s for s in sets if s[2] or s[1]))
    if mine and view_line != last:
        last = view_line
        print("%6d ms  %s" % (t - t0, view_line), flush=True)
    if mine and (ro.get("phase") == "Healthy" or (ro.get("phase") == "Degraded" and zero)):
        if up:
            print("up %d" % up)
        if zero:
            print("zero %d" % zero)
        sys.exit(0)
    time.sleep(0.05)
print("timed out; last: %s" % last)
sys.exit(1)
PY
# watch_rollout TAG REV: follow the rollout of REV (image tag TAG) to its end;
# sets T_UP and T_ZERO (ms since the epoch) from the watcher's last lines
watch_rollout() {
	python3 "$work/watch.py" "$API" "$VIEW_TOKEN" "$SERVER" "$work/sim-ca.pem" "$SIM_TOKEN" \
		dev-canary "$1" "$2" "$t0" >"$work/watch.out" 2>&1 || {
		sed 's/^/   /' "$work/watch.out"
		fail "the rollout of $2 did not end"
	}
	grep -v '^up \|^zero ' "$work/watch.out" | sed 's/^/   /'
	T_UP=$(sed -n 's/^up //p' "$work/watch.out")
	T_ZERO=$(sed -n 's/^zero //p' "$work/watch.out")
}
# canary_rs: "TAG READY/REPLICAS" of each ReplicaSet of the Rollout
canary_rs() {
	curl -sf --cacert "$work/sim-ca.pem" -H "Authorization: Bearer $SIM_TOKEN" \
		"$SERVER/apis/apps/v1/namespaces/dev-canary/replicasets?labelSelector=cairn.dev%2Frollout%3Dguestbook" |
		python3 -c 'import json,sys
for rs in json.load(sys.stdin)["items"]:
    print("%s %s/%s" % (rs["spec"]["template"]["spec"]["containers"][0]["image"].split(":")[-1],
          (rs.get("status") or {}).get("readyReplicas", 0), rs["spec"].get("replicas", 0)))'
}

step "git push v2 of guestbook-canary (1.7.0): canary 20% -> analysis against Prometheus -> 50% -> promoted"
sed -i 's|image: registry.local/guestbook:.*|image: registry.local/guestbook:1.7.0|' "$CANARY_DIR/rollout.yaml"
t0=$(now_ms)
push "guestbook-canary 1.7.0"
V2=$(git -C "$REPO" rev-parse main)
say "pushed $V2 (1.7.0 answers 1% errors); the ReplicaSets shown as TAG READY/REPLICAS:"
watch_rollout 1.7.0 "$V2"
rollout_is Healthy "$V2" || fail "the rollout of $V2 is not Healthy: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("message"))' "$RO_JSON")"
say "promoted: push to Healthy in $(($(now_ms) - t0)) ms"
run "$CAIRN" rollout get guestbook-canary "${CFG[@]}" --events 12

step "git push v3 (1.8.0), which answers 30% errors: the analysis fails and the rollout rolls back by itself"
sed -i 's|image: registry.local/guestbook:.*|image: registry.local/guestbook:1.8.0|' "$CANARY_DIR/rollout.yaml"
t0=$(now_ms)
push "guestbook-canary 1.8.0"
V3=$(git -C "$REPO" rev-parse main)
say "pushed $V3"
watch_rollout 1.8.0 "$V3"
rollout_is Degraded "$V3" || fail "the rollout of $V3 did not roll back"
run "$CAIRN" rollout get guestbook-canary "${CFG[@]}" --events 12
say "the decision and the measurements it was taken on:"
python3 - "$RO_JSON" "$t0" "$T_ZERO" <<'PY' | sed 's/^/   /'
import datetime, json, sys
j = json.load(open(sys.argv[1]))
t_push, t_zero = int(sys.argv[2]), int(sys.argv[3])
ev = j.get("events", [])
ev = ev[max(i for i, e in enumerate(ev) if e["kind"] == "start"):]
ms = lambda at: int(datetime.datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ")
                    .replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)
for e in ev:
    if e["kind"] == "measurement":
        m = e["data"]
        try:
            v = ", ".join("%.4f" % x for x in json.loads(m.get("value") or "null"))
        except (TypeError, ValueError):
            v = m.get("value")
        print("measurement  %s  %s = [%s]  %s" % (e["at"][11:23], m["metric"], v, m["phase"]))
abort = [e for e in ev if e["kind"] == "abort"]
print("decision     %s  %s" % (abort[-1]["at"][11:23], abort[-1]["data"]["reason"]) if abort else "decision: none")
failed = [e for e in ev if e["kind"] == "measurement" and e["data"]["phase"] in ("Failed", "Error")]
canary = ev[0]["data"]["hash"]
scaled = [e for e in ev if e["kind"] == "scale" and e["data"].get("hash") == canary
          and e["data"].get("replicas") == 0]
print("time to rollback:")
if failed:
    t_fail = failed[0]["data"]["at"] // 1000
    if scaled:
        print("  %6d ms  from the failing measurement to the canary scaled to 0" % (ms(scaled[0]["at"]) - t_fail))
    print("  %6d ms  from the failing measurement to 0 ready canary Pods" % (t_zero - t_fail))
print("  %6d ms  from git push to 0 ready canary Pods" % (t_zero - t_push))
PY
say "the app: $(status guestbook-canary)"
stable_back() { canary_rs | grep -qx '1.7.0 5/5'; }
wait_for 20 "the stable (1.7.0) to be back at 5 ready Pods" stable_back
say "the ReplicaSets now: $(canary_rs | tr '\n' ' ')"
say "git still says 1.8.0; cairnd does not sync that revision again until a new commit or 'cairn rollout retry'"

# ---- 6. audit ------------------------------------------------------------------------------
step "the signed audit trail: what cairnd did and on whose behalf"
run "$CAIRN" audit show --state-dir "$CAIRN_STATE_DIR"
run "$CAIRN" audit verify --key "$work/audit.pub" --state-dir "$CAIRN_STATE_DIR"

# ---- stop ------------------------------------------------------------------------------------
step "stop cairnd and cairn-sim"
kill -TERM "$daemon_pid"
rc=0
wait "$daemon_pid" || rc=$?
daemon_pid=''
[ "$rc" = 0 ] || fail "cairnd exited $rc on SIGTERM"
say "cairnd exited 0 on SIGTERM"
STEP="done"
printf '\n%sdemo: all steps passed%s\n' "$bold" "$off"
