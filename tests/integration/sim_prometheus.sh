#!/bin/bash
# sim_prometheus.sh - a real Prometheus scrapes cairn-sim's traffic model:
# error ratios per pod-template-hash and the replica-ratio split of
# requests come out of PromQL as configured; the HTTPS /metrics scrape with
# the CA and bearer token works too; /admin/traffic and the rps annotation.
. "$(dirname "$0")/lib.sh"

SIM="$BUILDDIR/cairn-sim"
if ! command -v kubectl >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
	echo "1..0 # SKIP kubectl or curl is not installed"
	exit 0
fi
if ! command -v prometheus >/dev/null 2>&1; then
	not_ok "prometheus is not installed (scripts/install-deps.sh installs it)"
	done_testing
	exit 1
fi
SIMPID= PROMPID= SIM2PID=
trap '[ -n "$PROMPID" ] && kill "$PROMPID" 2>/dev/null; [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; [ -n "$SIM2PID" ] && kill "$SIM2PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
export HOME="$TMP/home" KUBECONFIG="$TMP/kubeconfig"

# Bad traffic flags stop the simulator with exit 2 and say what was expected.
refused() { # WANT ARGS...: exit 2 and WANT in the message
	local want=$1 rc=0
	shift
	"$SIM" --listen 127.0.0.1:0 "$@" >"$TMP/bad.out" 2>&1 || rc=$?
	[ "$rc" = 2 ] && grep -qF -- "$want" "$TMP/bad.out"
}
check "--traffic-rps refuses a non-number" \
	refused "--traffic-rps wants requests per second (0 to 1000000000), not 'fast'" --traffic-rps fast
check "--traffic-rps refuses trailing junk" refused "not '5x'" --traffic-rps 5x
many=""
for _ in $(seq 65); do many="$many --traffic-rule *=errorRatio:0.1"; done
# shellcheck disable=SC2086
check "a 65th --traffic-rule is refused naming the limit" \
	refused "too many --traffic-rule flags (at most 64)" $many
mkdir -p "$HOME"

"$SIM" --listen 127.0.0.1:0 --kubeconfig-out "$KUBECONFIG" --metrics-listen 127.0.0.1:0 \
	--traffic-rps 200 \
	--traffic-rule 'hash=aaaa*,error_ratio=0.01,p50_ms=10,p99_ms=50' \
	--traffic-rule 'image=*:v2,error_ratio=0.2,p50_ms=50,p99_ms=400' \
	>"$TMP/sim.out" 2>"$TMP/sim.err" &
SIMPID=$!
for _ in $(seq 100); do
	grep -q '^metrics on' "$TMP/sim.out" 2>/dev/null && [ -s "$KUBECONFIG" ] && break
	sleep 0.1
done
check "cairn-sim starts with --metrics-listen" grep -q '^metrics on 127.0.0.1:' "$TMP/sim.out"
MPORT=$(sed -n 's/^metrics on 127.0.0.1://p' "$TMP/sim.out")
SPORT=$(sed -n 's/^listening on 127.0.0.1://p' "$TMP/sim.out")
cfg() { kubectl config view --raw -o jsonpath="$1"; }
cfg '{.clusters[0].cluster.certificate-authority-data}' | base64 -d >"$TMP/ca.pem"
TOKEN=$(cfg '{.users[?(@.name=="cairn-sim")].user.token}')
c() { curl -s --max-time 20 --cacert "$TMP/ca.pem" -H "Authorization: Bearer $TOKEN" \
	-o "$TMP/body" -w '%{http_code}' "$@"; }

# Three stable pods (hash aaaa1111, image web:v1) and one canary (hash
# bbbb2222, image web:v2) behind Service web; owned by ReplicaSets.
pod() { # NAME HASH IMAGE
	cat <<-EOF
	---
	apiVersion: v1
	kind: Pod
	metadata:
	  name: $1
	  labels: {app: web, pod-template-hash: "$2"}
	  ownerReferences:
	  - {apiVersion: apps/v1, kind: ReplicaSet, name: web-$2, uid: uid-$2, controller: true}
	spec: {containers: [{name: web, image: "$3"}]}
	EOF
}
{
	printf 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\n'
	printf 'spec: {selector: {app: web}, ports: [{port: 80}]}\n'
	printf -- '---\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\n'
	printf '  annotations: {sim.cairn.dev/rps: "50"}\n'
	printf 'spec: {selector: {app: api}, ports: [{port: 80}]}\n'
	pod web-stable-1 aaaa1111 web:v1
	pod web-stable-2 aaaa1111 web:v1
	pod web-stable-3 aaaa1111 web:v1
	pod web-canary-1 bbbb2222 web:v2
	printf -- '---\napiVersion: v1\nkind: Pod\nmetadata: {name: api-1, labels: {app: api}}\n'
	printf 'spec: {containers: [{name: api, image: "api:v1"}]}\n'
} >"$TMP/objs.yaml"
timeout 60 kubectl apply -f "$TMP/objs.yaml" >"$TMP/apply.out" 2>&1
check "kubectl creates the Services and Pods" test $? = 0
curl -s --max-time 10 "http://127.0.0.1:$MPORT/metrics" >"$TMP/m0"
check "Pods that are not ready export series that do not count" \
	grep -q '^sim_http_requests_total{namespace="default",service="web",workload="web-aaaa1111",replicaset="web-aaaa1111",pod="web-stable-1",pod_template_hash="aaaa1111",code="200"} 0.000$' "$TMP/m0"
