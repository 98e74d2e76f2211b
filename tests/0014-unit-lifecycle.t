#!/bin/sh
# Unit tests of libcommon's lifecycle (tests/unit/lifecycle.c).
. "$(dirname "$0")/lib.sh"
"$JOBKIT_UNITS/lifecycle"
