#!/bin/bash
# audit_crash.sh - real SIGKILL loops: a writer process (audit_writer) is
# killed at random moments; every seq it printed as acknowledged must still
# be in the log after a reopen (which repairs a torn tail), and the log
# must verify. A few iterations in the fast tier, 200 with CAIRN_LONG=1.
. "$(dirname "$0")/lib.sh"

W="${AUDIT_WRITER:-$BUILDDIR/tests/integration/audit_writer}"
[ -x "$W" ] || { echo "1..0 # SKIP audit_writer not built"; exit 0; }
runs=5
[ "${CAIRN_LONG:-0}" = 1 ] && runs=200

"$W" keygen "$TMP/k" crash-key
check "keygen writes the key pair" test -s "$TMP/k.key" -a -s "$TMP/k.pub"

i=0
while [ "$i" -lt "$runs" ]; do
	i=$((i + 1))
	dir="$TMP/state$i"
	"$W" write "$dir" "$TMP/k.key" 100000 3 >"$TMP/acks$i" 2>"$TMP/err$i" &
	pid=$!
	# 20..300 ms, then SIGKILL
	ms=$(( ($(od -An -N2 -tu2 /dev/urandom) % 280) + 20 ))
	sleep "$(printf '0.%03d' "$ms")"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	"$W" open "$dir" "$TMP/k.key" 2>>"$TMP/err$i"
	out=$("$W" verify "$dir" "$TMP/k.pub")
	entries=$(printf '%s\n' "$out" | sed -n 's/^ok entries=\([0-9]*\).*/\1/p')
	maxack=$(sed -n 's/^ack //p' "$TMP/acks$i" | sort -n | tail -1)
	nack=$(grep -c '^ack ' "$TMP/acks$i")
	if [ -n "$entries" ] && { [ -z "$maxack" ] || [ "$maxack" -lt "$entries" ]; }; then
		ok "kill run $i: $nack acknowledged entries all present ($entries in the log), log verifies"
	else
		not_ok "kill run $i: verify said '$out', highest ack '$maxack'"
		cat "$TMP/err$i" >&2
	fi
	rm -rf "$dir"
done
done_testing
