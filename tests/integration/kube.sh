#!/bin/bash
# kube.sh - `cairn kube ping|get|apply|delete` against cairn-sim over HTTPS,
# with the bearer-token and the client-certificate contexts of the
# simulator's kubeconfig. Where kubectl is installed it reads back what
# cairn wrote, so the two clients cannot be wrong the same way.
. "$(dirname "$0")/lib.sh"

SIM=${CAIRN_SIM:-$BUILDDIR/cairn-sim}
SIMPID=
trap '[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
export HOME="$TMP/home" KUBECONFIG="$TMP/kubeconfig"
mkdir -p "$HOME"
"$SIM" --listen 127.0.0.1:0 --kubeconfig-out "$KUBECONFIG" >"$TMP/sim.out" 2>"$TMP/sim.err" &
SIMPID=$!
for _ in $(seq 100); do
	[ -s "$KUBECONFIG" ] && break
	sleep 0.1
done
check "cairn-sim starts and writes its kubeconfig" test -s "$KUBECONFIG"

OUT="$TMP/out"
# c ARGS...: run cairn kube (bounded), stdout+stderr in $OUT, status in $RC
c() { timeout 60 "$CAIRN" kube "$@" >"$OUT" 2>&1; RC=$?; }
has() { grep -q -- "$1" "$OUT" || { echo "# expected '$1' in:"; sed 's/^/#   /' "$OUT"; return 1; }; }
rc_is() { [ "$RC" = "$1" ] || { echo "# exit $RC, expected $1:"; sed 's/^/#   /' "$OUT"; return 1; }; }

c ping
check "ping with the token context prints the server version" has '^server v1.28.15, round trip [0-9.]* ms$'
c --context cairn-sim-cert ping
check "ping with the client-certificate context" has '^server v1.28.15, round trip'
c --context missing ping
check "an unknown context is an error (exit 1)" sh -c "[ $RC = 1 ] && grep -q \"context 'missing' not found\" '$OUT'"
c frobnicate
check "an unknown subcommand is a usage error (exit 2)" rc_is 2

cat >"$TMP/objs.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: one, labels: {tier: front}}
data: {k: v1}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: two, labels: {tier: back}}
data: {k: v2}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.25}]}
YAML
c apply -f "$TMP/objs.yaml"
check "apply prints one line per object as kubectl does" \
	sh -c "grep -qx 'configmap/one serverside-applied' '$OUT' && grep -qx 'configmap/two serverside-applied' '$OUT' &&
	       grep -qx 'deployment.apps/web serverside-applied' '$OUT'"
c get deploy web -o json
check "get by short name reads the applied deployment" has '"replicas": 2'
check "the apply was made by field manager cairn" has '"manager": "cairn"'
c get cm -l tier=back
check "get with a label selector lists only the match" sh -c "[ \"\$(cat '$OUT')\" = two ]"
sed 's/replicas: 2/replicas: 5/' "$TMP/objs.yaml" >"$TMP/objs5.yaml"
c apply -f "$TMP/objs5.yaml" --dry-run
check "apply --dry-run says so" has 'deployment.apps/web serverside-applied (dry run)'
c get deployments.apps web -o yaml
check "the dry run stored nothing" has '^  replicas: 2$'
if command -v kubectl >/dev/null 2>&1; then
	check "kubectl reads back what cairn applied" \
		test "$(timeout 30 kubectl get cm one -o jsonpath='{.data.k}')" = v1
	timeout 30 kubectl apply --server-side --field-manager=other -f - >/dev/null 2>&1 <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: one}
data: {k: other}
YAML
	c apply -f "$TMP/objs.yaml"
	check "cairn's apply forces a field another manager owns" \
		test "$(timeout 30 kubectl get cm one -o jsonpath='{.data.k}')" = v1
fi
c delete configmap two
check "delete TYPE NAME answers deleted" has '^configmap "two" deleted$'
c get cm two
check "the deleted object is gone (exit 1, NotFound)" \
	sh -c "[ $RC = 1 ] && grep -q 'NotFound: configmaps \"two\" not found' '$OUT'"
c delete -f "$TMP/objs.yaml" --cascade foreground
check "delete -f deletes what exists and reports what does not" \
	sh -c "[ $RC = 1 ] && grep -qx 'configmap \"one\" deleted' '$OUT' &&
	       grep -qx 'deployment.apps \"web\" deleted' '$OUT' && grep -q 'configmaps \"two\" not found' '$OUT'"
c get nosuchtype
check "an unknown type is named" sh -c "[ $RC = 1 ] && grep -q \"no resource type 'nosuchtype'\" '$OUT'"

if command -v readelf >/dev/null 2>&1; then
	check "cairn itself does not load libcurl or libgit2" \
		sh -c "! readelf -d '$CAIRN' | grep -Eq 'curl|git2'"
fi
kill "$SIMPID"
wait "$SIMPID" 2>/dev/null
SIMPID=
done_testing
