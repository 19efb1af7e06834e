#!/bin/bash
# daemon_events.sh - cairnd's server-sent events, the re-read of the
# Application definitions when their repository moves, which pushes a
# HEAD-tracking app follows (the default branch only), and `cairn app ...
# --server` against a real cairnd. Definitions live in the same bare
# repository as the app (cairn.yaml apps[].repoURL).
#
# Tier: fast (bounded: every wait has a timeout; about 15 s).
. "$(dirname "$0")/lib.sh"

SIM=${CAIRN_SIM:-$BUILDDIR/cairn-sim}
CAIRND=${CAIRND:-$BUILDDIR/cairnd}
for t in kubectl git curl python3; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "1..0 # SKIP $t is not installed"
		exit 0
	fi
done
SIMPID= DPID= CURLS=
trap 'for p in $CURLS; do kill "$p" 2>/dev/null; done; [ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null; [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
export GIT_CONFIG_NOSYSTEM=1 HOME="$TMP/home" KUBECONFIG="$TMP/kubeconfig"
export CAIRN_STATE_DIR="$TMP/state"
unset CAIRN_CONFIG CAIRN_TOKEN CAIRN_SERVER
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
HOOKTOK=hook-token-1 VIEWTOK=viewer-token-2 PRODTOK=prod-token-3
mkdir -p envs
for e in dev prod; do
	cat >envs/$e.yaml <<Y
apiVersion: cairn.dev/v1alpha1
kind: Environment
metadata: {name: $e}
spec:
  cluster: {server: "$SERVER", kubeconfig: "$KUBECONFIG"}
  namespaces: ["$e*"]
  defaultNamespace: $e
