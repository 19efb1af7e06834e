#!/bin/bash
# verify_commit.sh - cairn verify-commit against the two oracles on this
# machine: `git verify-commit` (gpg.format=ssh, gpg.ssh.allowedSignersFile)
# and `ssh-keygen -Y check-novalidate`/`-Y verify`. Commits are signed by
# real `git commit -S`; a wrong-namespace signature is made by
# `ssh-keygen -Y sign -n file` and spliced in; a tampered commit is written
# with `git hash-object --literally`.
. "$(dirname "$0")/lib.sh"

if ! command -v ssh-keygen >/dev/null || ! command -v git >/dev/null; then
	echo "1..0 # SKIP ssh-keygen or git missing"
	exit 0
fi

export GIT_CONFIG_NOSYSTEM=1 HOME="$TMP/home"
mkdir -p "$HOME"
K="$TMP/keys"
mkdir -p "$K"
for k in alice bob; do ssh-keygen -q -t ed25519 -N '' -C "$k" -f "$K/$k"; done
ssh-keygen -q -t rsa -b 2048 -N '' -C rsa -f "$K/rsa"
for b in 256 384 521; do ssh-keygen -q -t ecdsa -b $b -N '' -C ec$b -f "$K/ec$b"; done
quiet() { "$@" >/dev/null 2>&1; }
pub() { cut -d' ' -f1,2 "$K/$1.pub"; }

R="$TMP/repo"
git init -q "$R"
g() { git -C "$R" "$@"; }
g config user.name Alice
g config user.email alice@example.com
g config gpg.format ssh
g config user.signingkey "$K/alice.pub"

commit() { # commit BRANCH KEY [git commit args...]: a signed commit on a new branch
	local br=$1 key=$2
	shift 2
	g checkout -q -B "$br" main 2>/dev/null || g checkout -q -b "$br"
	echo "$br $RANDOM" >"$R/f-$br"
	g add "f-$br"
	g -c user.signingkey="$K/$key.pub" commit -q "$@" -m "commit $br"
}
g checkout -q -b main
echo base >"$R/base"
g add base
g commit -q -S -m base

commit signed alice -S
commit unsigned alice
commit rsa rsa -S
commit ec256 ec256 -S
commit ec384 ec384 -S
commit ec521 ec521 -S
GIT_COMMITTER_DATE="2020-06-01T00:00:00Z" commit old alice -S

# oracle: git verify-commit's exit status with allowed signers FILE
git_verdict() { g -c gpg.ssh.allowedSignersFile="$1" verify-commit "$2" >/dev/null 2>&1 && echo 0 || echo 1; }
# cairn's exit status and JSON status
cairn_status() { "$CAIRN" verify-commit "$R" "$2" --allowed-signers "$1" -o json 2>"$TMP/err" \
	| sed -n 's/^  "status": "\(.*\)",$/\1/p'; }
cairn_rc() { "$CAIRN" verify-commit "$R" "$2" --allowed-signers "$1" >/dev/null 2>&1; echo $?; }

# agree DESC FILE REV EXPECTED_STATUS: cairn's status as expected, and its
# exit status equals git verify-commit's.
agree() {
	local d=$1 f=$2 rev=$3 want=$4 st gv cv
	st=$(cairn_status "$f" "$rev")
	gv=$(git_verdict "$f" "$rev")
	cv=$(cairn_rc "$f" "$rev")
	if [ "$st" = "$want" ] && [ "$gv" = "$cv" ]; then
		ok "$d ($want; git $gv, cairn $cv)"
	else
		not_ok "$d: cairn status '$st' (want '$want'), git exit $gv, cairn exit $cv"
	fi
}

AS="$TMP/allowed"
echo "alice@example.com $(pub alice)" >"$AS"
agree "signed by an allowed key" "$AS" signed verified
agree "unsigned commit" "$AS" unsigned unsigned
echo "bob@example.com $(pub bob)" >"$TMP/bobonly"
agree "signed by a key not in the file" "$TMP/bobonly" signed key-not-allowed

