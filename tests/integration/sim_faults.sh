#!/bin/bash
# sim_faults.sh - every fault switch of cairn-sim observed from kubectl or
# curl: the --faults flag at start, then /admin/faults at run time (per-verb
# error rate, latency, 409 conflicts, 429 with Retry-After, 410 Gone,
# dropped watch streams, seeded determinism, reset).
. "$(dirname "$0")/lib.sh"

SIM="$BUILDDIR/cairn-sim"
if ! command -v kubectl >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
	echo "1..0 # SKIP kubectl or curl is not installed"
	exit 0
fi
SIMPID=
trap '[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
export HOME="$TMP/home" KUBECONFIG="$TMP/kubeconfig"
mkdir -p "$HOME"

"$SIM" --listen 127.0.0.1:0 --kubeconfig-out "$KUBECONFIG" --openapi-dir "$K8S_OPENAPI" \
	--faults '{"error_rate":{"list":1},"resource":"secrets"}' \
	>"$TMP/sim.out" 2>"$TMP/sim.err" &
SIMPID=$!
for _ in $(seq 100); do
	[ -s "$KUBECONFIG" ] && [ -s "$TMP/sim.out" ] && break
	sleep 0.1
done
check "cairn-sim starts with --faults" test -s "$KUBECONFIG"

cfg() { kubectl config view --raw -o jsonpath="$1"; }
SERVER=$(cfg '{.clusters[0].cluster.server}')
cfg '{.clusters[0].cluster.certificate-authority-data}' | base64 -d >"$TMP/ca.pem"
TOKEN=$(cfg '{.users[0].user.token}')
AUTH=(-H "Authorization: Bearer $TOKEN")
if [ -z "$TOKEN" ]; then
	cfg '{.users[0].user.client-certificate-data}' | base64 -d >"$TMP/cert.pem"
	cfg '{.users[0].user.client-key-data}' | base64 -d >"$TMP/key.pem"
	AUTH=(--cert "$TMP/cert.pem" --key "$TMP/key.pem")
fi
# c ARGS...: curl against the simulator; prints the HTTP status, body in $TMP/body
c() { curl -s --max-time 20 --cacert "$TMP/ca.pem" "${AUTH[@]}" -o "$TMP/body" \
	-D "$TMP/headers" -w '%{http_code}' "$@"; }
admin() { c -X PUT -H 'Content-Type: application/json' --data "$1" "$SERVER/admin/faults"; }
OUT="$TMP/out"
k() { timeout 60 kubectl "$@" >"$OUT" 2>&1; RC=$?; }

k get secrets
check "--faults at start: listing secrets fails (500)" \
	sh -c "[ $RC != 0 ] && grep -qi 'error from server' '$OUT'"
k get configmaps
check "--faults at start: other resources still answer" test "$RC" = 0
st=$(c "$SERVER/admin/faults")
check "GET /admin/faults shows the start switches" \
	sh -c "[ '$st' = 200 ] && grep -q '\"resource\":\"secrets\"' '$TMP/body'"

k create configmap target --from-literal=a=1
check "PUT /admin/faults is accepted" \
	test "$(admin '{"reset":true,"error_rate":{"get":1},"error_status":503}')" = 200
check "error rate per verb: get answers 503" \
	test "$(c "$SERVER/api/v1/namespaces/default/configmaps/target")" = 503
check "error rate per verb: the 503 carries a Status body" grep -q '"kind":"Status"' "$TMP/body"
check "error rate per verb: list still answers 200" \
	test "$(c "$SERVER/api/v1/namespaces/default/configmaps")" = 200
k get configmap target
check "kubectl sees the injected error" sh -c "[ $RC != 0 ]"

admin '{"reset":true,"latency_ms":800}' >/dev/null
s=$(date +%s%N)
st=$(c "$SERVER/api/v1/namespaces/default/configmaps/target")
e=$(date +%s%N)
check "latency: a get takes at least 0.8 s" test "$st" = 200 -a $(((e - s) / 1000000)) -ge 750

admin '{"reset":true,"conflict_rate":1}' >/dev/null
k label configmap target tier=x
check "conflicts: kubectl label is refused with a conflict" \
	sh -c "[ $RC != 0 ] && grep -qi 'conflict' '$OUT'"
check "conflicts: a PATCH answers 409" \
	test "$(c -X PATCH -H 'Content-Type: application/merge-patch+json' --data '{"data":{"b":"2"}}' \
		"$SERVER/api/v1/namespaces/default/configmaps/target")" = 409
check "conflicts: reads are not affected" \
	test "$(c "$SERVER/api/v1/namespaces/default/configmaps/target")" = 200

admin '{"reset":true,"throttle_rate":1,"retry_after":3}' >/dev/null
check "429: a get is throttled" \
	test "$(c "$SERVER/api/v1/namespaces/default/configmaps/target")" = 429
check "429: with Retry-After: 3" grep -qi '^Retry-After: 3' "$TMP/headers"

admin '{"reset":true,"gone_rate":1}' >/dev/null
check "410: a watch answers Gone" \
	test "$(c "$SERVER/api/v1/namespaces/default/configmaps?watch=1")" = 410
check "410: the Status names reason Expired or Gone" grep -Eq '"reason":"(Expired|Gone)"' "$TMP/body"

admin '{"reset":true,"drop_watch_after_ms":1000}' >/dev/null
s=$(date +%s%N)
c "$SERVER/api/v1/namespaces/default/configmaps?watch=1" >/dev/null
e=$(date +%s%N)
check "dropped watch: the stream is closed after about 1 s (not the 20 s bound)" \
	test $(((e - s) / 1000000)) -ge 900 -a $(((e - s) / 1000000)) -lt 10000

# the same seed gives the same failures
pattern() {
	admin "{\"reset\":true,\"seed\":$1,\"error_rate\":{\"get\":0.5}}" >/dev/null
	for _ in $(seq 16); do
		[ "$(c "$SERVER/api/v1/namespaces/default/configmaps/target")" = 200 ] && printf 0 || printf 1
	done
}
p1=$(pattern 7)
p2=$(pattern 7)
check "seeded error rate repeats its pattern ($p1)" test "$p1" = "$p2"
check "the pattern is neither all failures nor none" \
	sh -c "echo '$p1' | grep -q 0 && echo '$p1' | grep -q 1"

st=$(c -X PUT --data '{"latency_ms":-1}' "$SERVER/admin/faults")
check "bad switches are refused with 400 naming them" \
	sh -c "[ '$st' = 400 ] && grep -q \"fault switch 'latency_ms' must be an integer\" '$TMP/body'"
check "DELETE /admin/faults turns every fault off" \
	test "$(c -X DELETE "$SERVER/admin/faults")" = 200
k get configmap target -o jsonpath='{.data.a}'
check "kubectl works again after the reset" test "$RC" = 0 -a "$(cat "$OUT")" = 1

kill "$SIMPID"
wait "$SIMPID" 2>/dev/null
SIMPID=
done_testing
