#!/bin/bash
# sim_workloads.sh - the workload controllers of cairn-sim seen through real
# kubectl: rollouts that finish, crash-loop into ProgressDeadlineExceeded,
# scale and roll within maxSurge/maxUnavailable; Jobs, Services, Endpoints,
# StatefulSets, DaemonSets, LoadBalancers; the failure rules by flag and by
# /admin/workloads. Every wait is bounded.
. "$(dirname "$0")/lib.sh"

SIM="$BUILDDIR/cairn-sim"
if ! command -v kubectl >/dev/null 2>&1 || ! command -v curl >/dev/null 2>&1; then
	echo "1..0 # SKIP kubectl or curl is not installed"
	exit 0
fi
SIMPID=
WATCHPID=
SIM2PID=
trap '[ -n "$WATCHPID" ] && kill "$WATCHPID" 2>/dev/null; [ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; [ -n "$SIM2PID" ] && kill "$SIM2PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
export HOME="$TMP/home" KUBECONFIG="$TMP/kubeconfig"
mkdir -p "$HOME"

"$SIM" --listen 127.0.0.1:0 --fail-rule 'nope' >"$TMP/flag.out" 2>&1
RC=$?
check "a malformed --fail-rule is refused with exit 2 and says what it wants" \
	sh -c "[ $RC = 2 ] && grep -q \"wants IMAGE-GLOB=MODE.*not 'nope'\" '$TMP/flag.out'"

"$SIM" --listen 127.0.0.1:0 --kubeconfig-out "$KUBECONFIG" --openapi-dir "$K8S_OPENAPI" \
	--pod-ready-delay 300ms --lb-delay 2s --fail-rule '*:bad*=crashloop' \
	--fail-rule '*:broken*=fail' >"$TMP/sim.out" 2>"$TMP/sim.err" &
SIMPID=$!
for _ in $(seq 100); do
	[ -s "$KUBECONFIG" ] && [ -s "$TMP/sim.out" ] && break
	sleep 0.1
done
check "cairn-sim starts with the workload flags" test -s "$KUBECONFIG"

cfg() { kubectl config view --raw -o jsonpath="$1"; }
SERVER=$(cfg '{.clusters[0].cluster.server}')
cfg '{.clusters[0].cluster.certificate-authority-data}' | base64 -d >"$TMP/ca.pem"
TOKEN=$(cfg '{.users[0].user.token}')
c() { curl -s --max-time 20 --cacert "$TMP/ca.pem" -H "Authorization: Bearer $TOKEN" \
	-o "$TMP/body" -w '%{http_code}' "$@"; }
OUT="$TMP/out"
k() { timeout 60 kubectl "$@" >"$OUT" 2>&1; RC=$?; }
has() { grep -q -- "$1" "$OUT" || { echo "# expected '$1' in:"; sed 's/^/#   /' "$OUT"; return 1; }; }
jp() { timeout 30 kubectl get "$@" 2>&1; }
# wait_for SECONDS CMD...: retry CMD every 0.2 s until it succeeds
wait_for() { local n=$(($1 * 5)); shift; for _ in $(seq "$n"); do "$@" && return 0; sleep 0.2; done; return 1; }

deploy() { # NAME IMAGE REPLICAS [extra spec lines]
	cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1}
spec:
  replicas: $3
  progressDeadlineSeconds: 4
  selector: {matchLabels: {app: $1}}
${4:-}
  template:
    metadata: {labels: {app: $1}}
    spec:
      containers: [{name: main, image: "$2", ports: [{name: http, containerPort: 8080}]}]
YAML
}

# ---- a good Deployment ----
deploy web nginx:1.25 3 >"$TMP/web.yaml"
k apply -f "$TMP/web.yaml"
k rollout status deploy/web --timeout=30s
check "rollout status of a good Deployment succeeds" has 'successfully rolled out'
RS=$(jp rs -l app=web -o jsonpath='{.items[*].metadata.name}')
HASH=$(jp rs "$RS" -o jsonpath='{.metadata.labels.pod-template-hash}')
check "the ReplicaSet is named <deployment>-<pod-template-hash>" \
	sh -c "[ -n '$HASH' ] && [ '$RS' = 'web-$HASH' ]"
