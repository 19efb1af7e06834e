#!/bin/bash
# cairn env diff end to end: a real git repository (a base and dev/prod
# overlays), environments with variables and overrides, prod on an older
# commit whose base lacks a later edit (an undeclared difference) beside
# the declared ones, consistency.mustMatch, exit codes and JSON output.
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 1
export GIT_CONFIG_NOSYSTEM=1 HOME="$TMP"
unset CAIRN_CONFIG
G() { git -C repo -c user.name=t -c user.email=t@t "$@"; }

mkdir -p repo/base repo/overlays/dev repo/overlays/prod envs
printf 'resources: [deploy.yaml]\n' > repo/base/kustomization.yaml
cat > repo/base/deploy.yaml <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: ${replicas}
  template:
    spec:
      securityContext: {runAsNonRoot: true}
      containers:
      - name: web
        image: nginx:1.0
Y
cat > repo/overlays/dev/kustomization.yaml <<'Y'
resources: [../../base]
patches:
- path: limits.yaml
Y
cat > repo/overlays/dev/limits.yaml <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: web
        resources: {limits: {cpu: 100m}}
Y
printf 'resources: [../../base]\n' > repo/overlays/prod/kustomization.yaml
( cd repo && git init -q . && git add -A ) && G commit -qm one && G tag v1 || exit 1
# a later edit of the shared base, which only dev (at HEAD) runs
sed -i 's/image: nginx:1.0/image: nginx:1.0\n        env: [{name: FOO, value: bar}]/' \
	repo/base/deploy.yaml
G commit -qam two || exit 1
URL="file://$TMP/repo"

for e in dev prod; do
	cat > envs/$e.yaml <<Y
apiVersion: cairn.dev/v1alpha1
kind: Environment
metadata:
  name: $e
