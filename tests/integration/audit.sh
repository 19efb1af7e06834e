#!/bin/bash
# audit trail end to end through the real `cairn` binary: every `cairn audit`
# command, exit codes, the tamper matrix on logs the CLI made (each detected
# at the right entry), log injection, key rotation, redaction, torn tails vs
# truncation, the writer lock, a SIGKILL loop, and the independent Python
# verifier (tests/integration/audit_verify.py) agreeing with `cairn audit verify`.
# CAIRN_LONG=1 runs more SIGKILL iterations.
. "$(dirname "$0")/lib.sh"

VERIFY_PY="$SRCDIR/tests/integration/audit_verify.py"
HAVE_PY=0
if python3 -c 'import cryptography.hazmat.primitives.asymmetric.ed25519' 2>/dev/null; then
	HAVE_PY=1
fi
K="$TMP/keys"
mkdir -p "$K"
unset CAIRN_STATE_DIR CAIRN_CONFIG

# run CMD...: run, keeping stdout in $TMP/out, stderr in $TMP/err, status in $RC.
run() {
	"$@" >"$TMP/out" 2>"$TMP/err"
	RC=$?
}
show_output() { sed 's/^/#   /' "$TMP/out" "$TMP/err" | head -20; }
fail() { not_ok "$@"; }
# expect WANT_RC DESCRIPTION [GREP_PATTERN]: judge the last run.
expect() {
	local want=$1 d=$2 pat=${3:-}
	if [ "$RC" != "$want" ]; then
		fail "$d (exit $RC, expected $want)"
		show_output
	elif [ -n "$pat" ] && ! grep -qE -- "$pat" "$TMP/out" "$TMP/err"; then
		fail "$d (no '$pat' in the output)"
		show_output
	else
		ok "$d"
	fi
}
A() { "$CAIRN" audit "$@"; }
# pyverify STATE_DIR KEY [ARGS...]: the independent verifier.
pyverify() {
	local dir=$1 key=$2
	shift 2
	python3 "$VERIFY_PY" --key "$key" "$@" "$dir" >"$TMP/out" 2>"$TMP/err"
	RC=$?
}
# pyexpect WANT_RC DESCRIPTION PATTERN STATE_DIR KEY [ARGS...]
pyexpect() {
	local want=$1 d=$2 pat=$3
	shift 3
	if [ "$HAVE_PY" != 1 ]; then
		ok "# SKIP $d (python3 cryptography missing)"
		return
	fi
	pyverify "$@"
	expect "$want" "independent verifier: $d" "$pat"
}
nlines() { wc -l <"$1" | tr -d ' '; }
sha() { sha256sum "$1" | cut -d' ' -f1; }

# ---- help and usage errors --------------------------------------------------
run A --help
expect 0 "audit --help" "keygen"
for c in keygen rotate-key record verify show tail prove consistency check-proof; do
	run A "$c" --help
	expect 0 "audit $c --help" "usage: cairn audit $c"
done
run A frobnicate
expect 2 "unknown subcommand is a usage error" "unknown command 'frobnicate'"
run A
expect 2 "audit without a subcommand is a usage error" "usage: cairn audit"
run A record --state-dir "$TMP/none"
expect 2 "record without --action" "--action ACTION is required"
run A verify --state-dir "$TMP/none"
expect 2 "verify without a trusted key" "no trusted key"
run A prove abc --state-dir "$TMP/none"
expect 2 "prove with a non-number" "SEQ 'abc' is not an entry number"
run A show --since yesterday --state-dir "$TMP/none"
expect 2 "show with a bad --since" "not an RFC 3339 time"
run A keygen
expect 2 "keygen without --name" "--name NAME is required"