check "the ReplicaSet selector and template carry pod-template-hash" \
	test "$(jp rs "$RS" -o jsonpath='{.spec.selector.matchLabels.pod-template-hash}/{.spec.template.metadata.labels.pod-template-hash}')" = "$HASH/$HASH"
check "the ReplicaSet is owned by the Deployment (controller reference)" \
	test "$(jp rs "$RS" -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].uid}/{.metadata.ownerReferences[0].controller}')" = \
	"Deployment/$(jp deploy web -o jsonpath='{.metadata.uid}')/true"
check "revision annotation 1 on the Deployment and its ReplicaSet" \
	test "$(jp rs "$RS" -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')$(jp deploy web -o jsonpath='{.metadata.annotations.deployment\.kubernetes\.io/revision}')" = 11
PODS=$(jp pods -l app=web -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}')
check "three Pods named <rs>-<5 characters> with the hash label" \
	sh -c "[ \$(echo '$PODS' | grep -Ec '^$RS-[bcdfghjklmnpqrstvwxz2456789]{5}\$') = 3 ] &&
	       [ \$(kubectl get pods -l pod-template-hash=$HASH -o name | wc -l) = 3 ]"
P1=$(echo "$PODS" | head -1)
check "a ready Pod is Running, Ready, with a podIP and a running container" \
	test "$(jp pod "$P1" -o jsonpath='{.status.phase}/{.status.conditions[?(@.type=="Ready")].status}/{.status.containerStatuses[0].ready}/{.status.containerStatuses[0].state.running.startedAt}' | sed 's/[0-9TZ:-]*$/T/')" = "Running/True/true/T"
check "the ready Pod has an IP in 10.244.0.0/16" \
	sh -c "kubectl get pod '$P1' -o jsonpath='{.status.podIP}' | grep -Eq '^10\.244\.[0-9]+\.[0-9]+\$'"
k get deploy web -o jsonpath='{.status.observedGeneration} {.status.replicas} {.status.updatedReplicas} {.status.readyReplicas} {.status.availableReplicas} {.status.conditions[?(@.type=="Available")].reason} {.status.conditions[?(@.type=="Progressing")].reason}'
check "Deployment status as the controller writes it" \
	has '^1 3 3 3 3 MinimumReplicasAvailable NewReplicaSetAvailable$'
k get deploy web -o jsonpath='{.status.conditions[?(@.type=="Progressing")].message}'
check "Progressing message names the ReplicaSet" has "ReplicaSet \"$RS\" has successfully progressed."

# ---- a bad image: crash loop, then ProgressDeadlineExceeded ----
k set image deploy/web main=nginx:bad-1
k rollout status deploy/web --timeout=40s
check "rollout status of a bad image fails with the progress deadline" \
	sh -c "[ $RC != 0 ] && grep -q 'deployment \"web\" exceeded its progress deadline' '$OUT'"
k get deploy web -o jsonpath='{.status.conditions[?(@.type=="Progressing")].status} {.status.conditions[?(@.type=="Progressing")].reason}'
check "Progressing is False with ProgressDeadlineExceeded" has '^False ProgressDeadlineExceeded$'
k get deploy web -o jsonpath='{.status.conditions[?(@.type=="Available")].status} {.status.availableReplicas} {.status.updatedReplicas} {.status.unavailableReplicas}'
check "the old Pods keep the Deployment available; maxSurge 25% of 3 adds one new Pod" \
	has '^True 3 1 1$'
BADPOD=$(jp pods -l app=web -o jsonpath='{range .items[?(@.spec.containers[0].image=="nginx:bad-1")]}{.metadata.name}{end}')
k get pod "$BADPOD" -o jsonpath='{.status.containerStatuses[0].state.waiting.reason} {.status.conditions[?(@.type=="Ready")].status} {.status.containerStatuses[0].lastState.terminated.exitCode}'
check "the bad Pod crash-loops (CrashLoopBackOff, not Ready, last exit 1)" \
	has '^CrashLoopBackOff False 1$'
R1=$(jp pod "$BADPOD" -o jsonpath='{.status.containerStatuses[0].restartCount}')
sleep 1.5
R2=$(jp pod "$BADPOD" -o jsonpath='{.status.containerStatuses[0].restartCount}')
check "its restartCount grows ($R1 then $R2)" test "$R2" -gt "$R1"