# git's principal rule: the key's line names the principal, the committer
# e-mail (alice@example.com) is not compared.
echo "bob@example.com $(pub alice)" >"$TMP/mismatch"
agree "key listed for another principal than the committer" "$TMP/mismatch" signed verified
out=$("$CAIRN" verify-commit "$R" signed --allowed-signers "$TMP/mismatch" 2>&1)
gout=$(g -c gpg.ssh.allowedSignersFile="$TMP/mismatch" verify-commit signed 2>&1)
case "$out|$gout" in
*"for bob@example.com with"*"|"*"for bob@example.com with"*) ok "both name the principal of the key's line" ;;
*) not_ok "principal named: cairn '$out' git '$gout'" ;;
esac
# ...while ssh-keygen -Y verify with the committer e-mail as principal refuses
g cat-file commit signed >"$TMP/signed.obj"
awk '/^gpgsig /{s=1; sub(/^gpgsig /,""); print; next} s&&/^ /{sub(/^ /,""); print; next} {s=0}' \
	"$TMP/signed.obj" >"$TMP/signed.sig"
awk '/^gpgsig /{s=1; next} s&&/^ /{next} {s=0; print}' "$TMP/signed.obj" >"$TMP/signed.payload"
if ! ssh-keygen -Y verify -f "$TMP/mismatch" -I alice@example.com -n git -s "$TMP/signed.sig" \
	<"$TMP/signed.payload" >/dev/null 2>&1; then
	ok "ssh-keygen -Y verify -I <committer e-mail> refuses the same file"
else
	not_ok "ssh-keygen -Y verify -I alice@example.com accepted"
fi
check "ssh-keygen -Y check-novalidate accepts the extracted signature" quiet \
	ssh-keygen -Y check-novalidate -n git -s "$TMP/signed.sig" <"$TMP/signed.payload"

# negation: "!*1,x1,x2": git tries each principal of the line in turn
echo "!*1,x1,x2 $(pub alice)" >"$TMP/neg"
agree "negated patterns, third principal accepted" "$TMP/neg" signed verified
check "the accepted principal is x2" \
	grep -q '"principal": "x2"' <("$CAIRN" verify-commit "$R" signed --allowed-signers "$TMP/neg" -o json)
echo "alice@example.com,!alice@example.com $(pub alice)" >"$TMP/neg2"
agree "a principal refused by its own negation" "$TMP/neg2" signed principal-refused

# namespaces= option
echo "alice@example.com namespaces=\"file\" $(pub alice)" >"$TMP/nsfile"
agree "namespaces=\"file\" does not allow git" "$TMP/nsfile" signed namespace-not-allowed
echo "alice@example.com namespaces=\"file,g*\" $(pub alice)" >"$TMP/nsglob"
agree "namespaces pattern list allowing git" "$TMP/nsglob" signed verified

# validity, judged at the committer time (2020-06-01 for 'old')
echo "alice@example.com valid-before=\"20200101\" $(pub alice)" >"$TMP/expired"
agree "valid-before before the commit time" "$TMP/expired" old expired
echo "alice@example.com valid-before=\"20210101Z\" $(pub alice)" >"$TMP/stillvalid"
agree "valid-before after the commit time, long past now" "$TMP/stillvalid" old verified
echo "alice@example.com valid-after=\"20200601000001Z\" $(pub alice)" >"$TMP/notyet"
agree "valid-after one second after the commit time" "$TMP/notyet" old not-yet-valid
echo "alice@example.com valid-after=\"20200601000000Z\" $(pub alice)" >"$TMP/exact"
agree "valid-after equal to the commit time" "$TMP/exact" old verified
printf '%s\n' "alice@example.com valid-before=\"20200101\" $(pub alice)" \
	"carol@example.com $(pub alice)" >"$TMP/expired2"
agree "expired line skipped, next line holding the key used" "$TMP/expired2" old verified
echo "alice@example.com cert-authority $(pub alice)" >"$TMP/ca"
agree "cert-authority line does not allow a plain key" "$TMP/ca" signed key-not-allowed

# RSA and ECDSA keys
printf '%s\n' "rsa@example.com $(pub rsa)" "ec@example.com $(pub ec256)" \
	"ec@example.com $(pub ec384)" "ec@example.com $(pub ec521)" >"$TMP/others"
