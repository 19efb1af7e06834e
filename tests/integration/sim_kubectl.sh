#!/bin/bash
# sim_kubectl.sh - the referee of cairn-sim: real kubectl against the
# simulator, every command issue 6 lists, each asserting what kubectl
# printed or returned. Where kubectl and cairn-sim disagree, cairn-sim is wrong.
. "$(dirname "$0")/lib.sh"

SIM="$BUILDDIR/cairn-sim"
if ! command -v kubectl >/dev/null 2>&1; then
	echo "1..0 # SKIP kubectl is not installed"
	exit 0
fi
SIMPID=
trap '[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
export HOME="$TMP/home" KUBECONFIG="$TMP/kubeconfig"
mkdir -p "$HOME"

"$SIM" --listen 127.0.0.1:0 --kubeconfig-out "$KUBECONFIG" --openapi-dir "$K8S_OPENAPI" \
	>"$TMP/sim.out" 2>"$TMP/sim.err" &
SIMPID=$!
for _ in $(seq 100); do
	[ -s "$KUBECONFIG" ] && [ -s "$TMP/sim.out" ] && break
	sleep 0.1
done
check "cairn-sim starts and writes its kubeconfig" test -s "$KUBECONFIG"

OUT="$TMP/out"
# k ARGS...: run kubectl (bounded), output in $OUT, status in $RC
k() { timeout 60 kubectl "$@" >"$OUT" 2>&1; RC=$?; }
has() { grep -q -- "$1" "$OUT" || { echo "# expected '$1' in:"; sed 's/^/#   /' "$OUT"; return 1; }; }
rc_is() { [ "$RC" = "$1" ] || { echo "# exit $RC, expected $1:"; sed 's/^/#   /' "$OUT"; return 1; }; }
jp() { timeout 30 kubectl get "$@" 2>&1; }

k version -o json
check "version reports a v1.28 server" has '"gitVersion": "v1.28'

k api-resources
check "api-resources lists deployments with its short name" \
	grep -Eq '^deployments +deploy +apps/v1 +true +Deployment' "$OUT"
check "api-resources lists configmaps, namespaces (cluster-scoped) and crds" \
	sh -c "grep -Eq '^configmaps +cm +v1 +true +ConfigMap' '$OUT' &&
	       grep -Eq '^namespaces +ns +v1 +false +Namespace' '$OUT' &&
	       grep -Eq '^customresourcedefinitions +crd,crds +apiextensions.k8s.io/v1 +false' '$OUT'"

cat >"$TMP/web.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: default
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.25
YAML
sed 's/replicas: 2/replicas: 3/' "$TMP/web.yaml" >"$TMP/web-bob.yaml"

k apply --server-side --field-manager=alice -f "$TMP/web.yaml"
check "apply --server-side creates the deployment" has 'deployment.apps/web serverside-applied'
k apply --server-side --field-manager=bob -f "$TMP/web-bob.yaml"
check "a second manager's conflicting apply is refused" \
	sh -c "[ $RC != 0 ] && grep -q 'conflict with \"alice\"' '$OUT' && grep -q '.spec.replicas' '$OUT'"
check "the refused apply changed nothing" \
	test "$(jp deploy web -o jsonpath='{.spec.replicas}')" = 2
k apply --server-side --field-manager=bob --force-conflicts -f "$TMP/web-bob.yaml"
check "--force-conflicts takes the field" has 'deployment.apps/web serverside-applied'
check "the forced value is stored" test "$(jp deploy web -o jsonpath='{.spec.replicas}')" = 3

k get deploy web -o yaml --show-managed-fields
check "get -o yaml --show-managed-fields shows both managers' Apply entries" \
	sh -c "grep -q 'manager: alice' '$OUT' && grep -q 'manager: bob' '$OUT' &&
	       grep -q 'operation: Apply' '$OUT' && grep -q 'fieldsV1:' '$OUT'"
check "the deployment was defaulted (strategy, revisionHistoryLimit, imagePullPolicy)" \
	sh -c "grep -q 'type: RollingUpdate' '$OUT' && grep -q 'revisionHistoryLimit: 10' '$OUT' &&
	       grep -q 'imagePullPolicy: IfNotPresent' '$OUT'"

