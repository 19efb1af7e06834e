#!/bin/bash
# analysis.sh - analysis runs against real providers: the web provider
# against a local HTTP server; the prometheus provider against a real
# Prometheus scraping cairn-sim's traffic model (stable 1% errors, canary
# 20%): success, failure, inconclusive, multi-series, an empty vector, and
# Prometheus stopped mid-analysis -> errors -> Error after
# consecutiveErrorLimit. Driven by tests/integration/analysis_run.
. "$(dirname "$0")/lib.sh"

RUN="$BUILDDIR/tests/integration/analysis_run"
SIM="$BUILDDIR/cairn-sim"
SIMPID= PROMPID= WEBPID=
trap '[ -n "$PROMPID" ] && kill "$PROMPID" 2>/dev/null; [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; [ -n "$WEBPID" ] && kill "$WEBPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# template NAME PROVIDER_YAML FIELDS_YAML: an AnalysisTemplate with one metric
template() {
	cat >"$TMP/$1.yaml" <<-EOF
	apiVersion: argoproj.io/v1alpha1
	kind: AnalysisTemplate
	metadata: {name: $1}
	spec:
	  args: [{name: hash, value: aaaa1111}]
	  metrics:
	  - name: $1
	$3
	    provider:
	$2
	EOF
}
# run NAME [ARGS...]: the output in $TMP/NAME.out, the exit status in $TMP/NAME.rc
run() { local n=$1; shift; "$RUN" "$TMP/$n.yaml" "$@" >"$TMP/$n.out" 2>&1; echo $? >"$TMP/$n.rc"; }
phase() { tail -n 1 "$TMP/$1.out"; }

# ---- web provider ----
mkdir -p "$TMP/www/api"
echo '{"data": {"ok": true, "rate": 0.01, "items": [{"v": 3}]}}' >"$TMP/www/api/status"
WPORT=$(freeport)
(cd "$TMP/www" && exec python3 -m http.server --bind 127.0.0.1 "$WPORT") >"$TMP/web.log" 2>&1 &
WEBPID=$!
for _ in $(seq 50); do
	curl -sf --max-time 1 "http://127.0.0.1:$WPORT/api/status" >/dev/null 2>&1 && break
	sleep 0.1
done
WEB="      web: {url: 'http://127.0.0.1:$WPORT/api/status', timeoutSeconds: 2, jsonPath: "
template web_ok "$WEB'{\$.data.rate}'}" "    successCondition: result < 0.05"
run web_ok
check "web: jsonPath {\$.data.rate} 0.01 < 0.05 -> Successful" \
	sh -c "[ \"\$(tail -n1 '$TMP/web_ok.out')\" = 'phase Successful' ] && grep -q 'measure web_ok Successful value=0.01' '$TMP/web_ok.out'"
template web_bool "$WEB'{\$.data.items[0].v}'}" "    failureCondition: result >= 3"
run web_bool
check "web: an index step and failureCondition true -> Failed" test "$(phase web_bool)" = "phase Failed"
template web_missing "$WEB'{\$.data.nope}'}" \
	"    successCondition: result < 0.05
    consecutiveErrorLimit: 1
    interval: 200ms"
run web_missing
check "web: a jsonPath naming nothing is an Error measurement, Error after consecutiveErrorLimit+1" \
	sh -c "[ \"\$(tail -n1 '$TMP/web_missing.out')\" = 'phase Error' ] && [ \$(grep -c '^measure web_missing Error' '$TMP/web_missing.out') = 2 ] && grep -q \"no member 'nope'\" '$TMP/web_missing.out'"
template web_404 "      web: {url: 'http://127.0.0.1:$WPORT/nothing', jsonPath: '{\$}'}" \
	"    successCondition: result == true
    consecutiveErrorLimit: 0"
run web_404
check "web: HTTP 404 is an Error measurement naming the status" \
	sh -c "[ \"\$(tail -n1 '$TMP/web_404.out')\" = 'phase Error' ] && grep -q 'HTTP 404' '$TMP/web_404.out'"
kill "$WEBPID" 2>/dev/null
wait "$WEBPID" 2>/dev/null
WEBPID=

# ---- prometheus provider against cairn-sim ----
if ! command -v kubectl >/dev/null 2>&1 || ! command -v prometheus >/dev/null 2>&1; then
	not_ok "kubectl and prometheus are needed (scripts/install-deps.sh installs them)"
	done_testing
	exit 1
fi
export HOME="$TMP/home" KUBECONFIG="$TMP/kubeconfig"
mkdir -p "$HOME"
"$SIM" --listen 127.0.0.1:0 --kubeconfig-out "$KUBECONFIG" --metrics-listen 127.0.0.1:0 \
	--traffic-rps 200 \
	--traffic-rule 'hash=aaaa*,error_ratio=0.01' \
	--traffic-rule 'hash=bbbb*,error_ratio=0.2' --fail-rule '*:bad*=crashloop' \
	>"$TMP/sim.out" 2>"$TMP/sim.err" &
