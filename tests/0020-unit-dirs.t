#!/bin/sh
# libcommon's one mkdir -p (tests/unit/dirs.c).
. "$(dirname "$0")/lib.sh"
cd "$T" || exit 1
"$JOBKIT_UNITS/dirs"