Y
done
git init -q --bare repo.git
app() { # app NAME ENV REVISION
	cat <<Y
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: $1
  labels: {cairn.dev/environment: $2}
spec:
  project: default
  source: {repoURL: "file://$TMP/repo.git", targetRevision: $3, path: app}
  destination: {server: "$SERVER", namespace: $2}
  syncPolicy:
    automated: {}
    syncOptions: [CreateNamespace=true]
Y
}
git clone -q repo.git work 2>/dev/null
mkdir -p work/app work/defs
cm() { printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {k: "%s"}\n' "$1" >work/app/cm.yaml; }
cm v1
app web-dev dev HEAD >work/defs/apps.yaml
(cd work && git add -A && git commit -qm v1 && git push -q origin HEAD:main 2>/dev/null)
check "the first push (app and definitions) succeeds" test $? = 0
cat >cairn.yaml <<Y
stateDir: $TMP/state
listen: {api: "127.0.0.1:$PORT"}
apps:
- {repoURL: "file://$TMP/repo.git", path: defs}
environmentsDir: envs
api:
  tokens:
  - {name: hook, sha256: $(hash $HOOKTOK), role: deployer}
  - {name: viewer, sha256: $(hash $VIEWTOK), role: viewer}
  - {name: prod-only, sha256: $(hash $PRODTOK), role: viewer, environments: [prod]}
Y
printf '%s\n' "$HOOKTOK" >token
chmod 600 token
"$CAIRN" hooks install repo.git --url "$API" --token-file token >/dev/null
rm -f repo.git/hooks/pre-receive # validation is daemon.sh's business

"$CAIRND" --config cairn.yaml --poll off --grace 10s >"$TMP/cairnd.out" 2>"$TMP/cairnd.err" &
DPID=$!
ready() { for _ in $(seq 100); do curl -sf "$API/readyz" >/dev/null && return 0; sleep 0.1; done; return 1; }
check "cairnd starts and is ready" ready

# events: one stream for the viewer, one for a prod-scoped token
stream() { # stream TOKEN OUT [LAST-EVENT-ID]
	curl -sN -H "Authorization: Bearer $1" ${3:+-H "Last-Event-ID: $3"} "$API/api/v1/events" >"$2" 2>/dev/null &
	CURLS="$CURLS $!"
}
stream $VIEWTOK "$TMP/ev.view"
stream $PRODTOK "$TMP/ev.prod"
for _ in $(seq 50); do [ -s "$TMP/ev.view" ] && [ -s "$TMP/ev.prod" ] && break; sleep 0.1; done
check "an event stream opens with a comment at once" grep -q '^: cairn events' "$TMP/ev.view"
CODE=$(curl -s -o "$TMP/noauth" -w '%{http_code}' --max-time 5 "$API/api/v1/events")
check "the events stream needs a token (401)" test "$CODE" = 401
CT=$(curl -s -o /dev/null -w '%{content_type}' --max-time 1 -H "Authorization: Bearer $VIEWTOK" "$API/api/v1/events")
check "the stream is text/event-stream" test "$CT" = text/event-stream

status() { curl -s -H "Authorization: Bearer $VIEWTOK" "$API/api/v1/applications/$1" |
	python3 -c 'import json,sys; s=json.load(sys.stdin)["status"]; print(s["sync"], s.get("revision",""))' 2>/dev/null; }
wait_rev() { for _ in $(seq 500); do [ "$(status "$1")" = "Synced $2" ] && return 0; sleep 0.02; done; echo "# $(status "$1")"; return 1; }
# events of TYPE for APP in FILE (data lines)
has_event() { python3 - "$@" <<'P'
import json, sys
f, typ, app = sys.argv[1], sys.argv[2], sys.argv[3]
ev = None
for line in open(f):
    line = line.rstrip("\n")
    if line.startswith("event: "):
        ev = line[7:]
    elif line.startswith("data: ") and ev == typ:
        d = json.loads(line[6:])
        if app == "-" or d.get("app") == app:
            sys.exit(0)
sys.exit(1)
P
}
wait_event() { for _ in $(seq 250); do has_event "$@" && return 0; sleep 0.02; done; return 1; }

cm v2
(cd work && git commit -qam v2 && git push -q origin HEAD:main 2>/dev/null)
REV2=$(git -C repo.git rev-parse main)
check "a push is synced through the hook" wait_rev web-dev "$REV2"
check "the stream shows reconcile.started for the push" wait_event "$TMP/ev.view" reconcile.started web-dev
check "and operation.finished" wait_event "$TMP/ev.view" operation.finished web-dev
check "and app.status" wait_event "$TMP/ev.view" app.status web-dev
ORDER=$(grep '^event: ' "$TMP/ev.view" | sed 's/^event: //' | grep -v '^reload$' | tr '\n' ' ')
check "in order: started, finished, status ($ORDER)" \
	test "${ORDER#reconcile.started operation.finished app.status}" != "$ORDER"
check "operation.finished says it succeeded at the pushed commit" \
	grep -q "\"revision\":\"$REV2\".*\"succeeded\":true\|\"succeeded\":true.*\"revision\":\"$REV2\"" "$TMP/ev.view"
IDS=$(grep '^id: ' "$TMP/ev.view" | sed 's/^id: //' | tr '\n' ' ')
check "event ids increase by one ($IDS)" python3 -c 'import sys; v=[int(x) for x in sys.argv[1:]]; assert v and v==list(range(v[0],v[0]+len(v)))' $IDS
check "a prod-scoped token sees no dev event" bash -c "! grep -q '\"env\":\"dev\"' '$TMP/ev.prod'"

# Last-Event-ID replays from the ring: after id 1, event 2 first
curl -sN --max-time 1 -H "Authorization: Bearer $VIEWTOK" -H "Last-Event-ID: 1" \
	"$API/api/v1/events" >"$TMP/ev.replay" 2>/dev/null
check "Last-Event-ID: 1 replays from id 2" test "$(grep -m1 '^id: ' "$TMP/ev.replay")" = "id: 2"
check "the replay holds the same events" test \
	"$(grep -c '^event: ' "$TMP/ev.replay")" -ge "$(($(echo $IDS | wc -w) - 1))"

# at most 16 streams: two are open, fourteen more fit, the next is refused
for _ in $(seq 14); do stream $VIEWTOK /dev/null; done
sleep 0.5
CODE=$(curl -s -o "$TMP/full" -w '%{http_code}' --max-time 5 -H "Authorization: Bearer $VIEWTOK" "$API/api/v1/events")
check "the 17th concurrent stream is refused (503)" test "$CODE" = 503
check "saying why" grep -q "too many event streams" "$TMP/full"

# trigger matching: a HEAD-tracking app follows the default branch only
trig() { curl -s -X POST -H "Authorization: Bearer $HOOKTOK" --data-binary "$(printf 'repo %s\n0 1 %s\n' "$TMP/repo.git" "$1")" "$API/api/v1/trigger"; }
check "a push of another branch does not queue the HEAD-tracking app" \
	grep -q '"queued":0' <(trig refs/heads/feature)
check "a push of the default branch (main) queues it" grep -q '"apps":\["web-dev"\]' <(trig refs/heads/main)
git -C repo.git symbolic-ref HEAD refs/heads/feature
check "after HEAD moved to 'feature', a push of feature queues it" \
	grep -q '"apps":\["web-dev"\]' <(trig refs/heads/feature)
git -C repo.git symbolic-ref HEAD refs/heads/main

# the definitions' repository moved: re-read before matching
# its own environment: two apps deploying the same object would fight over it
app web-dev2 prod main >>work/defs/apps.yaml
(cd work && git commit -qam "second app" && git push -q origin HEAD:main 2>/dev/null)
REV3=$(git -C repo.git rev-parse main)
check "an app added by a push to the definitions' repository is served" wait_rev web-dev2 "$REV3"
check "the stream shows the reload" wait_event "$TMP/ev.view" reload -

# cairn app ... --server: the same commands through the API
printf '%s\n' "$VIEWTOK" >viewtok
"$CAIRN" app list --server "$API" --token-file viewtok >"$TMP/list.remote" 2>"$TMP/list.err"
check "app list --server succeeds" test $? = 0
"$CAIRN" app list --config cairn.yaml >"$TMP/list.direct" 2>/dev/null
check "and prints what the direct path prints" diff "$TMP/list.direct" "$TMP/list.remote"
check "both apps are listed" test "$(grep -c '^web-dev' "$TMP/list.remote")" = 2
"$CAIRN" app get web-dev --server "unix:$TMP/state/cairnd.sock" >"$TMP/get.out" 2>&1
check "app get over the Unix socket (no token) shows the status" \
	grep -q "^Status: *Synced, .* at $REV3" "$TMP/get.out"
check "and the definition" grep -q "^Source: *file://$TMP/repo.git @ HEAD path app" "$TMP/get.out"
CAIRN_TOKEN=$VIEWTOK "$CAIRN" app sync web-dev --server "$API" >"$TMP/sync.out" 2>"$TMP/sync.err"
RC=$?
check "a viewer's sync --server fails (exit 1)" test "$RC" = 1
check "with the API's message, not its JSON" bash -c "grep -q 'viewer' '$TMP/sync.err' && ! grep -q '{' '$TMP/sync.err'"
printf '%s\n' "$HOOKTOK" >hooktok
"$CAIRN" app sync web-dev --server "$API" --token-file hooktok >"$TMP/sync.out" 2>&1
check "a deployer's sync --server is queued" grep -q "queued" "$TMP/sync.out"
"$CAIRN" app history web-dev --server "$API" --token-file viewtok >"$TMP/hist.out" 2>&1
check "app history --server lists the deployed revisions" grep -q "$REV2" "$TMP/hist.out"
"$CAIRN" app get nope --server "$API" --token-file viewtok >/dev/null 2>"$TMP/nope.err"
check "an unknown app --server: the API's message" grep -q "unknown application 'nope'" "$TMP/nope.err"
CAIRN_SERVER=$API "$CAIRN" app get web-dev --token-file viewtok -o json >"$TMP/get.json" 2>&1
check "CAIRN_SERVER and -o json" python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["status"]["sync"]=="Synced"' "$TMP/get.json"

kill -TERM "$DPID"
wait "$DPID"
RC=$?
DPID=
check "SIGTERM with open event streams: cairnd exits 0" test "$RC" = 0
if [ -n "${VERBOSE:-}" ]; then sed 's/^/# /' "$TMP/cairnd.err"; fi
done_testing