SIMPID=$!
for _ in $(seq 100); do
	grep -q '^metrics on' "$TMP/sim.out" 2>/dev/null && [ -s "$KUBECONFIG" ] && break
	sleep 0.1
done
MPORT=$(sed -n 's/^metrics on 127.0.0.1://p' "$TMP/sim.out")
pod() { # NAME HASH
	printf -- '---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n' "$1"
	printf '  labels: {app: web, pod-template-hash: "%s"}\n' "$2"
	printf 'spec: {containers: [{name: web, image: "web:1"}]}\n'
}
{
	printf 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\n'
	printf 'spec: {selector: {app: web}, ports: [{port: 80}]}\n'
	pod web-stable-1 aaaa1111
	pod web-stable-2 aaaa1111
	pod web-canary-1 bbbb2222
} >"$TMP/objs.yaml"
timeout 60 kubectl apply -f "$TMP/objs.yaml" >"$TMP/apply.out" 2>&1
ready='{"status":{"conditions":[{"type":"Ready","status":"True"}]}}'
for p in web-stable-1 web-stable-2 web-canary-1; do
	timeout 30 kubectl patch pod "$p" --subresource=status --type=merge -p "$ready" \
		>>"$TMP/apply.out" 2>&1 || echo "patch $p failed" >>"$TMP/apply.out"
done
check "cairn-sim serves the stable and canary Pods" sh -c "! grep -q failed '$TMP/apply.out'"

PPORT=$(freeport)
cat >"$TMP/prometheus.yml" <<EOF
global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: sim
    static_configs: [{targets: ['127.0.0.1:$MPORT']}]
EOF
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
	--web.listen-address="127.0.0.1:$PPORT" >"$TMP/prom.log" 2>&1 &
PROMPID=$!
for _ in $(seq 150); do
	curl -sf --max-time 2 "http://127.0.0.1:$PPORT/-/ready" >/dev/null && break
	sleep 0.2
done
check "prometheus starts" curl -sf --max-time 2 "http://127.0.0.1:$PPORT/-/ready" -o /dev/null

W=5s
ratio() { # the error ratio per pod_template_hash, filtered by $1
	echo "sum by (pod_template_hash)(rate(sim_http_requests_total{job=\"sim\",code!=\"200\"$1}[$W])) / sum by (pod_template_hash)(rate(sim_http_requests_total{job=\"sim\"$1}[$W]))"
}
# Wait until both hashes have a ratio.
for _ in $(seq 40); do
	n=$(curl -s --max-time 5 "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$(ratio '')" |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]["result"]))' 2>/dev/null)
	[ "${n:-0}" -ge 2 ] && break
	sleep 0.5
done
check "prometheus has an error ratio for both hashes" test "${n:-0}" -ge 2

PROM="      prometheus:
        address: http://127.0.0.1:$PPORT
        timeout: 2"
