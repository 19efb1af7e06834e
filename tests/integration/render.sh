#!/bin/bash
# cairn render end to end: a real git repository read through the mirror
# cache (`cairn render APP`, `GROUP --env ENV`, `--path --repo`), `--path`
# against `kubectl kustomize`, ${var} substitution typing, environment
# overrides, a plugin renderer and the refusal of Helm sources.
. "$(dirname "$0")/lib.sh"
cd "$TMP" || exit 1
export GIT_CONFIG_NOSYSTEM=1 HOME="$TMP"
unset CAIRN_CONFIG

# A repository: a base with ${var}s and two overlays, and a plugin source.
mkdir -p repo/base repo/overlays/dev repo/overlays/prod repo/plug envs
cat > repo/base/kustomization.yaml <<'Y'
resources: [deploy.yaml]
Y
cat > repo/base/deploy.yaml <<'Y'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: ${replicas}
  template:
    spec:
      containers:
      - name: web
        image: nginx:1.0
        env:
        - name: DEBUG
          value: "${debug:=false}"
      nodeSelector:
        spot: ${spot}
Y
printf 'resources: [../../base]\nnamePrefix: dev-\n' > repo/overlays/dev/kustomization.yaml
printf 'resources: [../../base]\nnamePrefix: prod-\n' > repo/overlays/prod/kustomization.yaml
printf 'x: 1\n' > repo/plug/input.txt
( cd repo && git init -q . && git add -A &&
  git -c user.name=t -c user.email=t@t commit -qm one ) || exit 1
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
  vars: {replicas: "$([ $e = dev ] && echo 1 || echo 3)", spot: "true"}
Y
done
cat >> envs/prod.yaml <<'Y'
  images: [{name: nginx, newTag: "1.25"}]
  replicas: [{name: prod-web, count: 5}]
Y

