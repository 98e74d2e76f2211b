#!/bin/sh
# Out of memory in the spec, import and lease code (tests/unit/oom.c).
. "$(dirname "$0")/lib.sh"
"$JOBKIT_UNITS/oom" "$TOP/tests/data"
