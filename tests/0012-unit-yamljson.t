#!/bin/sh
# Unit tests of libcommon's yamljson (tests/unit/yamljson.c).
. "$(dirname "$0")/lib.sh"
"$JOBKIT_UNITS/yamljson"
