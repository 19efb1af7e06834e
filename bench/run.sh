#!/bin/sh
# bench/run.sh - build an optimised tree (build-bench/ at the repository
# root: -O2 -g, no sanitizers, no fuzzing) if missing, build the programs
# and every bench/bench_* program, run each and print its figures, then the
# start-up time of `cairn version` beside /bin/true (median of 50 runs).
# `make bench` calls this.
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
bld="$src/build-bench"
if [ ! -f "$bld/Makefile" ]; then
	mkdir -p "$bld"
	(cd "$bld" && "$src/configure" -q CFLAGS='-O2 -g')
fi
benches=$(cd "$src/bench" && ls bench_*.c | sed 's/\.c$//')
targets=""
for b in $benches; do
	targets="$targets bench/$b"
done
make -C "$bld" -j2 libcairn.la >/dev/null
make -C "$bld" -j2 cairn $targets >/dev/null || true
status=0
for b in $benches; do
	if [ -x "$bld/bench/$b" ]; then
		echo "== $b"
		"$bld/bench/$b" || status=1
	else
		echo "== $b: not built"
		status=1
	fi
done

# Median wall time, in ms, of 50 runs of a command.
median_ms() {
	i=0
	while [ $i -lt 50 ]; do
		s=$(date +%s%N)
		"$@" >/dev/null 2>&1 || true
		e=$(date +%s%N)
		echo $(( (e - s) / 1000 ))
		i=$((i + 1))
	done | sort -n | sed -n 25p | awk '{ printf "%.2f", $1 / 1000 }'
}
if [ -x "$bld/cairn" ]; then
	echo "== start-up"
	echo "start-up: cairn version $(median_ms "$bld/cairn" version) ms," \
		"/bin/true $(median_ms /bin/true) ms (median of 50)"
fi
exit $status