spec:
  cluster: {server: https://127.0.0.1:6443}
  namespaces: ["$e-*"]
  defaultNamespace: $e-apps
  vars: {replicas: "$([ $e = dev ] && echo 1 || echo 3)"}
Y
done
echo '  images: [{name: nginx, newTag: "1.25"}]' >> envs/prod.yaml

apps() { # $1: prod's targetRevision
	cat <<Y
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web-dev
  labels: {cairn.dev/app: web, cairn.dev/environment: dev}
spec:
  project: default
  source: {repoURL: "$URL", targetRevision: HEAD, path: overlays/dev}
  destination: {server: https://127.0.0.1:6443, namespace: dev-web}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web-prod
  labels: {cairn.dev/app: web, cairn.dev/environment: prod}
spec:
  project: default
  source: {repoURL: "$URL", targetRevision: $1, path: overlays/prod}
  destination: {server: https://127.0.0.1:6443, namespace: prod-web}
Y
}
apps v1 > apps-old.yaml
apps HEAD > apps-same.yaml
D() { "$CAIRN" env diff --state-dir "$TMP/state" --environments envs "$@"; }

# prod runs v1: the base edit is an undeclared difference
D --apps apps-old.yaml web dev prod -o json > old.json 2> old.err
check "prod on an older commit: exit 1 (an undeclared difference)" [ $? = 1 ]
check "JSON: declared variables, overrides, overlay patch; base edit labelled by revision" \
	python3 - old.json <<'P'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["group"] == "web" and [e["name"] for e in d["environments"]] == ["dev", "prod"], d
assert d["environments"][0]["revision"] != d["environments"][1]["revision"], d
obj = [o for o in d["objects"] if o["object"] == "apps/Deployment/web"][0]
p = {x["path"]: x for x in obj["paths"]}
r = p["/spec/replicas"]
assert r["declared"] and r["a"] == "environment 'dev' variables replicas" and \
    r["b"] == "environment 'prod' variables replicas", r
i = p["/spec/template/spec/containers/0/image"]
assert i["declared"] and i["b"] == "environment 'prod' images", i
n = p["/metadata/namespace"]
assert n["declared"] and "namespace" in n["a"], n
l = p["/spec/template/spec/containers/0/resources"]
assert l["declared"] and l["a"] == "overlays/dev/kustomization.yaml (patches 'limits.yaml')", l
e = p["/spec/template/spec/containers/0/env"]
assert not e["declared"] and e["label"].startswith("source revision differs"), e
assert e["a"] == "base/deploy.yaml", e
s = d["summary"]
assert s["objects"] == 1 and s["differ"] == 1 and s["undeclared"] == 1, s
assert s["mustMatchViolations"] == 0, s
P

# both at HEAD: every difference is declared
D --apps apps-same.yaml web dev prod --color never > same.txt 2> same.err
check "same commit: exit 0, every difference declared" [ $? = 0 ]
check "text: a unified diff, labels and the summary" \
	grep -q '^1 objects, 1 differ, 0 undeclared$' same.txt
check "text: the image line of each side in the diff" \
	bash -c "grep -q '^-.*image: nginx:1.0$' same.txt && grep -q '^+.*image: nginx:1.25$' same.txt"
check "text: no colour with --color never" bash -c "! grep -q $'\033' same.txt"
D --apps apps-same.yaml web dev prod --color always > color.txt
check "text: colour with --color always" grep -q $'\033\\[32mdeclared' color.txt

# a must-match path that differs fails even when declared
cp -r envs envs-must
printf '  consistency:\n    mustMatch: [spec.template.spec.containers]\n' >> envs-must/prod.yaml
"$CAIRN" env diff --state-dir "$TMP/state" --environments envs-must --apps apps-same.yaml \
	web dev prod -o json > must.json
check "mustMatch violated: exit 1" [ $? = 1 ]
check "mustMatch: violations counted and the path named" python3 -c '
import json; d = json.load(open("must.json"))
assert d["summary"]["mustMatchViolations"] == 2 and d["summary"]["undeclared"] == 0, d["summary"]
p = [x for x in d["objects"][0]["paths"] if x.get("mustMatch")]
assert {x["path"] for x in p} == {"/spec/template/spec/containers/0/image",
                                 "/spec/template/spec/containers/0/resources"}, p
assert p[0]["mustMatch"] == "/spec/template/spec/containers", p'

# errors
D --apps apps-same.yaml web dev staging > /dev/null 2> err.txt
check "unknown environment: exit 2" [ $? = 2 ]
check "unknown environment: named" grep -q "environment 'staging' is not defined" err.txt
D --apps apps-same.yaml web dev > /dev/null 2>&1
check "missing argument: exit 2" [ $? = 2 ]
D --apps apps-same.yaml nope dev prod > /dev/null 2> err.txt
check "unknown group: named" grep -q "app group 'nope' has no application in environment 'dev'" err.txt
# objects renamed per environment: namePrefix dev-/prod- and a nameSuffix in
# prod; the ConfigMap reference follows; pairs matched by the declared affixes
mkdir -p rn/base rn/dev rn/prod
cat > rn/base/kustomization.yaml <<'Y'
resources: [objs.yaml]
Y
cat > rn/base/objs.yaml <<'Y'
apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {color: blue}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.0
        envFrom: [{configMapRef: {name: cfg}}]
Y
printf 'resources: [../base]\nnamePrefix: dev-\n' > rn/dev/kustomization.yaml
printf 'resources: [../base]\nnamePrefix: prod-\nnameSuffix: -v2\n' > rn/prod/kustomization.yaml
( cd rn && git init -q . && git add -A && git -c user.name=t -c user.email=t@t commit -qm one ) ||
	exit 1
sed -e "s|$URL|file://$TMP/rn|" -e 's|overlays/||' -e 's|targetRevision: v1|targetRevision: HEAD|' \
	apps-old.yaml > apps-rn.yaml
D --apps apps-rn.yaml web dev prod -o json > rn.json 2> rn.err
check "renamed objects: exit 0 (the renames are declared)" [ $? = 0 ]
check "renamed objects: paired by the declared prefix/suffix, name labelled with them" \
	python3 - rn.json <<'P'
import json, sys
d = json.load(open(sys.argv[1]))
o = {x["object"]: x for x in d["objects"]}
assert set(o) == {"/ConfigMap/dev-cfg", "apps/Deployment/dev-web"}, list(o)
w = o["apps/Deployment/dev-web"]
assert w["renamedTo"] == "apps/Deployment/prod-web-v2" and w["status"] == "differ", w
p = {x["path"]: x for x in w["paths"]}
n = p["/metadata/name"]
assert n["declared"] and n["a"] == "dev/kustomization.yaml (namePrefix 'dev-')", n
assert n["b"] == "prod/kustomization.yaml (namePrefix 'prod-', nameSuffix '-v2')", n
r = p["/spec/template/spec/containers/0/envFrom/0/configMapRef/name"]
assert r["declared"] and "name references" in r["a"], r
assert o["/ConfigMap/dev-cfg"]["renamedTo"] == "/ConfigMap/prod-cfg-v2", o
s = d["summary"]
assert s["objects"] == 2 and s["undeclared"] == 0, s
P
D --apps apps-rn.yaml web dev prod --color never > rn.txt 2>&1
check "renamed objects, text: the name line of each side" \
	bash -c "grep -q '^-  name: dev-web$' rn.txt && grep -q '^+  name: prod-web-v2$' rn.txt &&
	         grep -q \"^  renamed: 'dev-web' in dev, 'prod-web-v2' in prod$\" rn.txt"
# prod renders its own copy of the objects: the ConfigMap pairs with dev's
# (dev declares its prefix), a Deployment named differently does not
mkdir -p rn/prod2
printf 'resources: [objs.yaml]\n' > rn/prod2/kustomization.yaml
sed 's/name: web}/name: web2}/' rn/base/objs.yaml > rn/prod2/objs.yaml
git -C rn add prod2 && git -C rn -c user.name=t -c user.email=t@t commit -qm two || exit 1
sed 's|path: prod}|path: prod2}|' apps-rn.yaml > apps-rn2.yaml
D --apps apps-rn2.yaml web dev prod -o json > rn2.json 2> rn2.err
check "a name changed without a declared rename: exit 1" [ $? = 1 ]
check "a name changed without a declared rename: not paired, only in one each" \
	python3 - rn2.json <<'P'
import json, sys
d = json.load(open(sys.argv[1]))
st = {x["object"]: x for x in d["objects"]}
assert st["apps/Deployment/dev-web"]["status"] == "missing-in-b", st
assert st["apps/Deployment/web2"]["status"] == "missing-in-a", st
c = st["/ConfigMap/dev-cfg"]
assert c["renamedTo"] == "/ConfigMap/cfg" and c["status"] == "differ", c
n = [x for x in c["paths"] if x["path"] == "/metadata/name"][0]
assert n["declared"] and n["a"] == "dev/kustomization.yaml (namePrefix 'dev-')", n
assert n["b"] == "prod2/objs.yaml", n
P
done_testing
