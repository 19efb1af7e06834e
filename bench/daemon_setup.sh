#!/bin/bash
# bench/daemon_setup.sh - the workload of bench/bench_daemon (which runs it
# and turns its "sample KEY MS" lines into medians and p99s; every other
# line is passed through). Everything on 127.0.0.1, in a temp directory
# removed at exit; every wait has a timeout.
#
#   daemon_setup.sh BUILDDIR [PUSHES=50] [APPS=1000] [WRK_SECONDS=3]
#
# 1. push-to-live: PUSHES pushes to each of two bare repositories with the
#    real hooks (`cairn hooks install`): "cm" (five ConfigMaps: applied) and
#    "dep" (a ConfigMap and a one-replica Deployment whose template changes
#    each push: Healthy, cairn-sim's --pod-ready-delay 0s). Latency = the
#    operation's finishedAt (/api/v1/operations, written by cairnd when the
#    sync ended: after the last apply returned and its wave was healthy)
#    minus the wall clock at the start of `git push`. Peers from the same
#    run: `git push` alone to a repository without hooks, and `kubectl apply
#    --server-side` of the same five ConfigMaps.
# 2. memory: VmRSS/VmHWM of cairnd idle (2 apps, ready, nothing synced),
#    after the pushes, and of a second cairnd with APPS Applications (one
#    ConfigMap each, own namespace) once every one was reconciled (or
#    MANY_TIMEOUT seconds, default 900, passed: the count reached is named).
# 3. webhooks: wrk against cairnd's /api/webhook/github, forged and valid
#    signature, RSS before and after.
set -u
B=$1 N=${2:-50} NAPPS=${3:-1000} SECS=${4:-3}
SIM=$B/cairn-sim CAIRND=$B/cairnd CAIRN=$B/cairn
for t in kubectl git curl python3 openssl; do
	command -v $t >/dev/null 2>&1 || { echo "skipped: $t is not installed"; exit 0; }
done
T=$(mktemp -d /tmp/cairn-bench-daemon.XXXXXX)
SIMPID= DPID=
trap '[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null; [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
cd "$T" || exit 1
export GIT_CONFIG_NOSYSTEM=1 HOME="$T/home" KUBECONFIG="$T/kubeconfig"
unset CAIRN_CONFIG CAIRN_TOKEN CAIRN_STATE_DIR
mkdir -p "$HOME"
git config --global user.name b && git config --global user.email b@b &&
	git config --global init.defaultBranch main
die() { echo "bench_daemon: $*" >&2; [ -f "$T/cairnd.err" ] && tail -5 "$T/cairnd.err" >&2; exit 1; }

"$SIM" --listen 127.0.0.1:0 --kubeconfig-out "$KUBECONFIG" --pod-ready-delay 0s \
	>"$T/sim.out" 2>"$T/sim.err" &
SIMPID=$!
for _ in $(seq 100); do [ -s "$KUBECONFIG" ] && break; sleep 0.1; done
[ -s "$KUBECONFIG" ] || die "cairn-sim did not start"
SERVER=$(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.server}')
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
API="http://127.0.0.1:$PORT"
TOK=bench-hook-token VIEW=bench-view-token
hash() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
printf '%s\n' "$TOK" >token
chmod 600 token
mkdir -p envs
cat >envs/dev.yaml <<Y
apiVersion: cairn.dev/v1alpha1
kind: Environment
metadata: {name: dev}
spec:
  cluster: {server: "$SERVER", kubeconfig: "$KUBECONFIG"}
  namespaces: ["bench*"]
  defaultNamespace: bench
Y
app() { # app NAME REPO NAMESPACE
	cat <<Y
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: $1
  labels: {cairn.dev/environment: dev}
spec:
  project: default
  source: {repoURL: "file://$T/$2.git", targetRevision: main, path: app}
  destination: {server: "$SERVER", namespace: $3}
  syncPolicy:
    automated: {}
    syncOptions: [CreateNamespace=true]
Y
}
config() { # config FILE APPSFILE STATEDIR [WEBHOOK_RATE]
	cat >"$1" <<Y
stateDir: $T/$3
${4:+limits: {webhookRate: $4\}}
listen: {api: "127.0.0.1:$PORT"}
apps:
- path: $2
environmentsDir: envs
api:
  tokens:
  - {name: hook, sha256: $(hash $TOK), role: deployer}
  - {name: viewer, sha256: $(hash $VIEW), role: viewer}
Y
}
export CAIRN_WEBHOOK_SECRET_GITHUB=bench-webhook-secret
start() { # start CONFIG
	"$CAIRND" --config "$1" --poll off --grace 30s >>"$T/cairnd.out" 2>>"$T/cairnd.err" &
	DPID=$!
	for _ in $(seq 300); do curl -sf "$API/readyz" >/dev/null && return 0; sleep 0.1; done
	die "cairnd did not become ready"
}
stop() { kill -TERM "$DPID"; wait "$DPID"; DPID=; }
mem() { # mem LABEL: VmRSS and VmHWM of cairnd in MiB
	awk -v l="$1" '/^VmRSS:/ {r=$2} /^VmHWM:/ {h=$2}
		END {printf "  %-44s VmRSS %6.1f MiB  VmHWM %6.1f MiB\n", l, r/1024, h/1024}' \
		"/proc/$DPID/status"
}