ready='{"status":{"conditions":[{"type":"Ready","status":"True"}]}}'
for p in web-stable-1 web-stable-2 web-stable-3 web-canary-1 api-1; do
	timeout 30 kubectl patch pod "$p" --subresource=status --type=merge -p "$ready" \
		>>"$TMP/apply.out" 2>&1 || echo "patch $p failed" >>"$TMP/apply.out"
done
check "the Pods are marked Ready through the status subresource" \
	sh -c "! grep -q failed '$TMP/apply.out'"

# A second simulator where the workload controller makes the Pods: two real
# Deployments (stable app:v1 x3, canary app:v2 x1) behind one Service,
# traffic rules by image tag.
K2="$TMP/kubeconfig2"
"$SIM" --listen 127.0.0.1:0 --kubeconfig-out "$K2" --metrics-listen 127.0.0.1:0 \
	--pod-ready-delay 200ms --traffic-rps 200 \
	--traffic-rule 'image=*:v1,error_ratio=0.01,p50_ms=10,p99_ms=50' \
	--traffic-rule 'image=*:v2,error_ratio=0.2,p50_ms=50,p99_ms=400' \
	>"$TMP/sim2.out" 2>"$TMP/sim2.err" &
SIM2PID=$!
for _ in $(seq 100); do
	grep -q '^metrics on' "$TMP/sim2.out" 2>/dev/null && [ -s "$K2" ] && break
	sleep 0.1
done
MPORT2=$(sed -n 's/^metrics on 127.0.0.1://p' "$TMP/sim2.out")
dep() { # NAME TRACK IMAGE REPLICAS
	cat <<-EOF
	---
	apiVersion: apps/v1
	kind: Deployment
	metadata: {name: $1}
	spec:
	  replicas: $4
	  selector: {matchLabels: {app: shop, track: $2}}
	  template:
	    metadata: {labels: {app: shop, track: $2}}
	    spec: {containers: [{name: shop, image: "$3"}]}
	EOF
}
{
	printf 'apiVersion: v1\nkind: Service\nmetadata: {name: shop}\n'
	printf 'spec: {selector: {app: shop}, ports: [{port: 80}]}\n'
	dep shop-stable stable app:v1 3
	dep shop-canary canary app:v2 1
} >"$TMP/deps.yaml"
timeout 60 kubectl --kubeconfig "$K2" apply -f "$TMP/deps.yaml" >"$TMP/deps.out" 2>&1
check "kubectl creates two Deployments and a Service on the second simulator" test $? = 0
rolled=0
for d in shop-stable shop-canary; do
	timeout 40 kubectl --kubeconfig "$K2" rollout status "deploy/$d" --timeout=30s \
		>>"$TMP/deps.out" 2>&1 && rolled=$((rolled + 1))
done
check "both Deployments roll out (the controller makes ready Pods)" test "$rolled" = 2
hash_of() { timeout 30 kubectl --kubeconfig "$K2" get rs -l "app=shop,track=$1" \
	-o jsonpath='{.items[0].metadata.labels.pod-template-hash}' 2>/dev/null; }
HSTABLE=$(hash_of stable)
HCANARY=$(hash_of canary)
check "the ReplicaSets carry distinct pod-template-hashes ('$HSTABLE', '$HCANARY')" \
	sh -c "[ -n '$HSTABLE' ] && [ -n '$HCANARY' ] && [ '$HSTABLE' != '$HCANARY' ]"

# Prometheus on a free loopback port, scraping both endpoints every second.
PPORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$TMP/prometheus.yml" <<EOF
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: sim
    static_configs: [{targets: ['127.0.0.1:$MPORT']}]
  - job_name: sim-https
    scheme: https
    tls_config: {ca_file: '$TMP/ca.pem'}
    authorization: {credentials: '$TOKEN'}
    static_configs: [{targets: ['127.0.0.1:$SPORT']}]
  - job_name: sim2
    static_configs: [{targets: ['127.0.0.1:$MPORT2']}]
EOF
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
	--web.listen-address="127.0.0.1:$PPORT" >"$TMP/prom.log" 2>&1 &
