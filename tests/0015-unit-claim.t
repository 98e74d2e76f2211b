#!/bin/sh
# A claim with a million queued jobs in the way costs what it costs with
# none, counted in the store's steps (tests/unit/claim.c).
. "$(dirname "$0")/lib.sh"
"$JOBKIT_UNITS/claim"
