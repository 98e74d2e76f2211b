#!/bin/sh
# artifact-fetch over HTTP(S) and file: results, hashes, credentials,
# redirects, retries, resume, caps and the cache, against real servers.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
servers_start http
plan 88

seq 1 200000 >"$SRV_ROOT/data"
size=$(wc -c <"$SRV_ROOT/data" | tr -d ' ')
sha=$(sha256sum <"$SRV_ROOT/data" | cut -d' ' -f1)
md5=$(md5sum <"$SRV_ROOT/data" | cut -d' ' -f1)
echo basic-file >"$SRV_ROOT/basic/f"
echo token-file >"$SRV_ROOT/bearer/f"
# Requests nginx logged for a path (it logs just after answering).
hits() { grep -c "GET \"$1\" " "$HTTP_LOG" || true; }
# What a folder holds, temporary files included.
listing() { (cd "$1" && find . | sort | tr '\n' ' '); }

# A URL to a file in the folder: the result says where, what and how big.
mkdir "$T/d"
check_exit 0 "a URL fetched into -C DIR" artifact-fetch -q --no-cache -C "$T/d" "$HTTP_URL/data"
check_same "the file is the object" "$(cksum <"$T/d/data")" "$(cksum <"$SRV_ROOT/data")"
check_out "^{\"url\":\"$HTTP_URL/data\",\"path\":\"$T/d/data\",\"size\":$size,\"sha256\":\"$sha\",\"cached\":false,\"seconds\":[0-9.]+}\$" \
    "one result object: url, path, size, sha256, cached, seconds"
check_exit 0 "-o FILE" artifact-fetch -q --no-cache -o "$T/one" "$HTTP_URL/data"
check_same "is written there" "$(cksum <"$T/one")" "$(cksum <"$SRV_ROOT/data")"
check_exit 0 "a file:// URL" artifact-fetch -q -o "$T/local" "file://$SRV_ROOT/data"
check_same "is copied" "$(cksum <"$T/local")" "$(cksum <"$SRV_ROOT/data")"
check_exit 66 "a missing file:// object" artifact-fetch -q -o "$T/x" "file://$T/nothing"
check_stderr "^artifact-fetch: 'file://$T/nothing': no such object" "says so"

# Bad input: exit status and message, nothing fetched.
check_exit 64 "a URL of no scheme jobkit knows" artifact-fetch -q -o "$T/x" "gopher://127.0.0.1/x"
check_stderr "is not an http, https, s3, ftp, ftps or file URL" "says which are"
check_exit 65 "an artifact object without a url on stdin" sh -c 'echo "{\"path\":\"x\"}" | artifact-fetch -q -C "$T/bad"'
check_stderr "^artifact-fetch: stdin line 1: \\$: an artifact needs a url\$" "names the line"
check_exit 65 "invalid JSON on stdin" sh -c 'echo "{" | artifact-fetch -q -C "$T/bad"'
check "fetches nothing" test ! -e "$T/bad"
check_exit 64 "a size option that is no size" artifact-fetch -q --max-bytes 12x -o "$T/x" "$HTTP_URL/data"
check_stderr "^artifact-fetch: --max-bytes: " "names the option"
check_exit 64 "-o with two URLs" artifact-fetch -q -o "$T/x" "$HTTP_URL/data" "$HTTP_URL/data"

# Progress on a terminal only, one line redrawn; nothing in a pipe.
cp "$SRV_ROOT/data" "$SRV_ROOT/progress"
on_tty "artifact-fetch --no-cache -o $T/pt $HTTP_URL/progress 2>&1 >/dev/null" >"$T/tty" 2>&1
check "a terminal gets a progress line: bytes, rate" grep -q "$(printf '\r').*B / .*B/s" "$T/tty"
check_exit 0 "in a pipe" artifact-fetch --no-cache -o "$T/pp" "$HTTP_URL/progress"
check_same "stderr stays empty" "$(cat "$T/err")" ""
check_exit 64 "no URL and a terminal for stdin" on_tty "artifact-fetch"

# Hashes are checked while the bytes go by; a mismatch leaves nothing.
check_exit 0 "a right sha256" artifact-fetch -q --no-cache -H "sha256:$sha" -o "$T/h1" "$HTTP_URL/data"
check_exit 0 "a right md5" artifact-fetch -q --no-cache -H "md5:$md5" -o "$T/h2" "$HTTP_URL/data"
mkdir "$T/m"
check_exit 65 "a wrong sha256" artifact-fetch -q --no-cache -H "sha256:$(echo x | sha256sum | cut -c1-64)" \
    -C "$T/m" "$HTTP_URL/data"
check_stderr "^artifact-fetch: '$HTTP_URL/data': hash mismatch: expected sha256:[0-9a-f]{64}, got sha256:$sha\$" \
    "names both hashes"
check_same "and leaves nothing behind" "$(listing "$T/m")" ". "
check_exit 64 "a malformed hash is a usage error" artifact-fetch -q -H "sha256:xyz" -o "$T/x" "$HTTP_URL/data"
check_stderr "is not sha256:<64 hex digits> or md5:<32 hex digits>" "naming the form"

