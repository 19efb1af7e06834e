#!/bin/bash
# deploy.sh - what "running it for real" ships (docs/running.md) against the
# programs it describes: the in-cluster manifests through cairn render,
# cairn validate, kubectl kustomize and a server-side dry run on cairn-sim;
# the systemd unit through systemd-analyze; the man pages through groff and
# man; the bash completion through compgen against `cairn help`; and the
# Grafana dashboard's metric names against a real cairnd's /metrics.
#
# Tier: fast (every wait has a timeout; 20 to 30 s on a loaded 2-CPU machine,
# most of it starting python3 and the sanitizer builds' programs).
. "$(dirname "$0")/lib.sh"

SIM=${CAIRN_SIM:-$BUILDDIR/cairn-sim}
CAIRND=${CAIRND:-$BUILDDIR/cairnd}
DEPLOY="$SRCDIR/deploy/kubernetes"
MAN="$SRCDIR/docs/man"
for t in kubectl curl python3 groff; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "1..0 # SKIP $t is not installed"
		exit 0
	fi
done
if ! python3 -c 'import yaml' 2>/dev/null; then
	echo "1..0 # SKIP python3 has no yaml module"
	exit 0
fi
SIMPID='' DPID=''
trap '[ -n "$DPID" ] && kill "$DPID" 2>/dev/null; [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
cd "$TMP" || exit 1
export HOME="$TMP/home" KUBECONFIG="$TMP/kubeconfig" CAIRN_STATE_DIR="$TMP/state"
unset CAIRN_CONFIG CAIRN_TOKEN
mkdir -p "$HOME"

# ---- manifests --------------------------------------------------------------
"$CAIRN" render --path "$DEPLOY" --root "$DEPLOY" >cluster.yaml 2>render.err
check "cairn render --path deploy/kubernetes succeeds" test $? = 0 -a -s cluster.yaml
"$CAIRN" render --path "$DEPLOY/namespaced" --root "$DEPLOY" >namespaced.yaml 2>>render.err
check "cairn render --path deploy/kubernetes/namespaced succeeds" test $? = 0 -a -s namespaced.yaml
[ -s render.err ] && sed 's/^/# /' render.err
kubectl kustomize "$DEPLOY" >kustomize.yaml 2>/dev/null
check "cairn render prints what kubectl kustomize prints" cmp -s cluster.yaml kustomize.yaml

# Properties docs/running.md promises, read from the rendered objects.
props() {
	python3 - "$1" <<'PY'
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
kinds = sorted("%s/%s" % (d["kind"], d["metadata"]["name"]) for d in docs)
print("kinds", " ".join(kinds))
for d in docs:
    if d["kind"] == "Deployment":
        s = d["spec"]; p = s["template"]["spec"]; c = p["containers"][0]
        print("replicas", s["replicas"], "strategy", s["strategy"]["type"])
        print("probes", c["livenessProbe"]["httpGet"]["path"], c["readinessProbe"]["httpGet"]["path"])
        print("nonroot", p["securityContext"]["runAsNonRoot"], "rofs",
              c["securityContext"]["readOnlyRootFilesystem"],
              "escalation", c["securityContext"]["allowPrivilegeEscalation"])
        mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
        vols = {v["name"]: v for v in p["volumes"]}
        print("state", vols[mounts["/var/lib/cairn"]]["persistentVolumeClaim"]["claimName"])
        print("sa", p["serviceAccountName"])
        print("args", " ".join(c["args"]))
        for i in p.get("initContainers", []):
            print("init", i["name"], " ".join(i["command"]))
    if d["kind"] == "Namespace":
        open("ns.yaml", "a").write("---\n" + yaml.safe_dump(d))
    if d["kind"] == "ConfigMap":
        open("cairn.yaml", "w").write(d["data"]["cairn.yaml"])
        open("environments.yaml", "w").write(d["data"]["environments.yaml"])
    if d["kind"] == "Secret":
        vals = list(d.get("stringData", {}).values()) + list(d.get("data", {}).values())
        print("secret-placeholders", all("REPLACE-ME" in v for v in vals))
    if d["kind"] in ("ClusterRoleBinding", "RoleBinding"):
        sub = d["subjects"][0]
        print("binds", d["kind"], sub["kind"], sub["namespace"], sub["name"])
PY
}
props cluster.yaml >cluster.props
grep -q '^kinds .*ClusterRole/cairnd ClusterRoleBinding/cairnd ConfigMap/cairnd-config Deployment/cairnd Namespace/cairn-system PersistentVolumeClaim/cairnd-state Secret/cairnd-secrets Service/cairnd ServiceAccount/cairnd$' cluster.props
check "the cluster variant holds every object docs/running.md lists" test $? = 0
check "one replica, Recreate" grep -qx 'replicas 1 strategy Recreate' cluster.props
check "liveness on /healthz, readiness on /readyz" grep -qx 'probes /healthz /readyz' cluster.props
check "non-root, read-only root filesystem, no privilege escalation" \
	grep -qx 'nonroot True rofs True escalation False' cluster.props