# ---- roll back to a good template; watch the surge limits ----
deploy roll nginx:1.25 4 '  strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 1}}' \
	>"$TMP/roll.yaml"
k apply -f "$TMP/roll.yaml"
k rollout status deploy/roll --timeout=30s
timeout 60 kubectl get rs -l app=roll -w \
	-o jsonpath='{.metadata.name} {.spec.replicas} {.status.readyReplicas}{"\n"}' >"$TMP/rswatch" 2>&1 &
WATCHPID=$!
sleep 0.5
k set image deploy/roll main=nginx:1.26
k rollout status deploy/roll --timeout=30s
check "a new template rolls out" has 'successfully rolled out'
sleep 0.5
kill "$WATCHPID" 2>/dev/null
wait "$WATCHPID" 2>/dev/null
WATCHPID=
# Replay the watch: after every event, the sum of spec.replicas stays within
# replicas + maxSurge (5) and the ready Pods above replicas - maxUnavailable (3).
awk '{spec[$1] = $2; ready[$1] = ($3 == "" ? 0 : $3); s = 0; r = 0;
      for (n in spec) { s += spec[n]; r += ready[n] }
      if (s > maxs) maxs = s; if (min == "" || r < min) min = r; ev++ }
     END { print ev, maxs, min, length(spec) }' "$TMP/rswatch" >"$TMP/rsstat"
read -r EVENTS MAXSPEC MINREADY NRS <"$TMP/rsstat"
check "the roll was observed ($EVENTS ReplicaSet events over $NRS ReplicaSets)" \
	sh -c "[ '$EVENTS' -ge 6 ] && [ '$NRS' = 2 ]"
check "maxSurge respected: at most 5 Pods wanted at any time (saw $MAXSPEC)" test "$MAXSPEC" -le 5
check "the surge was used: 5 Pods wanted at some point" test "$MAXSPEC" = 5
check "maxUnavailable respected: at least 3 ready at any time (saw $MINREADY)" test "$MINREADY" -ge 3
k get rs -l app=roll -o jsonpath='{range .items[*]}{.spec.replicas}/{.metadata.annotations.deployment\.kubernetes\.io/revision} {end}'
check "the old ReplicaSet is scaled to 0 and the new one has revision 2" \
	sh -c "grep -q '0/1' '$OUT' && grep -q '4/2' '$OUT'"

# ---- scaling ----
k scale deploy/roll --replicas=6
k rollout status deploy/roll --timeout=30s
check "scaling up: 6 ready Pods" test "$(jp deploy roll -o jsonpath='{.status.readyReplicas}')" = 6
k scale deploy/roll --replicas=2
check "scaling down: 2 Pods left" \
	wait_for 10 sh -c "[ \$(kubectl get pods -l app=roll -o name | wc -l) = 2 ]"
check "scaling down: status follows" \
	wait_for 10 sh -c "[ \"\$(kubectl get deploy roll -o jsonpath='{.status.replicas}/{.status.availableReplicas}')\" = 2/2 ]"

# ---- revision history ----
deploy hist nginx:1 1 '  revisionHistoryLimit: 1' >"$TMP/hist.yaml"
k apply -f "$TMP/hist.yaml"
for t in 2 3 4; do
	kubectl set image deploy/hist main=nginx:$t >/dev/null
	timeout 30 kubectl rollout status deploy/hist --timeout=30s >/dev/null 2>&1
done
check "revisionHistoryLimit 1 keeps the current and one old ReplicaSet" \
	wait_for 10 sh -c "[ \$(kubectl get rs -l app=hist -o name | wc -l) = 2 ]"

# ---- a ReplicaSet created directly ----
cat >"$TMP/rs.yaml" <<'YAML'
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: bare}
spec:
  replicas: 2
  selector: {matchLabels: {app: bare}}
  template:
    metadata: {labels: {app: bare}}
    spec:
      containers: [{name: main, image: "nginx:1"}]
YAML
k apply -f "$TMP/rs.yaml"
check "a ReplicaSet created directly gets its ready Pods" \
	wait_for 10 sh -c "[ \"\$(kubectl get rs bare -o jsonpath='{.status.replicas}/{.status.readyReplicas}')\" = 2/2 ]"

