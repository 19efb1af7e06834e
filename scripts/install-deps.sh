#!/bin/sh
# Install every build and test dependency of Cairn from Debian's archive.
# Idempotent: when everything is present it does nothing; otherwise it runs
# apt-get update once and installs what is missing (as root, Debian 12).
set -eu

PKGS="autoconf automake libtool pkg-config make gcc clang llvm libclang-rt-14-dev
 git ca-certificates curl openssl groff-base
 libgit2-dev libyaml-dev libcurl4-openssl-dev libssl-dev libjansson-dev
 libsodium-dev check libmicrohttpd-dev libgnutls28-dev libsqlite3-dev
 libjq-dev libonig-dev
 python3 python3-cryptography openssh-client openssh-server clang-format gawk
 prometheus wrk"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	echo "install-deps: installing:$missing" >&2
	SUDO=""
	if [ "$(id -u)" != 0 ]; then
		SUDO="sudo"
	fi
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -q
	# shellcheck disable=SC2086
	$SUDO apt-get install -y -q --no-install-recommends $missing
fi

# kubectl (with its built-in kustomize) is part of these machines' image,
# not of Debian's archive. Tests use it as the rendering oracle and as the
# real client of the simulator: fail here rather than skip later.
if ! command -v kubectl >/dev/null 2>&1; then
	echo "install-deps: 'kubectl' is not on PATH; it is part of the machine image" >&2
	echo "install-deps: (not in Debian's archive) and the tests need it as an oracle" >&2
	exit 1
fi
