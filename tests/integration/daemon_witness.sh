#!/bin/bash
# daemon_witness.sh - cairnd mirrors its signed audit checkpoints to a git
# ref (audit.witness): a commit per checkpoint on refs/cairn/audit of a
# local repository (bare, and a non-bare one with a custom ref), holding
# the checkpoint byte for byte and the verifier key; linear history; a
# commit another writer put on the ref is kept (compare-and-swap); a
# broken repository is logged and counted and the audit trail goes on; the
# shutdown checkpoint is mirrored; `cairn audit verify --checkpoint` with
# the witness's checkpoint accepts the log and catches a log that was
# truncated or rewritten with the same key; a missing repository and a
# remote URL are refused at start-up naming the key.
#
# Tier: fast (real cairnd and git, no cluster; about 10 s).
. "$(dirname "$0")/lib.sh"

CAIRND=${CAIRND:-$BUILDDIR/cairnd}
for t in git curl python3; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "1..0 # SKIP $t is not installed"
		exit 0
	fi
done
DPID=
trap '[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
export GIT_CONFIG_NOSYSTEM=1 HOME="$TMP/home"
unset CAIRN_CONFIG CAIRN_TOKEN CAIRN_STATE_DIR
mkdir -p "$HOME" envs
git config --global user.name t && git config --global user.email t@t
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
API="http://127.0.0.1:$PORT"
ORIGIN=witness.test/audit
"$CAIRN" audit keygen --name witness-test --out "$TMP/audit" >/dev/null
git init -q --bare witness.git

STATE=state
# config WITNESS-MAPPING [STATE]: cairn.yaml for cairnd, no apps
config() {
	cat >cairn.yaml <<Y
stateDir: $TMP/${2:-state}
listen: {api: "127.0.0.1:$PORT"}
environmentsDir: envs
audit:
  key: $TMP/audit.key
  trustedKey: $TMP/audit.pub
  origin: $ORIGIN
  witness: $1
Y
}
start() { "$CAIRND" --config cairn.yaml --poll off --grace 5s \
	>>"$TMP/cairnd.out" 2>>"$TMP/cairnd.err" & DPID=$!; }
ready() { for _ in $(seq 100); do curl -sf "$API/readyz" >/dev/null && return 0; sleep 0.1; done; return 1; }
stop() { kill -TERM "$DPID"; wait "$DPID"; RC=$?; DPID=; }
# record N: N `cairn audit record` through the daemon's socket
record() { for i in $(seq "$1"); do
	"$CAIRN" audit record --action note.test --actor op --state-dir "$TMP/$STATE" \
		--details "{\"n\":$i}" >/dev/null 2>>"$TMP/rec.err" || return 1
done; }
W="git -C witness.git"
commits() { $W rev-list --count refs/cairn/audit 2>/dev/null || echo 0; }
wait_commits() { for _ in $(seq 100); do [ "$(commits)" = "$1" ] && return 0; sleep 0.05; done
	echo "# $(commits) commits"; return 1; }
