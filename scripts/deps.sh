#!/bin/sh
# Install what building and testing jobkit needs, when it is missing.
# Usage: scripts/deps.sh build|test|bench
# As root it uses apt-get, otherwise sudo when it works without a password;
# failing both it prints the exact command to run and exits 69.
set -eu
want=${1:-build}
pkgs=""
need() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed' || pkgs="$pkgs $1"; }
for p in make gcc pkg-config libjansson-dev libsqlite3-dev libcurl4-openssl-dev \
    libarchive-dev libssl-dev zlib1g-dev; do need "$p"; done
case $want in
test|bench) need perl; need mandoc; need sqlite3 ;;
esac
case $want in
bench) need task-spooler; need nq; need parallel; need hyperfine ;;
esac
[ -z "$pkgs" ] && exit 0
echo "deps: installing:$pkgs" >&2
if [ "$(id -u)" = 0 ]; then
	run=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	run="sudo"
else
	echo "deps: missing packages; run: sudo apt-get update && sudo apt-get install -y$pkgs" >&2
	exit 69
fi
export DEBIAN_FRONTEND=noninteractive
$run apt-get update -qq >&2
# shellcheck disable=SC2086
$run apt-get install -y -qq $pkgs >&2