# get -w: a watcher (bounded) must receive the ADDED event of a new ConfigMap
# (the ConfigMap does not exist when the watch starts: seeing it is the event)
timeout 20 kubectl get configmaps -w -o name >"$TMP/watch" 2>&1 &
WPID=$!
sleep 2
k create configmap watched --from-literal=a=1
for _ in $(seq 50); do grep -q 'configmap/watched' "$TMP/watch" && break; sleep 0.2; done
check "get -w receives the ADDED event" sh -c "grep -qx 'configmap/watched' '$TMP/watch' || { sed 's/^/#   /' '$TMP/watch'; false; }"
kill "$WPID" 2>/dev/null
wait "$WPID" 2>/dev/null

k scale deployment web --replicas=5
check "scale answers scaled" has 'deployment.apps/web scaled'
check "scale reaches spec.replicas" test "$(jp deploy web -o jsonpath='{.spec.replicas}')" = 5

cat >"$TMP/editor.sh" <<'SH'
#!/bin/sh
sed -i 's/a: "1"/a: "edited"/' "$1"
SH
chmod +x "$TMP/editor.sh"
EDITOR="$TMP/editor.sh" KUBE_EDITOR="$TMP/editor.sh" k edit configmap watched
check "edit through EDITOR answers edited" has 'configmap/watched edited'
check "the edited value is stored" test "$(jp cm watched -o jsonpath='{.data.a}')" = edited

k patch deployment web --type strategic \
	-p '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.26"}]}}}}'
check "strategic patch answers patched" has 'deployment.apps/web patched'
check "strategic patch merges containers by name" \
	test "$(jp deploy web -o jsonpath='{.spec.template.spec.containers[*].name}:{.spec.template.spec.containers[0].image}')" = "web:nginx:1.26"
k patch deployment web --type merge -p '{"metadata":{"labels":{"tier":"front"}}}'
check "merge patch sets a label" test "$(jp deploy web -o jsonpath='{.metadata.labels.tier}')" = front
k patch deployment web --type json -p '[{"op":"replace","path":"/spec/replicas","value":4}]'
check "json patch replaces spec.replicas" test "$(jp deploy web -o jsonpath='{.spec.replicas}')" = 4
k patch deployment web --type json -p '[{"op":"test","path":"/spec/replicas","value":99}]'
check "a json patch whose test fails is refused" rc_is 1

sed 's/nginx:1.25/nginx:1.27/' "$TMP/web-bob.yaml" >"$TMP/web-diff.yaml"
k diff --server-side --field-manager=bob --force-conflicts -f "$TMP/web-diff.yaml"
check "diff --server-side shows the image change (exit 1)" \
	sh -c "[ $RC = 1 ] && grep -q '^-.*image: nginx:1.26' '$OUT' && grep -q '^+.*image: nginx:1.27' '$OUT'"
check "diff --server-side did not change the object" \
	test "$(jp deploy web -o jsonpath='{.spec.template.spec.containers[0].image}')" = nginx:1.26
cat >"$TMP/cm.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: same, namespace: default}
data: {k: v}
YAML
k apply --server-side -f "$TMP/cm.yaml"
k diff --server-side -f "$TMP/cm.yaml"
check "diff --server-side of an unchanged object is empty (exit 0)" rc_is 0

cat >"$TMP/crd.yaml" <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, minimum: 1}
              color: {type: string, enum: [red, blue]}
YAML
cat >"$TMP/widget.yaml" <<'YAML'
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1, namespace: default}
spec: {size: 3, color: red}
YAML
sed 's/size: 3/size: big/; s/name: w1/name: w2/' "$TMP/widget.yaml" >"$TMP/widget-bad.yaml"
k apply --server-side -f "$TMP/crd.yaml"
check "a CRD is created" has 'customresourcedefinition.apiextensions.k8s.io/widgets.example.com serverside-applied'
k api-resources --api-group=example.com
check "the CRD's kind appears in discovery" grep -Eq '^widgets +wd +example.com/v1 +true +Widget' "$OUT"
k apply --server-side -f "$TMP/widget.yaml"
check "an object of the CRD's kind is created" has 'widget.example.com/w1 serverside-applied'
k get wd w1 -o jsonpath='{.spec.size}'
check "it is read back by short name" has '^3$'
k apply --server-side -f "$TMP/widget-bad.yaml"
check "an invalid object of the CRD's kind is refused with the schema finding" \
	sh -c "[ $RC != 0 ] && grep -q 'is invalid' '$OUT' && grep -q 'spec.size' '$OUT' &&
	       grep -q 'must be of type integer' '$OUT' || { sed 's/^/#   /' '$OUT'; false; }"
