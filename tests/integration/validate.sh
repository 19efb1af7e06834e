#!/bin/bash
# cairn validate end to end (filled in with the validate command).
. "$(dirname "$0")/lib.sh"
check "cairn runs" "$CAIRN" version
done_testing
