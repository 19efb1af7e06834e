#!/bin/bash
# daemon_http.sh - the daemon's HTTP layer over a real loopback socket,
# driven with curl: each provider's webhook signed and forged, 401s, 413 on
# a big body, 429 from the per-source limiter, /metrics counting it all,
# and an idle half-sent request (slowloris) cut off by the timeout.
. "$(dirname "$0")/lib.sh"
SERVER="$BUILDDIR/tests/integration/daemon_http_server"
[ -x "$SERVER" ] || { echo "1..0 # SKIP daemon_http_server not built"; exit 0; }
command -v curl >/dev/null && command -v openssl >/dev/null ||
	{ echo "1..0 # SKIP curl or openssl missing"; exit 0; }
DATA="$SRCDIR/tests/unit/data/daemon"
SECRET=integration-secret

# start NAME ARGS...: a server in the background; sets PORT and PID_NAME
start() {
	local name=$1; shift
	"$SERVER" --port-file "$TMP/$name.port" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
	eval "PID_$name=$!"
	for _ in $(seq 100); do [ -s "$TMP/$name.port" ] && break; sleep 0.05; done
	PORT=$(cat "$TMP/$name.port")
}
stop_all() {
	for p in ${PID_main:-} ${PID_limited:-}; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
}
trap 'stop_all; rm -rf "$TMP"' EXIT

hmac_hex() { openssl dgst -sha256 -hmac "$SECRET" -r <"$1" | cut -d' ' -f1; }
# post FORGE FILE HEADER...: prints the HTTP status
post() {
	local forge=$1 file=$2; shift 2
	local args=()
	for h in "$@"; do args+=(-H "$h"); done
	curl -s -o "$TMP/body" -w '%{http_code}' -X POST --data-binary "@$file" \
		-H 'Content-Type: application/json' "${args[@]}" "http://127.0.0.1:$PORT/api/webhook/$forge"
}

start main --timeout 2 --max-body 65536
MAIN=$PORT
check "server listens on a loopback port" test -n "$MAIN"
check "/healthz answers 200" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MAIN/healthz")" = 200

sig=$(hmac_hex "$DATA/github_push.json")
check "github: signed push accepted (202)" test "$(post github "$DATA/github_push.json" \
	'X-GitHub-Event: push' 'X-GitHub-Delivery: gh-1' "X-Hub-Signature-256: sha256=$sig")" = 202
check "github: the same delivery again is a duplicate (200)" test "$(post github "$DATA/github_push.json" \
	'X-GitHub-Event: push' 'X-GitHub-Delivery: gh-1' "X-Hub-Signature-256: sha256=$sig")" = 200
check "github: forged signature refused (401)" test "$(post github "$DATA/github_push.json" \
	'X-GitHub-Event: push' "X-Hub-Signature-256: sha256=$(hmac_hex "$DATA/gitea_push.json")")" = 401
check "github: the 401 says why in a JSON error" grep -q '"code":"unauthorized"' "$TMP/body"
check "github: missing signature refused (401)" test "$(post github "$DATA/github_push.json" 'X-GitHub-Event: push')" = 401

sig=$(hmac_hex "$DATA/gitea_push.json")
check "gitea: signed push accepted" test "$(post gitea "$DATA/gitea_push.json" 'X-Gitea-Event: push' \
	'X-Gitea-Delivery: gt-1' "X-Gitea-Signature: $sig")" = 202
check "gitea: forged refused" test "$(post gitea "$DATA/gitea_push.json" 'X-Gitea-Event: push' \
	"X-Gitea-Signature: ${sig%?}0")" = 401

sig=$(hmac_hex "$DATA/bitbucket_cloud_push.json")
check "bitbucket: signed push accepted" test "$(post bitbucket "$DATA/bitbucket_cloud_push.json" \
	'X-Event-Key: repo:push' 'X-Request-UUID: bb-1' "X-Hub-Signature: sha256=$sig")" = 202
check "bitbucket: forged refused" test "$(post bitbucket "$DATA/bitbucket_cloud_push.json" \
	'X-Event-Key: repo:push' "X-Hub-Signature: sha256=$(hmac_hex "$DATA/github_tag.json")")" = 401

check "gitlab: token accepted" test "$(post gitlab "$DATA/gitlab_push.json" 'X-Gitlab-Event: Push Hook' \
	"X-Gitlab-Token: $SECRET")" = 202
check "gitlab: wrong token refused" test "$(post gitlab "$DATA/gitlab_push.json" 'X-Gitlab-Event: Push Hook' \
	'X-Gitlab-Token: guess')" = 401
# Standard Webhooks: HMAC over "id.timestamp.body", base64
ts=$(date +%s)
{ printf 'msg-1.%s.' "$ts"; cat "$DATA/gitlab_tag.json"; } >"$TMP/signed"
b64=$(openssl dgst -sha256 -hmac "$SECRET" -binary <"$TMP/signed" | base64)
check "gitlab: Standard Webhooks signature accepted" test "$(post gitlab "$DATA/gitlab_tag.json" \
	'X-Gitlab-Event: Tag Push Hook' 'webhook-id: msg-1' "webhook-timestamp: $ts" "webhook-signature: v1,$b64")" = 202
