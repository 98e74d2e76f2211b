#!/bin/sh
# The test servers (tests/servers.sh) that the tests of artifact-fetch
# rely on, checked with curl: each claim those tests build on holds.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
servers_start http s3 ftp
plan 44

# The HTTP status of a request, "000" when none came.
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
seq 1 3000 >"$SRV_ROOT/data"
size=$(wc -c <"$SRV_ROOT/data")
echo secret-file >"$SRV_ROOT/basic/f"
echo token-file >"$SRV_ROOT/bearer/f"

check_same "HTTP serves SRV_ROOT" "$(curl -s "$HTTP_URL/data" | cksum)" "$(cksum <"$SRV_ROOT/data")"
check_same "basic auth: the right password gets the file" \
    "$(curl -s -u "$HTTP_USER:$HTTP_PASS" "$HTTP_URL/basic/f")" secret-file
check_same "a wrong one 401" "$(code -u "$HTTP_USER:wrong" "$HTTP_URL/basic/f")" 401
check_same "none 401" "$(code "$HTTP_URL/basic/f")" 401
check_same "bearer: the right token gets the file" \
    "$(curl -s -H "Authorization: Bearer $HTTP_TOKEN" "$HTTP_URL/bearer/f")" token-file
check_same "a wrong one 401" "$(code -H "Authorization: Bearer x$HTTP_TOKEN" "$HTTP_URL/bearer/f")" 401
check_same "none 401" "$(code "$HTTP_URL/bearer/f")" 401

check_same "HTTPS with HTTPS_CA" "$(curl -s --cacert "$HTTPS_CA" "$HTTPS_URL/basic/f" \
    -u "$HTTP_USER:$HTTP_PASS")" secret-file
check_exit 60 "HTTPS without it: curl cannot verify the certificate" curl -s "$HTTPS_URL/data"
check_exit 0 "the certificate names localhost too" curl -s -o /dev/null --cacert "$HTTPS_CA" \
    --resolve "localhost:${HTTPS_URL##*:}:127.0.0.1" "https://localhost:${HTTPS_URL##*:}/data"

check_same "a range request gets 206" "$(code -r 10-19 "$HTTP_URL/data")" 206
check "HTTP_LOG shows it, with its Range" srv_wait_log "$HTTP_LOG" \
    '^127\.0\.0\.1 GET "/data" 206 10 range="bytes=10-19" inm="-" auth=- host=127\.0\.0\.1:'
# The ETag without its quotes.
etag=$(curl -s -o /dev/null -D - "$HTTP_URL/data" | sed -n 's/^[Ee][Tt]ag: *"\(.*\)"\r$/\1/p')
check_same "If-None-Match with its ETag gets 304" "$(code -H "If-None-Match: \"$etag\"" "$HTTP_URL/data")" 304
check "HTTP_LOG shows the If-None-Match (quotes as \\x22)" srv_wait_log "$HTTP_LOG" \
    "GET \"/data\" 304 0 range=\"-\" inm=\"\\\\x22$etag\\\\x22\" auth=-"
check "and that auth came, never what it was" srv_wait_log "$HTTP_LOG" 'GET "/basic/f" 200 .* auth=yes '
# shellcheck disable=SC2016 # the variables are exported
check "(no password in HTTP_LOG)" sh -c '! grep -q -e "$HTTP_PASS" -e "$HTTP_TOKEN" "$HTTP_LOG"'

check_same "OTHER_URL serves SRV_ROOT" "$(curl -s "$OTHER_URL/basic/f")" secret-file
check_same "/redirect/NAME goes there" \
    "$(curl -s -L -u "$HTTP_USER:$HTTP_PASS" "$HTTP_URL/redirect/basic/f")" secret-file
check "with auth to HTTP_URL" srv_wait_log "$HTTP_LOG" \
    'GET "/redirect/basic/f" 302 .* auth=yes host=127\.0\.0\.1:'
