#!/bin/bash
# rollout_kill.sh - kill -9 of cairnd while it runs a canary, then a
# restart: the rollout resumes and completes, never above its planned
# weight, never promoted twice. cairn-sim (Pods ready at once), a bare
# repository with a canary Rollout (5 replicas; setWeight 20, pause,
# setWeight 40, pause, setWeight 60, pause), cairnd with the post-receive
# hook. A sampler reads the ReplicaSets from the API and then the rollout's
# state (`cairn rollout get -o json`) every 0.1 s through all of it; each
# sample's canary replica count must be within ceil(weight x 5 / 100) of the
# weight the state says (read after the count, so a weight the engine
# recorded as intent before scaling is not counted against it).
#
# Fast tier: one rollout killed at each step boundary (the step index seen
# moving in `cairn rollout get -o json`), then restarted; about 30 s.
# Soak tier (CAIRN_LONG=1): CAIRN_KILL_RUNS rollouts (default 100), each
# killed once at a random moment between the push and completion, bounded
# by CAIRN_KILL_BUDGET seconds (default 1800; a run took 10-15 s here).
. "$(dirname "$0")/lib.sh"

SIM=${CAIRN_SIM:-$BUILDDIR/cairn-sim}
CAIRND=${CAIRND:-$BUILDDIR/cairnd}
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
for t in kubectl git curl python3; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "1..0 # SKIP $t is not installed"
		exit 0
	fi
done
SIMPID= DPID= NUDGEPID= SAMPLERPID=
trap '[ -n "$SAMPLERPID" ] && kill "$SAMPLERPID" 2>/dev/null; [ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null; [ -n "$NUDGEPID" ] && kill "$NUDGEPID" 2>/dev/null; [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
export GIT_CONFIG_NOSYSTEM=1 HOME="$TMP/home" KUBECONFIG="$TMP/kubeconfig"
export CAIRN_STATE_DIR="$TMP/state"
unset CAIRN_CONFIG CAIRN_TOKEN CAIRN_SERVER
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
# cairn-sim advances a bare ReplicaSet's Pods on its next store write (see
# rollout_daemon.sh): a write every 0.3 s.
kubectl create configmap nudge >/dev/null
( while kill -0 "$SIMPID" 2>/dev/null; do
	kubectl annotate --overwrite configmap nudge "n=$RANDOM" >/dev/null 2>&1
	sleep 0.3
done ) &
NUDGEPID=$!

PORT=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
API="http://127.0.0.1:$PORT"
HOOKTOK=hook-token-1
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
  - {name: hook, sha256: $(printf %s $HOOKTOK | sha256sum | cut -d' ' -f1), role: deployer}
Y
printf '%s\n' "$HOOKTOK" >token
chmod 600 token
"$CAIRN" hooks install repo.git --url "$API" --token-file token >/dev/null

# --poll 1s: a push that arrived while cairnd was down is found by a poll
start() { "$CAIRND" --config cairn.yaml --poll 1s --grace 5s \
	>>"$TMP/cairnd.out" 2>>"$TMP/cairnd.err" & DPID=$!; }
ready() { for _ in $(seq 100); do curl -sf "$API/readyz" >/dev/null && return 0; sleep 0.1; done; return 1; }
kill9() { kill -9 "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; DPID=; KILLS=$((KILLS + 1)); }
start
check "cairnd starts and is ready" ready

# ro_state: "phase weight step revision" of the rollout (empty before one)
ro_state() { timeout 20 "$CAIRN" rollout get web --config cairn.yaml -o json --events 0 2>/dev/null |
	$PY -c 'import json,sys; j=json.load(sys.stdin); print(j["phase"], j["weight"], j["step"], j["revision"])' 2>/dev/null; }
ro_events() { timeout 20 "$CAIRN" rollout get web --config cairn.yaml -o json --events 0 2>/dev/null |
	$PY -c '
import json,sys
for e in json.load(sys.stdin).get("events", []): print(e["kind"], json.dumps(e["data"], sort_keys=True))'; }
wait_healthy() { # REV [N tenths]
	for _ in $(seq "${2:-300}"); do
		read -r p _ _ r <<<"$(ro_state)"
		[ "$p" = Healthy ] && [ "$r" = "$1" ] && return 0
		sleep 0.1
	done
	echo "# phase $p revision $r (want Healthy $1)"
	return 1
}
# rs_all: "image replicas" of every ReplicaSet of the rollout
rs_all() { timeout 10 kubectl -n dev get rs -l cairn.dev/rollout=web \
	-o jsonpath='{range .items[*]}{.spec.template.spec.containers[0].image} {.spec.replicas}{"\n"}{end}'; }
replicas() { rs_all | awk -v img="$1" '$1 == img {print $2}'; }

git clone -q repo.git work 2>/dev/null
mkdir -p work/app
# canary IMAGE PAUSE: the Rollout, 5 replicas, three weights with pauses
canary() {
	cat >work/app/rollout.yaml <<Y
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  replicas: 5
  progressDeadlineSeconds: 60
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "$1"}]}
  strategy:
    canary:
      steps:
      - setWeight: 20
      - pause: {duration: $2}
      - setWeight: 40
      - pause: {duration: $2}
      - setWeight: 60
      - pause: {duration: $2}
