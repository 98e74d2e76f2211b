#!/bin/sh
# Unit tests of libcommon (tests/unit/libcommon.c).
. "$(dirname "$0")/lib.sh"
exec "$JOBKIT_UNITS/libcommon"