# ---- Jobs ----
cat >"$TMP/jobs.yaml" <<'YAML'
apiVersion: batch/v1
kind: Job
metadata: {name: good}
spec:
  completions: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: "busybox:1"}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: broken}
spec:
  backoffLimit: 1
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: "busybox:broken"}]
YAML
k apply -f "$TMP/jobs.yaml"
k wait --for=condition=complete job/good --timeout=30s
check "a Job runs to Complete" has 'condition met'
check "the completed Job counts 2 succeeded" \
	test "$(jp job good -o jsonpath='{.status.succeeded}/{.status.completionTime}' | cut -c1-2)" = 2/
k wait --for=condition=failed job/broken --timeout=30s
check "a Job whose image fails by rule ends Failed" has 'condition met'
k get job broken -o jsonpath='{.status.failed} {.status.conditions[?(@.type=="Failed")].reason}'
check "Failed after backoffLimit+1 failures with BackoffLimitExceeded" has '^2 BackoffLimitExceeded$'

# ---- Services ----
cat >"$TMP/svc.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: roll}
spec:
  selector: {app: roll}
  ports: [{name: web, port: 80, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: front}
spec:
  type: LoadBalancer
  selector: {app: roll}
  ports: [{port: 80}]
YAML
k apply -f "$TMP/svc.yaml"
check "LoadBalancer Service has no ingress before the delay" \
	test -z "$(jp svc front -o jsonpath='{.status.loadBalancer.ingress[0].ip}')"
want=$(jp pods -l app=roll -o jsonpath='{range .items[*]}{.status.podIP}{"\n"}{end}' | sort | tr '\n' ' ')
epips() { [ "$(kubectl get endpoints roll -o jsonpath='{range .subsets[*].addresses[*]}{.ip}{"\n"}{end}' | sort | tr '\n' ' ')" = "$want" ]; }
check "Endpoints list the ready Pods' IPs ($want)" wait_for 10 epips
check "Endpoints resolve the named targetPort to the container port" \
	test "$(jp endpoints roll -o jsonpath='{.subsets[0].ports[0].port}/{.subsets[0].ports[0].name}')" = 8080/web
check "LoadBalancer Service gets an ingress IP after the delay" \
	wait_for 10 sh -c "kubectl get svc front -o jsonpath='{.status.loadBalancer.ingress[0].ip}' | grep -Eq '^172\.18\.255\.[0-9]+\$'"
k scale deploy/roll --replicas=3
check "Endpoints follow a scale-up" \
	wait_for 10 sh -c "[ \$(kubectl get endpoints roll -o jsonpath='{.subsets[0].addresses[*].ip}' | wc -w) = 3 ]"
slips() { [ "$(kubectl get endpointslices -l kubernetes.io/service-name=roll -o jsonpath='{range .items[*].endpoints[?(@.conditions.ready==true)]}{.addresses[0]}{"\n"}{end}' | wc -l)" = 3 ]; }
check "kubectl get endpointslices serves the Service's slice with its 3 ready Pods" wait_for 10 slips
check "the EndpointSlice is named <service>-<5 characters> and owned by the Service" \
	test "$(jp endpointslices -l kubernetes.io/service-name=roll -o jsonpath='{.items[0].metadata.ownerReferences[0].kind}/{.items[0].metadata.ownerReferences[0].name}/{.items[0].addressType}')" = Service/roll/IPv4
check "the EndpointSlice name has the Service's name and 5 more characters" \
	sh -c "kubectl get endpointslices -o name | grep -Eq '^endpointslice.discovery.k8s.io/roll-[a-z0-9]{5}\$'"

# ---- StatefulSet and DaemonSet ----
cat >"$TMP/sts.yaml" <<'YAML'
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 3
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: "postgres:16"}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: a, image: "agent:1"}]
YAML
k apply -f "$TMP/sts.yaml"
k rollout status sts/db --timeout=30s
check "rollout status of a StatefulSet succeeds" has 'roll out complete'
check "StatefulSet Pods are db-0, db-1, db-2" \
	test "$(jp pods -l app=db -o jsonpath='{.items[*].metadata.name}')" = "db-0 db-1 db-2"