# ---- keygen ------------------------------------------------------------------
run A keygen --name alpha --out "$K/alpha"
expect 0 "keygen writes a key pair" "alpha\+[0-9a-f]{8}\+"
check "signer key file is mode 0600" test "$(stat -c %a "$K/alpha.key")" = 600
check "signer key is in signed-note form" grep -qE '^PRIVATE\+KEY\+alpha\+[0-9a-f]{8}\+' "$K/alpha.key"
check "verifier key is in signed-note form" grep -qE '^alpha\+[0-9a-f]{8}\+[A-Za-z0-9+/]+=*$' "$K/alpha.pub"
before=$(sha "$K/alpha.key")
run A keygen --name alpha --out "$K/alpha"
expect 1 "keygen refuses to overwrite a key" "exist"
check "the existing key is untouched" test "$(sha "$K/alpha.key")" = "$before"
run A keygen --name 'bad+name' --out "$K/bad"
expect 1 "keygen refuses a name with '+'" "name"
A keygen --name beta --out "$K/beta" >/dev/null
A keygen --name mallory --out "$K/mallory" >/dev/null

# ---- record, verify, show ----------------------------------------------------
S="$TMP/s1"
rec() { A record --state-dir "$S" --signing-key "$K/alpha.key" --actor operator "$@"; }
run rec --action note.deploy --app web --env staging --revision abc123 --details '{"ticket":"CHG-1"}'
expect 0 "record the first entry" "recorded entry 0"
check "the state directory holds the log and a checkpoint" test -s "$S/audit.log" -a -s "$S/audit.checkpoints"
for i in 1 2 3 4 5 6 7; do
	app=web
	[ $((i % 2)) = 1 ] && app=api
	rec --action "note.step$i" --app "$app" --env prod --details "{\"i\":$i}" >/dev/null ||
		not_ok "record entry $i"
done
check "eight entries, one per line" test "$(nlines "$S/audit.log")" = 8
run A verify --state-dir "$S" --key "$K/alpha.pub"
expect 0 "verify a good log" "ok: 8 entries, [0-9]+ checkpoints, 1 key"
run A verify --state-dir "$S" --key "$(cat "$K/alpha.pub")"
expect 0 "verify takes the key as text too" "ok: 8 entries"
run A verify --state-dir "$S" --key "$K/alpha.pub" --fast
expect 0 "checkpoint-only verification" "ok: 8 entries"
run A verify --state-dir "$S" --key "$K/alpha.pub" -o json
expect 0 "verify -o json" '"ok": ?true'
run A verify --state-dir "$S" --key "$K/beta.pub"
expect 1 "verify with the wrong trusted key fails at entry 0" "entry 0"
pyexpect 0 "accepts the CLI's log" "ok: 8 entries" "$S" "$K/alpha.pub"
CAIRN_STATE_DIR="$S" run A verify --key "$K/alpha.pub"
expect 0 "CAIRN_STATE_DIR selects the state directory" "ok: 8 entries"

run A show --state-dir "$S"
expect 0 "show" "^0 .* operator note.deploy app=web env=staging rev=abc123"
check "show prints one line per entry" test "$(nlines "$TMP/out")" = 8
run A show --state-dir "$S" --app api
check "show --app filters" test "$(nlines "$TMP/out")" = 4
run A show --state-dir "$S" --env staging --action note.deploy
check "show --env --action filter" test "$(nlines "$TMP/out")" = 1
run A show --state-dir "$S" --action 'note.*'
check "show --action prefix" test "$(nlines "$TMP/out")" = 8
run A show --state-dir "$S" --since 2000-01-01T00:00:00Z --until 2000-01-02T00:00:00Z
check "show --since/--until filters by time" test "$(nlines "$TMP/out")" = 0
run A show --state-dir "$S" -o json
check "show -o json prints the stored lines" cmp -s "$TMP/out" "$S/audit.log"
run A tail --state-dir "$S" -n 3
expect 0 "tail -n 3" "^7 "
check "tail -n 3 prints three entries" test "$(nlines "$TMP/out")" = 3