cms() { # cms DIR VALUE: five ConfigMaps
	for k in 1 2 3 4 5; do
		printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm%s}\ndata: {k: "%s"}\n---\n' \
			$k "$2"
	done >"$1/cms.yaml"
}
deploy() { # deploy DIR VALUE: a ConfigMap and a Deployment whose template changes
	printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {k: "%s"}\n' "$2" \
		>"$1/cm.yaml"
	cat >"$1/deploy.yaml" <<Y
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations: {bench/rev: "$2"}
    spec:
      containers: [{name: web, image: "nginx:1.25"}]
Y
}
for r in cm dep small plain; do
	git init -q --bare $r.git
	git clone -q $r.git w-$r 2>/dev/null
	mkdir -p w-$r/app
done
for r in cm dep small; do
	"$CAIRN" hooks install $r.git --url "$API" --token-file token >/dev/null ||
		die "cairn hooks install $r.git failed"
done
{ app bench-cm cm bench-cm; app bench-dep dep bench-dep; } >apps2.yaml
config cairn2.yaml apps2.yaml state2
start cairn2.yaml
sleep 1
mem "idle (2 apps defined, none synced)"

# the newest operation of APP at REV that has finished: prints finishedAt (us)
finished() {
	curl -s -H "Authorization: Bearer $VIEW" "$API/api/v1/operations" | python3 -c '
import json, sys
for o in json.load(sys.stdin)["items"]:
    if o["app"] == sys.argv[1] and o.get("revision") == sys.argv[2] and o["finishedAt"] > 0:
        print(o["finishedAt"], o["phase"]); break' "$1" "$2" 2>/dev/null
}
# push REPO APP KEY: commit is made; time `git push`, then wait for the op
push() {
	local t0 tp rev f
	t0=$(date +%s%N)
	git -C "w-$1" push -q origin HEAD:main 2>>"$T/push.err" || die "git push to $1 failed"
	tp=$(date +%s%N)
	rev=$(git -C "$1.git" rev-parse main)
	while [ $(($(date +%s%N) - t0)) -lt 30000000000 ]; do
		f=$(finished "$2" "$rev")
		[ -n "$f" ] && break
		sleep 0.01
	done
	[ -n "$f" ] || die "no finished operation of $2 at $rev"
	case "$f" in *Succeeded) ;; *) die "operation of $2 at $rev: $f" ;; esac
	echo "sample $3 $(((${f% *} * 1000 - t0) / 1000)) us"
	echo "sample git-push-hooked $(((tp - t0) / 1000)) us"
}
cms w-cm/app v0
deploy w-dep/app v0
for r in cm dep; do (cd w-$r && git add -A && git commit -qm v0); done
push cm bench-cm warmup >/dev/null
push dep bench-dep warmup >/dev/null
echo "push-to-live: $N pushes per repository (commit prepared before the clock starts)"
for i in $(seq "$N"); do
	cms w-cm/app "v$i"
	(cd w-cm && git commit -qam "v$i")
	push cm bench-cm applied
done
for i in $(seq "$N"); do
	deploy w-dep/app "v$i"
	(cd w-dep && git commit -qam "v$i")
	push dep bench-dep healthy
done
# peers: git push alone (no hooks), kubectl apply --server-side of cms.yaml
kubectl create namespace bench-peer >/dev/null 2>&1
for i in $(seq "$N"); do
	cms w-plain/app "v$i"
	(cd w-plain && git add -A && git commit -qm "v$i")
	t0=$(date +%s%N)
	git -C w-plain push -q origin HEAD:main 2>>"$T/push.err"
	t1=$(date +%s%N)
	kubectl apply --server-side -n bench-peer -f w-plain/app/cms.yaml >/dev/null ||
		die "kubectl apply failed"
	t2=$(date +%s%N)
	echo "sample peer-git-push $(((t1 - t0) / 1000)) us"
	echo "sample peer-kubectl-apply $(((t2 - t1) / 1000)) us"