agree "RSA (rsa-sha2-512) signature" "$TMP/others" rsa verified
agree "ECDSA nistp256 signature" "$TMP/others" ec256 verified
agree "ECDSA nistp384 signature" "$TMP/others" ec384 verified
agree "ECDSA nistp521 signature" "$TMP/others" ec521 verified
agree "RSA signature, key not listed" "$AS" rsa key-not-allowed

# tampered: the signed commit with one byte of its message changed
sed 's/^commit signed$/commit signeD/' "$TMP/signed.obj" >"$TMP/tampered.obj"
T=$(g hash-object -w -t commit --literally "$TMP/tampered.obj")
g update-ref refs/heads/tampered "$T"
agree "tampered message" "$AS" tampered bad-signature
sed 's/^committer Alice/committer Mallory/' "$TMP/signed.obj" >"$TMP/tampered2.obj"
g update-ref refs/heads/tampered2 "$(g hash-object -w -t commit --literally "$TMP/tampered2.obj")"
agree "tampered committer" "$AS" tampered2 bad-signature
if ! ssh-keygen -Y check-novalidate -n git -s "$TMP/signed.sig" \
	< <(awk '/^gpgsig /{s=1; next} s&&/^ /{next} {s=0; print}' "$TMP/tampered.obj") >/dev/null 2>&1; then
	ok "ssh-keygen -Y check-novalidate refuses the tampered payload"
else
	not_ok "ssh-keygen accepted the tampered payload"
fi

# wrong namespace: a "file" signature of the same payload spliced in
ssh-keygen -q -Y sign -f "$K/alice" -n file "$TMP/signed.payload" 2>/dev/null
{
	awk '/^gpgsig /{exit} {print}' "$TMP/signed.obj"
	sed '1s/^/gpgsig /; 2,$s/^/ /' "$TMP/signed.payload.sig"
	awk 'f{print} /^$/{f=1; print ""}' "$TMP/signed.obj"
} >"$TMP/ns.obj"
g update-ref refs/heads/wrongns "$(g hash-object -w -t commit --literally "$TMP/ns.obj")"
agree "signature made for namespace 'file'" "$AS" wrongns wrong-namespace
check "ssh-keygen -Y check-novalidate -n file accepts the spliced signature" quiet \
	ssh-keygen -Y check-novalidate -n file -s "$TMP/signed.payload.sig" <"$TMP/signed.payload"

# a GPG-style signature block is not SSH
{
	awk '/^gpgsig /{exit} {print}' "$TMP/signed.obj"
	printf 'gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQ==\n -----END PGP SIGNATURE-----\n'
	awk 'f{print} /^$/{f=1; print ""}' "$TMP/signed.obj"
} >"$TMP/pgp.obj"
g update-ref refs/heads/pgp "$(g hash-object -w -t commit --literally "$TMP/pgp.obj")"
st=$(cairn_status "$AS" pgp)
check "a PGP signature block is reported as not-ssh" [ "$st" = not-ssh ]

# garbage inside the SSH armor
sed 's/^ U1NIU0lH/ U1NIU0lI/' "$TMP/signed.obj" >"$TMP/bad.obj"
g update-ref refs/heads/malformed "$(g hash-object -w -t commit --literally "$TMP/bad.obj")"
agree "SSH armor without the SSHSIG magic" "$AS" malformed malformed

# text output and exit codes
out=$("$CAIRN" verify-commit "$R" unsigned --allowed-signers "$AS")
rc=$?
check "unsigned: exit 1" [ $rc = 1 ]
check "unsigned: text names the reason" grep -q "not verified: commit [0-9a-f]\{40\}: unsigned: the commit is not signed" <<<"$out"

# URLs go through the mirror cache under the state directory, REV resolved
# as Argo CD resolves targetRevision (a semver constraint over tags too).
ST="$TMP/state"
g tag v1.2.0 signed
g tag v1.3.0 unsigned
json_field() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
out=$("$CAIRN" verify-commit "file://$R" signed --allowed-signers "$AS" --state-dir "$ST" -o json)
rc=$?
check "file:// URL: signed verifies (exit 0)" [ $rc = 0 ]
check "file:// URL: the commit is the branch's" [ "$(json_field commit <<<"$out")" = "$(g rev-parse signed)" ]
check "file:// URL: fetched into a mirror under the state dir" \
	[ "$(find "$ST/repos" -maxdepth 1 -name '*.git' | wc -l)" = 1 ]
