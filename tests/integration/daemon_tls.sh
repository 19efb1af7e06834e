#!/bin/bash
# daemon_tls.sh - cairnd over HTTPS (listen.tls): curl with the CA works and
# plain HTTP does not, the Unix socket stays plain, webhooks work over TLS;
# SIGHUP with a new certificate and key serves the new certificate to new
# connections and ends an open event stream cleanly; a bad pair on SIGHUP
# is refused and the old certificate stays. The per-source webhook rate
# limiter (limits.webhookRate/webhookBurst): the excess gets 429 and is
# counted in /metrics, it is on by default and off with 0. 401s are logged
# once per source per 10 s, the next line with a count. cairn.yaml errors
# for the new keys.
#
# Tier: fast (every wait has a timeout; about 20 s). No cluster needed.
. "$(dirname "$0")/lib.sh"

CAIRND=${CAIRND:-$BUILDDIR/cairnd}
for t in curl openssl python3 sha256sum; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "1..0 # SKIP $t is not installed"
		exit 0
	fi
done
DPID= SPID=
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; [ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
export HOME="$TMP/home" CAIRN_STATE_DIR="$TMP/state"
unset CAIRN_CONFIG CAIRN_TOKEN CAIRN_WEBHOOK_SECRET_GITHUB
mkdir -p "$HOME"
DATA="$SRCDIR/tests/unit/data/daemon"
SECRET=tls-webhook-secret
TOKEN=viewer-token-tls
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="https://127.0.0.1:$PORT"

# pair N: a self-signed certificate for 127.0.0.1 (its own CA) and its key
pair() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=cairn-test-$1" -addext "subjectAltName=IP:127.0.0.1" \
		-keyout "key$1.pem" -out "cert$1.pem" 2>/dev/null
}
pair 1 && pair 2
check "two certificate pairs are made" test -s cert1.pem -a -s key2.pem
fp() { openssl x509 -noout -fingerprint -sha256 -in "$1" | cut -d= -f2; }
# served: the fingerprint of the certificate a new connection sees
served() {
	openssl s_client -connect "127.0.0.1:$PORT" -servername localhost </dev/null 2>/dev/null |
		openssl x509 -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2
}
cp cert1.pem tls.crt && cp key1.pem tls.key

# config [LIMITS-LINE]: cairn.yaml with TLS, a viewer token and a GitHub secret
config() {
	cat >cairn.yaml <<Y
stateDir: $TMP/state
listen:
  api: "127.0.0.1:$PORT"
  tls: {cert: tls.crt, key: tls.key}
webhooks:
  github: {secret: $SECRET}
api:
  tokens:
  - {name: viewer, sha256: $(printf %s "$TOKEN" | sha256sum | cut -d' ' -f1), role: viewer}
${1:-}
Y
}
config "limits: {webhookRate: 1, webhookBurst: 3}"
start() { "$CAIRND" --config cairn.yaml --poll off --grace 5s >>"$TMP/cairnd.out" 2>>"$TMP/cairnd.err" & DPID=$!; }
ready() {
	for _ in $(seq 100); do
		curl -sf --cacert "$1" "$URL/readyz" >/dev/null && return 0
		sleep 0.1
	done
	return 1
}
stop() { kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; DPID=; }
start
check "cairnd starts with TLS and is ready over https" ready cert1.pem
CODE=$(curl -s -o /dev/null -w '%{http_code}' --cacert cert1.pem "$URL/healthz")
check "https with the CA answers 200" test "$CODE" = 200
check "https without the CA fails verification" bash -c "! curl -s -o /dev/null '$URL/healthz'"
CODE=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/healthz")
check "plain http gets no HTTP answer ($CODE)" test "$CODE" = 000
CODE=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket state/cairnd.sock http://local/api/v1/applications)
check "the Unix socket stays plain http (200)" test "$CODE" = 200
check "a new connection sees the first certificate" test "$(served)" = "$(fp cert1.pem)"
T401=$SECONDS
for _ in 1 2 3; do curl -s -o /dev/null --cacert cert1.pem "$URL/api/v1/applications"; done