k get sts db -o jsonpath='{.status.readyReplicas} {.status.currentRevision} {.status.updateRevision}'
check "StatefulSet status: 3 ready, current and update revision equal" \
	sh -c "read -r n c u <'$OUT'; [ \"\$n\" = 3 ] && [ -n \"\$c\" ] && [ \"\$c\" = \"\$u\" ]"
k rollout status ds/agent --timeout=30s
check "rollout status of a DaemonSet succeeds" has 'successfully rolled out'
check "the DaemonSet runs one Pod on the pretend node" \
	test "$(jp pods -l app=agent -o jsonpath='{.items[*].spec.nodeName}')" = cairn-sim-node

# ---- /admin/workloads ----
st=$(c "$SERVER/admin/workloads")
check "GET /admin/workloads shows the flag rules and delays" \
	sh -c "[ '$st' = 200 ] && grep -q '\"image\":\"\\*:bad\\*\",\"mode\":\"crashloop\"' '$TMP/body' &&
	       grep -q '\"podReadyDelayMs\":300' '$TMP/body' && grep -q '\"loadBalancerDelayMs\":2000' '$TMP/body'"
st=$(c -X PUT --data '{"rules":[{"image":"*","mode":"explode"}]}' "$SERVER/admin/workloads")
check "a bad rule is refused with 400 naming the mode" \
	sh -c "[ '$st' = 400 ] && grep -q \"unknown mode 'explode'\" '$TMP/body'"
st=$(c -X PUT --data '{"rules":[{"image":"*:flaky*","mode":"imagepull"}]}' "$SERVER/admin/workloads")
check "PUT /admin/workloads replaces the rules" test "$st" = 200
deploy flaky app:flaky-1 1 >"$TMP/flaky.yaml"
k apply -f "$TMP/flaky.yaml"
check "a rule set at run time applies: ImagePullBackOff, phase Pending" \
	wait_for 10 sh -c "[ \"\$(kubectl get pods -l app=flaky -o jsonpath='{.items[0].status.phase}/{.items[0].status.containerStatuses[0].state.waiting.reason}')\" = Pending/ImagePullBackOff ]"

# ---- server-side apply while the controller writes status ----
# An apply names no resourceVersion: the simulator merges it again when the
# controller's status write wins the race, never answering 409. Four
# clients apply 40 times each while the Deployment scales up and down, so
# the controller writes its status all the while.
deploy hammer app:v1 1 >"$TMP/hammer.yaml"
k apply -f "$TMP/hammer.yaml"
ssa() { # CLIENT: 40 applies, one HTTP code a line
	local i
	for i in $(seq 40); do
		curl -s --max-time 20 --cacert "$TMP/ca.pem" -H "Authorization: Bearer $TOKEN" \
			-H 'Content-Type: application/apply-patch+yaml' -o /dev/null -w '%{http_code}\n' \
			-X PATCH --data-binary "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"hammer\",\"annotations\":{\"c$1\":\"$i\"}},\"spec\":{\"replicas\":$((i % 5 + 1))}}" \
			"$SERVER/apis/apps/v1/namespaces/default/deployments/hammer?fieldManager=m$1&force=true"
	done
}
SSAPIDS=
for n in 1 2 3 4; do
	ssa "$n" >"$TMP/ssa$n" &
	SSAPIDS="$SSAPIDS $!"
done
# shellcheck disable=SC2086
wait $SSAPIDS
cat "$TMP"/ssa[1-4] >"$TMP/ssa.all"
echo "# apply codes:" $(sort "$TMP/ssa.all" | uniq -c)
check "160 concurrent applies during status writes: all 200, no 409" \
	sh -c "[ \$(wc -l <'$TMP/ssa.all') = 160 ] && [ -z \"\$(grep -v '^200\$' '$TMP/ssa.all')\" ]"
check "every client's last apply is in the object" \
	test "$(jp deploy hammer -o jsonpath='{.metadata.annotations.c1}{.metadata.annotations.c2}{.metadata.annotations.c3}{.metadata.annotations.c4}')" = 40404040
k delete deploy hammer

