#!/bin/sh
# Run one test program and record how long it took, for check.sh's table.
start=$(date +%s%N)
"$@"
rc=$?
end=$(date +%s%N)
if [ -n "${CAIRN_TIMES:-}" ]; then
	for last in "$@"; do :; done
	awk -v n="$(basename "$last")" -v s="$start" -v e="$end" \
		'BEGIN { printf "%-32s %8.2f s\n", n, (e - s) / 1e9 }' >>"$CAIRN_TIMES"
fi
exit $rc