Y
}
push() { (cd work && git add -A && git commit -qm "$1" && git push -q origin HEAD:main 2>>"$TMP/push.err") &&
	REV=$(git -C repo.git rev-parse main); }

# The sampler, every 0.1 s: the canary's replica count from the API (what
# `kubectl get rs` shows), then the rollout's state from
# `cairn rollout get -o json`; one line "image count phase weight step
# revision" for the image named in $TMP/image.
cfg() { kubectl config view --raw -o jsonpath="$1"; }
cfg '{.clusters[0].cluster.certificate-authority-data}' | base64 -d >"$TMP/ca.pem"
cfg '{.users[0].user.token}' >"$TMP/sim.token"
if [ ! -s "$TMP/sim.token" ]; then
	cfg '{.users[0].user.client-certificate-data}' | base64 -d >"$TMP/cert.pem"
	cfg '{.users[0].user.client-key-data}' | base64 -d >"$TMP/key.pem"
fi
cat >"$TMP/sampler.py" <<'PYEOF'
import json, os, ssl, subprocess, sys, time, urllib.request
server, tmp, cairn = sys.argv[1:4]
ctx = ssl.create_default_context(cafile=tmp + "/ca.pem")
hdr = {}
tok = open(tmp + "/sim.token").read().strip()
if tok:
    hdr["Authorization"] = "Bearer " + tok
else:
    ctx.load_cert_chain(tmp + "/cert.pem", tmp + "/key.pem")
url = server + "/apis/apps/v1/namespaces/dev/replicasets?labelSelector=cairn.dev%2Frollout%3Dweb"
out = open(tmp + "/samples", "a", buffering=1)
while True:
    try:
        img = open(tmp + "/image").read().strip()
        with urllib.request.urlopen(urllib.request.Request(url, headers=hdr), context=ctx, timeout=5) as r:
            items = json.load(r)["items"]
        c = sum(i["spec"].get("replicas", 0) for i in items
                if i["spec"]["template"]["spec"]["containers"][0]["image"] == img)
        p = subprocess.run([cairn, "rollout", "get", "web", "--config", "cairn.yaml", "-o", "json",
                            "--events", "1"], capture_output=True, timeout=20)
        j = json.loads(p.stdout)
        out.write("%s %d %s %s %s %s\n" % (img, c, j["phase"], j["weight"], j["step"], j["revision"]))
    except Exception as e:
        out.write("# %s\n" % e)
    time.sleep(0.1)
