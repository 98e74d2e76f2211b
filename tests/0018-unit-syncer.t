#!/bin/sh
# Unit tests of libcommon's syncer (tests/unit/syncer.c).
. "$(dirname "$0")/lib.sh"
"$JOBKIT_UNITS/syncer"