k delete crd widgets.example.com
check "the CRD is deleted" has 'customresourcedefinition.apiextensions.k8s.io "widgets.example.com" deleted'
k api-resources --api-group=example.com
check "its kind vanishes from discovery" sh -c "! grep -q '^widgets' '$OUT'"

k create namespace team
k create configmap inside -n team --from-literal=x=y
check "an object is created in a new namespace" test "$(jp cm inside -n team -o jsonpath='{.data.x}')" = y
k delete namespace team
check "delete namespace answers deleted" has 'namespace "team" deleted'
k get configmap inside -n team
check "namespace deletion removed its objects" sh -c "[ $RC != 0 ] && grep -q 'NotFound\|not found' '$OUT'"
k delete deployment web
check "delete answers deleted" has 'deployment.apps "web" deleted'
k get deployment web
check "the deleted deployment is gone" sh -c "[ $RC = 1 ] && grep -q 'deployments.apps \"web\" not found' '$OUT'"

# ---- timestamps: metav1.Time is whole seconds on the API server ----
k create configmap keep --from-literal=a=b
# whole_seconds TEXT: an RFC 3339 time without a fraction
whole_seconds() { echo "$1" | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$' || { echo "# got '$1'"; false; }; }
check "creationTimestamp has whole seconds" \
	whole_seconds "$(jp cm keep -o jsonpath='{.metadata.creationTimestamp}')"
check "managedFields time has whole seconds" \
	whole_seconds "$(jp cm keep --show-managed-fields -o jsonpath='{.metadata.managedFields[0].time}')"

# ---- deletion propagation ----
# family: an owner ConfigMap and two dependents naming it (label app=fam).
family() {
	kubectl create configmap owner >/dev/null &&
		kubectl label configmap owner app=fam >/dev/null || return 1
	local uid
	uid=$(jp cm owner -o jsonpath='{.metadata.uid}')
	for n in a b; do
		kubectl apply -f - >/dev/null <<YAML || return 1
apiVersion: v1
kind: ConfigMap
metadata:
  name: dep-$n
  labels: {app: fam}
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: owner, uid: $uid, blockOwnerDeletion: true}
YAML
	done
}
gone() { ! kubectl get cm "$@" -o name 2>/dev/null | grep -q .; }

check "a family of owner and dependents is created" family
RV=$(kubectl get --raw /api/v1/namespaces/default/configmaps | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["resourceVersion"])')
timeout 10 kubectl get --raw "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$RV&timeoutSeconds=3" >"$TMP/fgwatch" 2>&1 &
WPID=$!
sleep 0.5
k delete configmap owner --cascade=foreground
check "delete --cascade=foreground answers deleted" has 'configmap "owner" deleted'
wait "$WPID"
check "foreground: the owner is marked first, its dependents go, then the owner" python3 - "$TMP/fgwatch" <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
seq = [(e["type"], e["object"]["metadata"]["name"]) for e in ev]
m = ev[0]["object"]["metadata"]
ok = (seq[0] == ("MODIFIED", "owner") and m.get("finalizers") == ["foregroundDeletion"]
      and "deletionTimestamp" in m and seq[-1] == ("DELETED", "owner")
      and ("DELETED", "dep-a") in seq and ("DELETED", "dep-b") in seq)
if not ok:
    print("# events:", seq)
sys.exit(0 if ok else 1)
PY
check "foreground: owner and dependents are gone" gone owner dep-a dep-b

family
kubectl patch configmap dep-a --type=merge -p '{"metadata":{"finalizers":["example.com/hold"]}}' >/dev/null
k delete configmap owner --cascade=foreground --wait=false
check "foreground: a dependent held by a finalizer keeps the owner (deletionTimestamp, foregroundDeletion)" \
	grep -Eq '^[0-9T:Z-]+ \["foregroundDeletion"\]$' <<<"$(jp cm owner -o jsonpath='{.metadata.deletionTimestamp} {.metadata.finalizers}')"
