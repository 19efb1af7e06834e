#!/bin/bash
# Cairn's tests. Fast tier by default; CAIRN_LONG=1 adds the soak tier.
# Installs what it needs, builds with ASan+UBSan (and libFuzzer), runs the
# unit and integration suites and each fuzz harness, prints how long each
# suite took, and ends with "N passed, M failed".
set -u
cd "$(dirname "$0")"
top=$(pwd)
jobs=${CAIRN_JOBS:-2}
long=${CAIRN_LONG:-0}
build=$top/build-check
passed=0
failed=0
export CAIRN_LONG=$long

step() { printf '\n== %s\n' "$*"; }
die() {
	echo "check.sh: $*" >&2
	echo "$passed passed, $((failed + 1)) failed"
	exit 1
}
t0=$(date +%s)

step "dependencies"
./scripts/install-deps.sh || die "installing dependencies failed"

step "format (clang-format)"
fmt_bad=$(git ls-files '*.c' '*.h' 2>/dev/null | xargs -r clang-format --dry-run --Werror 2>&1 | grep -c 'error:' || true)
if [ "$fmt_bad" != 0 ]; then
	git ls-files '*.c' '*.h' | xargs -r clang-format --dry-run --Werror 2>&1 | head -20
	echo "FAIL: format: $fmt_bad places differ from .clang-format (run clang-format -i)"
	failed=$((failed + 1))
else
	echo "PASS: format"
	passed=$((passed + 1))
fi

step "build (clang, ASan + UBSan, libFuzzer)"
autoreconf -fi >/dev/null 2>&1 || die "autoreconf failed"
rm -rf "$build"
mkdir -p "$build"
(cd "$build" && "$top/configure" -q CC=clang --enable-sanitizers --enable-werror --enable-fuzzing) ||
	die "configure failed"
make -C "$build" -j"$jobs" >"$build/build.log" 2>&1 || {
	tail -40 "$build/build.log"
	die "build failed"
}

step "unit and integration tests (make check)"
rm -f "$build/tests/times.txt"
make -C "$build" -j"$jobs" check >"$build/check.log" 2>&1
check_rc=$?
sed -n '/^=\+$/,$p' "$build/check.log" | grep -E '^(# |FAIL|ERROR)' || true
if [ -f "$build/test-suite.log" ]; then
	grep -E '^(FAIL|ERROR|not ok)' "$build/test-suite.log" | head -40
fi
count() { sed -n "s/^# $1: *\([0-9]*\).*/\1/p" "$build/check.log" | awk '{s+=$1} END {print s+0}'; }
p=$(( $(count PASS) + $(count XFAIL) ))
f=$(( $(count FAIL) + $(count ERROR) + $(count XPASS) ))
if [ "$check_rc" != 0 ] && [ "$f" = 0 ]; then
	tail -30 "$build/check.log"
	f=1
fi
passed=$((passed + p))
failed=$((failed + f))

step "fuzz harnesses"
fuzz_secs=5
[ "$long" = 1 ] && fuzz_secs=${CAIRN_FUZZ_SECS:-120}
if bash tests/fuzz/run.sh "$build" "$fuzz_secs" >"$build/fuzz.log" 2>&1; then :; fi
grep -E '^(PASS|FAIL):' "$build/fuzz.log"
passed=$((passed + $(grep -c '^PASS:' "$build/fuzz.log")))
failed=$((failed + $(grep -c '^FAIL:' "$build/fuzz.log")))
cat "$build/fuzz.log" | grep -E '^fuzz ' >>"$build/tests/times.txt" || true

if [ "$long" = 1 ]; then
	step "make distcheck (soak tier)"
	if (cd "$build" && make -j"$jobs" distcheck >"$build/distcheck.log" 2>&1); then
		echo "PASS: distcheck"
		passed=$((passed + 1))
	else
		tail -30 "$build/distcheck.log"
		echo "FAIL: distcheck"
		failed=$((failed + 1))
	fi
fi

step "time per suite"
[ -f "$build/tests/times.txt" ] && sort "$build/tests/times.txt"
echo "total $(( $(date +%s) - t0 )) s (tier: $([ "$long" = 1 ] && echo soak || echo fast))"
echo
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
