#!/bin/bash
# daemon_audit.sh - what cairnd writes to the audit trail and what it
# refuses to write: API sync requests, push and webhook triggers and
# reloads recorded with the token's name as actor; 401/403 and forged
# webhooks counted in /metrics and logged but never recorded; the webhook
# secret read from webhooks.github.secretFile; `cairn audit record` through
# the daemon's Unix socket and through --server with a token, and directly
# once the daemon is gone; api.tokens re-read on SIGHUP (a removed token
# gets 401, a new one works, a sync queued before the reload finishes).
#
# Tier: fast (every wait has a timeout; about 15 s).
. "$(dirname "$0")/lib.sh"

SIM=${CAIRN_SIM:-$BUILDDIR/cairn-sim}
CAIRND=${CAIRND:-$BUILDDIR/cairnd}
for t in kubectl git curl python3 openssl; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "1..0 # SKIP $t is not installed"
		exit 0
	fi
done
SIMPID= DPID=
trap '[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null; [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
export GIT_CONFIG_NOSYSTEM=1 HOME="$TMP/home" KUBECONFIG="$TMP/kubeconfig"
export CAIRN_STATE_DIR="$TMP/state"
unset CAIRN_CONFIG CAIRN_TOKEN CAIRN_WEBHOOK_SECRET_GITHUB CAIRN_WEBHOOK_SECRET_GITLAB
mkdir -p "$HOME"
git config --global user.name t && git config --global user.email t@t &&
	git config --global init.defaultBranch main
"$SIM" --listen 127.0.0.1:0 --kubeconfig-out "$KUBECONFIG" --pod-ready-delay 0s \
	>"$TMP/sim.out" 2>"$TMP/sim.err" &
SIMPID=$!
for _ in $(seq 100); do
	[ -s "$KUBECONFIG" ] && break
	sleep 0.1
done
check "cairn-sim starts" test -s "$KUBECONFIG"
SERVER=$(kubectl config view --raw -o jsonpath='{.clusters[0].cluster.server}')
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
API="http://127.0.0.1:$PORT"
hash() { printf %s "$1" | sha256sum | cut -d' ' -f1; }
HOOKTOK=hook-token-1 DEPTOK=deploy-token-2 VIEWTOK=viewer-token-3 ADMTOK=admin-token-4
NEWTOK=new-token-5

mkdir -p envs
cat >envs/dev.yaml <<Y
apiVersion: cairn.dev/v1alpha1
kind: Environment
metadata: {name: dev}
spec:
  cluster: {server: "$SERVER", kubeconfig: "$KUBECONFIG"}
  namespaces: ["dev*"]
  defaultNamespace: dev
Y
git init -q --bare repo.git
cat >apps.yaml <<Y
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
  labels: {cairn.dev/environment: dev}
spec:
  project: default
  source: {repoURL: "file://$TMP/repo.git", targetRevision: main, path: app}
  destination: {server: "$SERVER", namespace: dev}
  syncPolicy:
    automated: {}
    syncOptions: [CreateNamespace=true]
Y
"$CAIRN" audit keygen --name test-audit --out "$TMP/audit" >/dev/null
check "an audit key is made" test -s "$TMP/audit.key"
printf 'gh-secret-from-file\n' >gh.secret
# config TOKEN-LINES...: cairn.yaml with these api.tokens entries
config() {
	cat >cairn.yaml <<Y
stateDir: $TMP/state
listen: {api: "127.0.0.1:$PORT"}
apps:
- path: apps.yaml
environmentsDir: envs
audit:
  key: $TMP/audit.key
  trustedKey: $TMP/audit.pub
webhooks:
  github: {secretFile: gh.secret}
api:
  tokens:
Y
	for t in "$@"; do printf '  - %s\n' "$t" >>cairn.yaml; done
}
config "{name: hook, sha256: $(hash $HOOKTOK), role: deployer}" \
	"{name: ci-deploy, sha256: $(hash $DEPTOK), role: deployer}" \
	"{name: viewer, sha256: $(hash $VIEWTOK), role: viewer}" \
	"{name: ops-admin, sha256: $(hash $ADMTOK), role: admin}"
printf '%s\n' "$HOOKTOK" >hook.token
printf '%s\n' "$ADMTOK" >admin.token
printf '%s\n' "$DEPTOK" >deploy.token
chmod 600 hook.token admin.token deploy.token
"$CAIRN" hooks install repo.git --url "$API" --token-file hook.token >/dev/null