cat > apps.yaml <<Y
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web-dev
  labels: {cairn.dev/app: web, cairn.dev/environment: dev}
  annotations: {vars.cairn.dev/debug: "true"}
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
  source: {repoURL: "$URL", targetRevision: HEAD, path: overlays/prod}
  destination: {server: https://127.0.0.1:6443, namespace: prod-web}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: plugged
spec:
  project: default
  source:
    repoURL: "$URL"
    path: plug
    plugin: {name: echo, env: [{name: COLOR, value: green}]}
  destination: {server: https://127.0.0.1:6443, namespace: other}
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: charted
spec:
  project: default
  source: {repoURL: https://charts.example.com, chart: redis, targetRevision: 1.0.0}
  destination: {server: https://127.0.0.1:6443, namespace: other}
Y
cat > cairn.yaml <<Y
stateDir: $TMP/state
apps: [{path: $TMP/apps.yaml}]
environmentsDir: $TMP/envs
plugins:
- name: echo
  command: [/bin/sh, $SRCDIR/tests/fixtures/plugins/echo-plugin.sh]
  timeout: 20s
Y
R() { "$CAIRN" render --config cairn.yaml "$@"; }

# APP: the dev Application, through the mirror of a real git repository.
R web-dev -o json > dev.json 2> dev.err
check "render APP (git source) succeeds" [ $? = 0 ]
# As in Flux, the quotes of "${debug:=false}" do not survive the build: the
# value is substituted into `value: ${debug:=false}` and read as a boolean.
check "substitution: replicas is the integer 1, spot the boolean true, debug from the app" \
	python3 -c '
import json; d=json.load(open("dev.json"))["items"][0]
assert d["metadata"]["name"]=="dev-web", d
assert d["spec"]["replicas"]==1 and type(d["spec"]["replicas"]) is int, d
assert d["spec"]["template"]["spec"]["nodeSelector"]["spot"] is True, d
assert d["spec"]["template"]["spec"]["containers"][0]["env"][0]["value"] is True, d
assert d["metadata"]["namespace"]=="dev-web", d'

# GROUP --env ENV: the prod member, with the environment's overrides.
R web --env prod -o json > prod.json 2> prod.err
check "render GROUP --env prod succeeds" [ $? = 0 ]
check "prod: image override, replica override over the variable, default of \${debug:=false}" \
	python3 -c '
import json; d=json.load(open("prod.json"))["items"][0]
c=d["spec"]["template"]["spec"]["containers"][0]
assert c["image"]=="nginx:1.25", c
assert d["spec"]["replicas"]==5, d
assert c["env"][0]["value"] is False, c'
R web --env staging > /dev/null 2> nostage.err
check "GROUP with no member in the environment fails" grep -q "app group 'web' has no application in environment 'staging'" nostage.err

# The same inputs give the same render hash; another environment another.
h1=$(R web-dev --hash); h2=$(R web-dev --hash --no-fetch); h3=$(R web-prod --hash)
check "render hash is stable" [ -n "$h1" ] && [ "$h1" = "$h2" ]
check "and differs between environments" [ "$h1" != "$h3" ]

# Strict substitution: an undefined variable names itself and the object.
"$CAIRN" render --path repo/base > strict.out 2> strict.err
check "--path without variables leaves \${...} alone" grep -q 'replicas: \${replicas}' strict.out
"$CAIRN" render --path repo/base --var spot=x > /dev/null 2> strict.err
check "an undefined variable is an error naming it and the object" \
	grep -q "variable 'replicas' is not defined, in Deployment 'web'" strict.err
"$CAIRN" render --path repo/base --var spot=x --lenient -o json > lenient.json 2>&1
check "--lenient makes it empty" python3 -c '
import json; d=json.load(open("lenient.json"))["items"][0]; assert d["spec"]["replicas"] is None, d'

# --path vs kubectl kustomize, with the default root at the work tree.
"$CAIRN" render --path repo/overlays/dev > cairn-dev.yaml 2> cairn-dev.err
check "--path with ../base (root defaults to the git work tree)" [ $? = 0 ]
if command -v kubectl > /dev/null; then
	KUBECONFIG=/dev/null kubectl kustomize repo/overlays/dev > kubectl-dev.yaml 2>&1
	check "--path is byte-identical to kubectl kustomize" cmp -s cairn-dev.yaml kubectl-dev.yaml
else
	not_ok "kubectl is not installed: cannot compare with kubectl kustomize"
fi
check "--path does not load libgit2" sh -c "! readelf -d '$CAIRN' | grep -q git2"

# --path --repo: the directory read from the repository at a revision.
"$CAIRN" render --path overlays/dev --repo "$URL" --revision HEAD --state-dir "$TMP/state" \
	> repo-dev.yaml 2> repo-dev.err
check "--path --repo --revision renders from the mirror" cmp -s repo-dev.yaml cairn-dev.yaml

# Plugin renderer: parameters as ARGOCD_ENV_*, the source copied out.
R plugged --var REPLICAS=2 -o json > plug.json 2> plug.err
check "plugin renders" [ $? = 0 ]
check "plugin got its parameter, app name and files" python3 -c '
import json; d=json.load(open("plug.json"))["items"]
assert d[0]["data"]["color"]=="green" and d[0]["data"]["app"]=="plugged", d
assert d[0]["data"]["files"]=="input.txt", d
assert d[1]["spec"]["replicas"]==2, d'

# Helm sources are refused without a helm plugin.
R charted > /dev/null 2> helm.err
check "helm source without a renderer fails (1)" [ $? = 1 ]
check "with a clear message" grep -q "Helm source 'redis' of application 'charted' cannot be rendered: no renderer plugin is configured" helm.err

# Escapes are refused through the CLI too.
printf 'resources: [../../../etc/passwd]\n' > repo/overlays/dev/kustomization.yaml
"$CAIRN" render --path repo/overlays/dev > /dev/null 2> esc.err
check "a resource leaving the root is refused" [ $? = 1 ]
"$CAIRN" render nope-app --config cairn.yaml > /dev/null 2> unk.err
check "unknown APP names it" grep -q "application 'nope-app' is not defined" unk.err
"$CAIRN" render > /dev/null 2>&1
check "no arguments is a usage error (2)" [ $? = 2 ]
done_testing
