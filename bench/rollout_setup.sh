#!/bin/bash
# bench/rollout_setup.sh - the workload of bench/bench_rollout (which runs it
# and turns its "sample KEY US us" lines into medians and maxima; every
# other line is passed through). Everything on 127.0.0.1, in a temp
# directory removed at exit; every wait has a timeout.
#
#   rollout_setup.sh BUILDDIR [RUNS=5]
#
# cairn-sim (200 requests/s per Service, 1% errors; Pods ready at once)
# scraped every second by a real Prometheus; cairnd with one app: a canary
# Rollout of 5 replicas (setWeight 20, analysis, setWeight 50), its
# AnalysisTemplate the error ratio of the canary's ReplicaSet over 4 s,
# interval 1 s, failing above 5%. Each run pushes a new image, waits until
# the analysis has passed once, then turns that image bad (50% errors,
# through cairn-sim's /admin/traffic) and measures:
#   flip-to-visible   the rule changed -> the first query of ours (the
#                     template's own query, polled back to back) returning
#                     at least 0.05: the breach is visible in Prometheus
#   visible-to-zero   -> the canary's ReplicaSet has no ready Pod (read from
#                     the API server back to back)
#   decision-to-zero  the failing measurement's time (the rollout's event)
#                     -> no ready Pod
#   visible-to-decision
#   query             peer: one instant query to Prometheus (Python urllib)
# and reports the cluster writes of each run from the rollout's own events
# (each 'scale' and 'switch' event is one server-side apply by the engine;
# the sim keeps no request log).
set -u
B=$1 N=${2:-5}
SIM=$B/cairn-sim CAIRND=$B/cairnd CAIRN=$B/cairn
for t in kubectl git curl python3 prometheus; do
	command -v $t >/dev/null 2>&1 || { echo "skipped: $t is not installed"; exit 0; }
done
T=$(mktemp -d /tmp/cairn-bench-rollout.XXXXXX)
SIMPID= DPID= PROMPID=
trap '[ -n "$DPID" ] && kill "$DPID" 2>/dev/null; [ -n "$PROMPID" ] && kill "$PROMPID" 2>/dev/null; [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"' EXIT
trap 'exit 143' TERM INT
cd "$T" || exit 1
export GIT_CONFIG_NOSYSTEM=1 HOME="$T/home" KUBECONFIG="$T/kubeconfig" CAIRN_STATE_DIR="$T/state"
unset CAIRN_CONFIG CAIRN_TOKEN CAIRN_SERVER
mkdir -p "$HOME"
git config --global user.name b && git config --global user.email b@b &&
	git config --global init.defaultBranch main
die() { echo "bench_rollout: $*" >&2; [ -f "$T/cairnd.err" ] && tail -5 "$T/cairnd.err" >&2; exit 1; }
now_us() { echo $(($(date +%s%N) / 1000)); }
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$SIM" --listen 127.0.0.1:0 --kubeconfig-out "$KUBECONFIG" --pod-ready-delay 0s \
	--metrics-listen 127.0.0.1:0 --traffic-rps 200 --traffic-rule 'error_ratio=0.01' \
	>"$T/sim.out" 2>"$T/sim.err" &
SIMPID=$!
for _ in $(seq 100); do grep -q '^metrics on' "$T/sim.out" 2>/dev/null && [ -s "$KUBECONFIG" ] && break; sleep 0.1; done
[ -s "$KUBECONFIG" ] || die "cairn-sim did not start"
MADDR=$(sed -n 's/^metrics on //p' "$T/sim.out")
SERVER=$(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.server}')
kubectl config view --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | base64 -d >ca.pem
STOK=$(kubectl config view --raw -o jsonpath='{.users[0].user.token}')
kapi() { curl -sf --cacert ca.pem -H "Authorization: Bearer $STOK" "$@"; }

PPORT=$(freeport)
PROM="http://127.0.0.1:$PPORT"
cat >prometheus.yml <<Y
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: sim
    static_configs: [{targets: ['$MADDR']}]
Y
prometheus --config.file=prometheus.yml --storage.tsdb.path="$T/tsdb" \
	--web.listen-address="127.0.0.1:$PPORT" >"$T/prom.log" 2>&1 &
PROMPID=$!
for _ in $(seq 150); do curl -sf "$PROM/-/ready" >/dev/null && break; sleep 0.2; done
curl -sf "$PROM/-/ready" >/dev/null || die "prometheus did not start"

