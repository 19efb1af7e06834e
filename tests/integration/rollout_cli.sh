#!/bin/bash
# rollout_cli.sh - `cairn rollout list|get|promote|pause|resume|abort|retry`
# on rows written through the state API by rollout_seed (no engine runs
# here): tables, JSON, the candidate error, requests as the engine would
# take them, --watch without a terminal, errors and exit statuses.
. "$(dirname "$0")/lib.sh"
SEED="${ROLLOUT_SEED:-$BUILDDIR/tests/integration/rollout_seed}"
[ -x "$SEED" ] || { echo "1..0 # SKIP rollout_seed not built"; exit 0; }
cd "$TMP" || exit 1
export CAIRN_STATE_DIR="$TMP/state"
unset CAIRN_CONFIG

# No state database yet: an empty list, and get says there is none.
"$CAIRN" rollout list > empty.out 2>&1
check "list without a database succeeds" [ $? = 0 ]
check "and prints only the header" [ "$(wc -l < empty.out)" = 1 ]
"$CAIRN" rollout get guestbook > nodb.out 2>&1
check "get without a database is an error (2)" [ $? = 2 ]
check "naming the missing database" grep -q "state database '$TMP/state/state.db' does not exist" nodb.out

"$SEED" "$TMP/state" seed
check "seeded" [ $? = 0 ]

"$CAIRN" rollout list > list.out 2> list.err
check "list succeeds" [ $? = 0 ]
check "list header" grep -Eq '^APP +ENV +ROLLOUT +STRATEGY +PHASE +STEP +WEIGHT +REVISION +AGE +MESSAGE$' list.out
check "five rows" [ "$(wc -l < list.out)" = 6 ]
check "canary row: step 2 of 3, 20%, short revision, age" \
	grep -Eq '^guestbook +prod +web +canary +Paused +2/3 +20% +1a2b3c4 +5m +paused at step 2' list.out
check "rolled-back row with its message" \
	grep -Eq '^api +prod +api +canary +Degraded +- +0% .*rolled back from bad0bad' list.out
"$CAIRN" rollout list --env prod > prod.out
check "--env filters" [ "$(grep -c ' prod ' prod.out)/$(wc -l < prod.out)" = 2/3 ]
"$CAIRN" rollout list --app shop -o json > shop.json
check "list -o json with --app" python3 -c '
import json
v=json.load(open("shop.json"))
assert [r["name"] for r in v]==["back","front"], v
assert all(r["app"]=="shop" and r["strategy"]=="blueGreen" and r["request"] is None for r in v)
'

"$CAIRN" rollout get guestbook > get.out 2> get.err
check "get APP with one rollout" [ $? = 0 ]
check "get: phase" grep -q '^Phase: *Paused$' get.out
check "get: step out of the steps" grep -q '^Step: *2/3$' get.out
check "get: weights" grep -q '^Weight: *canary 20%, stable 80%$' get.out
check "get: stable hash" grep -q '^Stable hash: *5d8f9$' get.out
check "get: canary hash" grep -q '^Canary hash: *7c4b2$' get.out
check "get: current step marked" grep -Eq '^ +-> +2 +\{"pause":\{\}\}$' get.out
check "get: measurement with value, phase and query" \
	grep -Eq 'measurement +error-ratio Successful value=0.012 query=.sum\(rate\(errors\{rs="7c4b2"\}\[1m\]\)\).$' get.out
"$CAIRN" rollout get api --env prod > failed.out
check "get: the failed revision and why" grep -q "^Failed: *bad0bad0: analysis 'error-ratio' failed$" failed.out
"$CAIRN" rollout get guestbook --env prod --name web -o json --events 2 > get.json
check "get -o json" python3 -c '
import json
r=json.load(open("get.json"))
assert r["phase"]=="Paused" and r["step"]==1 and r["steps"]==3 and r["weight"]==20, r
assert r["stableHash"]=="5d8f9" and r["canaryHash"]=="7c4b2"
assert r["status"]["rollout"]["spec"]["strategy"]["canary"]["steps"][0]=={"setWeight":20}
assert [e["kind"] for e in r["events"]]==["weight","measurement"], r["events"]
m=r["events"][1]["data"]
assert m["value"]==0.012 and m["phase"]=="Successful" and m["metric"]=="error-ratio", m
'

# Several rollouts of one app: an error listing the candidates.
"$CAIRN" rollout get api > cand.out 2>&1
check "APP with two rollouts is an error (2)" [ $? = 2 ]
check "listing the candidates" grep -q "application 'api' has 2 rollouts: choose one with --env 'dev' --name 'api', --env 'prod' --name 'api'" cand.out
"$CAIRN" rollout abort shop > cand2.out 2>&1
check "a request to an ambiguous APP is refused (2)" [ $? = 2 ]
check "and writes nothing" [ "$("$SEED" "$TMP/state" take shop dev front)" = "(none)" ]
"$CAIRN" rollout promote nope > none.out 2>&1
check "unknown app (2)" [ $? = 2 ]
check "says so" grep -q "cairn rollout promote: no rollout of application 'nope'" none.out