# a signed GitHub push over TLS (the repository is tracked by no app)
sig=$(openssl dgst -sha256 -hmac "$SECRET" -r <"$DATA/github_push.json" | cut -d' ' -f1)
hook() {
	curl -s -o "$TMP/body" -w '%{http_code}' --cacert "$1" -X POST --data-binary "@$DATA/github_push.json" \
		-H 'X-GitHub-Event: push' -H "X-GitHub-Delivery: $2" -H "X-Hub-Signature-256: sha256=$3" \
		"$URL/api/webhook/github"
}
check "a signed webhook over TLS is accepted (202)" test "$(hook cert1.pem d-1 "$sig")" = 202

# an event stream open across the reload ends cleanly (curl exits 0)
curl -sN --cacert cert1.pem -H "Authorization: Bearer $TOKEN" "$URL/api/v1/events" >"$TMP/ev" 2>"$TMP/ev.err" &
SPID=$!
for _ in $(seq 50); do [ -s "$TMP/ev" ] && break; sleep 0.1; done
check "an event stream is open over TLS" grep -q '^: cairn events' "$TMP/ev"

# reloaded N: wait until the log has N lines "reloaded" or "refused"
reloaded() {
	for _ in $(seq 100); do
		[ "$(grep -c -E '"?(reloaded|reload of .* refused)' "$TMP/cairnd.err")" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}
cp cert2.pem tls.crt && cp key2.pem tls.key
kill -HUP "$DPID"
check "SIGHUP with a new pair reloads" reloaded 1
check "the reload is logged as done" grep -q 'reloaded' "$TMP/cairnd.err"
check "a new connection sees the new certificate" test "$(served)" = "$(fp cert2.pem)"
CODE=$(curl -s -o /dev/null -w '%{http_code}' --cacert cert2.pem "$URL/healthz")
check "curl with the new CA answers 200" test "$CODE" = 200
check "curl with the old CA now fails" bash -c "! curl -s -o /dev/null --cacert cert1.pem '$URL/healthz'"
ended() { for _ in $(seq 60); do kill -0 "$SPID" 2>/dev/null || return 0; sleep 0.1; done; return 1; }
check "the event stream of the old certificate ended" ended
wait "$SPID"
RC=$?
SPID=
check "and ended cleanly (curl exit $RC)" test "$RC" = 0

# a mismatched pair, then a file that is not PEM: refused, the old one stays
cp cert1.pem tls.crt && cp key2.pem tls.key
kill -HUP "$DPID"
check "SIGHUP with a mismatched pair is reported" reloaded 2
check "the refusal says why" grep -q "TLS reload refused, keeping the certificate in use: TLS certificate '[^']*tls.crt' and key '[^']*tls.key' cannot be used together" "$TMP/cairnd.err"
check "the second certificate is still served" test "$(served)" = "$(fp cert2.pem)"
echo garbage >tls.crt
kill -HUP "$DPID"
check "SIGHUP with a non-PEM certificate is reported" reloaded 3
check "the refusal names the file" grep -q "TLS certificate '[^']*tls.crt' is not a PEM file" "$TMP/cairnd.err"
check "the daemon still serves the second certificate" test "$(served)" = "$(fp cert2.pem)"
cp cert2.pem tls.crt
check "webhooks still work over the new certificate (202)" test "$(hook cert2.pem d-2 "$sig")" = 202

# 401s (sent at the start): one line per source per 10 s, then one with a count
N=$(grep -c 'GET /api/v1/applications from 127.0.0.1 refused (401)' "$TMP/cairnd.err")
check "three 401s from one address made one log line ($N)" test "$N" = 1
curl -s --cacert cert2.pem "$URL/metrics" >metrics
check "and all three are counted" grep -qx 'cairn_http_refused_total{reason="unauthorized"} 3' metrics
while [ $((SECONDS - T401)) -le 10 ]; do sleep 0.5; done
curl -s -o /dev/null --cacert cert2.pem "$URL/api/v1/applications"
check "10 s later the next 401 is logged with the count of those left out" \
	grep -q 'GET /api/v1/applications from 127.0.0.1 refused (401): .* (2 more 401s from this address since the last such line)' "$TMP/cairnd.err"

# limiter on (rate 1/s, burst 3; two accepted webhooks already took tokens)
flood() { # flood CA N: N forged deliveries in one curl, the codes one a line
	local urls=() i
	for i in $(seq "$2"); do urls+=(-o /dev/null "$URL/api/webhook/github"); done
	curl -s --cacert "$1" -X POST --data-binary '{}' -H 'X-GitHub-Event: push' \
		-H 'X-Hub-Signature-256: sha256=00' -w '%{http_code}\n' "${urls[@]}"
}
sleep 3 # refill the bucket
flood cert2.pem 8 >codes
check "forged deliveries within the burst get 401" test "$(grep -c 401 codes)" -ge 3
check "the excess gets 429 ($(tr '\n' ' ' <codes))" test "$(grep -c 429 codes)" -ge 4
curl -s --cacert cert2.pem "$URL/metrics" >metrics
check "429s are counted as rate_limited webhooks" \
	grep -q "^cairn_webhook_requests_total{provider=\"github\",result=\"rate_limited\"} $(grep -c 429 codes)$" metrics
check "and as refused requests" grep -q '^cairn_http_refused_total{reason="rate_limited"} [1-9]' metrics
stop

# the default: on (burst 100)
config ""
start
check "cairnd restarts with the default limits" ready cert2.pem
flood cert2.pem 200 >codes
check "by default the limiter is on: 100 forged get 401 before the 429s" \
	test "$(grep -c 401 codes)" -ge 100 -a "$(grep -c 401 codes)" -lt 200 -a "$(grep -c 429 codes)" -ge 1
stop

# off with 0
config "limits: {webhookRate: 0, webhookBurst: 1}"
start
check "cairnd restarts with the limiter off" ready cert2.pem
flood cert2.pem 10 >codes
check "with webhookRate 0 nothing is rate limited" test "$(grep -c 401 codes)" = 10
stop

# cairn.yaml errors for the new keys
bad() { # bad NAME: cairnd refuses cairn.yaml; its error in bad.NAME
	CAIRN_STATE_DIR="$TMP/state-bad" "$CAIRND" --config cairn.yaml --poll off >/dev/null 2>"bad.$1" &
	local p=$! i
	for i in $(seq 50); do kill -0 $p 2>/dev/null || break; sleep 0.1; done
	kill -9 $p 2>/dev/null
	! wait $p
}
sed -i 's/tls: {cert: tls.crt, key: tls.key}/tls: {cert: tls.crt}/' cairn.yaml
check "listen.tls without a key is refused" bad nokey
check "and says what is missing" grep -q "listen.tls needs both 'cert' and 'key'" bad.nokey
config "limits: {webhookRate: -1}"
check "a negative webhookRate is refused" bad neg
check "and says the range" grep -q "limits.webhookRate must be a number from 0 to 1000000" bad.neg
config "limits: {webhookRate: 5, webhookBurst: 0}"
check "burst 0 with the limiter on is refused" bad burst
check "and says why" grep -q "limits.webhookBurst must be at least 1" bad.burst
config "limits: {webhookRates: 5}"
check "an unknown limits key is refused" bad unknown
check "and named" grep -q "webhookRates" bad.unknown
config "webhooks: {gogs: {secret: x}}"
sed -i '/^webhooks:$/,+1d' cairn.yaml
check "an unknown forge under webhooks is refused by the schema" bad forge
check "and named" grep -q "gogs" bad.forge
done_testing