# tail -f sees a new entry, and stops on SIGTERM with status 0.
"$CAIRN" audit tail -f --state-dir "$S" -n 0 >"$TMP/follow" 2>&1 &
tpid=$!
sleep 0.5
rec --action note.followed --app web >/dev/null
for _ in $(seq 50); do grep -q note.followed "$TMP/follow" && break; sleep 0.1; done
check "tail -f prints a new entry" grep -q '^8 .*note.followed' "$TMP/follow"
kill -TERM $tpid
for _ in $(seq 50); do kill -0 $tpid 2>/dev/null || break; sleep 0.1; done
kill -KILL $tpid 2>/dev/null
wait $tpid
check "tail -f stops on SIGTERM with status 0" test $? = 0

# ---- proofs ------------------------------------------------------------------
run A prove 3 --state-dir "$S" -o json
expect 0 "prove -o json" '"treeSize"'
cp "$TMP/out" "$TMP/proof3.json"
run A prove 3 --state-dir "$S"
expect 0 "prove (text)" "leaf hash"
run A check-proof --proof "$TMP/proof3.json" --key "$K/alpha.pub"
expect 0 "check-proof accepts the proof" "ok: entry 3 is included"
run A check-proof --proof "$TMP/proof3.json" --key "$K/beta.pub"
expect 1 "check-proof refuses another key" "FAIL"
sed 's/note.step3/note.stepX/' "$TMP/proof3.json" >"$TMP/proof3-bad.json"
run A check-proof --proof "$TMP/proof3-bad.json" --key "$K/alpha.pub"
expect 1 "check-proof refuses an edited entry" "FAIL"
run A prove 99 --state-dir "$S"
expect 1 "prove of an entry no checkpoint covers" "checkpoint"
run A consistency 3 9 --state-dir "$S"
expect 0 "consistency proof" "proof: +[0-9]+ hashes"
run A consistency 3 9 --state-dir "$S" -o json
expect 0 "consistency -o json" '"oldSize": 3'
run A consistency 9 3 --state-dir "$S"
expect 1 "consistency with OLD_SIZE > NEW_SIZE fails"

# ---- tamper matrix: each detected, at the right entry, by both verifiers -------
# tamper NAME: a fresh copy of the good log in $T.
tamper() {
	T="$TMP/t-$1"
	rm -rf "$T"
	cp -a "$S" "$T"
}
# both WANT_PATTERN PY_PATTERN DESCRIPTION
both() {
	run A verify --state-dir "$T" --key "$K/alpha.pub"
	expect 1 "tamper: $3" "$1"
	pyexpect 1 "rejects: $3" "$2" "$T" "$K/alpha.pub"
}
tamper byte
sed -i '4s/"actor":"operator"/"actor":"operatos"/' "$T/audit.log"
both "entry 3" "entry 3" "one byte changed in entry 3"

tamper sig
python3 - "$T/audit.log" <<'EOF'
import sys
p = sys.argv[1]
lines = open(p, "rb").read().split(b"\n")
i = lines[4].index(b'"sig":"') + 7
lines[4] = lines[4][:i] + (b"B" if lines[4][i:i + 1] == b"A" else b"A") + lines[4][i + 1:]
open(p, "wb").write(b"\n".join(lines))
EOF
both "entry 4" "entry 4" "one byte changed in the signature of entry 4"

tamper checkpoint
python3 - "$T/audit.checkpoints" <<'EOF'
import sys
p = sys.argv[1]
lines = open(p, "rb").read().split(b"\n")
lines[2] = (b"B" if lines[2][:1] == b"A" else b"A") + lines[2][1:]
open(p, "wb").write(b"\n".join(lines))
EOF
both "checkpoint 0" "checkpoint 0" "one byte changed in the first checkpoint"

tamper delete
sed -i '3d' "$T/audit.log"
both "entry 2" "entry 2" "entry 2 deleted"

tamper swap
sed -i '3{h;d};4{G}' "$T/audit.log"
both "entry 2" "entry 2" "entries 2 and 3 swapped"

tamper truncate
head -n 6 "$S/audit.log" >"$T/audit.log"
both "truncated log: entry 6 is missing" "truncated" "the log truncated at an entry boundary"

