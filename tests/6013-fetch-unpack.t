#!/bin/sh
# artifact-fetch --unpack: every archive format, detected by content and
# streamed; hostile archives refused whole, nothing written anywhere.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
servers_start http
plan 37

mkdir -p "$T/tree/sub"
echo one >"$T/tree/one"
seq 1 1000 >"$T/tree/sub/two"
ln -s two "$T/tree/sub/link"
(cd "$T/tree" && tar cf "$SRV_ROOT/t.tar" . && tar czf "$SRV_ROOT/t.tgz" . &&
    tar cjf "$SRV_ROOT/t.tbz" . && tar cJf "$SRV_ROOT/t.txz" . &&
    tar --zstd -cf "$SRV_ROOT/t.tzst" . &&
    # (zip keeps a symlink's mode in the central directory, which a
    # streamed read never sees: stored as the file it points to.)
    zip -qr "$SRV_ROOT/t.zip" .)
# What a folder holds, as "path:content" lines.
tree() { (cd "$1" && find . -type f -o -type l | sort | while read -r f; do
	printf '%s:%s ' "$f" "$(cksum <"$f" | cut -d' ' -f1)"; done); }
want=$(tree "$T/tree")
for f in t.tar t.tgz t.tbz t.txz t.tzst t.zip; do
	check_exit 0 "$f unpacks" artifact-fetch -q --no-cache -x -C "$T/u-$f" "$HTTP_URL/$f"
	check_same "$f: the whole tree" "$(tree "$T/u-$f")" "$want"
done
check_same "a symlink inside stays a symlink" "$(readlink "$T/u-t.tgz/sub/link")" two
sha=$(sha256sum <"$SRV_ROOT/t.tgz" | cut -c1-64)
check_exit 0 "through the cache, with its hash" artifact-fetch -q -x -H "sha256:$sha" -C "$T/c1" "$HTTP_URL/t.tgz"
check_exit 0 "and again from the cache" artifact-fetch -q -x -H "sha256:$sha" -C "$T/c2" "$HTTP_URL/t.tgz"
check_out '"cached":true' "cached"
check_same "whole" "$(tree "$T/c2")" "$want"
check_exit 65 "a wrong hash" artifact-fetch -q --no-cache -x -H "sha256:$(echo | sha256sum | cut -c1-64)" \
    -C "$T/wrong" "$HTTP_URL/t.tgz"
check "unpacks nothing" test ! -e "$T/wrong/one"
echo "not an archive" >"$SRV_ROOT/plain"
check_exit 65 "what is not an archive" artifact-fetch -q --no-cache -x -C "$T/np" "$HTTP_URL/plain"
check_stderr "not an archive" "is refused"

# Hostile archives, made with python's tarfile: each refused with 65,
# nothing in the destination, nothing where it pointed.
mkdir -p "$T/hostile/victim"
/usr/bin/python3 - "$SRV_ROOT" "$T/hostile/victim" <<'PY'
import io, sys, tarfile
root, victim = sys.argv[1], sys.argv[2]
def mk(name, *entries):
    with tarfile.open(f"{root}/{name}", "w:gz") as t:
        for e, data in entries:
            t.addfile(e, io.BytesIO(data) if data is not None else None)
def f(name, data=b"x\n", mode=0o644):
    i = tarfile.TarInfo(name); i.size = len(data); i.mode = mode; return (i, data)
def l(name, kind, target):
    i = tarfile.TarInfo(name); i.type = kind; i.linkname = target; return (i, None)
def dev(name, kind):
    i = tarfile.TarInfo(name); i.type = kind; i.devmajor = 1; i.devminor = 3; return (i, None)
mk("dotdot.tgz", f("ok"), f("../victim/planted"))
mk("abs.tgz", f("ok"), f(victim + "/planted"))
mk("symlink.tgz", l("esc", tarfile.SYMTYPE, victim), f("esc/planted"))
mk("hardlink.tgz", l("hl", tarfile.LNKTYPE, victim + "/target"))
mk("device.tgz", f("ok"), dev("null", tarfile.CHRTYPE))
PY
echo target >"$T/hostile/victim/target"
/usr/bin/python3 - "$SRV_ROOT" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1] + "/fifo.tgz", "w:gz") as t:
    i = tarfile.TarInfo("ok"); i.size = 2; t.addfile(i, io.BytesIO(b"x\n"))
    i = tarfile.TarInfo("fifo"); i.type = tarfile.FIFOTYPE; t.addfile(i)
with tarfile.open(sys.argv[1] + "/setuid.tgz", "w:gz") as t:
    i = tarfile.TarInfo("ok"); i.size = 2; t.addfile(i, io.BytesIO(b"x\n"))
    i = tarfile.TarInfo("suid"); i.size = 2; i.mode = 0o4755; t.addfile(i, io.BytesIO(b"x\n"))
PY
before=$(tree "$T/hostile")
for a in dotdot abs symlink hardlink device fifo setuid; do
	mkdir "$T/hostile/d-$a"
	run artifact-fetch -q --no-cache -x -C "$T/hostile/d-$a" "$HTTP_URL/$a.tgz"
	check_same "$a: refused with 65 ($(head -c 120 "$T/err"))" "$rc" 65
	rmdir "$T/hostile/d-$a" 2>/dev/null
	check_same "$a: nothing written anywhere" "$(tree "$T/hostile")" "$before"
done
# A gzip bomb: 1 GiB of zeros in a 1 MiB .tar.gz, over the cap.
truncate -s 1G "$T/zeros" && (cd "$T" && tar cf - zeros | gzip -9 >"$SRV_ROOT/bomb.tgz") && rm "$T/zeros"
echo "# the bomb is $(wc -c <"$SRV_ROOT/bomb.tgz") bytes"
check_exit 65 "a gzip bomb over --max-size" artifact-fetch -q --no-cache -x --max-size 100M -C "$T/bomb" "$HTTP_URL/bomb.tgz"
check_stderr "more than .*--max-size" "is refused at the cap"
done_testing