PROMPID=$!
for _ in $(seq 150); do
	curl -sf --max-time 2 "http://127.0.0.1:$PPORT/-/ready" >/dev/null && break
	sleep 0.2
done
check "prometheus starts" curl -sf --max-time 2 "http://127.0.0.1:$PPORT/-/ready" -o /dev/null

# q PROMQL: the instant vector as "labelvalue value" lines (label $LBL).
q() {
	curl -s --max-time 10 "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" |
		python3 -c '
import json, sys
d = json.load(sys.stdin)
for r in d.get("data", {}).get("result", []):
    print(r["metric"].get(sys.argv[1], "-"), r["value"][1])' "${LBL:-pod_template_hash}"
}
# near FILE KEY WANT TOL: the value of KEY in FILE is within TOL of WANT
near() { python3 - "$@" <<'EOF'
import sys
vals = dict(l.split() for l in open(sys.argv[1]) if l.strip())
v = float(vals.get(sys.argv[2], "nan"))
sys.exit(0 if abs(v - float(sys.argv[3])) <= float(sys.argv[4]) else 1)
EOF
}

W=8s
ERR="sum by (pod_template_hash)(rate(sim_http_requests_total{job=\"sim\",code!=\"200\"}[$W])) / sum by (pod_template_hash)(rate(sim_http_requests_total{job=\"sim\"}[$W]))"
SPLIT="sum by (pod_template_hash)(rate(sim_http_requests_total{job=\"sim\",service=\"web\"}[$W])) / scalar(sum(rate(sim_http_requests_total{job=\"sim\",service=\"web\"}[$W])))"
# Let the rate window fill with samples taken after every Pod was ready.
sleep 10
for _ in $(seq 30); do
	q "$ERR" >"$TMP/err"
	[ "$(wc -l <"$TMP/err")" -ge 2 ] && break
	sleep 1
done
echo "# error ratio per pod_template_hash:" $(cat "$TMP/err")
check "PromQL error ratio of the stable hash is 1%" near "$TMP/err" aaaa1111 0.01 0.001
check "PromQL error ratio of the canary hash is 20%" near "$TMP/err" bbbb2222 0.2 0.005
q "$SPLIT" >"$TMP/split"
echo "# request share per pod_template_hash:" $(cat "$TMP/split")
check "3 stable Pods vs 1 canary: 75% of the requests" near "$TMP/split" aaaa1111 0.75 0.03
check "3 stable Pods vs 1 canary: 25% of the requests" near "$TMP/split" bbbb2222 0.25 0.03
# Absolute rates use deriv() (a least-squares slope) rather than rate():
# where scrapes are missed near the window's edges rate() extrapolates only
# part of the way to them, and on a loaded machine it read about 0.8x while
# the simulator's counters were exact; ratios above cancel that out.
LBL=service q "sum by (service)(deriv(sim_http_requests_total{job=\"sim\"}[$W]))" >"$TMP/rps"
echo "# requests per second per service:" $(cat "$TMP/rps")
check "Service web receives --traffic-rps (200/s)" near "$TMP/rps" web 200 10
check "Service api receives its sim.cairn.dev/rps annotation (50/s)" near "$TMP/rps" api 50 3
q "histogram_quantile(0.5, sum by (le, pod_template_hash)(rate(sim_http_request_duration_seconds_bucket{job=\"sim\",service=\"web\"}[$W])))" >"$TMP/p50"
echo "# median latency per pod_template_hash:" $(cat "$TMP/p50")
check "histogram: the canary's median latency is its rule's 50 ms" near "$TMP/p50" bbbb2222 0.05 0.01
check "histogram: the stable median latency is its rule's 10 ms" near "$TMP/p50" aaaa1111 0.01 0.002
q "histogram_quantile(0.99, sum by (le, pod_template_hash)(rate(sim_http_request_duration_seconds_bucket{job=\"sim\",service=\"web\"}[$W])))" >"$TMP/p99"
echo "# 99th percentile latency per pod_template_hash:" $(cat "$TMP/p99")
check "histogram: the canary's 99th percentile is near its rule's 400 ms" near "$TMP/p99" bbbb2222 0.4 0.1

# The second simulator: real Deployments, traffic rules by image tag.
ERR2="sum by (pod_template_hash)(rate(sim_http_requests_total{job=\"sim2\",code!=\"200\"}[$W])) / sum by (pod_template_hash)(rate(sim_http_requests_total{job=\"sim2\"}[$W]))"
for _ in $(seq 30); do
	q "$ERR2" >"$TMP/err2"
	[ "$(wc -l <"$TMP/err2")" -ge 2 ] && break
	sleep 1
