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
# --- definitions and generators in git repositories, signed-commit requirements
export GIT_CONFIG_NOSYSTEM=1 HOME="$TMP/home"
mkdir -p "$HOME"
git config --global user.email t@example.com
git config --global user.name T
git config --global init.defaultBranch main
ssh-keygen -q -t ed25519 -N '' -C alice -f "$TMP/alice"
ssh-keygen -q -t ed25519 -N '' -C bob -f "$TMP/bob"
echo "t@example.com $(cut -d' ' -f1,2 "$TMP/alice.pub")" > "$TMP/alice.allowed"
echo "t@example.com $(cut -d' ' -f1,2 "$TMP/bob.pub")" > "$TMP/bob.allowed"
D="$TMP/defs"
git init -q "$D"
git -C "$D" config gpg.format ssh
git -C "$D" config user.signingkey "$TMP/alice.pub"
mkdir -p "$D/cd" "$D/apps/web" "$D/apps/api"
echo web > "$D/apps/web/README"
echo api > "$D/apps/api/README"
sed "s|https://git.example.com/platform.git|file://$D|" "$DATA/appset-git.yaml" > "$D/cd/set.yaml"
cat > "$D/cd/proj.yaml" <<Y
apiVersion: argoproj.io/v1alpha1
kind: AppProject
metadata:
  name: signed
  annotations:
    cairn.dev/allowed-signers: $TMP/alice.allowed
spec:
  sourceRepos: ["*"]
  destinations: [{server: "*", namespace: "*"}]
Y
for r in good bad; do
	cat > "$D/cd/$r.yaml" <<Y
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: $r
spec:
  project: signed
  source:
    repoURL: file://$D
    targetRevision: $r
    path: apps/web
  destination:
    server: https://127.0.0.1:6443
    namespace: $r
Y
done
sed 's/name: good/name: open/; s/project: signed/project: default/' "$D/cd/good.yaml" > "$D/cd/open.yaml"
sed 's/name: good/name: bobs/' "$D/cd/good.yaml" \
	| sed "s|^  name: bobs|  name: bobs\n  annotations:\n    cairn.dev/allowed-signers: $TMP/bob.allowed|" \
	> "$D/cd/bobs.yaml"
(cd "$D" && git add -A && git commit -qm base && git tag v1.0.0 \
	&& git checkout -qb good && echo g > g && git add g && git commit -qS -m good \
	&& git checkout -qb bad main && echo b > b && git add b && git commit -qm bad \
	&& git checkout -q main && echo later > apps/later && git add -A && git commit -qm later)
ST="$TMP/gstate"
mkdir -p gconf
printf 'stateDir: %s\napps:\n- repoURL: file://%s\n  revision: v1.0.0\n  path: cd\n' "$ST" "$D" \
	> gconf/cairn.yaml
"$CAIRN" app list --config gconf/cairn.yaml -o json > g.json 2> g.err
check "apps[] from a repository: listed" [ $? = 0 ]
check "definitions and git-generated apps both there" python3 -c '
import json; a={x["name"]:x for x in json.load(open("g.json"))}
assert sorted(a)==["api-app","bad","bobs","good","open","web-app"], sorted(a)
assert a["web-app"]["sources"][0]["path"]=="apps/web", a["web-app"]'
check "a mirror made under the configured stateDir" [ "$(ls "$ST/repos" | grep -c '\.git$')" = 1 ]
"$CAIRN" app get good --config gconf/cairn.yaml --verify-revision > v.out 2> v.err
check "get --verify-revision: signed commit allowed (exit 0)" [ $? = 0 ]
check "prints the verdict with the commit" grep -q \
	"^Revision: *file://$D @ good = $(git -C "$D" rev-parse good): allowed (required by project 'signed'): verified:" v.out
"$CAIRN" app get bad --config gconf/cairn.yaml --verify-revision > v.out 2> v.err
check "get --verify-revision: unsigned commit refused (exit 1)" [ $? = 1 ]
check "the refusal names the reason" grep -q \
	"refused: commit $(git -C "$D" rev-parse bad) of 'file://$D' for application 'bad': unsigned: " v.err
"$CAIRN" app get bobs --config gconf/cairn.yaml --verify-revision > v.out 2> v.err
check "application's own allowed signers also apply (exit 1)" [ $? = 1 ]
check "refused as key-not-allowed by the application" grep -q \
	"refused (required by application 'bobs'): key-not-allowed:" v.out
"$CAIRN" app get open --config gconf/cairn.yaml --verify-revision > v.out 2> v.err
check "no requirement: allowed (exit 0)" [ $? = 0 ]
check "and says none is required" grep -q ": no signature required$" v.out
printf 'allowedSigners: %s\n' "$TMP/bob.allowed" >> gconf/cairn.yaml
"$CAIRN" app get open --config gconf/cairn.yaml --verify-revision > v.out 2> v.err
check "cairn.yaml allowedSigners applies to the default project (exit 1)" [ $? = 1 ]
check "refused as required by the configuration" grep -q "required by configuration '" v.out

# the same repository through git daemon on 127.0.0.1
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT
GP=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
git daemon --listen=127.0.0.1 --port="$GP" --base-path="$TMP" --export-all --reuseaddr "$TMP" \
	>/dev/null 2>&1 &
PIDS+=($!)
for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$GP") 2>/dev/null && break; sleep 0.05; done
sed "s|file://$D|git://127.0.0.1:$GP/defs|" "$D/cd/set.yaml" > dset.yaml
"$CAIRN" app list --apps dset.yaml --state-dir "$ST" > d.out 2>&1
check "git generator over git://: the directories of HEAD" \
	[ "$(awk 'NR>1{print $1}' d.out | tr '\n' ' ')" = "api-app web-app " ]
sed 's/revision: HEAD/revision: v1.0.0/' dset.yaml > dset2.yaml
"$CAIRN" app list --apps dset2.yaml --state-dir "$ST" --no-fetch > d2.out 2>&1
check "--no-fetch reuses the mirror" grep -q '^web-app ' d2.out
done_testing
