#!/bin/bash
# The main job on the embedded default. Today: install dependencies, build,
# and validate the example environments, policies, templates and app.
set -euo pipefail
cd "$(dirname "$0")"
top=$(pwd)
./scripts/install-deps.sh
if [ ! -x build-demo/cairn ] || [ configure.ac -nt build-demo/config.status ]; then
	autoreconf -fi >/dev/null 2>&1
	mkdir -p build-demo
	(cd build-demo && "$top/configure" -q)
fi
make -C build-demo -j"$(nproc)" cairn >/dev/null
echo "== cairn validate environments/ policies/ templates/ examples/"
build-demo/cairn validate environments policies templates examples
echo "== validation passed"