old=$((ts - 600))
{ printf 'msg-2.%s.' "$old"; cat "$DATA/gitlab_tag.json"; } >"$TMP/signed"
b64=$(openssl dgst -sha256 -hmac "$SECRET" -binary <"$TMP/signed" | base64)
check "gitlab: a timestamp 10 minutes old is refused" test "$(post gitlab "$DATA/gitlab_tag.json" \
	'X-Gitlab-Event: Tag Push Hook' 'webhook-id: msg-2' "webhook-timestamp: $old" "webhook-signature: v1,$b64")" = 401
check "a refusal is logged, without the body" \
	bash -c "grep -q 'webhook github from 127.0.0.1 refused: X-Hub-Signature-256 does not match the body' '$TMP/main.err' && ! grep -q example-org '$TMP/main.err'"

check "triggers reached the callback, one per ref" test "$(grep -c '^trigger ' "$TMP/main.out")" = 6
check "github trigger names the ref, commit and clone URL" grep -qx \
	'trigger github refs/heads/main 0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c https://github.com/example-org/shop.git' "$TMP/main.out"
check "bitbucket trigger carries the tag too" grep -q '^trigger bitbucket refs/tags/v1.5.0 ' "$TMP/main.out"

head -c 70000 /dev/zero | tr '\0' x >"$TMP/big"
check "a body over --max-body is refused (413)" test "$(post github "$TMP/big" 'X-GitHub-Event: push')" = 413
check "an unknown path is a JSON 404" test "$(curl -s -o "$TMP/body" -w '%{http_code}' "http://127.0.0.1:$MAIN/nope")" = 404

curl -s "http://127.0.0.1:$MAIN/metrics" >"$TMP/metrics"
check "metrics: accepted github webhooks" grep -qx 'cairn_webhook_requests_total{provider="github",result="accepted"} 1' "$TMP/metrics"
check "metrics: bad github signatures" grep -qx 'cairn_webhook_requests_total{provider="github",result="bad_signature"} 2' "$TMP/metrics"
check "metrics: duplicates" grep -qx 'cairn_webhook_requests_total{provider="github",result="duplicate"} 1' "$TMP/metrics"
check "metrics: refused bad signatures in all" grep -qx 'cairn_http_refused_total{reason="bad_signature"} 6' "$TMP/metrics"
check "metrics: refused big bodies" grep -qx 'cairn_http_refused_total{reason="body_too_large"} 1' "$TMP/metrics"
check "metrics: build info" grep -q '^cairn_build_info{version="' "$TMP/metrics"

# slowloris: half a request, then silence; the 2 s timeout closes it
start_s=$(date +%s)
exec 3<>"/dev/tcp/127.0.0.1/$MAIN"
printf 'POST /api/webhook/github HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{' >&3
timeout 8 cat <&3 >/dev/null
rc=$?
exec 3<&-
elapsed=$(( $(date +%s) - start_s ))
check "slowloris: an idle half-sent request is closed by the timeout ($elapsed s)" test "$rc" != 124 -a "$elapsed" -le 6
check "the server still answers afterwards" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MAIN/healthz")" = 200

start limited --rate 0.2 --burst 3
codes=""
for i in $(seq 12); do codes="$codes $(post github "$DATA/github_push.json" 'X-GitHub-Event: push' 'X-Hub-Signature-256: sha256=00')"; done
check "rate limit: the burst of 3 gets 401s ($codes)" test "$(echo "$codes" | tr ' ' '\n' | grep -c 401)" -ge 3
check "rate limit: the excess gets 429" test "$(echo "$codes" | tr ' ' '\n' | grep -c 429)" -ge 7
curl -s "http://127.0.0.1:$PORT/metrics" >"$TMP/metrics2"
check "metrics: rate-limited requests counted" grep -q '^cairn_http_refused_total{reason="rate_limited"} \([7-9]\|1[0-9]\)$' "$TMP/metrics2"
check "healthz is not rate limited" test "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")" = 200

# cairn token: the hash that goes into api.tokens[].sha256
if [ -x "$CAIRN" ]; then
	check "cairn token hash prints the SHA-256 of the token on stdin" \
		test "$(printf 'tok-dev\n' | "$CAIRN" token hash)" = "$(printf %s tok-dev | sha256sum | cut -d' ' -f1)"
	"$CAIRN" token new >"$TMP/new"
	check "cairn token new prints a token and its hash" \
		test "$(sed -n 2p "$TMP/new")" = "$(sed -n 1p "$TMP/new" | tr -d '\n' | sha256sum | cut -d' ' -f1)"
	check "cairn token new makes a different token each time" test "$("$CAIRN" token new | head -1)" != "$(head -1 "$TMP/new")"
	check "cairn token hash refuses empty input" bash -c "! '$CAIRN' token hash </dev/null 2>/dev/null"
fi

stop_all
check "SIGTERM stops the server" bash -c "! kill -0 $PID_main 2>/dev/null"
done_testing