# Errors: 404 is not retried; 503 is, until it works or the retries end.
n=$(hits /missing)
check_exit 66 "404: no such object" artifact-fetch -q --no-cache -o "$T/x" "$HTTP_URL/missing"
check_stderr "^artifact-fetch: '$HTTP_URL/missing': no such object \(HTTP 404\)\$" "says so"
srv_wait_log "$HTTP_LOG" 'GET "/missing" 404'
check_same "and asked once" "$(($(hits /missing) - n))" 1
check_exit 0 "503 once, then the object" artifact-fetch -q --no-cache -o "$T/r" "$FLAKY_URL/503once/data"
check_same "is fetched on the retry" "$(cksum <"$T/r")" "$(cksum <"$SRV_ROOT/data")"
check_same "two requests" "$(grep -c "^GET /503once/data " "$FLAKY_LOG")" 2
check_exit 75 "503 always: a temporary failure after the retries" \
    artifact-fetch -q --no-cache --retries 2 -o "$T/x" "$FLAKY_URL/always503/data"
check_same "three requests" "$(grep -c "^GET /always503/data " "$FLAKY_LOG")" 3
check_exit 69 "nothing listening: unavailable" artifact-fetch -q --no-cache --retries 0 -o "$T/x" "http://127.0.0.1:9/x"

# A cut transfer resumes with a range request, validated by the ETag.
check_exit 0 "a transfer cut half-way" artifact-fetch -q --no-cache -H "sha256:$sha" -o "$T/cut" "$FLAKY_URL/cut/data"
check_same "is resumed to the whole object" "$(cksum <"$T/cut")" "$(cksum <"$SRV_ROOT/data")"
check "with a range request for the rest" grep -q "^GET /cut/data bytes=[1-9][0-9]*-\$" "$FLAKY_LOG"

# Caps.
mkdir "$T/cap"
check_exit 65 "--max-bytes" artifact-fetch -q --no-cache --max-bytes 1000 -C "$T/cap" "$HTTP_URL/data"
check_stderr "larger than 1000 bytes \(--max-bytes\)" "says so"
check_same "leaves nothing" "$(listing "$T/cap")" ". "

# Credentials: basic and bearer, by reference; refused ones are 77 and
# the message names the URL, never the secret.
export PW="$HTTP_PASS" TK="$HTTP_TOKEN" BADPW="wrong-$HTTP_PASS"
check_exit 0 "basic auth, password from a variable" \
    artifact-fetch -q --no-cache -u "$HTTP_USER" --password-env PW -o "$T/b" "$HTTP_URL/basic/f"
check_same "gets the file" "$(cat "$T/b")" basic-file
printf '%s\n' "$HTTP_PASS" >"$T/pwfile"
check_exit 0 "password from a file" \
    artifact-fetch -q --no-cache -u "$HTTP_USER" --password-file "$T/pwfile" -o "$T/b2" "$HTTP_URL/basic/f"
printf 'machine 127.0.0.1 login %s password %s\n' "$HTTP_USER" "$HTTP_PASS" >"$HOME/.netrc"
chmod 600 "$HOME/.netrc"
check_exit 0 "~/.netrc" artifact-fetch -q --no-cache -o "$T/b3" "$HTTP_URL/basic/f"
rm "$HOME/.netrc"
check_exit 77 "a wrong password" \
    artifact-fetch -q --no-cache -u "$HTTP_USER" --password-env BADPW -o "$T/x" "$HTTP_URL/basic/f"
check_stderr "^artifact-fetch: '$HTTP_URL/basic/f': credentials refused \(HTTP 401\)\$" "is refused, naming the URL"
check "without the secret" sh -c '! grep -q -e "$PW" "$T/err"'
check_exit 77 "none at all" artifact-fetch -q --no-cache -o "$T/x" "$HTTP_URL/basic/f"
check_stderr "credentials missing or refused \(HTTP 401\)" "says they may be missing"
check_exit 0 "a bearer token from a variable" \
    artifact-fetch -q --no-cache --token-env TK -o "$T/t" "$HTTP_URL/bearer/f"
check_same "gets the file" "$(cat "$T/t")" token-file
check_exit 77 "a wrong token" artifact-fetch -q --no-cache --token-env BADPW -o "$T/x" "$HTTP_URL/bearer/f"
echo '{"url":"'"$HTTP_URL"'/basic/f","path":"in/f","credentials":{"username":"'"$HTTP_USER"'","password":"'"$HTTP_PASS"'"}}' >"$T/inline"
check_exit 0 "inline credentials of an artifact object on stdin" sh -c 'artifact-fetch -q --no-cache -C "$T/s" <"$T/inline"'
check_same "land at its path" "$(cat "$T/s/in/f")" basic-file
check "the result does not show the password" sh -c '! grep -q -e "$PW" "$T/out"'
check_exit 0 "a user and password in the URL" artifact-fetch -q --no-cache -o "$T/u" \
    "http://$HTTP_USER:$HTTP_PASS@127.0.0.1:${HTTP_URL##*:}/basic/f"