# Requests, read back as the engine takes them.
"$CAIRN" rollout promote guestbook > prom.out
check "promote succeeds" [ $? = 0 ]
check "promote says what" grep -q "requested promote of rollout 'web' (app 'guestbook', env 'prod')" prom.out
check "and who picks it up" grep -q "cairnd picks it up at its next tick (or \`cairn app sync guestbook --env prod\`" prom.out
"$CAIRN" rollout get guestbook | grep -q '^Request: *promote (pending)$'
check "get shows the pending request" [ $? = 0 ]
check "the engine takes promote" [ "$("$SEED" "$TMP/state" take guestbook prod web)" = promote ]
check "and only once" [ "$("$SEED" "$TMP/state" take guestbook prod web)" = "(none)" ]
"$CAIRN" rollout promote guestbook --full > /dev/null
check "promote --full is promote-full" [ "$("$SEED" "$TMP/state" take guestbook prod web)" = promote-full ]
for r in pause resume retry; do
	"$CAIRN" rollout $r guestbook --env prod > req.out
	check "$r succeeds" [ $? = 0 ]
	check "$r is recorded" [ "$("$SEED" "$TMP/state" take guestbook prod web)" = $r ]
done
"$CAIRN" rollout abort api --env prod --name api > abort.out
check "abort with --env/--name" [ $? = 0 ]
check "abort recorded" [ "$("$SEED" "$TMP/state" take api prod api)" = abort ]
check "on its row only" [ "$("$SEED" "$TMP/state" take api dev api)" = "(none)" ]
"$CAIRN" rollout pause shop --env dev --name back > /dev/null
"$CAIRN" rollout resume shop --env dev --name back > replace.out
check "a new request replaces a pending one" grep -q "it replaces the pending request 'pause'" replace.out
check "resume is what is pending" [ "$("$SEED" "$TMP/state" take shop dev back)" = resume ]

# Bad names and usage.
"$CAIRN" rollout rollback guestbook > bad.out 2>&1
check "an unknown request name is refused (2)" [ $? = 2 ]
check "naming the requests" grep -q "unknown subcommand 'rollback' (expected list, get, promote, pause, resume, abort or retry)" bad.out
"$CAIRN" rollout pause guestbook --full > full.out 2>&1
check "--full only with promote (2)" [ $? = 2 ]
check "says so" grep -q -- "--full goes with promote only" full.out
"$CAIRN" rollout get > noapp.out 2>&1
check "get without APP (2)" [ $? = 2 ]
check "says so" grep -q "rollout get needs an APP" noapp.out
"$CAIRN" rollout list -o yaml > fmt.out 2>&1
check "unknown output format (2)" [ $? = 2 ]
check "says so" grep -q "unknown output format 'yaml'" fmt.out
"$CAIRN" rollout --help | grep -q '^usage: cairn rollout list'
check "--help" [ $? = 0 ]

# --watch without a terminal: the view once, then new events and phase
# changes line by line, until the rollout completes.
"$CAIRN" rollout get guestbook --watch --events 1 > watch.out 2>&1 &
W=$!
sleep 1
"$SEED" "$TMP/state" event guestbook prod web promote
sleep 1
"$SEED" "$TMP/state" phase guestbook prod web Healthy
for _ in $(seq 50); do kill -0 $W 2> /dev/null || break; sleep 0.1; done
if kill -0 $W 2> /dev/null; then kill $W; not_ok "watch ends when the rollout completes"; else
	wait $W
	check "watch ends when the rollout completes, exit 0" [ $? = 0 ]
fi
check "watch printed the view once" [ "$(grep -c '^Phase:' watch.out)" = 1 ]
check "then the new event" grep -Eq '^  [0-9T:.-]+Z  promote +\{"note":"seeded"\}$' watch.out
check "then the phase change" grep -q '^phase Healthy, step 2, weight 20%' watch.out
timeout 5 "$CAIRN" rollout get api --env dev --watch > done.out 2>&1
check "watch of a completed rollout returns at once" [ $? = 0 ]
check "after showing it" grep -q '^Phase: *Healthy$' done.out

# --watch on a terminal (a pseudo-terminal from script(1)): the view is
# redrawn in place every 500 ms until the rollout completes
if command -v script > /dev/null 2>&1; then
	"$SEED" "$TMP/state" phase guestbook prod web Progressing
	script -qec "'$CAIRN' rollout get guestbook --watch" tty.out > /dev/null 2>&1 &
	T=$!
	sleep 1.6
	"$SEED" "$TMP/state" phase guestbook prod web Healthy
	for _ in $(seq 50); do kill -0 $T 2> /dev/null || break; sleep 0.1; done
	kill $T 2> /dev/null
	wait $T 2> /dev/null
	check "watch on a terminal redraws the view in place (3 times or more)" \
		[ "$(grep -o $'\033\\[H\033\\[2J' tty.out | wc -l)" -ge 3 ]
	check "and its last view shows the completed phase" \
		sh -c "tail -c 3000 tty.out | grep -q 'Phase: *Healthy'"
else
	ok "# SKIP script(1) is not installed"
fi

done_testing