# ---- deletion ----
k delete deploy web
check "deleting a Deployment removes its ReplicaSets and Pods" \
	wait_for 10 sh -c "[ -z \"\$(kubectl get rs,pods -l app=web -o name)\" ]"
check "the simulator logged no errors" \
	sh -c "! grep -v 'Failed to send the chunked response body' '$TMP/sim.err' | grep -qi error"


# ---- a ReplicaSet created directly, on a simulator nobody else writes to ----
# Its Pods are created after the pass's Pod phase, so only the next pass can
# start them; that pass must come by itself (no timer is armed for a bare
# ReplicaSet, and no other client writes here), within the ready delay and
# one more second of the apply. Scaling up creates Pods the same way.
if command -v jq >/dev/null 2>&1; then
	KC2="$TMP/kubeconfig2"
	"$SIM" --listen 127.0.0.1:0 --kubeconfig-out "$KC2" --openapi-dir "$K8S_OPENAPI" \
		--pod-ready-delay 300ms >"$TMP/sim2.out" 2>"$TMP/sim2.err" &
	SIM2PID=$!
	for _ in $(seq 100); do
		[ -s "$KC2" ] && [ -s "$TMP/sim2.out" ] && break
		sleep 0.1
	done
	cfg2() { kubectl --kubeconfig "$KC2" config view --raw -o jsonpath="$1"; }
	SERVER2=$(cfg2 '{.clusters[0].cluster.server}')
	cfg2 '{.clusters[0].cluster.certificate-authority-data}' | base64 -d >"$TMP/ca2.pem"
	TOKEN2=$(cfg2 '{.users[0].user.token}')
	# solo_ready: how many Pods of ReplicaSet solo the kubelet's part has
	# started (Running, Ready, on the node), read with a GET, not a write.
	solo_ready() {
		curl -s --max-time 5 --cacert "$TMP/ca2.pem" -H "Authorization: Bearer $TOKEN2" \
			"$SERVER2/api/v1/namespaces/default/pods?labelSelector=app%3Dsolo" |
			jq '[.items[] | select(.status.phase == "Running" and
			     .spec.nodeName == "cairn-sim-node" and
			     (.metadata.name | startswith("solo-")) and
			     any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length'
	}
	# ready_within N MS: N such Pods within MS milliseconds from now
	ready_within() {
		local end=$(($(date +%s%3N) + $2)) n
		while :; do
			n=$(solo_ready)
			[ "$n" = "$1" ] && return 0
			[ "$(date +%s%3N)" -gt "$end" ] && { echo "# $n of $1 Pods ready after $2 ms"; return 1; }
			sleep 0.05
		done
	}
	cat >"$TMP/solo.yaml" <<'YAML'
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: solo}
spec:
  replicas: 2
  selector: {matchLabels: {app: solo, h: def}}
  template:
    metadata: {labels: {app: solo, h: def}}
    spec:
      containers: [{name: main, image: "nginx:1.25"}]
YAML
	timeout 30 kubectl --kubeconfig "$KC2" apply --server-side -f "$TMP/solo.yaml" >"$OUT" 2>&1
	check "a bare ReplicaSet's 2 Pods are Running and Ready within the ready delay + 1 s" \
		ready_within 2 1300
	check "its status counts them ready (the next pass reaches the ReplicaSet)" \
		wait_for 2 sh -c "[ \"\$(kubectl --kubeconfig '$KC2' get rs solo -o jsonpath='{.status.readyReplicas}/{.status.availableReplicas}')\" = 2/2 ]"
	timeout 30 kubectl --kubeconfig "$KC2" scale rs solo --replicas=4 >"$OUT" 2>&1
	check "scaled to 4, the new Pods are Running and Ready within the ready delay + 1 s" \
		ready_within 4 1300
	check "the scaled ReplicaSet's status counts 4 ready" \
		wait_for 2 sh -c "[ \"\$(kubectl --kubeconfig '$KC2' get rs solo -o jsonpath='{.status.readyReplicas}')\" = 4 ]"
	kill "$SIM2PID" 2>/dev/null
	wait "$SIM2PID" 2>/dev/null
	SIM2PID=
else
	ok "# SKIP jq is not installed: bare ReplicaSet checks"
fi

done_testing
