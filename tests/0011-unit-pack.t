#!/bin/sh
# Unit tests of libcommon's pack (tests/unit/pack.c).
. "$(dirname "$0")/lib.sh"
"$JOBKIT_UNITS/pack"