check "the state directory is the PersistentVolumeClaim" grep -qx 'state cairnd-state' cluster.props
check "the pod runs as the bound ServiceAccount" grep -qx 'binds ClusterRoleBinding ServiceAccount cairn-system cairnd' cluster.props
check "the Secret holds placeholders only" grep -qx 'secret-placeholders True' cluster.props
props namespaced.yaml >namespaced.props
check "the namespaced variant binds a Role and no ClusterRole" \
	sh -c 'grep -qx "binds RoleBinding ServiceAccount cairn-system cairnd" namespaced.props &&
		! grep -q ClusterRole namespaced.props'

"$CAIRN" validate --schemas "$K8S_OPENAPI" cluster.yaml namespaced.yaml >validate.out 2>&1
check "cairn validate --schemas accepts both variants" test $? = 0
[ -s validate.out ] && sed 's/^/# /' validate.out

# The ConfigMap's cairn.yaml and Environment load with cairn's own loaders
# (unknown keys are errors): the paths moved to this directory.
sed -e "s|/etc/cairn/environments.yaml|$TMP/environments.yaml|" -e "s|/var/lib/cairn|$TMP/state|" \
	-e "s|/etc/cairn/secret/|$TMP/|" -e "s|/run/cairn/|$TMP/|" cairn.yaml >local-cairn.yaml
"$CAIRN" env list --config local-cairn.yaml -o json >envs.json 2>envs.err
check "the ConfigMap's cairn.yaml and Environment load (cairn env list)" \
	python3 -c 'import json; e=json.load(open("envs.json")); e=e["items"] if isinstance(e, dict) else e; assert [x["name"] for x in e]==["in-cluster"] and e[0]["inCluster"], e'
[ -s envs.err ] && sed 's/^/# /' envs.err

if [ -x "$SIM" ]; then
	"$SIM" --listen 127.0.0.1:0 --kubeconfig-out "$KUBECONFIG" >sim.out 2>sim.err &
	SIMPID=$!
	for _ in $(seq 100); do [ -s "$KUBECONFIG" ] && break; sleep 0.1; done
	check "cairn-sim starts" test -s "$KUBECONFIG"
	# Namespaced objects need their namespaces to exist, even in a dry run
	# (ns.yaml: the Namespaces props found).
	timeout 20 kubectl apply --server-side -f ns.yaml >apply-ns.out 2>&1
	check "the namespaces are created" test $? = 0
	for v in cluster namespaced; do
		timeout 20 kubectl apply --server-side --dry-run=server -f $v.yaml >dry-$v.out 2>&1
		check "kubectl apply --server-side --dry-run=server accepts the $v variant" test $? = 0
		grep -v 'serverside-applied (server dry run)' dry-$v.out | sed 's/^/# /'
	done
	check "the dry run stored nothing" sh -c '! timeout 10 kubectl -n cairn-system get deployment cairnd >/dev/null 2>&1'
else
	ok "# SKIP cairn-sim not built"
fi

# ---- systemd ----------------------------------------------------------------
UNIT="$SRCDIR/contrib/systemd/cairnd.service"
if command -v systemd-analyze >/dev/null 2>&1; then
	# The unit names the installed path; verify it against the built cairnd.
	sed "s|/usr/local/bin/cairnd|$CAIRND|" "$UNIT" >cairnd.service
	systemd-analyze verify --man=no cairnd.service >verify.out 2>&1
	RC=$?
	check "systemd-analyze verify accepts cairnd.service without a warning" \
		sh -c "test $RC = 0 && ! grep -q . verify.out"
	sed 's/^/# /' verify.out
else
	ok "# SKIP systemd-analyze is not installed"
fi
# The options the unit and the Deployment pass are cairnd's: parsed up to the
# configuration, which is missing here.
ARGS=$(sed -n 's|^ExecStart=/usr/local/bin/cairnd ||p' "$UNIT")
# shellcheck disable=SC2086
"$CAIRND" $ARGS --config "$TMP/missing.yaml" >args.out 2>&1
check "cairnd accepts the unit's arguments (fails only on the missing config)" \
	sh -c "! grep -q 'usage:\|bad ' args.out && grep -q missing.yaml args.out"
