#!/bin/sh
# Boot this machine's Debian kernel in qemu on a cgroup v2 hierarchy with
# the memory and cpu controllers (which a hybrid or v1 host cannot give a
# test), run exec-run there, and check that a task's memory and CPU are
# held by its own cgroup, that the result says so, that nothing is left
# behind, and that exec-run watches resident memory where it may not make
# groups.  Prints TAP; exits non-zero when a check failed or the guest
# never reported.
#
# Needs qemu-system-x86, a kernel in /boot (linux-image-amd64),
# busybox-static and a C compiler that links statically.  make check-cgroup.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${JOBKIT_BIN:-$TOP/build/bin}
for need in qemu-system-x86_64 busybox cpio cc; do
	command -v "$need" >/dev/null || { echo "1..0 # skip no $need"; exit 0; }
done
# A kernel: $KERNEL, one in /boot we may read, or the one scripts/deps.sh
# put in build/vm (the test itself reaches no network).
K=$TOP/build/vm
if [ -z "${KERNEL:-}" ]; then
	for f in $(ls /boot/vmlinuz-* 2>/dev/null | sort -V); do
		[ -r "$f" ] && KERNEL=$f
	done
fi
KERNEL=${KERNEL:-$K/vmlinuz}
[ -s "$KERNEL" ] || { echo "1..0 # skip no kernel to boot (scripts/deps.sh test fetches one)"; exit 0; }

W=$(mktemp -d "${TMPDIR:-/tmp}/jobkit-vm.XXXXXX")
trap 'rm -rf "$W"' EXIT
[ -n "${KEEP:-}" ] && trap - EXIT && echo "# work in $W"
R=$W/root
mkdir -p "$R/bin" "$R/usr/bin" "$R/proc" "$R/sys" "$R/dev" "$R/tmp" "$R/etc"
cp "$(command -v busybox)" "$R/bin/busybox"
cc -O2 -static -o "$R/usr/bin/hog" "$TOP/tests/helpers/hog.c"
for t in exec-run job-submit job-describe run-query; do
	cp "$BIN/$t" "$R/usr/bin/"
	# The shared libraries it needs, at the paths it was linked with.
	ldd "$BIN/$t" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
	while read -r lib; do
		mkdir -p "$R$(dirname "$lib")"
		cp -L "$lib" "$R$lib"
	done
done
echo 'root:x:0:0:root:/tmp:/bin/sh' >"$R/etc/passwd"
cp "$TOP/tests/vm/guest.sh" "$R/guest.sh"
cat >"$R/init" <<'SH'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t cgroup2 cgroup2 /sys/fs/cgroup
mount -t tmpfs tmp /tmp
mount -t devtmpfs dev /dev 2>/dev/null
export PATH=/usr/bin:/bin HOME=/tmp JOBKIT_DB=/tmp/jobkit.db
echo "== guest up"
sh /guest.sh
echo "== guest done"
poweroff -f
SH
chmod +x "$R/init"
(cd "$R" && find . | cpio -o -H newc 2>/dev/null | gzip -1) >"$W/initrd"
timeout 600 qemu-system-x86_64 -m 1024 -smp 2 -kernel "$KERNEL" \
    -initrd "$W/initrd" -nographic -no-reboot -monitor none \
    -append "console=ttyS0 quiet loglevel=1 panic=-1 rdinit=/init" </dev/null |
    tr -d '\r' >"$W/console" || true
sed -n '/== guest up/,/== guest done/p' "$W/console" | grep -v '== guest'
# On failure the console goes to stderr too, which prove shows unasked.
grep -q '^== guest done' "$W/console" || {
	echo "not ok - the guest did not finish; its console:"
	sed 's/^/# /' "$W/console" | tail -40 | tee /dev/stderr
	exit 1
}
grep -q '^not ok' "$W/console" || exit 0
sed 's/^/# /' "$W/console" | tail -60 >&2
exit 1
