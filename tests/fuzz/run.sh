#!/bin/bash
# Run every libFuzzer harness built in BUILD for SECS seconds on its seed
# corpus (tests/fuzz/corpus/<name>/). Prints "PASS: fuzz_x" or "FAIL: fuzz_x"
# per harness and "fuzz_x <secs> s" timing lines.
set -u
build=$1
secs=${2:-5}
src=$(cd "$(dirname "$0")" && pwd)
status=0
for h in "$build"/tests/fuzz/fuzz_*; do
	[ -x "$h" ] || continue
	name=$(basename "$h")
	seeds="$src/corpus/${name#fuzz_}"
	work="$build/tests/fuzz/work-$name"
	rm -rf "$work"
	mkdir -p "$work"
	start=$(date +%s)
	if "$h" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-artifact_prefix="$work/" "$work" "$seeds" >"$work/log" 2>&1; then
		echo "PASS: $name"
	else
		tail -30 "$work/log"
		echo "FAIL: $name"
		status=1
	fi
	echo "fuzz $name $(( $(date +%s) - start )) s"
done
exit $status
