#!/bin/sh
# Install what the test servers of tests/servers.sh need, when it is
# missing: nginx (HTTP/S), vsftpd (FTP as root) or pyftpdlib (FTP
# otherwise), openssl and curl from Debian, and the S3 emulator from npm,
# pinned by tests/servers/package-lock.json, into build/s3 (never into
# the source tree).
# Usage: scripts/servers-deps.sh  (from anywhere; scripts/deps.sh calls it)
# As root it uses apt-get, otherwise sudo when it works without a password;
# failing both it prints the exact command to run and exits 69.
set -eu
cd "$(dirname "$0")/.."
pkgs=""
need() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed' || pkgs="$pkgs $1"; }
for p in nginx vsftpd python3-pyftpdlib openssl curl; do need "$p"; done
# Node may come from elsewhere than Debian (with its own npm, which
# Debian's npm package would conflict with): ask for the commands.
command -v node >/dev/null 2>&1 || pkgs="$pkgs nodejs"
command -v npm >/dev/null 2>&1 || pkgs="$pkgs npm"
if [ -n "$pkgs" ]; then
	echo "servers-deps: installing:$pkgs" >&2
	if [ "$(id -u)" = 0 ]; then
		run=""
	elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
		run="sudo"
	else
		echo "servers-deps: missing packages; run: sudo apt-get update && sudo apt-get install -y$pkgs" >&2
		exit 69
	fi
	export DEBIAN_FRONTEND=noninteractive
	$run apt-get update -qq >&2
	# Only the servers: no desktop, no documentation packages.
	# shellcheck disable=SC2086
	$run apt-get install -y -qq --no-install-recommends $pkgs >&2
fi
# The S3 emulator: installed anew only when missing or its lock changed.
s=build/s3
if [ ! -d "$s/node_modules" ] ||
    ! cmp -s tests/servers/package-lock.json "$s/package-lock.json"; then
	echo "servers-deps: installing the S3 emulator into $s" >&2
	mkdir -p "$s"
	cp tests/servers/package.json tests/servers/package-lock.json "$s/"
	# It declares node >= 24 and works on 20: engine warnings are noise.
	# Its download cache in build/ too: HOME may be anything, even
	# a folder that does not exist.
	(cd "$s" && npm ci --cache "$PWD/.npm-cache" --no-audit --no-fund \
	    --loglevel=error >&2)
fi
exit 0
