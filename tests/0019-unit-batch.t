#!/bin/sh
# A stream's plain jobs go in many to a statement, and the database holds
# what it holds when each goes in alone (tests/unit/batch.c).
. "$(dirname "$0")/lib.sh"
"$JOBKIT_UNITS/batch"