ARGS=$(sed -n 's/^args //p' cluster.props)
# shellcheck disable=SC2086
"$CAIRND" ${ARGS/\/etc\/cairn\/cairn.yaml/$TMP/missing.yaml} >args2.out 2>&1
check "cairnd accepts the Deployment's arguments" \
	sh -c "! grep -q 'usage:\|bad ' args2.out && grep -q missing.yaml args2.out"

# ---- man pages --------------------------------------------------------------
for page in cairn.1 cairnd.8 cairn.yaml.5; do
	check "$page exists" test -s "$MAN/$page"
done
for page in "$MAN"/*.[158]; do
	name=$(basename "$page")
	groff -man -Tutf8 -ww -z "$page" >groff.err 2>&1
	check "groff -man -ww renders $name without warnings" sh -c '! grep -q . groff.err'
	sed 's/^/# /' groff.err
	if command -v man >/dev/null 2>&1; then
		MANWIDTH=80 man --warnings -l "$page" >man.out 2>man.err
		check "man -l renders $name without warnings" sh -c '! grep -q . man.err && test -s man.out'
		sed 's/^/# /' man.err
	fi
done
COMMANDS=$("$CAIRN" help | awk '/^commands:/ {s=1; next} s && /^  [a-z]/ {print $1} s && /^$/ {exit}')
check "cairn help lists commands" test "$(echo "$COMMANDS" | wc -l)" -ge 10
missing=
for c in $COMMANDS; do
	# Each command is a tagged paragraph of COMMANDS in cairn(1).
	awk -v c="$c" '/^\.SH COMMANDS/ {s=1; next} /^\.SH/ {s=0} s && prev == ".TP" && $0 == ".B " c {f=1} {prev=$0} END {exit !f}' "$MAN/cairn.1" ||
		missing="$missing $c"
done
check "cairn(1) describes every command of 'cairn help'${missing:+ (missing:$missing)}" test -z "$missing"
missing=
for opt in config pidfile listen workers poll grace; do
	"$CAIRND" --help | grep -q -- "--$opt" && ! grep -q -- "--$opt" <(sed 's/\\-/-/g' "$MAN/cairnd.8") &&
		missing="$missing --$opt"
done
check "cairnd(8) describes every option of 'cairnd --help'${missing:+ (missing:$missing)}" test -z "$missing"
# cairn.yaml(5) names every key docs/config.md's table lists; a key with a
# placeholder (`webhooks.<forge>.secret`) is `.BI webhooks. FORGE .secret`.
KEYS=$(sed -n 's/^| `\([a-zA-Z.<>]*\)\(\[\]\)\{0,1\}` |.*/\1/p' "$SRCDIR/docs/config.md" | sort -u)
missing=
for k in $KEYS; do
	case $k in
	*"<"*)
		v=${k#*<}
		v=${v%%>*}
		grep -qxF ".BI ${k%%<*} ${v^^} ${k#*>}" "$MAN/cairn.yaml.5" || missing="$missing $k" ;;
	*) grep -q "^\.B $k\(\[\]\)\{0,1\}$" "$MAN/cairn.yaml.5" || missing="$missing $k" ;;
	esac
done
check "cairn.yaml(5) describes every key of docs/config.md${missing:+ (missing:$missing)}" \
	test -z "$missing" -a -n "$KEYS"

# ---- bash completion --------------------------------------------------------
COMP="$SRCDIR/contrib/completion/cairn.bash"
# complete WORDS...: what <TAB> offers after "cairn WORDS... "
complete_words() {
	PATH="$BUILDDIR:$PATH" bash --norc --noprofile -c '
		source "$1"; shift
		COMP_WORDS=(cairn "$@" ""); COMP_CWORD=${#COMP_WORDS[@]}; COMP_CWORD=$((COMP_CWORD - 1))
		COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}
		_cairn
		printf "%s\n" "${COMPREPLY[@]}"' _ "$COMP" "$@" | sort
}
check "the completion script loads in bash" bash --norc -c "source '$COMP' && complete -p cairn >/dev/null"
check "cairn <TAB> offers exactly the commands of 'cairn help'" \
	test "$(complete_words)" = "$(echo "$COMMANDS" | sort)"
# has WORDS... : stdin (one word a line) holds every WORD
has() { local in w; in=$(cat); for w; do echo "$in" | grep -qx -- "$w" || return 1; done; }
complete_words app >app.words
check "cairn app <TAB> offers the app commands" \
	has list get diff sync wait history rollback <app.words
