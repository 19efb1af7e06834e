#!/bin/bash
# cairn app / cairn env end to end: the guestbook family, ApplicationSets,
# environments and binding, cairn.yaml, output formats, errors and usage.
. "$(dirname "$0")/lib.sh"
DATA="$SRCDIR/tests/unit/data/app"
cd "$TMP" || exit 1

# The guestbook family loads with exactly the helm notice.
"$CAIRN" app list --apps "$DATA/guestbook.yaml" --apps "$DATA/kustomize-guestbook.yaml" \
	--apps "$DATA/helm-guestbook.yaml" > list.out 2> list.err
check "guestbook family lists" [ $? = 0 ]
check "three applications" [ "$(grep -c guestbook list.out)" = 3 ]
check "one ignored notice, for helm" [ "$(cat list.err)" = "cairn: ignored: spec.source.helm" ]

# ApplicationSets appear as the Applications they generate; binding by env.
"$CAIRN" app list --apps "$DATA/appset-list.yaml" --environments "$SRCDIR/environments" \
	-o json > sets.json 2> sets.err
check "list generator" [ $? = 0 ]
check "shop-dev bound to dev" python3 -c '
import json,sys
a={x["name"]:x for x in json.load(open("sets.json"))}
assert a["shop-dev"]["environment"]=="dev" and a["shop-prod"]["environment"]=="prod", a
assert a["shop-dev"]["group"]=="shop" and a["shop-dev"]["generator"]=="shop"
'
"$CAIRN" app list --apps "$DATA/appset-git.yaml" --repo-root "$DATA/repo" > git.out 2>&1
check "git generator with --repo-root" grep -q '^web-app ' git.out
"$CAIRN" app list --apps "$DATA/appset-git.yaml" --no-fetch --state-dir "$TMP/st0" > nogit.out 2>&1
check "git generator with an empty mirror and --no-fetch fails (1)" [ $? = 1 ]
check "and says why" grep -q "applicationset 'platform': revision 'HEAD' not found in 'https://git.example.com/platform.git'" nogit.out

# get: summary, yaml (round trip through the loader), json
"$CAIRN" app get kustomize-guestbook --apps "$DATA" --repo-root "$DATA/repo" > get.out 2>/dev/null
check "get summary" grep -q '^Sync: *automated, prune, self-heal' get.out
"$CAIRN" app get helm-guestbook --apps "$DATA/helm-guestbook.yaml" -o yaml > h.yaml 2>/dev/null
"$CAIRN" app list --apps h.yaml > h.out 2>&1
check "get -o yaml loads back" grep -q "^helm-guestbook " h.out
"$CAIRN" app get nope --apps "$DATA/guestbook.yaml" > /dev/null 2> nope.err
check "get unknown name fails (1)" [ $? = 1 ]
check "names it" grep -q "no application 'nope'" nope.err

# errors name file, line and field
cat > bad.yaml <<'Y'
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: bad
spec:
  source:
    repoURL: https://git/x.git
    targetRevison: main
  destination:
    server: https://k
Y
"$CAIRN" app list --apps bad.yaml > /dev/null 2> bad.err
check "typo fails (1)" [ $? = 1 ]
check "typo names file:line and field" grep -q "bad.yaml:8:[0-9]*: unknown field 'spec.source.targetRevison'" bad.err

# cairn.yaml drives both commands; relative paths from the config's folder
mkdir -p conf/apps conf/environments
cp "$DATA/appset-list.yaml" conf/apps/
cp "$SRCDIR"/environments/*.yaml conf/environments/
printf 'stateDir: state\napps:\n- path: apps\n' > conf/cairn.yaml
"$CAIRN" app list --config conf/cairn.yaml > cfg.out 2>&1
check "app list --config" grep -q '^shop-prod  *prod ' cfg.out
"$CAIRN" env list --config conf/cairn.yaml > env.out 2>&1
check "env list --config" [ "$(grep -c 127.0.0.1 env.out)" = 3 ]
"$CAIRN" env list --environments "$SRCDIR/environments" -o json > env.json
check "env list -o json" python3 -c '
import json; e={x["name"]:x for x in json.load(open("env.json"))}
assert e["prod"]["promotedFrom"]=="staging" and e["staging"]["promotedFrom"]=="dev", e'
printf 'stateDir: s\nlisen: {}\n' > conf/typo.yaml
"$CAIRN" env list --config conf/typo.yaml > /dev/null 2> typo.err
check "config typo names the key" grep -q "typo.yaml:2:[0-9]*: unknown field 'lisen'" typo.err

# usage
"$CAIRN" app --help > help.out
check "app --help" grep -q "usage: cairn app list" help.out
"$CAIRN" env --help > /dev/null
check "env --help" [ $? = 0 ]
"$CAIRN" app list > /dev/null 2>&1
check "no source is a usage error (2)" [ $? = 2 ]
"$CAIRN" app list --apps "$DATA/guestbook.yaml" -o xml > /dev/null 2>&1
check "bad -o is a usage error (2)" [ $? = 2 ]
"$CAIRN" app list --state-dir "$TMP/st" --apps "$DATA/guestbook.yaml" > /dev/null 2>&1
check "--state-dir accepted" [ $? = 0 ]

# the shipped examples still validate and bind
"$CAIRN" app list --apps "$SRCDIR/examples" --environments "$SRCDIR/environments" > ex.out 2>&1
check "examples bind to dev" grep -q '^guestbook-dev  *dev ' ex.out
done_testing