PORT=$(freeport)
API="http://127.0.0.1:$PORT"
hash() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
printf 'bench-hook\n' >token
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
git init -q --bare repo.git
cat >apps.yaml <<Y
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
  labels: {cairn.dev/environment: dev}
spec:
  project: default
  source: {repoURL: "file://$T/repo.git", targetRevision: main, path: app}
  destination: {server: "$SERVER", namespace: bench}
  syncPolicy:
    automated: {}
    syncOptions: [CreateNamespace=true]
Y
cat >cairn.yaml <<Y
stateDir: $T/state
listen: {api: "127.0.0.1:$PORT"}
apps:
- path: apps.yaml
environmentsDir: envs
api:
  tokens:
  - {name: hook, sha256: $(hash bench-hook), role: deployer}
Y
"$CAIRN" hooks install repo.git --url "$API" --token-file token >/dev/null || die "hooks install failed"
"$CAIRND" --config cairn.yaml --poll off >"$T/cairnd.out" 2>"$T/cairnd.err" &
DPID=$!
for _ in $(seq 100); do curl -sf "$API/readyz" >/dev/null && break; sleep 0.1; done
curl -sf "$API/readyz" >/dev/null || die "cairnd did not start"

QUERY='sum(rate(sim_http_requests_total{namespace="bench",replicaset="web-HASH",code!="200"}[4s])) / sum(rate(sim_http_requests_total{namespace="bench",replicaset="web-HASH"}[4s]))'
QUERY_T=$(printf %s "$QUERY" | sed 's/HASH/{{args.hash}}/g')
git clone -q repo.git work 2>/dev/null
mkdir -p work/app
template() { # NAME COUNT
	cat <<Y
---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: $1}
spec:
  args: [{name: hash}]
  metrics:
  - name: error-ratio
    initialDelay: 2s
    interval: 1s
    count: $2
    successCondition: result[0] < 0.05
    provider:
      prometheus:
        address: $PROM
        timeout: 2
        query: '$QUERY_T'
Y
}
{ template error-ratio 2; template error-ratio-long 600; } >work/app/analysis.yaml
cat >>work/app/analysis.yaml <<Y
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 80}]}
Y
rollout() { # IMAGE [TEMPLATE]
	cat >work/app/rollout.yaml <<Y
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  replicas: 5
  progressDeadlineSeconds: 120
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "$1"}]}
  strategy:
    canary:
      steps:
      - setWeight: 20
      - analysis:
          templates: [{templateName: ${2:-error-ratio}}]
          args: [{name: hash, valueFrom: {podTemplateHashValue: Latest}}]
      - setWeight: 50
Y
}
push() { (cd work && git add -A && git commit -qm "$1" && git push -q origin HEAD:main 2>>"$T/push.err") ||
	die "push failed"; REV=$(git -C repo.git rev-parse main); }
rget() { "$CAIRN" rollout get web --config cairn.yaml -o json --events 0 >"$T/ro.json" 2>/dev/null; }
field() { python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); print("" if v is None else v)' "$T/ro.json" "$1"; }
# wait_ro REV COND-PY [SECONDS]: until COND (python over j, the rollout) holds
wait_ro() {
	local end=$(($(date +%s) + ${3:-60}))
	while [ "$(date +%s)" -lt "$end" ]; do
		rget && python3 -c 'import json,sys
j=json.load(open(sys.argv[1])); ev=j.get("events",[])
sys.exit(0 if j.get("revision")==sys.argv[2] and ('"$2"') else 1)' "$T/ro.json" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	die "rollout of $1: timed out waiting for $2 (phase $(field phase): $(field message))"
}
ready_of() { kapi "$SERVER/apis/apps/v1/namespaces/bench/replicasets/web-$1" |
	python3 -c 'import json,sys; print((json.load(sys.stdin).get("status") or {}).get("readyReplicas",0))'; }