check "foreground: the free dependent is gone, the held one is terminating" \
	sh -c "! kubectl get cm dep-b >/dev/null 2>&1 && [ -n \"\$(kubectl get cm dep-a -o jsonpath='{.metadata.deletionTimestamp}')\" ]"
kubectl patch configmap dep-a --type=json -p '[{"op":"remove","path":"/metadata/finalizers"}]' >/dev/null
check "foreground: removing the last finalizer lets the dependent and then the owner go" gone owner dep-a

family
k delete configmap owner --cascade=orphan
check "delete --cascade=orphan answers deleted" has 'configmap "owner" deleted'
check "orphan: the dependents stay without their owner reference" \
	test "$(jp cm dep-a dep-b -o jsonpath='{.items[*].metadata.name}|{.items[*].metadata.ownerReferences}')" = 'dep-a dep-b|'
check "orphan: the owner is gone" gone owner
kubectl delete configmap dep-a dep-b >/dev/null

family
k delete configmap owner --cascade=background
check "delete --cascade=background answers deleted" has 'configmap "owner" deleted'
check "background: the dependents are collected" gone owner dep-a dep-b

family
k delete configmap -l app=fam
check "delete -l deletes the labelled objects" has 'configmap "dep-b" deleted'
kept() { gone owner dep-a dep-b && kubectl get cm keep >/dev/null; }
check "delete -l leaves the others" kept

family
k delete --raw '/api/v1/namespaces/default/configmaps?labelSelector=app%3Dfam'
check "deletecollection answers the list of deleted objects" python3 - "$OUT" <<'PY'
import json, sys
l = json.load(open(sys.argv[1]))
names = sorted(i["metadata"]["name"] for i in l["items"])
ok = l["kind"] == "ConfigMapList" and names == ["dep-a", "dep-b", "owner"]
if not ok:
    print("# got:", l.get("kind"), names)
sys.exit(0 if ok else 1)
PY
check "deletecollection removed only the selected objects" kept

# ---- fieldValidation: kubectl sends Strict by default ----
cat >"$TMP/typo.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: typo}
spec:
  selector: {matchLabels: {app: typo}}
  template:
    metadata: {labels: {app: typo}}
    spec:
      containers: [{name: c, image: "nginx:1.25", imagePullPolic: Always}]
YAML
k apply -f "$TMP/typo.yaml"
check "apply of a misspelled field is refused (Strict)" \
	sh -c "[ $RC = 1 ] && grep -q 'strict decoding error: unknown field \"spec.template.spec.containers\[0\].imagePullPolic\"' '$OUT'"
check "the refused object was not created" sh -c "! kubectl get deploy typo >/dev/null 2>&1"
k apply --server-side -f "$TMP/typo.yaml"
check "server-side apply of it is refused too" has 'strict decoding error: unknown field'
k apply --validate=warn -f "$TMP/typo.yaml"
check "--validate=warn creates it and prints the server's warning" \
	sh -c "[ $RC = 0 ] && grep -q '^Warning: unknown field \"spec.template.spec.containers\[0\].imagePullPolic\"' '$OUT'"
check "the unknown field was dropped" \
	test "$(jp deploy typo -o jsonpath='{.spec.template.spec.containers[0].imagePullPolic}|{.spec.template.spec.containers[0].imagePullPolicy}')" = '|IfNotPresent'
k create configmap quiet --dry-run=client -o yaml
sed 's/^data:/bogus: 1\ndata:/' "$OUT" >"$TMP/quiet.yaml"
k create --validate=false -f "$TMP/quiet.yaml"
check "--validate=false (Ignore) drops the field without a warning" \
	sh -c "[ $RC = 0 ] && ! grep -q Warning '$OUT' && [ -z \"\$(kubectl get cm quiet -o jsonpath='{.bogus}')\" ]"
kubectl delete deploy typo >/dev/null

kill "$SIMPID"
wait "$SIMPID" 2>/dev/null
SIMPID=
done_testing
