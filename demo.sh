#!/bin/bash
# The main job on the embedded default: build Cairn, then walk through what
# exists today on the local simulator. Later issues grow it into the full
# demo (git push -> sync -> canary -> rollback).
set -euo pipefail
cd "$(dirname "$0")"
top=$(pwd)
./scripts/install-deps.sh
if [ ! -f build-demo/Makefile ] || [ configure.ac -nt build-demo/config.status ]; then
	autoreconf -fi >/dev/null 2>&1
	mkdir -p build-demo
	(cd build-demo && "$top/configure" -q)
fi
make -C build-demo -j"$(nproc)" cairn cairn-git cairn-sim >/dev/null
B="$top/build-demo"
work=$(mktemp -d "${TMPDIR:-/tmp}/cairn-demo.XXXXXX")
sim_pid=
cleanup() {
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "cairn validate environments/ policies/ templates/ examples/"
"$B/cairn" validate environments policies templates examples

step "cairn env list / cairn app list"
"$B/cairn" env list --environments environments
"$B/cairn" app list --apps examples --environments environments

step "cairn-sim: a local Kubernetes API on 127.0.0.1"
"$B/cairn-sim" --listen 127.0.0.1:0 --kubeconfig-out "$work/kubeconfig" \
	--openapi-dir "$top/../shared/k8s-openapi/v1.28" >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!
for _ in $(seq 50); do [ -s "$work/kubeconfig" ] && break; sleep 0.1; done
head -1 "$work/sim.out"
export KUBECONFIG="$work/kubeconfig"
kubectl version 2>/dev/null | grep Server

step "server-side apply of the guestbook dev overlay (rendered by kubectl kustomize until cairn render lands)"
kubectl create namespace dev-guestbook
KUBECONFIG=/dev/null kubectl kustomize examples/guestbook/overlays/dev >"$work/guestbook.yaml"
kubectl apply --server-side --field-manager=cairn -f "$work/guestbook.yaml"
kubectl get deploy,svc -n dev-guestbook

step "the signed audit trail"
export CAIRN_STATE_DIR="$work/state"
"$B/cairn" audit keygen --name demo --out "$work/demo" >/dev/null
rev=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
"$B/cairn" audit record --signing-key "$work/demo.key" --actor "demo" \
	--action sync.succeeded --app guestbook-dev --env dev --revision "$rev"
"$B/cairn" audit record --signing-key "$work/demo.key" --actor "demo" \
	--action note.demo --details '{"message":"demo finished"}'
"$B/cairn" audit show
"$B/cairn" audit verify --key "$work/demo.pub"
