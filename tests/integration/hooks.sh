#!/bin/bash
# hooks.sh - the git hooks `cairn hooks install` writes, with real git and
# a real cairnd on 127.0.0.1: post-receive's request made by `cairn hooks
# post-receive` (accepted, a wrong token, cairnd down, an https:// URL
# through curl), pre-receive's validation through `cairn hooks
# pre-receive` (paths as in the commit, every ref of a push, deletions,
# tags, a bad commit refusing the whole push). daemon.sh covers push ->
# synced through the same hooks.
#
# Tier: fast (bounded: every wait has a timeout; about 5 s).
. "$(dirname "$0")/lib.sh"

CAIRND=${CAIRND:-$BUILDDIR/cairnd}
need git curl python3
DPID=
trap '[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
export CAIRN_STATE_DIR="$TMP/state" TMPDIR="$TMP/hooktmp" # the hooks' temporary directories
mkdir -p "$TMPDIR"
unset CAIRN_CONFIG CAIRN_TOKEN CAIRN_SERVER
git_home

PORT=$(freeport)
API="http://127.0.0.1:$PORT"
hash() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
HOOKTOK=hook-token-7 VIEWTOK=view-token-8
: >apps.yaml
cat >cairn.yaml <<Y
stateDir: $TMP/state
listen: {api: "127.0.0.1:$PORT"}
apps:
- path: apps.yaml
api:
  tokens:
  - {name: hook, sha256: $(hash $HOOKTOK), role: deployer}
  - {name: viewer, sha256: $(hash $VIEWTOK), role: viewer}
Y
"$CAIRND" --config cairn.yaml --poll off >"$TMP/cairnd.out" 2>"$TMP/cairnd.err" &
DPID=$!
check "cairnd starts" wait_ready "$API"

git init -q --bare repo.git
printf '%s\n' "$HOOKTOK" >token
check "cairn hooks install" sh -c "'$CAIRN' hooks install repo.git --url '$API/' --token-file token >/dev/null"
git clone -q repo.git work 2>/dev/null
mkdir -p work/app/base work/.github
cat >work/app/base/cm.yaml <<Y
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data: {k: v}
Y
printf 'resources: [cm.yaml]\n' >work/app/base/kustomization.yaml
printf 'on: push\n' >work/.github/ci.yml # not a manifest: hidden directories are skipped
push() { (cd work && git push "$@" >"$TMP/push.out" 2>&1); }

(cd work && git add -A && git commit -qm v1)
check "a valid push is accepted" push origin HEAD:main
check "the branch moved" test "$(git -C repo.git rev-parse main)" = "$(git -C work rev-parse HEAD)"
check "post-receive said nothing (cairnd took it)" sh -c "! grep -q 'cairn:' '$TMP/push.out'"
check "cairnd answered the hook's request with 202" \
	sh -c "curl -s '$API/metrics' | grep -q '^cairn_http_requests_total{code=\"202\"} 1$'"

# pre-receive: a bad manifest deep in a directory; the finding names the
# path as in the commit, never the temporary directory
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n' >work/app/base/bad.yaml
(cd work && git add -A && git commit -qm bad)
push origin HEAD:main
check "a push with an invalid manifest is refused" test $? != 0
check "the finding names app/base/bad.yaml:3 and what is wrong" \
	grep -q 'remote: app/base/bad.yaml:3:[0-9]*: missing metadata.name' "$TMP/push.out"
check "and the ref and the commit" \
	grep -q "push of refs/heads/main rejected: manifests of $(git -C work rev-parse HEAD)" "$TMP/push.out"
check "no temporary path shows" sh -c "! grep -q 'cairn-pre-receive' '$TMP/push.out'"
check "the branch did not move" test "$(git -C repo.git rev-parse main)" = "$(git -C work rev-parse HEAD~1)"
check "no temporary directory is left behind" test -z "$(ls -A "$TMPDIR")"

# two refs in one push, one bad: git refuses the whole push
push origin HEAD~1:refs/heads/good HEAD:refs/heads/also
check "a push of a good and a bad ref is refused" test $? != 0
check "... and neither ref was created" \
	sh -c "! git -C repo.git rev-parse -q --verify refs/heads/good && ! git -C repo.git rev-parse -q --verify refs/heads/also"
# a tag of the bad commit is validated as well
(cd work && git tag -a -m t v-bad HEAD)
push origin v-bad
check "an annotated tag of a bad commit is refused" test $? != 0
(cd work && git reset -q --hard HEAD~1)

# deletions pass without validation
check "a new branch" push origin HEAD:refs/heads/tmp
check "deleting it is accepted" push origin :refs/heads/tmp
check "... and it is gone" sh -c "! git -C repo.git rev-parse -q --verify refs/heads/tmp"

# post-receive: a token cairnd does not know, then cairnd gone
printf 'wrong-token\n' >token2
"$CAIRN" hooks install repo.git --url "$API" --token-file token2 >/dev/null
(cd work && git commit -q --allow-empty -m e1)
check "a push with a wrong hook token still succeeds" push origin HEAD:main
check "... and post-receive says cairnd refused it (HTTP 401)" \
	grep -q 'cairn: cairnd did not take the push (HTTP 401); it will poll' "$TMP/push.out"
check "cairnd counted the refused request" \
	sh -c "curl -s '$API/metrics' | grep -q '^cairn_http_refused_total{reason=\"[a-z_]*\"} [1-9]'"
"$CAIRN" hooks install repo.git --url "$API" --token-file token >/dev/null
kill -TERM "$DPID"
wait "$DPID"
DPID=
(cd work && git commit -q --allow-empty -m e2)
check "with cairnd stopped a push still succeeds" push origin HEAD:main
check "... and post-receive says it could not connect" \
	grep -q "cairn: cairnd did not take the push (cannot connect to '$API': Connection refused); it will poll" "$TMP/push.out"
# https:// goes through curl (nothing listens: curl's own failure)
"$CAIRN" hooks install repo.git --url "https://127.0.0.1:$PORT" --token-file token >/dev/null
(cd work && git commit -q --allow-empty -m e3)
check "an https:// hook: the push succeeds" push origin HEAD:main
check "... and curl reports it (HTTP 000)" \
	grep -q 'cairn: cairnd did not take the push (HTTP 000); it will poll' "$TMP/push.out"
check "the token never shows in the hook scripts" \
	sh -c "! grep -q '$HOOKTOK' repo.git/hooks/post-receive repo.git/hooks/pre-receive"

done_testing