done
echo "# Deployments: error ratio per pod_template_hash:" $(cat "$TMP/err2")
check "Deployments: PromQL error ratio of the stable hash is 1%" near "$TMP/err2" "$HSTABLE" 0.01 0.001
check "Deployments: PromQL error ratio of the canary hash is 20%" near "$TMP/err2" "$HCANARY" 0.2 0.005
LBL=workload q "sum by (workload)(rate(sim_http_requests_total{job=\"sim2\",code!=\"200\"}[$W])) / sum by (workload)(rate(sim_http_requests_total{job=\"sim2\"}[$W]))" >"$TMP/werr2"
echo "# Deployments: error ratio per workload:" $(cat "$TMP/werr2")
check "Deployments: the workload label is the Deployment name (stable at 1%)" \
	near "$TMP/werr2" shop-stable 0.01 0.001
check "Deployments: the workload label is the Deployment name (canary at 20%)" \
	near "$TMP/werr2" shop-canary 0.2 0.005
check "Deployments: no other workload values" test "$(wc -l <"$TMP/werr2")" = 2
LBL=workload q "sum by (workload)(rate(sim_http_requests_total{job=\"sim2\",service=\"shop\"}[$W])) / scalar(sum(rate(sim_http_requests_total{job=\"sim2\",service=\"shop\"}[$W])))" >"$TMP/split2"
echo "# Deployments: request share per workload:" $(cat "$TMP/split2")
check "Deployments: 3 stable replicas get 75% of the requests" near "$TMP/split2" shop-stable 0.75 0.03
check "Deployments: 1 canary replica gets 25% of the requests" near "$TMP/split2" shop-canary 0.25 0.03
LBL=service q "sum by (service)(deriv(sim_http_requests_total{job=\"sim2\"}[$W]))" >"$TMP/rps2"
check "Deployments: Service shop receives 200 requests/s" near "$TMP/rps2" shop 200 10

LBL=job q 'up' >"$TMP/up"
check "prometheus scrapes the HTTPS /metrics with the CA and the bearer token" \
	grep -qx 'sim-https 1' "$TMP/up"
check "the HTTPS /metrics needs credentials" \
	test "$(curl -s --max-time 10 --cacert "$TMP/ca.pem" -o /dev/null -w '%{http_code}' \
		"https://127.0.0.1:$SPORT/metrics")" = 401

# /admin/traffic: shows the rules, refuses bad ones, sets a Service's rate.
st=$(c "https://127.0.0.1:$SPORT/admin/traffic")
check "GET /admin/traffic shows the flag rules" \
	sh -c "[ $st = 200 ] && grep -q '\"hash\":\"aaaa\*\"' '$TMP/body'"
st=$(c -X PUT --data '{"rules":[{"error_ratio":2}]}' "https://127.0.0.1:$SPORT/admin/traffic")
check "PUT /admin/traffic refuses an error ratio above 1" \
	sh -c "[ $st = 400 ] && grep -q \"traffic rule 'error_ratio' must be a number from 0 to 1\" '$TMP/body'"
st=$(c -X PUT --data '{"services":{"default/api":0}}' "https://127.0.0.1:$SPORT/admin/traffic")
check "PUT /admin/traffic sets a Service's rate" test "$st" = 200
curl -s --max-time 10 "http://127.0.0.1:$MPORT/metrics" >"$TMP/m1"
sleep 1.5
curl -s --max-time 10 "http://127.0.0.1:$MPORT/metrics" >"$TMP/m2"
c1=$(grep '^sim_http_requests_total{[^}]*pod="api-1"[^}]*code="200"}' "$TMP/m1" | awk '{print $2}')
c2=$(grep '^sim_http_requests_total{[^}]*pod="api-1"[^}]*code="200"}' "$TMP/m2" | awk '{print $2}')
check "a Service at rate 0 stops counting ($c1 -> $c2)" test -n "$c1" -a "$c1" = "$c2"

# A Pod that goes away takes its series with it; the others keep counting.
timeout 30 kubectl delete pod web-stable-3 >/dev/null 2>&1
curl -s --max-time 10 "http://127.0.0.1:$MPORT/metrics" >"$TMP/m3"
check "a deleted Pod's series leave /metrics" sh -c "! grep -q 'pod=\"web-stable-3\"' '$TMP/m3'"
check "the other Pods' series stay" grep -q 'pod="web-stable-2"' "$TMP/m3"
check "plain-HTTP port serves nothing but /metrics" \
	test "$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/admin/traffic")" = 404

kill "$PROMPID" 2>/dev/null
wait "$PROMPID" 2>/dev/null
PROMPID=
kill "$SIMPID"
wait "$SIMPID"
check "cairn-sim exits 0 on SIGTERM" test $? = 0
SIMPID=
kill "$SIM2PID"
wait "$SIM2PID"
SIM2PID=
done_testing