tamper resign
python3 - "$T/audit.log" "$K/mallory.key" "$VERIFY_PY" <<'EOF'
import base64, importlib.util, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
spec = importlib.util.spec_from_file_location("av", sys.argv[3])
av = importlib.util.module_from_spec(spec)
spec.loader.exec_module(av)
seed = base64.b64decode(open(sys.argv[2]).read().strip().split("+", 4)[4])[1:]
lines = open(sys.argv[1], "rb").read().split(b"\n")
e = av.parse_json(lines[5].decode())
del e["sig"]
e["sig"] = base64.b64encode(Ed25519PrivateKey.from_private_bytes(seed).sign(av.jcs(e).encode())).decode()
lines[5] = av.jcs(e).encode()
open(sys.argv[1], "wb").write(b"\n".join(lines))
EOF
both "entry 5" "entry 5" "entry 5 re-signed with another key"

# A checkpoint replayed from an older log: a different history of the same
# size under the same key; its note appended to our checkpoints.
O="$TMP/older"
for i in 0 1 2 3 4 5 6 7 8; do
	A record --state-dir "$O" --signing-key "$K/alpha.key" --actor old --action "note.old$i" >/dev/null
done
tamper replay
ncp=$(grep -c '^—' "$S/audit.checkpoints")
python3 - "$O/audit.checkpoints" >>"$T/audit.checkpoints" <<'EOF'
import sys
text = open(sys.argv[1], encoding="utf-8").read()
notes = text.split("\n\n")
# the last note: its body is the three lines before the last blank line
body = notes[-2].split("\n")[-3:]
sys.stdout.write("\n".join(body) + "\n\n" + notes[-1])
EOF
both "checkpoint $ncp" "checkpoint $ncp" "a checkpoint replayed from an older log"

# A forked log: same prefix, then different entries; the fork's checkpoint
# does not verify the original.
F="$TMP/fork"
cp -a "$S" "$F"
A record --state-dir "$F" --signing-key "$K/alpha.key" --actor forker --action note.fork >/dev/null
rec --action note.mainline >/dev/null
tail -n 5 "$F/audit.checkpoints" >"$TMP/fork.cp"
check "the fork's last checkpoint was cut out whole" grep -q '^—' "$TMP/fork.cp"
run A verify --state-dir "$F" --key "$K/alpha.pub"
expect 0 "the fork verifies on its own" "ok: 10 entries"
run A verify --state-dir "$S" --key "$K/alpha.pub" --checkpoint "$TMP/fork.cp"
expect 1 "tamper: a forked log's checkpoint does not verify the original" "checkpoint"
T="$S"
pyexpect 1 "rejects the fork's checkpoint" "checkpoint" "$S" "$K/alpha.pub" --checkpoint "$TMP/fork.cp"
run A verify --state-dir "$S" --key "$K/alpha.pub" --checkpoint "$TMP/fork.cp" --fast
expect 1 "checkpoint-only mode also rejects the fork's checkpoint" "checkpoint"

# ---- torn tail vs truncation -------------------------------------------------
tamper torn
printf '{"action":"note.torn","act' >>"$T/audit.log"
run A verify --state-dir "$T" --key "$K/alpha.pub"
expect 0 "a torn last line is not tampering" "torn line of 26 bytes"
pyexpect 0 "reports a torn tail as such" "torn tail of 26 bytes" "$T" "$K/alpha.pub"
run A record --state-dir "$T" --signing-key "$K/alpha.key" --actor operator --action note.after-torn
expect 0 "the next writer repairs a torn tail" "recorded entry 11"
check "the repair is reported on stderr" grep -q "torn line of 26 bytes" "$TMP/err"
run A show --state-dir "$T" --action audit.torn-tail -o json
expect 0 "the repair entry carries the torn bytes' hash" \
	"\"sha256\":\"$(printf '{"action":"note.torn","act' | sha256sum | cut -d' ' -f1)\""