PYEOF
$PY "$TMP/sampler.py" "$SERVER" "$TMP" "$CAIRN" &
SAMPLERPID=$!
# overshoots IMAGE REV: samples of IMAGE during REV's rollout (Progressing
# or Paused) with more canary replicas than the plan of the step the state
# is on: ceil(W x 5 / 100) with W the newest setWeight at or before that
# step (20, 20, 40, 40, 60, 60; 100 past the last step). The step is read
# after the count, and the engine records a step before scaling for it.
overshoots() { awk -v img="$1" -v rev="$2" 'BEGIN {split("20 20 40 40 60 60", w, " ")}
	$1 == img && $6 == rev && ($3 == "Progressing" || $3 == "Paused") {
	plan = (($5 + 1) in w) ? w[$5 + 1] : 100; plan = int((plan * 5 + 99) / 100)
	if ($2 > plan) print }' "$TMP/samples"; }
nsamples() { awk -v img="$1" -v rev="$2" '$1 == img && $6 == rev' "$TMP/samples" | wc -l; }
# one rollout's checks: completed, only the new ReplicaSet scaled, promoted
# once, no overshoot
# completes: complete events since the newest start event
completes() { ro_events | awk '$1 == "start" {n = 0} $1 == "complete" {n++} END {print n + 0}'; }
verify() { # LABEL IMAGE REV
	check "$1: completes after the restarts" wait_healthy "$3"
	check "$1: the new ReplicaSet runs 5, no other has replicas" \
		test "$(replicas "$2") $(rs_all | awk '$2 != 0' | wc -l)" = "5 1"
	local o
	o=$(overshoots "$2" "$3")
	[ -z "$o" ] || sed 's/^/# overshoot: /' <<<"$o"
	check "$1: the canary never above its planned weight ($(nsamples "$2" "$3") samples)" test -z "$o"
	check "$1: promoted once (one complete event since the start)" test "$(completes)" = 1
}

echo app:v1 >"$TMP/image"
canary app:v1 1s
push v1
check "v1: Healthy" wait_healthy "$REV"

# Fast tier: kill at each step boundary of v2's canary
KILLS=0
echo app:v2 >"$TMP/image"
canary app:v2 1s
push v2
V2=$REV
KILLED_AT=
for target in 1 2 3 4 5 6; do
	seen=
	for _ in $(seq 300); do
		read -r p _ s r <<<"$(ro_state)"
		if [ "$r" = "$V2" ] && { [ "$p" = Healthy ] || [ "${s:--1}" -ge "$target" ]; }; then
			seen=$s
			break
		fi
		sleep 0.02
	done
	[ "$p" = Healthy ] && break
	[ -n "$seen" ] || break
	kill9
	KILLED_AT="$KILLED_AT $seen"
	start
	ready || break
done
echo "# v2: killed at steps:$KILLED_AT ($KILLS kills)"
check "v2: cairnd was killed at least 4 times at step boundaries" test "$KILLS" -ge 4
verify v2 app:v2 "$V2"
# the steps were each reached once: one weight event per setWeight
ro_events >"$TMP/events"
awk "{print \$1}" "$TMP/events" | sort | uniq -c | tr "\n" " " | sed "s/^/# v2 event kinds: /"; echo

# Soak tier: random moments
if [ "${CAIRN_LONG:-0}" = 1 ]; then
	RUNS=${CAIRN_KILL_RUNS:-100} BUDGET=${CAIRN_KILL_BUDGET:-1800}
	tstart=$(date +%s)
	DONE=0 BAD=0 STUCK=0
	# started REV: the rollout takes REV up within about 15 s
	started() { for _ in $(seq 60); do
		read -r _ _ _ r <<<"$(ro_state)"; [ "$r" = "$1" ] && return 0; sleep 0.1; done; return 1; }
	appst() { curl -s -H "Authorization: Bearer $HOOKTOK" "$API/api/v1/applications/web" |
		$PY -c 'import json,sys; s=json.load(sys.stdin)["status"]; print(s.get("sync"), s.get("revision"))'; }
	for i in $(seq "$RUNS"); do
		[ $(($(date +%s) - tstart)) -lt "$BUDGET" ] || break
		img=app:s$i
		echo "$img" >"$TMP/image"
		canary "$img" 300ms
		push "s$i"
		d=$($PY -c 'import random; print(round(random.uniform(0, 6), 2))')
		sleep "$d"
		kill9
		read -r p w s r <<<"$(ro_state)"
		[ "$r" = "$REV" ] || p=not-started
		echo "# soak $i: killed ${d}s after the push: ${p:-none} weight ${w:-} step ${s:-}"
		start
		ready || { not_ok "soak $i: cairnd restarts"; break; }
		if ! started "$REV"; then
			if [ "$(appst)" = "Synced $REV" ]; then
				STUCK=$((STUCK + 1))
				echo "# soak $i: STUCK: the app is Synced at ${REV:0:7}, the rollout still at $(ro_state)"
			else
				BAD=$((BAD + 1)); echo "# soak $i: not started: $(ro_state) / app $(appst)"
			fi
		elif ! wait_healthy "$REV" 300 >/dev/null; then
			BAD=$((BAD + 1)); echo "# soak $i: not Healthy: $(ro_state)"
		elif [ -n "$(overshoots "$img" "$REV")" ]; then
			BAD=$((BAD + 1)); echo "# soak $i: overshoot: $(overshoots "$img" "$REV" | head -n 3)"
		elif [ "$(completes)" != 1 ]; then
			BAD=$((BAD + 1)); echo "# soak $i: $(completes) complete events since the start"
		elif [ "$(replicas "$img") $(rs_all | awk '$2 != 0' | wc -l)" != "5 1" ]; then
			BAD=$((BAD + 1)); echo "# soak $i: replica sets: $(rs_all | tr '\n' ' ')"
		fi
		DONE=$i
	done
	echo "# soak: $DONE runs in $(($(date +%s) - tstart)) s, $BAD bad, $STUCK stuck"
	check "soak: all $RUNS runs within the budget (ran $DONE)" test "$DONE" -ge "$RUNS"
	check "soak: every run resumed and completed within plan ($BAD bad)" test "$BAD" = 0
	# cairnd killed after a sync recorded the new revision and before it
	# handed the Rollout to the engine: the next compare hands it over
	check "soak: no rollout was left behind a deployed revision ($STUCK stuck)" test "$STUCK" = 0
fi

kill "$SAMPLERPID" 2>/dev/null
wait "$SAMPLERPID" 2>/dev/null
SAMPLERPID=
kill -TERM "$DPID"
wait "$DPID"
RC=$?
DPID=
check "SIGTERM: cairnd exits 0" test "$RC" = 0
if [ -n "${VERBOSE:-}" ]; then sed 's/^/# /' "$TMP/cairnd.err"; fi
done_testing
