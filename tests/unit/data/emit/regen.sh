#!/bin/sh
# regen.sh - regenerate expected.yaml of every emitter fixture with the
# oracle, `kubectl kustomize`, and record its version in ORACLE.md.
#
# Each fixture is a directory holding kustomization.yaml (resources:
# [in.yaml]) and in.yaml (JSON documents separated by "---" lines, so the
# unit test can read them with jansson alone). Run from anywhere:
#     sh tests/unit/data/emit/regen.sh
# kustomize's key order is not deterministic for some key sets (its sort
# is not a strict order and Go randomises map iteration), so each case is
# rendered three times and a case whose output varies is an error.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
export KUBECONFIG=/dev/null
command -v kubectl >/dev/null || { echo "regen.sh: kubectl is not installed" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for dir in "$here"/*/; do
	dir=${dir%/}
	[ -f "$dir/kustomization.yaml" ] || continue
	kubectl kustomize "$dir" >"$tmp/a"
	kubectl kustomize "$dir" >"$tmp/b"
	kubectl kustomize "$dir" >"$tmp/c"
	if ! cmp -s "$tmp/a" "$tmp/b" || ! cmp -s "$tmp/a" "$tmp/c"; then
		echo "regen.sh: $(basename "$dir"): kubectl kustomize output varies between runs" >&2
		exit 1
	fi
	cp "$tmp/a" "$dir/expected.yaml"
	n=$((n + 1))
done
{
	echo "# Oracle of the emitter fixtures"
	echo
	echo "Every \`expected.yaml\` here is what \`KUBECONFIG=/dev/null kubectl kustomize DIR\`"
	echo "printed for the fixture directory DIR, written by \`regen.sh\` ($n cases)."
	echo "Never edit an expected.yaml by hand; change in.yaml and rerun regen.sh."
	echo
	echo "\`kubectl version --client\`:"
	echo
	echo '```'
	kubectl version --client
	echo '```'
} >"$here/ORACLE.md"
echo "regen.sh: $n cases"
