#!/bin/sh
# Install what building and testing jobkit needs, when it is missing, and
# for the cgroup v2 test a kernel to boot (Debian's, unpacked into
# build/vm, not installed).
# Usage: scripts/deps.sh build|test|bench
# As root it uses apt-get, otherwise sudo when it works without a password;
# failing both it prints the exact command to run and exits 69.
set -eu
want=${1:-build}
# The servers of the transfer tests and benchmarks (nginx, FTP, S3).
case $want in
test|bench) "$(dirname "$0")/servers-deps.sh" ;;
esac
pkgs=""
need() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed' || pkgs="$pkgs $1"; }
for p in make gcc pkg-config libjansson-dev libsqlite3-dev libcurl4-openssl-dev \
    libarchive-dev libssl-dev zlib1g-dev libyaml-dev; do need "$p"; done
case $want in
test|bench) need perl; need mandoc; need sqlite3
	# Archives of every format the tests of --unpack fetch.
	need zstd; need xz-utils; need bzip2; need zip
	# The sandbox of exec-run (tests/4012).
	need bubblewrap ;;
esac
case $want in
bench) need task-spooler; need nq; need parallel; need hyperfine; need strace ;;
esac
# The cgroup v2 test boots a kernel in qemu (tests/vm/cgroup-v2.sh).
vmpkgs=$pkgs
pkgs=""
case $want in
test) need qemu-system-x86; need busybox-static; need cpio ;;
esac
vmpkgs_only=$pkgs
pkgs=$vmpkgs

# A kernel for that test, unless /boot has one we may read.
kernel() {
	k=build/vm
	for f in /boot/vmlinuz-* "$k/vmlinuz"; do
		[ -r "$f" ] && [ -s "$f" ] && return 0
	done
	p=$(apt-cache depends linux-image-amd64 2>/dev/null |
	    awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
	[ -n "$p" ] || return 0
	rm -rf "$k/dl" && mkdir -p "$k/dl"
	if (cd "$k/dl" && apt-get download "$p" >/dev/null 2>&1) &&
	    dpkg-deb --fsys-tarfile "$k"/dl/*.deb | tar -x -C "$k/dl" ./boot; then
		cp "$(ls "$k"/dl/boot/vmlinuz-* | head -1)" "$k/vmlinuz"
	else
		echo "deps: could not fetch $p: the cgroup v2 test will be skipped" >&2
	fi
	rm -rf "$k/dl"
}
if [ -z "$pkgs$vmpkgs_only" ]; then
	[ "$want" = test ] && kernel
	exit 0
fi
echo "deps: installing:$pkgs$vmpkgs_only" >&2
if [ "$(id -u)" = 0 ]; then
	run=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	run="sudo"
else
	if [ -z "$pkgs" ]; then
		echo "deps: the cgroup v2 test will be skipped; to run it:" \
		    "sudo apt-get install --no-install-recommends$vmpkgs_only" >&2
		exit 0
	fi
	echo "deps: missing packages; run: sudo apt-get update && sudo apt-get install -y$pkgs" >&2
	exit 69
fi
export DEBIAN_FRONTEND=noninteractive
$run apt-get update -qq >&2
# shellcheck disable=SC2086
[ -z "$pkgs" ] || $run apt-get install -y -qq $pkgs >&2
# Only what the test needs, not qemu's suggested desktop: best effort,
# the test skips without them.
# shellcheck disable=SC2086
[ -z "$vmpkgs_only" ] ||
    $run apt-get install -y -qq --no-install-recommends $vmpkgs_only >&2 ||
    echo "deps: could not install$vmpkgs_only: the cgroup v2 test will be skipped" >&2
[ "$want" = test ] && kernel
exit 0
