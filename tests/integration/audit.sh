#!/bin/bash
# audit trail end to end (filled in with the audit module).
. "$(dirname "$0")/lib.sh"
check "cairn runs" "$CAIRN" version
done_testing
