#!/bin/bash
# demo_smoke.sh - ./demo.sh keeps working: run it on the programs of this
# build (CAIRN_DEMO_BUILD, so CI does not build build-demo as well) and
# check the lines that show each step happened, that it stops everything
# it started and removes its directory, and that a failing step is named
# and exits non-zero.
#
# Tier: fast (bounded: each demo run is killed after 240 s; about 45 s
# with an -O2 build, 45 to 110 s with the sanitizers depending on load).
. "$(dirname "$0")/lib.sh"

for t in kubectl git curl python3 timeout prometheus; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "1..0 # SKIP $t is not installed"
		exit 0
	fi
done
for p in cairn cairn-git cairnd cairn-sim; do
	if [ ! -x "$BUILDDIR/$p" ]; then
		echo "1..0 # SKIP $BUILDDIR/$p is not built"
		exit 0
	fi
done

# demo OUT [ENV=VALUE...]: run ./demo.sh, its temporary directory under
# $TMP/t (so what it leaves behind can be seen); exit status in $RC
demo() {
	local out=$1
	shift
	rm -rf "$TMP/t" && mkdir -p "$TMP/t"
	env TMPDIR="$TMP/t" CAIRN_DEMO_BUILD="$BUILDDIR" "$@" \
		timeout -k 5 240 "$SRCDIR/demo.sh" >"$out" 2>&1
	RC=$?
}
has() { grep -q -- "$1" "$TMP/demo.out"; }
has_re() { grep -Eq -- "$1" "$TMP/demo.out"; }
# alive PID: the process still exists (and is not a zombie)
alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }

demo "$TMP/demo.out"
check "./demo.sh exits 0" test "$RC" = 0
check "it ends with 'all steps passed'" has "demo: all steps passed"
check "cairn-sim and cairnd start" has_re "cairnd \(pid [0-9]+\) serves http://127.0.0.1:[0-9]+"
check "the hooks are installed" has "installed post-receive and pre-receive"
check "the pushed app is shown Synced" has_re "Sync Status: +Synced"
check "and Healthy" has_re "Health: +Healthy"
check "prod is compared, not synced" has_re "guestbook-prod: OutOfSync .* waits for a promotion"
check "the change is live: push-to-live times are printed" \
	has_re "[0-9]+ ms +guestbook-dev Synced at [0-9a-f]{40}"
check "the live Deployment runs 1.6.0 with 2 replicas" \
	has_re "guestbook +2 +2 +registry.local/guestbook:1.6.0"
check "the drift is recorded as corrected" \
	has_re "guestbook-dev +dev +Deployment/dev-guestbook/guestbook +correct +kubectl +yes"
check "and the replicas are back to 2" has "replicas are back to 2"
HIST=$(sed -n '/deployment history of guestbook-dev/,/audit trail/p' "$TMP/demo.out" |
	grep -cE '^  [0-9]+ +[0-9TZ:-]+ +[0-9a-f]{40}')
check "the history lists both deployments ($HIST)" test "$HIST" = 2
check "the audit trail shows the syncs" has_re "cairnd sync.succeeded app=guestbook-dev"
check "and verifies" has_re "^  ok: [0-9]+ entries"
check "cairnd exits 0 on SIGTERM" has "cairnd exited 0 on SIGTERM"
check "Prometheus starts on 127.0.0.1" has_re "Prometheus \(pid [0-9]+\) serves http://127.0.0.1:[0-9]+"
V2OUT=$(sed -n '/git push v2 of guestbook-canary/,/git push v3/p' "$TMP/demo.out")
V3OUT=$(sed -n '/git push v3/,/signed audit trail/p' "$TMP/demo.out")
check "v2: the canary runs at weight 20" grep -q "Progressing  weight 20 " <<<"$V2OUT"
check "v2: then at weight 50" grep -q "Progressing  weight 50 " <<<"$V2OUT"
check "v2: promoted (push to Healthy printed)" has_re "promoted: push to Healthy in [0-9]+ ms"
check "v2: rollout get says Healthy, rollout completed" grep -Eq "Message: +rollout completed" <<<"$V2OUT"
check "v3: rollout get says rolled back by the failed analysis" \
	grep -Eq "Message: +rolled back from [0-9a-f]{7}: analysis 'error-ratio' metric 'error-ratio' Failed" <<<"$V3OUT"
check "v3: the failing measurement (about 30% errors) is printed" \
	grep -Eq "measurement .* error-ratio = \[0\.(29|30)[0-9]*\] +Failed" <<<"$V3OUT"
check "v3: the decision is printed" grep -Eq "decision +[0-9:.]+ +analysis 'error-ratio'" <<<"$V3OUT"
check "v3: the time from the breach to 0 ready canary Pods is printed" \
	grep -Eq "[0-9]+ ms +from the failing measurement to 0 ready canary Pods" <<<"$V3OUT"
check "v3: the stable (1.7.0) is back at 5 of 5, the canary at 0" \
	grep -Eq "the ReplicaSets now: .*1\.7\.0 5/5 .*1\.8\.0 0/0" <<<"$V3OUT"
check "v3: the app is Degraded at the rolled-back revision" \
	grep -Eq "the app: Synced Degraded [0-9a-f]{40}" <<<"$V3OUT"
PPID_=$(sed -n 's/.*Prometheus (pid \([0-9]*\)).*/\1/p' "$TMP/demo.out")
check "Prometheus is gone afterwards" test -n "$PPID_" -a -z "$(alive "$PPID_" && echo y)"
DPID=$(sed -n 's/.*cairnd (pid \([0-9]*\)).*/\1/p' "$TMP/demo.out")
SPID=$(sed -n 's/.*cairn-sim (pid \([0-9]*\)).*/\1/p' "$TMP/demo.out")
check "cairnd is gone afterwards" test -n "$DPID" -a -z "$(alive "$DPID" && echo y)"
check "cairn-sim is gone afterwards" test -n "$SPID" -a -z "$(alive "$SPID" && echo y)"
check "its temporary directory is removed" test -z "$(ls -A "$TMP/t")"

# A failing step: a cairnd that cannot start. The demo names the step, shows
# the daemon's log, exits non-zero and still stops cairn-sim.
mkdir -p "$TMP/bad"
for p in cairn cairn-git cairn-sim; do ln -s "$BUILDDIR/$p" "$TMP/bad/$p"; done
printf '#!/bin/sh\necho "cairnd: cannot open the state: injected failure" >&2\nexit 1\n' \
	>"$TMP/bad/cairnd"
chmod +x "$TMP/bad/cairnd"
BUILDDIR_REAL=$BUILDDIR
BUILDDIR="$TMP/bad"
demo "$TMP/fail.out"
BUILDDIR=$BUILDDIR_REAL
check "a failing step exits non-zero" test "$RC" != 0 -a "$RC" != 124
check "and names the step" grep -q 'demo: FAILED at step "start cairnd"' "$TMP/fail.out"
check "and shows the daemon's log" grep -q "injected failure" "$TMP/fail.out"
SPID=$(sed -n 's/.*cairn-sim (pid \([0-9]*\)).*/\1/p' "$TMP/fail.out")
check "cairn-sim is stopped after a failure" test -n "$SPID" -a -z "$(alive "$SPID" && echo y)"
check "and the temporary directory removed" test -z "$(ls -A "$TMP/t")"
if [ -n "${VERBOSE:-}" ]; then sed 's/^/# /' "$TMP/demo.out"; fi
done_testing