# writes REV: the engine's cluster writes (scale/switch events) and steps of REV's rollout
writes() { python3 -c 'import json,sys
ev=json.load(open(sys.argv[1])).get("events",[])
s=max([i for i,e in enumerate(ev) if e["kind"]=="start"] or [0]); ev=ev[s:]
w=sum(1 for e in ev if e["kind"] in ("scale","switch")); st=sum(1 for e in ev if e["kind"] in ("step","weight"))
kinds={}
for e in ev: kinds[e["kind"]]=kinds.get(e["kind"],0)+1
print("%d writes (scale/switch events), %d step/weight events; events: %s" % (w, st, " ".join("%s=%d" % kv for kv in sorted(kinds.items()))))' "$T/ro.json"; }

rollout app:v0
push v0
wait_ro "$REV" 'j.get("phase")=="Healthy"' 60
echo "v0: Healthy"

# A good canary promoted all the way, for its writes per step.
rollout app:good
push good
wait_ro "$REV" 'j.get("phase")=="Healthy"' 120
echo "promoted canary (20 -> analysis -> 50 -> 100): $(writes)"

for i in $(seq "$N"); do
	rollout "app:r$i" error-ratio-long
	push "r$i"
	# the analysis passed at least once: the canary is serving and measured
	wait_ro "$REV" 'j.get("canaryHash") and any(e["kind"]=="measurement" and e["data"].get("phase")=="Successful" for e in ev[max([k for k,e in enumerate(ev) if e["kind"]=="start"] or [0]):])' 60
	H=$(field canaryHash)
	Q=${QUERY//HASH/$H}
	[ "$(ready_of "$H")" -gt 0 ] || die "run $i: the canary has no ready Pod before the breach"
	# one process turns the image bad (cairn-sim's /admin/traffic), then polls
	# back to back: Prometheus until the breach shows, then the API server
	# until the canary has no ready Pod
	python3 - "$PROM" "$Q" "$SERVER" "$T/ca.pem" "$STOK" "r$i" "$H" >"$T/poll.out" <<'PY' ||
import json, math, ssl, sys, time, urllib.parse, urllib.request
prom, q, server, ca, tok, tag = sys.argv[1:7]
ctx = ssl.create_default_context(cafile=ca)
us = lambda: int(time.time() * 1e6)
auth = {"Authorization": "Bearer " + tok}
rules = {"rules": [{"image": "*:" + tag, "error_ratio": 0.5}, {"error_ratio": 0.01}]}
rq = urllib.request.Request(server + "/admin/traffic", data=json.dumps(rules).encode(), method="PUT",
                            headers=dict(auth, **{"Content-Type": "application/json"}))
urllib.request.urlopen(rq, context=ctx, timeout=5).read()
print("flip %d" % us())
rs = server + "/apis/apps/v1/namespaces/bench/replicasets/web-" + sys.argv[7]
end = time.time() + 30
url = prom + "/api/v1/query?" + urllib.parse.urlencode({"query": q})
vis = None
while vis is None and time.time() < end:
    t0 = us()
    r = json.load(urllib.request.urlopen(url, timeout=5))["data"]["result"]
    t1 = us()
    print("sample query %d us" % (t1 - t0))
    if r and not math.isnan(float(r[0]["value"][1])) and float(r[0]["value"][1]) >= 0.05:
        vis = t1
if vis is None:
    print("the breach never showed in Prometheus"); sys.exit(1)
while time.time() < end:
    rq = urllib.request.Request(rs, headers=auth)
    o = json.load(urllib.request.urlopen(rq, context=ctx, timeout=5))
    if not (o.get("status") or {}).get("readyReplicas"):
        print("vis %d\nzero %d" % (vis, us())); sys.exit(0)
print("the canary kept ready Pods"); sys.exit(1)
PY
		die "run $i: $(tail -1 "$T/poll.out")"
	grep '^sample' "$T/poll.out"
	t_flip=$(sed -n 's/^flip //p' "$T/poll.out")
	t_vis=$(sed -n 's/^vis //p' "$T/poll.out")
	t_zero=$(sed -n 's/^zero //p' "$T/poll.out")
	wait_ro "$REV" 'j.get("phase")=="Degraded"' 30
	t_dec=$(python3 -c 'import json,sys
ev=json.load(open(sys.argv[1])).get("events",[])
s=max([i for i,e in enumerate(ev) if e["kind"]=="start"] or [0])
print(min(e["data"]["at"] for e in ev[s:] if e["kind"]=="measurement" and e["data"].get("phase") in ("Failed","Error")))' "$T/ro.json")
	echo "sample flip-to-visible $((t_vis - t_flip)) us"
	echo "sample visible-to-zero $((t_zero - t_vis)) us"
	echo "sample visible-to-decision $((t_dec - t_vis)) us"
	echo "sample decision-to-zero $((t_zero - t_dec)) us"
	echo "run $i: breach visible $(((t_vis - t_flip) / 1000)) ms after the flip, canary at 0 ready $(((t_zero - t_vis) / 1000)) ms later (decision to zero $(((t_zero - t_dec) / 1000)) ms); $(writes)"
	kapi -X DELETE "$SERVER/admin/traffic" >/dev/null
done
echo "analysis interval: 1000 ms (the template's), Prometheus scrape interval 1000 ms"