q() { printf '        query: %s\n' "'$(ratio "$1" | sed "s/'/''/g")'"; }
template p_ok "$PROM
$(q ',pod_template_hash="{{args.hash}}"')" \
	"    interval: 1s
    count: 2
    successCondition: result[0] < 0.05"
run p_ok
echo "# prometheus measurement (query + evaluation) ms: $(sed -n 's/^measure.* ms=//p' "$TMP/p_ok.out" | tr '\n' ' ')"
check "prometheus: the stable hash (1%, hash from args) -> Successful after count 2" \
	sh -c "[ \"\$(tail -n1 '$TMP/p_ok.out')\" = 'phase Successful' ] && [ \$(grep -c '^measure p_ok Successful' '$TMP/p_ok.out') = 2 ]"
run p_ok --arg hash=bbbb2222
check "prometheus: the canary hash (20%) -> Failed at the first measurement" \
	sh -c "[ \"\$(tail -n1 '$TMP/p_ok.out')\" = 'phase Failed' ] && grep -q 'measure p_ok Failed value=\[0\.' '$TMP/p_ok.out'"
template p_inc "$PROM
$(q ',pod_template_hash="bbbb2222"')" \
	"    successCondition: result[0] < 0.1
    failureCondition: result[0] > 0.5"
run p_inc
check "prometheus: 20% between the two conditions -> Inconclusive" test "$(phase p_inc)" = "phase Inconclusive"
template p_multi "$PROM
$(q '')" "    successCondition: 'all(result, # < 0.05)'"
run p_multi
sed 's/^/# p_multi: /' "$TMP/p_multi.out"
check "prometheus: two series, all() sees the canary's -> Failed" \
	sh -c "[ \"\$(tail -n1 '$TMP/p_multi.out')\" = 'phase Failed' ] && grep -q 'value=\[0\.' '$TMP/p_multi.out'"
template p_empty "$PROM
$(q ',pod_template_hash="none"')" \
	"    interval: 200ms
    consecutiveErrorLimit: 1
    successCondition: result[0] < 0.05"
run p_empty
check "prometheus: an empty vector is never success: result[0] errors -> Error" \
	sh -c "[ \"\$(tail -n1 '$TMP/p_empty.out')\" = 'phase Error' ] && grep -q 'value=\[\] msg=index 0 out of range (0 items)' '$TMP/p_empty.out'"

# Prometheus stopped mid-analysis: an unlimited metric measures Successful,
# then errors; the default consecutiveErrorLimit (4) ends it at the 5th.
template p_down "$PROM
$(q ',pod_template_hash="aaaa1111"')" \
	"    interval: 1s
    successCondition: result[0] < 0.05"
"$RUN" "$TMP/p_down.yaml" --deadline 30 >"$TMP/p_down.out" 2>&1 &
RUNPID=$!
for _ in $(seq 50); do
	grep -q '^measure p_down Successful' "$TMP/p_down.out" && break
	sleep 0.2
done
kill "$PROMPID"
wait "$PROMPID" 2>/dev/null
PROMPID=
wait "$RUNPID"
echo "# $(grep -c '^measure p_down Error' "$TMP/p_down.out") errors after Prometheus stopped"
check "prometheus stopped: measurements become Errors naming the connection failure" \
	grep -q '^measure p_down Error value=- msg=prometheus: GET http://127.0.0.1:.*/api/v1/query' "$TMP/p_down.out"
check "prometheus stopped: Error after consecutiveErrorLimit (4) + 1 errors in a row" \
	sh -c "[ \"\$(tail -n1 '$TMP/p_down.out')\" = 'phase Error' ] && [ \$(grep -c '^measure p_down Error' '$TMP/p_down.out') = 5 ]"

# ---- kubernetes provider: Deployments run by cairn-sim's controller ----
dep() { # NAME IMAGE
	printf -- '---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: %s}\nspec:\n' "$1"
	printf '  replicas: 2\n  selector: {matchLabels: {app: %s}}\n' "$1"
	printf '  template:\n    metadata: {labels: {app: %s}}\n' "$1"
	printf '    spec: {containers: [{name: c, image: "%s"}]}\n' "$2"
}
{ dep good web:1; dep bad web:bad1; } >"$TMP/deps.yaml"
timeout 60 kubectl apply -f "$TMP/deps.yaml" >"$TMP/deps.out" 2>&1
timeout 60 kubectl rollout status deployment/good --timeout=50s >>"$TMP/deps.out" 2>&1
check "cairn-sim rolls out Deployment good" test $? = 0
KUBE="      kubernetes: {kind: Deployment, name: '{{args.hash}}'}"
template k_good "$KUBE" \
	"    successCondition: result.health == 'Healthy' && result.readyReplicas == 2 && result.restarts == 0 && result.pods == 2"
run k_good --arg hash=good --kubeconfig "$KUBECONFIG"
echo "# kubernetes measurement (get + pod list) ms: $(sed -n 's/^measure.* ms=//p' "$TMP/k_good.out")"
sed 's/^/# k_good: /' "$TMP/k_good.out"
check "kubernetes: a healthy Deployment with 2 ready Pods and no restarts -> Successful" \
	test "$(phase k_good)" = "phase Successful"
template k_bad "$KUBE" \
	"    interval: 500ms
    failureCondition: result.restarts > 0"
run k_bad --arg hash=bad --kubeconfig "$KUBECONFIG" --deadline 40
sed -n "s/.* ms=/ms=/p;\$p" "$TMP/k_bad.out" | sed 's/^/# k_bad: /'
check "kubernetes: a crash-looping Deployment's restarts -> Failed" \
	sh -c "[ \"\$(tail -n1 '$TMP/k_bad.out')\" = 'phase Failed' ] && grep -q '\"restarts\":[1-9]' '$TMP/k_bad.out'"
template k_none "$KUBE" "    successCondition: result.health == 'Healthy'"
run k_none --arg hash=nothing --kubeconfig "$KUBECONFIG"
check "kubernetes: a missing Deployment is health Missing, not Healthy -> Failed" \
	sh -c "[ \"\$(tail -n1 '$TMP/k_none.out')\" = 'phase Failed' ] && grep -q '\"health\":\"Missing\"' '$TMP/k_none.out'"

kill "$SIMPID"
wait "$SIMPID" 2>/dev/null
SIMPID=
done_testing
