#!/bin/sh
# Unit tests of libcommon (tests/unit/libcommon.c).
. "$(dirname "$0")/lib.sh"
"$JOBKIT_UNITS/libcommon"
