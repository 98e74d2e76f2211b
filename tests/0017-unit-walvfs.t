#!/bin/sh
# The WAL's frames gathered into few writes, never read out of order
# (tests/unit/walvfs.c).
. "$(dirname "$0")/lib.sh"
"$JOBKIT_UNITS/walvfs"