check "and none to OTHER_URL: curl drops basic auth" srv_wait_log "$HTTP_LOG" \
    "GET \"/basic/f\" 200 .* auth=- host=127\\.0\\.0\\.2:${OTHER_URL##*:}\$"
curl -s -o /dev/null -L -H "Authorization: Bearer $HTTP_TOKEN" "$HTTP_URL/redirect/data"
check "and a bearer token" srv_wait_log "$HTTP_LOG" \
    "GET \"/data\" 200 .* auth=- host=127\\.0\\.0\\.2:"

check_same "503once: 503 first" "$(code "$FLAKY_URL/503once/data")" 503
check_same "then the file" "$(curl -s "$FLAKY_URL/503once/data" | cksum)" "$(cksum <"$SRV_ROOT/data")"
check_same "for each name" "$(code "$FLAKY_URL/503once/basic/f") $(code "$FLAKY_URL/503once/basic/f")" "503 200"
check_exit 18 "cut: half the body, then the connection closes (curl 18)" \
    curl -s -o "$T/cut" "$FLAKY_URL/cut/data"
check_same "(half of it)" "$(wc -c <"$T/cut")" $((size / 2))
check_same "a resume from there gets 206" \
    "$(curl -s -C - -o "$T/cut" -w '%{http_code}' "$FLAKY_URL/cut/data")" 206
check "and makes the whole file" cmp -s "$T/cut" "$SRV_ROOT/data"
check "FLAKY_LOG has the Range asked" grep -qx "GET /cut/data bytes=$((size / 2))-" "$FLAKY_LOG"
check_same "If-Range naming another ETag gets the whole file" \
    "$(code -r 5- -H 'If-Range: "other"' "$FLAKY_URL/cut/data")" 200
check_same "norange ignores Range" "$(code -r 5- "$FLAKY_URL/norange/data")" 200
check_same "always503, /404" "$(code "$FLAKY_URL/always503/data") $(code "$FLAKY_URL/always503/data") $(code "$FLAKY_URL/404")" \
    "503 503 404"

echo s3-object >"$T/obj"
put_obj() { s3_mkbucket bkt && s3_put "$T/obj" bkt/dir/obj; }
check "S3: the right key makes a bucket and puts an object" put_obj
check_same "and gets it" "$(s3_get bkt/dir/obj)" s3-object
s3sig() { curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"; }
check_same "a wrong secret 403" "$(s3sig --user "$S3_KEY:x$S3_SECRET" "$S3_ENDPOINT/bkt/dir/obj")" 403
check_same "unsigned 403" "$(code "$S3_ENDPOINT/bkt/dir/obj")" 403
check_same "a sorted, encoded query is signed right" \
    "$(s3sig --user "$S3_KEY:$S3_SECRET" "$S3_ENDPOINT/bkt?list-type=2&prefix=dir%2F")" 200
check_same "S3_LOG counts the PUT, once" "$(grep -c '^PUT /bkt/dir/obj -$' "$S3_LOG")" 1

echo ftp-file >"$FTP_ROOT/f"
check_same "FTP: the right password gets a file" "$(curl -s -u "$FTP_USER:$FTP_PASS" "$FTP_URL/f")" ftp-file
check_exit 67 "a wrong one fails (curl 67)" curl -s -u "$FTP_USER:x$FTP_PASS" "$FTP_URL/f"
check_exit 0 "an upload" curl -s -u "$FTP_USER:$FTP_PASS" -T "$SRV_ROOT/data" "$FTP_URL/up"
check "lands in FTP_ROOT" cmp -s "$FTP_ROOT/up" "$SRV_ROOT/data"

# Stopped, they are gone, and so is the FTP user.
servers_stop
check_same "servers_stop stops them" "$(code "$HTTP_URL/data") $(code "$S3_ENDPOINT/")" "000 000"
check_exit 7 "and the FTP server" curl -s -u "$FTP_USER:$FTP_PASS" "$FTP_URL/f"
done_testing