run A verify --state-dir "$T" --key "$K/alpha.pub"
expect 0 "the repaired log verifies" "ok: 12 entries"
pyexpect 0 "accepts the repaired log" "ok: 12 entries" "$T" "$K/alpha.pub"
tamper corrupt
sed -i '2s/"seq":1/"seq":7/' "$T/audit.log"
run A record --state-dir "$T" --signing-key "$K/alpha.key" --actor operator --action note.x
expect 1 "a writer refuses to append to a corrupt log" "corrupt|entry 1|seq"
check "and the corrupt log is left as it was" test "$(nlines "$T/audit.log")" = 10

# ---- log injection -------------------------------------------------------------
size_before=$(sha "$S/audit.log")
run rec --action note.inject --app $'web\n{"seq":99,"action":"forged"}'
expect 2 "a newline in --app is refused" "control character"
run rec --action note.inject --actor $'root\r\n— alpha AAAA'
expect 2 "a newline in --actor is refused" "control character"
run rec --action $'note.x\nforged'
expect 2 "a newline in --action is refused" "action"
run rec --action note.inject --env $'prod\x1b[2J'
expect 2 "an escape character in --env is refused" "control character"
run rec --action 'Forged Action'
expect 2 "an action outside the namespaces is refused" "action"
check "refused requests wrote nothing" test "$(sha "$S/audit.log")" = "$size_before"
run rec --action note.inject --app 'web — alpha' \
	--details $'{"msg":"line1\\nline2\\u2028— alpha AAAA\\u0007","x":"\u2014"}'
expect 0 "an em dash in --app and newlines inside details are stored" "recorded entry 10"
check "still one line per entry" test "$(nlines "$S/audit.log")" = 11
check "no checkpoint line was forged" test "$(grep -c '^—' "$S/audit.checkpoints")" = "$(grep -c '^$' "$S/audit.checkpoints")"
run A show --state-dir "$S" --action note.inject
check "show prints the injected entry on one escaped line" test "$(nlines "$TMP/out")" = 1
check "show escapes the newline and U+2028 in details" grep -qF 'line1\\nline2' "$TMP/out"
run A verify --state-dir "$S" --key "$K/alpha.pub"
expect 0 "the log with hostile strings verifies" "ok: 11 entries"
pyexpect 0 "accepts the log with hostile strings" "ok: 11 entries" "$S" "$K/alpha.pub"

# ---- redaction -----------------------------------------------------------------
secret='{"kind":"Secret","metadata":{"name":"db"},"data":{"password":"aHVudGVyMi11bmlxdWUteHl6"},"stringData":{"token":"tok-7f3e-unique-plain"}}'
rec --action note.secret --app web --details "{\"objects\":[$secret]}" >/dev/null
rec --action note.secret --app api --details "{\"objects\":[$secret]}" >/dev/null
check "a Secret's data value never reaches the file" sh -c "! grep -q aHVudGVyMi11bmlxdWUteHl6 '$S/audit.log'"
check "a Secret's stringData value never reaches the file" sh -c "! grep -q tok-7f3e-unique-plain '$S/audit.log'"
n_hmac=$(grep -o 'hmac-sha256:[0-9a-f]\{64\}' "$S/audit.log" | sort | uniq -c | awk '$1 == 2' | wc -l)
check "equal secrets give equal HMACs (two values, each twice)" test "$n_hmac" = 2
check "the installation HMAC key is mode 0600" test "$(stat -c %a "$S/audit.hmac-key")" = 600