check "cairn --log-level <TAB> offers the levels" \
	test "$(complete_words --log-level | tr '\n' ' ')" = "debug error info warn "
check "cairn render --p<TAB> offers --path" sh -c "PATH='$BUILDDIR':\$PATH bash --norc -c '
	source \"$COMP\"; COMP_WORDS=(cairn render --p); COMP_CWORD=2; _cairn
	printf \"%s\n\" \"\${COMPREPLY[@]}\"' | grep -qx -- --path"
complete_words audit >audit.words
check "cairn audit <TAB> offers keygen, record and verify" has keygen record verify <audit.words
# Every command with subcommands in its usage lines gets them completed,
# read independently from `cairn CMD --help` here (rollout included once it
# is in the table).
bad=
for c in $COMMANDS; do
	want=$("$CAIRN" "$c" --help 2>&1 | grep -oE "^(usage:)? *cairn $c( \[OPTIONS\])? [a-z][a-z|-]*" |
		awk '{print $NF}' | tr '|' '\n' | sort -u)
	[ -z "$want" ] && continue
	got=$(complete_words "$c")
	for w in $want; do
		echo "$got" | grep -qx "$w" || bad="$bad $c:$w"
	done
done
check "every subcommand in a usage line is completed${bad:+ (missing:$bad)}" test -z "$bad"
if echo "$COMMANDS" | grep -qx rollout; then
	complete_words rollout >rollout.words
	check "cairn rollout <TAB> offers list, get, promote, pause, resume, abort, retry" \
		has list get promote pause resume abort retry <rollout.words
else
	ok "# SKIP cairn rollout is not in the command table yet"
fi

# ---- Grafana dashboard against a real cairnd's /metrics --------------------
DASH="$SRCDIR/docs/grafana/cairnd-dashboard.json"
python3 - "$DASH" >dash-metrics <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
exprs = []
def walk(o):
    if isinstance(o, dict):
        for k, v in o.items():
            if k in ("expr", "definition") and isinstance(v, str):
                exprs.append(v)
            walk(v)
    elif isinstance(o, list):
        for v in o:
            walk(v)
walk(d)
names = set()
for e in exprs:
    for m in re.finditer(r"\b(cairn_[a-z0-9_]+)", e):
        names.add(m.group(1))
print("\n".join(sorted(names)))
PY
check "the dashboard is JSON" test $? = 0
check "the dashboard queries cairn metrics" test "$(wc -l <dash-metrics)" -ge 8
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# The audit key goes the way it goes in the pod: a Secret file readable by
# the group (0440), copied by the init container's command to the key
# cairnd reads (which must not be readable by others).
mkdir -p secret run
"$CAIRN" audit keygen --name deploy-test --out secret/audit >keygen.out 2>&1 && chmod 0440 secret/audit.key
INIT=$(sed -n 's/^init audit-key //p' cluster.props |
	sed -e "s|/etc/cairn/secret|$TMP/secret|g" -e "s|/run/cairn|$TMP/run|g")
check "the init container's command copies the audit key" sh -c "test -n '$INIT' && $INIT"
check "the copy is mode 0400" test "$(stat -c %a run/audit.key 2>/dev/null)" = 400
printf 'stateDir: %s\nlisten: {api: "127.0.0.1:%s"}\napps: []\naudit: {key: %s}\n' \
	"$TMP/dstate" "$PORT" "$TMP/run/audit.key" >daemon.yaml
"$CAIRND" --config daemon.yaml --poll off --grace 5s >cairnd.out 2>cairnd.err &
DPID=$!
ready() { for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && return 0; sleep 0.1; done; return 1; }
check "cairnd starts with the audit key copied as in the pod" ready
curl -s "http://127.0.0.1:$PORT/metrics" >metrics.txt
check "cairnd serves /metrics" grep -q '^# TYPE cairn_' metrics.txt
[ -s metrics.txt ] || sed 's/^/# /' cairnd.err
missing=
while read -r n; do
	base=$n
	case $n in *_bucket | *_sum | *_count)
		base=${n%_*}
		grep -q "^# TYPE $base histogram$" metrics.txt || missing="$missing $n"
		continue ;;
	esac
	grep -q "^# TYPE $n " metrics.txt || missing="$missing $n"
done <dash-metrics
check "every metric the dashboard queries is in cairnd's /metrics${missing:+ (missing:$missing)}" \
	test -z "$missing"
kill "$DPID" && wait "$DPID"
check "cairnd stops on SIGTERM with status 0" test $? = 0
DPID=

done_testing