start() { "$CAIRND" --config cairn.yaml --poll off --grace 20s \
	>>"$TMP/cairnd.out" 2>>"$TMP/cairnd.err" & DPID=$!; }
ready() { for _ in $(seq 100); do curl -sf "$API/readyz" >/dev/null && return 0; sleep 0.1; done; return 1; }
start
check "cairnd starts and is ready" ready

LOG="$TMP/state/audit.log"
# entries ACTION: the audit lines with that action (x- prefix accepted
# until the audit module lists the daemon's actions)
entries() { grep -E "\"action\":\"(x-)?$1\"" "$LOG" 2>/dev/null; }
# entries other than the sync engine's (a sync may still be running)
count() { grep -vc '"action":"sync\.' "$LOG"; }
post() { CODE=$(curl -s -o "$TMP/body" -w '%{http_code}' -X POST -H "Authorization: Bearer $1" \
	--data-binary "${3:-}" "$API$2"); }
revision() { curl -s -H "Authorization: Bearer $VIEWTOK" "$API/api/v1/applications/web" |
	python3 -c 'import json,sys; s=json.load(sys.stdin)["status"]; print(s["sync"], s.get("revision",""))'; }
wait_rev() { for _ in $(seq 1000); do [ "$(revision)" = "Synced $1" ] && return 0; sleep 0.01; done; echo "# $(revision)"; return 1; }

git clone -q repo.git work 2>/dev/null
mkdir -p work/app
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {k: "v1"}\n' >work/app/cm.yaml
(cd work && git add -A && git commit -qm v1 && git push -q origin HEAD:main 2>"$TMP/push.err")
REV=$(git -C repo.git rev-parse main)
check "the pushed app syncs through the post-receive hook" wait_rev "$REV"
check "the push is recorded as trigger.push by the hook's token" \
	bash -c "$(declare -f entries); LOG='$LOG'; entries trigger.push | grep -q '\"actor\":\"hook\".*\"app\":\"web\",\"env\":\"dev\"'"
check "trigger.push names the repository and ref" \
	bash -c "$(declare -f entries); LOG='$LOG'; entries trigger.push | grep -q '\"refs\":\\[\"refs/heads/main\"\\],\"repo\":\"[^\"]*/repo.git\"'"
check "no x-trigger entries any more" bash -c "! grep -q '\"action\":\"x-trigger\"' '$LOG'"

post $DEPTOK /api/v1/applications/web/sync
check "a deployer's sync request is accepted (202)" test "$CODE" = 202
check "and recorded as app.sync.requested by 'ci-deploy'" \
	bash -c "$(declare -f entries); LOG='$LOG'; entries app.sync.requested | grep -q '\"actor\":\"ci-deploy\"'"

# refusals: never in the trail
before=$(count)
post $VIEWTOK /api/v1/applications/web/sync
check "a viewer's sync request is refused (403)" test "$CODE" = 403
post not-a-token /api/v1/applications/web/sync
check "an unknown token is refused (401)" test "$CODE" = 401
post $DEPTOK /api/v1/audit/records '{"action":"note.deploy-says-hi"}'
check "a deployer may not record audit notes (403)" test "$CODE" = 403
printf '{"ref":"refs/heads/main","before":"%s","after":"%s","repository":{"clone_url":"file://%s/repo.git"}}' \
	"$REV" "$REV" "$TMP" >gh.json
CODE=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @gh.json -H 'X-GitHub-Event: push' \
	-H "X-Hub-Signature-256: sha256=$(openssl dgst -sha256 -hmac wrong-secret -r <gh.json | cut -d' ' -f1)" \
	"$API/api/webhook/github")
check "a webhook signed with another secret is refused (401)" test "$CODE" = 401
sleep 0.2
check "refused requests left the trail as it was ($before entries)" test "$(count)" = "$before"
curl -s "$API/metrics" >metrics
check "metrics count the 403s as forbidden" grep -qx 'cairn_http_refused_total{reason="forbidden"} 2' metrics
check "metrics count the 401 as unauthorized" grep -qx 'cairn_http_refused_total{reason="unauthorized"} 1' metrics
check "metrics count the forged webhook" grep -qx 'cairn_http_refused_total{reason="bad_signature"} 1' metrics
check "the 403 is logged with the token's name" grep -q "refused (403): token 'viewer' (role viewer) may not deploy" "$TMP/cairnd.err"
check "the 401 is logged" grep -q "POST /api/v1/applications/web/sync from 127.0.0.1 refused (401)" "$TMP/cairnd.err"

