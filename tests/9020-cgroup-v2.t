#!/bin/sh
# cgroup v2 limits of a task's memory and CPU, checked where such a
# hierarchy exists: a qemu guest (tests/vm/cgroup-v2.sh, which explains).
. "$(dirname "$0")/lib.sh"
sh "$TOP/tests/vm/cgroup-v2.sh"
