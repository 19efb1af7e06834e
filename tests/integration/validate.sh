#!/bin/bash
# cairn validate end to end: good files, each kind of bad file, -o json,
# --schemas with the Kubernetes v1.28 documents, billion laughs, usage errors.
. "$(dirname "$0")/lib.sh"
SCHEMAS="$K8S_OPENAPI"
cd "$TMP" || exit 1

cat > good.yaml <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: prod
  labels:
    app.kubernetes.io/name: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      creationTimestamp: null
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.25
        ports:
        - containerPort: 80
        resources:
          limits: {cpu: 500m, memory: 1Gi}
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
  - port: 80
    targetPort: http
Y
mkdir -p tree/sub tree/.git
cp good.yaml tree/sub/app.yml
echo 'not yaml: [' > tree/.git/config.yaml

# expect NAME FILE... : run, store stdout/stderr/status
run() { "$CAIRN" validate "$@" >out.txt 2>err.txt; echo $? >rc.txt; }
status() { [ "$(cat rc.txt)" = "$1" ]; }
has() { grep -qF -- "$1" out.txt; }

run good.yaml
check "good file passes with exit 0" status 0
check "summary on stderr" grep -qF "1 file, 2 objects, 0 kustomizations, 0 problems" err.txt
run tree
check "directory walk skips hidden directories" status 0

# Kustomize's configuration is build input, not a cluster object: read as
# YAML (errors still reported) but not held to object rules.
mkdir -p kz/base kz/bad
printf 'resources:\n- app.yaml\n' > kz/base/kustomization.yaml
cp good.yaml kz/base/app.yaml
printf 'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\n' > kz/base/comp.yaml
printf 'resources: [\n' > kz/bad/kustomization.yml
run kz/base
check "kustomization files are not objects" status 0
check "kustomizations counted apart" grep -qF "3 files, 2 objects, 2 kustomizations, 0 problems" err.txt
run kz/bad
check "a broken kustomization is still a YAML error" status 1
check "the YAML error names its place" grep -qE "kz/bad/kustomization.yml:[0-9]+:[0-9]+: " out.txt
printf 'resources:\n- app.yaml\n' > kz/notkustomization.yaml
run kz/notkustomization.yaml
check "the same content under another name is checked as an object" status 1

printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: Bad_Name\n' > badname.yaml
run badname.yaml
check "bad name exits 1" status 1
check "bad name reported at file:line:col" has "badname.yaml:4:9: metadata.name 'Bad_Name' is not valid for a ConfigMap"

printf 'kind: ConfigMap\nmetadata:\n  name: x\n' > noapi.yaml
run noapi.yaml
check "missing apiVersion" has "noapi.yaml:1:1: missing apiVersion"

printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  namespace: Prod\n  name: p\n  labels:\n    enabled: yes\n' > ns.yaml
run ns.yaml
check "bad namespace" has "ns.yaml:4:14: metadata.namespace 'Prod' is not valid"
check "label read as a boolean (kubectl reads yes as true)" has "ns.yaml:7:14: label 'enabled' must have a string value, not a boolean"

printf 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n\ta: b\n' > tab.yaml
run tab.yaml
check "YAML error is one finding with its place" grep -qE '^tab.yaml:[0-9]+:[0-9]+: ' out.txt
check "YAML error exits 1" status 1

run good.yaml badname.yaml
check "problems in one file do not stop the others" grep -qF "2 files, 3 objects, 0 kustomizations, 1 problem" err.txt

run -o json badname.yaml good.yaml
check "-o json exits 1 with problems" status 1
check "-o json parses" python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["files"]==2 and d["objects"]==3; f=d["findings"][0]; assert f["line"]==4 and f["column"]==9 and f["severity"]=="error" and f["file"]=="badname.yaml", d' <out.txt

cat > deploy.yaml <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx
        imagePullPolcy: Always
        ports:
        - containerPort: "80"
Y
run --schemas "$SCHEMAS" deploy.yaml
check "--schemas: misspelled field at its line" has "deploy.yaml:18:25: unknown field 'spec.template.spec.containers[0].imagePullPolcy'"
check "--schemas: wrong type at its line" has "deploy.yaml:20:26: wrong type for field 'spec.template.spec.containers[0].ports[0].containerPort': expected an integer, got a string"
check "--schemas: exit 1" status 1
run --schemas "$SCHEMAS" good.yaml
check "--schemas: good file passes" status 0

printf 'apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n' > crd.yaml
run --schemas "$SCHEMAS" crd.yaml
check "--schemas: unknown kind is a problem" has "crd.yaml:1:1: could not find schema for kind 'Widget'"
run --schemas "$SCHEMAS" --ignore-missing-schemas crd.yaml
check "--ignore-missing-schemas" status 0

{
	echo 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'
	prev=a
	for n in b c d e f g h i; do
		echo "$n: &$n [*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev,*$prev]"
		prev=$n
	done
} > laughs.yaml
start=$(date +%s%N)
run laughs.yaml
end=$(date +%s%N)
ms=$(( (end - start) / 1000000 ))
echo "# billion laughs rejected in ${ms} ms"
check "billion laughs rejected with exit 1" status 1
check "billion laughs message names aliases" grep -qi "alias" out.txt
check "billion laughs rejected under 1 s (sanitizer build)" test "$ms" -lt 1000

run --bogus good.yaml
check "unknown flag exits 2" status 2
check "unknown flag is named" grep -qF "unknown option '--bogus'" err.txt
run
check "no paths exits 2" status 2
run -o yaml good.yaml
check "bad -o exits 2" status 2
run --schemas
check "--schemas without value exits 2" status 2
run --schemas /nonexistent good.yaml
check "missing schema directory exits 1" status 1
check "missing schema directory is named" grep -qF "schema directory '/nonexistent' does not exist" err.txt
run --help
check "--help exits 0" status 0
check "--help prints usage" has "usage: cairn validate"
run missing.yaml
check "missing file is a problem" has "missing.yaml: "
done_testing