check_out "^{\"url\":\"$HTTP_URL/basic/f\"," "are not in the result"
# A redirect to another host never carries the credentials there.
check_exit 0 "a redirect to another host" \
    artifact-fetch -q --no-cache -u "$HTTP_USER" --password-env PW -o "$T/rd" "$HTTP_URL/redirect/basic/f"
check "is followed without the Authorization header" srv_wait_log "$HTTP_LOG" \
    "GET \"/basic/f\" 200 .* auth=- host=127\\.0\\.0\\.2:"
# While it runs, no process shows the secret on its command line.
artifact-fetch -q --no-cache --retries 3 -u "$HTTP_USER" --password-env PW -o "$T/x" \
    "$FLAKY_URL/always503/f" 2>/dev/null &
p=$!
i=0
until grep -q "^GET /always503/f " "$FLAKY_LOG" || [ $i -gt 600 ]; do i=$((i + 1)); sleep 0.05; done
# (The pattern is in a file: grep's own command line would hold it.)
printf '%s\n' "$PW" >"$T/pattern"
check "no /proc/*/cmdline holds the password" sh -c '! cat /proc/[0-9]*/cmdline 2>/dev/null | tr "\0" " " | grep -qF -f "$T/pattern"'
wait $p

# HTTPS: verified always, with the private CA given.
check_exit 0 "https with --cacert" artifact-fetch -q --no-cache --cacert "$HTTPS_CA" -o "$T/s1" "$HTTPS_URL/data"
check_exit 69 "without it the certificate is refused" artifact-fetch -q --no-cache --retries 0 -o "$T/x" "$HTTPS_URL/data"
check_stderr "^artifact-fetch: '$HTTPS_URL/data': .*(certificate|SSL)" "saying why"
check_exit 64 "--insecure does not exist" artifact-fetch --insecure -o "$T/x" "$HTTPS_URL/data"

# The cache: a known hash is not asked for again; without a hash the
# ETag is asked about (304); a corrupt entry is found and fetched again.
n=$(hits /data)
check_exit 0 "a fetch with a hash fills the cache" artifact-fetch -q -H "sha256:$sha" -o "$T/c1" "$HTTP_URL/data"
srv_wait_log "$HTTP_LOG" 'GET "/data" 200'
check_exit 0 "a second one" artifact-fetch -q -H "sha256:$sha" -o "$T/c2" "$HTTP_URL/data"
check_out '"cached":true' "comes from the cache"
check_same "without a request" "$(($(hits /data) - n))" 1
check_same "and is the object" "$(cksum <"$T/c2")" "$(cksum <"$SRV_ROOT/data")"
check_exit 0 "an md5 of a cached object" artifact-fetch -q -H "md5:$md5" -o "$T/c2m" "$HTTP_URL/data"
check_out '"cached":true' "is checked from the cache too"
check_exit 0 "without a hash" artifact-fetch -q -o "$T/c3" "$HTTP_URL/data"
check_exit 0 "and again" artifact-fetch -q -o "$T/c4" "$HTTP_URL/data"
check_out '"cached":true' "the second is the cached copy"
check "after asking with If-None-Match (304)" srv_wait_log "$HTTP_LOG" 'GET "/data" 304 0 range="-" inm="\\x22'
obj=$(find "$HOME/.cache/jobkit/objects" -name "$sha")
chmod u+w "$obj" && echo corrupt >"$obj"
check_exit 0 "a corrupt cache entry" artifact-fetch -q -H "sha256:$sha" -o "$T/c5" "$HTTP_URL/data"
check_same "is fetched again" "$(cksum <"$T/c5")" "$(cksum <"$SRV_ROOT/data")"
check_out '"cached":false' "and said so"
echo changed >"$T/c5"
check_same "a job changing what it was given does not change the cache" "$(sha256sum <"$obj" | cut -c1-64)" "$sha"

# Two fetchers of one object at once download it once: the second waits
# on the object's lock (while the first backs off after a 503), then finds
# it in the cache.
seq 1 1000 >"$SRV_ROOT/twice"
tsha=$(sha256sum <"$SRV_ROOT/twice" | cut -c1-64)
artifact-fetch -q -H "sha256:$tsha" -o "$T/p1" "$FLAKY_URL/503once/twice" >/dev/null &
p=$!
i=0
until grep -q "^GET /503once/twice " "$FLAKY_LOG" || [ $i -gt 600 ]; do i=$((i + 1)); sleep 0.05; done
check_exit 0 "a second fetcher at the same time" artifact-fetch -q -H "sha256:$tsha" -o "$T/p2" "$FLAKY_URL/503once/twice"
wait $p
check_same "both have it" "$(cat "$T/p1" "$T/p2" | cksum)" "$(cat "$SRV_ROOT/twice" "$SRV_ROOT/twice" | cksum)"
check_same "downloaded once (a 503, then one 200)" "$(grep -c "^GET /503once/twice " "$FLAKY_LOG")" 2
check_out '"cached":true' "the second from the cache"
check_exit 0 "a cache that cannot be made is done without" \
    env XDG_CACHE_HOME=/proc/nonexistent artifact-fetch -q -o "$T/nc" "$HTTP_URL/data"
done_testing