# ---- key rotation --------------------------------------------------------------
R="$TMP/rot"
A record --state-dir "$R" --signing-key "$K/alpha.key" --actor op --action note.one >/dev/null
run A rotate-key --state-dir "$R" --signing-key "$K/alpha.key" --new "$K/beta.key" --actor op
expect 0 "rotate-key" "key rotated at entry 1"
run A record --state-dir "$R" --signing-key "$K/beta.key" --actor op --action note.two
expect 0 "the new key signs after the rotation" "recorded entry 2"
run A record --state-dir "$R" --signing-key "$K/alpha.key" --actor op --action note.three
expect 1 "the old key is refused after the rotation" "key"
A keygen --name gamma --out "$K/gamma" >/dev/null
A rotate-key --state-dir "$R" --signing-key "$K/beta.key" --new "$K/gamma.key" >/dev/null
A record --state-dir "$R" --signing-key "$K/gamma.key" --action note.four >/dev/null
run A verify --state-dir "$R" --key "$K/alpha.pub"
expect 0 "verification follows the key chain from the first key" "ok: 5 entries, [0-9]+ checkpoints, 3 keys"
pyexpect 0 "follows the key chain" "ok: 5 entries" "$R" "$K/alpha.pub"
run A verify --state-dir "$R" --key "$K/gamma.pub"
expect 1 "trusting only the last key does not verify the start" "entry 0"
run A show --state-dir "$R" --action key.rotated -o json
expect 0 "the rotation entry names the new key" "\"newKey\":\"$(cut -c1-20 "$K/beta.pub" | sed 's/+/\\+/g')"
run A record --state-dir "$R" --signing-key "$K/gamma.key" --action key.rotated
expect 2 "key.rotated cannot be recorded by hand" "reserved"

# ---- configuration -------------------------------------------------------------
C="$TMP/cfg"
cat >"$TMP/cairn.yaml" <<EOF
stateDir: $C
audit:
  key: $K/alpha.key
  trustedKey: $K/alpha.pub
  actor: ci-bot
  checkpointEvery: 2
EOF
run A record --config "$TMP/cairn.yaml" --action note.cfg
expect 0 "record with everything from --config" "recorded entry 0"
CAIRN_CONFIG="$TMP/cairn.yaml" run A verify
expect 0 "verify with the trusted key from \$CAIRN_CONFIG" "ok: 1 entries"
run A show --config "$TMP/cairn.yaml"
expect 0 "the actor comes from audit.actor" "ci-bot note.cfg"
USER=alice run A record --state-dir "$C" --signing-key "$K/alpha.key" --action note.user
run A show --state-dir "$C" --action note.user
expect 0 "without a configured actor, \$USER is labelled unverified" "user:alice \(unverified\)"

# ---- the single-writer lock ----------------------------------------------------
flock "$S/audit.lock" sleep 3 &
lpid=$!
sleep 0.3
run rec --action note.locked
expect 1 "a held lock is reported and nothing is written" "another writer"
wait $lpid
run A verify --state-dir "$S" --key "$K/alpha.pub"
expect 0 "the log still verifies after the lock was refused" "ok: 13 entries"

# ---- SIGKILL loop: acknowledged entries survive a killed writer ----------------
iters=3
[ "${CAIRN_LONG:-0}" = 1 ] && iters=30
W="$TMP/killed"
: >"$TMP/acks"
for it in $(seq "$iters"); do
	setsid bash -c 'while :; do "$1" audit record --state-dir "$2" --signing-key "$3" --actor killer --action note.kill || exit 1; done' \
		_ "$CAIRN" "$W" "$K/alpha.key" >>"$TMP/acks" 2>/dev/null &
	kpid=$!
	sleep "0.$((RANDOM % 7 + 2))"
	kill -KILL -- "-$kpid" 2>/dev/null
	wait $kpid 2>/dev/null
done
acked=$(grep -c '^recorded entry' "$TMP/acks")
run A verify --state-dir "$W" --key "$K/alpha.pub"
expect 0 "after $iters SIGKILLs the log verifies (a torn tail at most)" "ok: [0-9]+ entries"
entries=$(A show --state-dir "$W" -o json | wc -l)
missing=0
for s in $(sed -n 's/^recorded entry //p' "$TMP/acks"); do
	[ "$s" -lt "$entries" ] || missing=$((missing + 1))
done
check "all $acked acknowledged entries are in the log ($entries entries)" test "$missing" = 0 -a "$acked" -gt 0
run A record --state-dir "$W" --signing-key "$K/alpha.key" --action note.after-kill
expect 0 "a writer carries on after the kills"
run A verify --state-dir "$W" --key "$K/alpha.pub"
expect 0 "and the log still verifies" "ok: [0-9]+ entries"
pyexpect 0 "accepts the log written through the kills" "ok: [0-9]+ entries" "$W" "$K/alpha.pub"

done_testing