done
mem "after $((2 * N + 2)) syncs (2 apps)"

# webhooks through cairnd: the repository named is tracked by no app, so a
# valid delivery is verified, parsed and answered 202 without a reconcile
body='{"ref":"refs/heads/main","before":"6113728f27ae82c7b1a177c8d03f9e96e0adf246","after":"0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c","repository":{"clone_url":"https://github.com/example-org/shop.git","ssh_url":"git@github.com:example-org/shop.git","html_url":"https://github.com/example-org/shop"}}'
printf %s "$body" >body.json
sig=$(openssl dgst -sha256 -hmac "$CAIRN_WEBHOOK_SECRET_GITHUB" -r body.json | cut -d' ' -f1)
wrkcase() { # wrkcase LABEL SIGNATURE
	printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["X-GitHub-Event"] = "push"\nwrk.headers["X-Hub-Signature-256"] = "sha256=%s"\n' \
		"'$body'" "$2" >wrk.lua
	local out
	out=$(wrk -t2 -c16 -d"${SECS}s" -s wrk.lua "$API/api/webhook/github" 2>&1)
	printf '  %-44s %s req/s  (%s)\n' "$1" \
		"$(printf '%s\n' "$out" | awk '/Requests\/sec/ {print $2}')" \
		"$(printf '%s\n' "$out" | awk '/requests in/ {r=$1} /Non-2xx/ {n=$NF}
			END {printf "%s requests, %s not 2xx", r, n ? n : 0}')"
}
stop
if command -v wrk >/dev/null 2>&1; then
	# limits.webhookRate 0: the per-source limiter off; then the default (on)
	config cairn-off.yaml apps2.yaml state2 0
	start cairn-off.yaml
	echo "webhooks through cairnd, wrk -t2 -c16 -d${SECS}s, per-source limiter off (limits.webhookRate: 0)"
	mem "before"
	wrkcase "forged signature (401)" "$(printf '%064d' 0)"
	mem "after forged"
	wrkcase "valid signature (202, no app tracks the repo)" "$sig"
	mem "after valid"
	stop
	start cairn2.yaml
	echo "webhooks through cairnd, wrk -t2 -c16 -d${SECS}s, per-source limiter on (the default)"
	mem "before"
	wrkcase "forged signature (401 until the limit, then 429)" "$(printf '%064d' 0)"
	mem "after forged"
	stop
else
	echo "webhooks: wrk is not installed (scripts/install-deps.sh installs it)"
fi

# APPS applications of one ConfigMap each, all on the repository "small":
# one written by app() with a placeholder name, copied APPS times by one awk
app @N@ small bench-@N@ >app-one.yaml
awk -v n="$NAPPS" '{l[NR] = $0} END {for (i = 1; i <= n; i++) for (j = 1; j <= NR; j++) {
	s = l[j]; gsub(/@N@/, "a" i, s); print s }}' app-one.yaml >apps-many.yaml
config cairn-many.yaml apps-many.yaml state-many
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\ndata: {k: v}\n' >w-small/app/cm.yaml
start cairn-many.yaml
sleep 1
mem "idle ($NAPPS apps defined, none synced)"
t0=$(date +%s%N)
(cd w-small && git add -A && git commit -qm v1 && git push -q origin HEAD:main 2>>"$T/push.err")
rev=$(git -C small.git rev-parse main)
synced() {
	curl -s -H "Authorization: Bearer $VIEW" "$API/api/v1/applications" | python3 -c '
import json, sys
print(sum(1 for a in json.load(sys.stdin)["items"] if (a.get("status") or {}).get("revision") == sys.argv[1]))' "$1"
}
n=0
while [ $(($(date +%s%N) - t0)) -lt "${MANY_TIMEOUT:-900}000000000" ]; do
	n=$(synced "$rev")
	[ "$n" = "$NAPPS" ] && break
	sleep 0.5
done
t1=$(date +%s%N)
echo "  $n of $NAPPS apps reconciled at the pushed commit in $(((t1 - t0) / 1000000)) ms after one push"
mem "after $n apps were reconciled once"
stop
exit 0
