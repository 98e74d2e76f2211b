#!/bin/sh
# Unit tests of the Bacalhau reader (tests/unit/bacalhau.c).
. "$(dirname "$0")/lib.sh"
"$JOBKIT_UNITS/bacalhau" "$TOP/tests/data"
