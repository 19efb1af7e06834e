#!/bin/bash
# cairn env diff --live against a real cairn-sim: two environments (dev,
# prod) in two namespaces of one cluster, each synced by `cairn app sync`,
# then drift made in prod only with real kubectl (scale, a Secret edited):
# the drifted objects and paths are reported for prod alone, Secret values
# masked, in text and JSON, and the exit status is 1; in sync it is 0.
. "$(dirname "$0")/lib.sh"

SIM=${CAIRN_SIM:-$BUILDDIR/cairn-sim}
SIMPID=
trap '[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
if ! command -v kubectl >/dev/null; then
	echo "1..0 # SKIP kubectl is not installed"
	exit 0
fi
cd "$TMP" || exit 1
export GIT_CONFIG_NOSYSTEM=1 HOME="$TMP/home" KUBECONFIG="$TMP/kubeconfig"
export CAIRN_STATE_DIR="$TMP/state"
unset CAIRN_CONFIG
mkdir -p "$HOME" repo/base repo/dev repo/prod envs
"$SIM" --listen 127.0.0.1:0 --kubeconfig-out "$KUBECONFIG" --pod-ready-delay 100ms \
	>"$TMP/sim.out" 2>"$TMP/sim.err" &
SIMPID=$!
for _ in $(seq 100); do
	[ -s "$KUBECONFIG" ] && break
	sleep 0.1
done
check "cairn-sim starts" test -s "$KUBECONFIG"
SERVER=$(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.server}')

printf 'resources: [objs.yaml]\n' > repo/base/kustomization.yaml
cat > repo/base/objs.yaml <<'Y'
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData:
  password: hunter2-${env}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: ${replicas}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "nginx:1.25"}]}
Y
printf 'resources: [../base]\n' > repo/dev/kustomization.yaml
printf 'resources: [../base]\n' > repo/prod/kustomization.yaml
(cd repo && git init -q . && git add -A && git -c user.name=t -c user.email=t@t commit -qm one) ||
	exit 1
URL="file://$TMP/repo"
for e in dev prod; do
	cat > envs/$e.yaml <<Y
apiVersion: cairn.dev/v1alpha1
kind: Environment
metadata: {name: $e}
spec:
  cluster: {server: "$SERVER", kubeconfig: "$KUBECONFIG"}
  namespaces: ["$e-*"]
  vars: {replicas: "$([ $e = dev ] && echo 1 || echo 3)", env: $e}
Y
	cat >> apps.yaml <<Y
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web-$e
  labels: {cairn.dev/app: web, cairn.dev/environment: $e}
spec:
  project: default
  source: {repoURL: "$URL", targetRevision: HEAD, path: $e}
  destination: {server: "$SERVER", namespace: $e-web}
  syncPolicy: {syncOptions: [CreateNamespace=true]}
Y
done
for e in dev prod; do
	timeout 60 "$CAIRN" app sync web-$e --apps apps.yaml --environments envs -o json \
		>sync-$e.out 2>&1
	check "web-$e synced" [ $? = 0 ]
done
D() { timeout 60 "$CAIRN" env diff --environments envs --apps apps.yaml web dev prod --live "$@"; }

D --color never >insync.txt 2>insync.err
check "in sync: exit 0 (declared differences only, no live drift)" [ $? = 0 ]
check "in sync: each environment says so" bash -c \
	"grep -q '^live dev (web-dev): in sync (2 objects)$' insync.txt &&
	 grep -q '^live prod (web-prod): in sync (2 objects)$' insync.txt &&
	 grep -q ', 0 drifted live$' insync.txt"

# drift in prod only, made with kubectl
check "kubectl scale in prod" kubectl -n prod-web scale deployment web --replicas=5
check "kubectl edits the Secret in prod" kubectl -n prod-web patch secret creds \
	-p '{"stringData":{"password":"leaked-value"}}'

D -o json >drift.json 2>drift.err
check "drift in prod: exit 1" [ $? = 1 ]
check "JSON: prod's Deployment replicas and Secret reported, dev clean, values masked" \
	python3 - drift.json <<'P'
import json, sys
text = open(sys.argv[1]).read()
d = json.loads(text)
dev, prod = d["live"]
assert dev["environment"] == "dev" and dev["drifted"] == 0 and dev["objects"] == [], dev
assert prod["environment"] == "prod" and prod["drifted"] == 2, prod
o = {x["object"]: x for x in prod["objects"]}
w = o["apps/Deployment/prod-web/web"]
assert w["status"] == "drifted", w
assert {"path": "/spec/replicas", "desired": 3, "live": 5} in w["paths"], w
s = o["/Secret/prod-web/creds"]
assert s["status"] == "drifted" and s["paths"], s
masked = lambda v: isinstance(v, str) and set(v) == {"+"}
assert all(masked(p["desired"]) and masked(p["live"]) for p in s["paths"]), s
assert "leaked" not in text and "hunter2" not in text, "a secret value was printed"
assert d["summary"]["liveDrifted"] == 2 and d["summary"]["undeclared"] == 0, d["summary"]
P
D --color never >drift.txt 2>&1
check "text: prod's drift listed with the path and both values" bash -c \
	"grep -q '^live prod (web-prod): 2 drifted of 2 objects$' drift.txt &&
	 grep -q '^      /spec/replicas: desired 3, live 5$' drift.txt &&
	 grep -q '^live dev (web-dev): in sync' drift.txt && ! grep -q leaked drift.txt"

# a live object deleted: missing
check "kubectl deletes dev's Secret" kubectl -n dev-web delete secret creds
# a tracked object of dev's app that git no longer has: extra
cat > old.yaml <<'Y'
apiVersion: v1
kind: Secret
metadata:
  name: old
  namespace: dev-web
  annotations: {argocd.argoproj.io/tracking-id: "web-dev:/Secret:dev-web/old"}
stringData: {token: t}
Y
check "kubectl creates a tracked Secret git does not have" kubectl apply -f old.yaml
D -o json >missing.json 2>/dev/null
check "dev: the deleted Secret missing, the tracked leftover extra" python3 -c '
import json; d = json.load(open("missing.json"))
o = {x["object"]: x["status"] for x in d["live"][0]["objects"]}
assert o == {"/Secret/dev-web/creds": "missing", "/Secret/dev-web/old": "extra"}, o
assert d["live"][0]["drifted"] == 2, d["live"][0]'

# an Environment whose cluster cannot be reached is an error (exit 2)
sed -i "s|kubeconfig: \"$KUBECONFIG\"|kubeconfig: \"$TMP/none\"|" envs/prod.yaml
D >/dev/null 2>bad.err
check "unreachable cluster: exit 2" [ $? = 2 ]
check "unreachable cluster: the environment named" grep -q "environment 'prod'" bad.err
done_testing