# last_note: the last signed note of audit.checkpoints (each starts with the origin line)
last_note() { python3 -c 'import sys; t=open(sys.argv[1]).read(); i=t.rfind("\n"+sys.argv[2]+"\n")
sys.stdout.write(t[i+1:] if i >= 0 else t)' "$STATE/audit.checkpoints" "$ORIGIN"; }
entries() { wc -l <state/audit.log | tr -d ' '; }

# start-up refusals name the key
config "{repository: missing.git}"
mkdir sub && mv cairn.yaml sub/
"$CAIRND" --config sub/cairn.yaml --poll off >/dev/null 2>err1 &
wait $!
check "a missing witness repository stops cairnd at start-up" test $? != 0
check "and the error names the key and the path" \
	grep -q "audit.witness.repository: '$TMP/sub/missing.git' is not a directory" err1
config "{repository: 'https://git.example/audit.git'}"
"$CAIRND" --config cairn.yaml --poll off >/dev/null 2>err2 &
wait $!
check "a remote witness URL is refused at start-up" test $? != 0
check "and the error says remotes are not supported yet" \
	grep -q "'audit.witness.repository' must be a local path or a file:// URL: pushing the witness to a remote ('https://git.example/audit.git') is not supported yet" err2
config "{repository: witness.git, colour: red}"
"$CAIRND" --config cairn.yaml --poll off >/dev/null 2>err3 &
wait $!
check "an unknown key under audit.witness is refused" \
	grep -q "unknown key 'audit.witness.colour' (expected repository, ref, every)" err3
config "{repository: witness.git, ref: 'refs/cairn/../x'}"
"$CAIRND" --config cairn.yaml --poll off >/dev/null 2>err4 &
wait $!
check "a bad ref name is refused" \
	grep -q "'audit.witness.ref' must be a git ref name under refs/ such as 'refs/cairn/audit', not 'refs/cairn/../x'" err4
config "{repository: witness.git, every: 0}"
"$CAIRND" --config cairn.yaml --poll off >/dev/null 2>err5 &
wait $!
check "every: 0 is refused" \
	grep -q "'audit.witness.every' must be a positive number of entries or a duration such as '30s'" err5
check "nothing was written to the witness by the refused starts" \
	test -z "$(git -C witness.git for-each-ref)"

# every 3 entries, relative path (against cairn.yaml's directory)
config "{repository: witness.git, every: 3}"
start
check "cairnd starts with a witness" ready
record 3
check "three audited actions give a witness commit" wait_commits 1
check "the commit holds the checkpoint of the audit log, byte for byte" \
	cmp <($W show refs/cairn/audit:checkpoint) <(last_note)
check "the checkpoint covers the 3 entries" \
	test "$($W show refs/cairn/audit:checkpoint | sed -n 2p)" = 3
check "the commit holds the verifier key" cmp <($W show refs/cairn/audit:key.pub) audit.pub
check "the commit message names the tree size and root" \
	bash -c "$W log -1 --format=%B refs/cairn/audit | grep -qx 'root: $($W show refs/cairn/audit:checkpoint | sed -n 3p)'"
FIRST=$($W rev-parse refs/cairn/audit)
record 3
check "three more give a second commit" wait_commits 2
check "whose parent is the first" test "$($W rev-parse refs/cairn/audit^)" = "$FIRST"
check "and it mirrors the new checkpoint" cmp <($W show refs/cairn/audit:checkpoint) <(last_note)
record 1
sleep 0.3
check "one entry (fewer than every) makes no commit yet" test "$(commits)" = 2

# another writer's commit on the ref is built upon, not overwritten
TIP=$($W rev-parse refs/cairn/audit)
FOREIGN=$($W commit-tree -p "$TIP" -m "another witness writer" "$($W rev-parse refs/cairn/audit^{tree})")
$W update-ref refs/cairn/audit "$FOREIGN" "$TIP"
record 2
check "the next checkpoint is committed after the other writer's" wait_commits 4
check "on top of that commit (nothing lost)" test "$($W rev-parse refs/cairn/audit^)" = "$FOREIGN"

# a broken witness is logged and counted; the trail goes on; it recovers
mv witness.git witness.away
record 3
check "audit records still succeed while the witness is broken" test "$(entries)" = 12
for _ in $(seq 60); do curl -s "$API/metrics" | grep -q '^cairn_audit_witness_writes_total{result="error"} [1-9]' && break; sleep 0.05; done
check "the failed write is counted in /metrics" \
	bash -c "curl -s '$API/metrics' | grep -q '^cairn_audit_witness_writes_total{result=\"error\"} [1-9]'"
check "and logged" grep -q "audit witness: .*witness.git" cairnd.err
mv witness.away witness.git
check "once the repository is back the checkpoint is mirrored" wait_commits 5
check "with the 12 entries" test "$($W show refs/cairn/audit:checkpoint | sed -n 2p)" = 12
check "/metrics counts the successful writes" \
	bash -c "curl -s '$API/metrics' | grep -qx 'cairn_audit_witness_writes_total{result=\"ok\"} 4'"

# shutdown: the final checkpoint is mirrored
record 1
stop
check "SIGTERM: cairnd exits 0 after mirroring" test "$RC" = 0
check "after SIGTERM the ref holds the shutdown checkpoint" \
	test "$($W show refs/cairn/audit:checkpoint | sed -n 2p)" = 13
check "equal to the log's last checkpoint" cmp <($W show refs/cairn/audit:checkpoint) <(last_note)
check "the history is linear: every commit has one parent, the previous" \
	bash -c "$W rev-list --parents refs/cairn/audit | awk 'NR>1 && \$1!=prev {exit 1} NF>2 {exit 1} {prev=\$2} END {exit 0}'"
check "six commits in all (one of them the other writer's)" test "$(commits)" = 6

# an auditor checks the log against the witness
$W show refs/cairn/audit:checkpoint >witness.cp
"$CAIRN" audit verify --state-dir state --key audit.pub --checkpoint witness.cp >v1.out 2>&1
check "cairn audit verify --checkpoint accepts the log against the witness" test $? = 0
# a truncated log with its checkpoints removed passes alone, not against the witness
cp -r state trunc
head -n 10 state/audit.log >trunc/audit.log
rm -f trunc/audit.checkpoints trunc/audit.tree
"$CAIRN" audit verify --state-dir trunc --key audit.pub >v2.out 2>&1
check "a truncated log without its checkpoints verifies alone" test $? = 0
"$CAIRN" audit verify --state-dir trunc --key audit.pub --checkpoint witness.cp >v3.out 2>&1
check "but not against the witness's checkpoint" test $? = 1
check "which says entry 10 is missing" grep -q "^FAIL: truncated log: entry 10 is missing" v3.out
# a log rewritten from scratch with the same key, same length
config "{repository: witness.git}" forged
cat >>cairn.yaml <<Y
  actor: op
Y
for i in $(seq 13); do
	"$CAIRN" audit record --config cairn.yaml --action note.test --details "{\"n\":\"forged $i\"}" \
		>/dev/null 2>>forge.err
done
check "a forged log of 13 entries with the same key" test "$(wc -l <forged/audit.log)" = 13
"$CAIRN" audit verify --state-dir forged --key audit.pub >v4.out 2>&1
check "verifies alone" test $? = 0
"$CAIRN" audit verify --state-dir forged --key audit.pub --checkpoint witness.cp >v5.out 2>&1
check "but the witness's checkpoint catches it" test $? = 1
check "as a checkpoint whose root disagrees" \
	grep -q "^FAIL: the --checkpoint note: .*Merkle root does not match the log's first 13 entries" v5.out

# a non-bare repository and a custom ref; every as a duration
git init -q plain
STATE=state2
config "{repository: 'file://$TMP/plain', ref: refs/audit/witness, every: 200ms}" state2
start
check "cairnd starts with a non-bare witness repository" ready
record 2
psize() { git -C plain show refs/audit/witness:checkpoint 2>/dev/null | sed -n 2p; }
for _ in $(seq 60); do [ "$(psize)" = 2 ] && break; sleep 0.05; done
check "within an interval or two the checkpoint of both entries is on the custom ref" test "$(psize)" = 2
check "and equal to the log's last checkpoint" \
	cmp <(git -C plain show refs/audit/witness:checkpoint) <(STATE=state2; last_note)
check "the work tree and HEAD are left alone" bash -c "! git -C plain rev-parse -q --verify HEAD >/dev/null && test -z \"\$(git -C plain status --porcelain)\""
stop
check "cairnd exits 0 on SIGTERM" test "$RC" = 0

done_testing