# the secret from webhooks.github.secretFile (trailing newline stripped)
CODE=$(curl -s -o /dev/null -w '%{http_code}' -X POST --data-binary @gh.json -H 'X-GitHub-Event: push' \
	-H 'X-GitHub-Delivery: d-1' \
	-H "X-Hub-Signature-256: sha256=$(openssl dgst -sha256 -hmac gh-secret-from-file -r <gh.json | cut -d' ' -f1)" \
	"$API/api/webhook/github")
check "a webhook signed with the secretFile's secret is accepted (202)" test "$CODE" = 202
for _ in $(seq 100); do entries trigger.webhook >/dev/null && break; sleep 0.05; done
check "and recorded as trigger.webhook by webhook:github" \
	bash -c "$(declare -f entries); LOG='$LOG'; entries trigger.webhook | grep -q '\"actor\":\"webhook:github\".*\"delivery\":\"d-1\"'"

# cairn audit record while the daemon owns the state directory
"$CAIRN" audit record --action note.approval --app web --env dev --actor alice \
	--details '{"ticket":"CHG-1"}' >rec.out 2>rec.err
check "cairn audit record goes through the daemon's socket" grep -q "by the daemon as actor 'local:alice'" rec.out
check "the entry holds the claimed actor under local:" \
	bash -c "grep '\"action\":\"note.approval\"' '$LOG' | grep -q '\"actor\":\"local:alice\".*\"ticket\":\"CHG-1\"'"
"$CAIRN" audit record --action note.incident --actor mallory --server "$API" --token-file admin.token >rec2.out 2>rec2.err
check "cairn audit record --server records as the token's name" grep -q "as actor 'ops-admin'" rec2.out
check "the claimed actor is kept in details" \
	bash -c "grep '\"action\":\"note.incident\"' '$LOG' | grep -q '\"actor\":\"ops-admin\",\"details\":{\"claimedActor\":\"mallory\"}'"
"$CAIRN" audit record --action note.sock --actor carol --server "unix:$TMP/state/cairnd.sock" >rec6.out 2>rec6.err
check "--server unix:PATH goes through that socket" grep -q "by the daemon as actor 'local:carol'" rec6.out
"$CAIRN" audit record --action note.x --server "$API" --token-file deploy.token >rec3.out 2>rec3.err
check "a deployer's token is refused by the daemon, exit 1" test $? = 1
check "and the CLI says why" grep -q "refused the entry (HTTP 403): token 'ci-deploy' (role deployer) may not administer" rec3.err
"$CAIRN" audit record --action key.rotated >rec4.out 2>rec4.err
check "a reserved action is refused before anything is sent" test $? = 2

# SIGHUP: ci-deploy removed, new-ci added; a sync queued just before goes on
config "{name: hook, sha256: $(hash $HOOKTOK), role: deployer}" \
	"{name: viewer, sha256: $(hash $VIEWTOK), role: viewer}" \
	"{name: ops-admin, sha256: $(hash $ADMTOK), role: admin}" \
	"{name: new-ci, sha256: $(hash $NEWTOK), role: deployer}"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {k: "v2"}\n' >work/app/cm.yaml
(cd work && git commit -qam v2 && git push -q origin HEAD:main 2>>"$TMP/push.err")
REV2=$(git -C repo.git rev-parse main)
kill -HUP "$DPID"
for _ in $(seq 100); do entries config.reloaded >/dev/null && break; sleep 0.05; done
check "the reload is recorded as config.reloaded with the token count" \
	bash -c "$(declare -f entries); LOG='$LOG'; entries config.reloaded | grep -q '\"tokens\":4'"
post $DEPTOK /api/v1/applications/web/sync
check "after SIGHUP the removed token gets 401" test "$CODE" = 401
post $NEWTOK /api/v1/applications/web/sync
check "after SIGHUP the new token works (202)" test "$CODE" = 202
check "the push made before the reload is synced" wait_rev "$REV2"
check "the daemon is still running" kill -0 "$DPID"

kill -TERM "$DPID"
wait "$DPID"
check "cairnd exits 0 on SIGTERM" test $? = 0
DPID=
"$CAIRN" audit record --config cairn.yaml --action note.after --actor bob >rec5.out 2>rec5.err
check "without a daemon cairn audit record writes directly" grep -qx "recorded entry [0-9]*" rec5.out
check "the whole trail verifies" bash -c "'$CAIRN' audit verify --key '$TMP/audit.pub' >/dev/null"
done_testing