"$CAIRN" verify-commit "file://$R" unsigned --allowed-signers "$AS" --state-dir "$ST" >"$TMP/out"
rc=$?
check "file:// URL: unsigned refused (exit 1)" [ $rc = 1 ]
check "file:// URL: names the reason" grep -q "not verified: commit $(g rev-parse unsigned): unsigned:" "$TMP/out"

PIDS=()
trap 'for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (echo >/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }
GP=$(free_port)
git daemon --listen=127.0.0.1 --port="$GP" --base-path="$TMP" --export-all --reuseaddr "$TMP" \
	>/dev/null 2>&1 &
PIDS+=($!)
if wait_port "$GP"; then
	U="git://127.0.0.1:$GP/repo"
	for c in "signed verified 0" "unsigned unsigned 1" "v1.2.0 verified 0" "tampered bad-signature 1" \
		"rsa key-not-allowed 1"; do
		set -- $c
		out=$("$CAIRN" verify-commit "$U" "$1" --allowed-signers "$AS" --state-dir "$ST" -o json \
			2>"$TMP/err")
		rc=$?
		st=$(json_field status <<<"$out" 2>/dev/null)
		id=$(json_field commit <<<"$out" 2>/dev/null)
		want=$(git_verdict "$AS" "$1")
		check "git daemon: $1 is $2 (exit $3, git verify-commit $want)" \
			[ "$st" = "$2" -a "$rc" = "$3" -a "$want" = "$3" -a "$id" = "$(g rev-parse "$1^{commit}")" ]
	done
	out=$("$CAIRN" verify-commit "$U" '>=1.0.0 <2.0.0' --allowed-signers "$AS" --state-dir "$ST" -o json)
	rc=$?
	check "git daemon: a semver range picks v1.3.0, unsigned (exit 1)" \
		[ "$rc" = 1 -a "$(json_field commit <<<"$out")" = "$(g rev-parse v1.3.0)" ]
	out=$("$CAIRN" verify-commit "$U" '1.2.*' --allowed-signers "$AS" --state-dir "$ST" -o json)
	check "git daemon: '1.2.*' picks v1.2.0, verified (exit 0)" \
		[ $? = 0 -a "$(json_field commit <<<"$out")" = "$(g rev-parse v1.2.0)" ]
	check "git daemon: a second mirror next to the file:// one" \
		[ "$(find "$ST/repos" -maxdepth 1 -name '*.git' | wc -l)" = 2 ]
else
	not_ok "git daemon did not start on 127.0.0.1:$GP"
fi
NP=$(free_port)
"$CAIRN" verify-commit "git://127.0.0.1:$NP/repo" main --allowed-signers "$AS" --state-dir "$ST" \
	>/dev/null 2>"$TMP/err"
rc=$?
check "unreachable URL: exit 1" [ $rc = 1 ]
check "unreachable URL: says so" grep -q "^cairn: verify-commit: .*127.0.0.1:$NP" "$TMP/err"
"$CAIRN" verify-commit "$R" signed >/dev/null 2>"$TMP/err"
check "missing --allowed-signers: exit 2" [ $? = 2 ]
check "missing --allowed-signers: message" grep -q -- "--allowed-signers FILE is required" "$TMP/err"
"$CAIRN" verify-commit "$R" --allowed-signers "$AS" >/dev/null 2>&1
check "one operand: exit 2" [ $? = 2 ]
check "--help: exit 0" quiet "$CAIRN" verify-commit --help
"$CAIRN" verify-commit "$R" no-such-branch --allowed-signers "$AS" 2>"$TMP/err"
rc=$?
check "unknown revision: exit 1 and named" grep -q "revision 'no-such-branch' not found" "$TMP/err"
check "unknown revision exit status" [ $rc = 1 ]
printf '# ok\nalice@example.com namespaces=git %s\n' "$(pub alice)" >"$TMP/badfile"
"$CAIRN" verify-commit "$R" signed --allowed-signers "$TMP/badfile" 2>"$TMP/err"
rc=$?
check "malformed allowed signers: file and line named" \
	grep -q "$TMP/badfile:2:30: option 'namespaces' needs a quoted value" "$TMP/err"
check "malformed allowed signers: exit 1" [ $rc = 1 ]

done_testing
