#!/bin/sh
# artifact-fetch and S3: SigV4 against an emulator that checks it, keys by
# reference, StudioML's qualified URLs, prefixes, and uploads.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
servers_start s3
plan 46

seq 1 100000 >"$T/data"
sha=$(sha256sum <"$T/data" | cut -d' ' -f1)
s3_mkbucket bkt
s3_put "$T/data" bkt/dir/data
port=${S3_ENDPOINT##*:}
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE \
    AWS_ENDPOINT_URL AWS_REGION AWS_DEFAULT_REGION 2>/dev/null || true
keys() { env AWS_ACCESS_KEY_ID="$S3_KEY" AWS_SECRET_ACCESS_KEY="$1" "$@"; }
# (The pattern is in a file: grep's own command line would hold it.)
printf '%s\n' "$S3_SECRET" >"$T/pattern"

check_exit 0 "s3://bucket/key at --endpoint, keys from the environment" \
    env AWS_ACCESS_KEY_ID="$S3_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET" \
    artifact-fetch -q --no-cache --endpoint "$S3_ENDPOINT" -H "sha256:$sha" -o "$T/a" s3://bkt/dir/data
check_same "is the object" "$(cksum <"$T/a")" "$(cksum <"$T/data")"
check_out '^{"url":"s3://bkt/dir/data","path":' "the result names the s3 URL"
check_exit 0 "AWS_ENDPOINT_URL" env AWS_ENDPOINT_URL="$S3_ENDPOINT" AWS_ACCESS_KEY_ID="$S3_KEY" \
    AWS_SECRET_ACCESS_KEY="$S3_SECRET" artifact-fetch -q --no-cache -o "$T/b" s3://bkt/dir/data
check_exit 0 "StudioML's qualified s3://HOST:PORT/bucket/key" env AWS_ACCESS_KEY_ID="$S3_KEY" \
    AWS_SECRET_ACCESS_KEY="$S3_SECRET" artifact-fetch -q --no-cache -o "$T/c" "s3://127.0.0.1:$port/bkt/dir/data"
check_same "is the object" "$(cksum <"$T/c")" "$(cksum <"$T/data")"
mkdir -p "$HOME/.aws"
printf '[default]\naws_access_key_id = nobody\naws_secret_access_key = nothing\n\n[lab]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
    "$S3_KEY" "$S3_SECRET" >"$HOME/.aws/credentials"
check_exit 0 "keys of a profile in ~/.aws/credentials (AWS_PROFILE)" env AWS_PROFILE=lab \
    artifact-fetch -q --no-cache --endpoint "$S3_ENDPOINT" -o "$T/d" s3://bkt/dir/data
check_exit 0 "(--profile)" artifact-fetch -q --no-cache --profile lab --endpoint "$S3_ENDPOINT" -o "$T/d" s3://bkt/dir/data
check_exit 77 "the default profile's wrong keys are refused" \
    artifact-fetch -q --no-cache --endpoint "$S3_ENDPOINT" -o "$T/x" s3://bkt/dir/data
rm "$HOME/.aws/credentials"
check_exit 77 "a wrong secret" env AWS_ACCESS_KEY_ID="$S3_KEY" AWS_SECRET_ACCESS_KEY="x$S3_SECRET" \
    artifact-fetch -q --no-cache --endpoint "$S3_ENDPOINT" -o "$T/x" s3://bkt/dir/data
check_stderr "^artifact-fetch: 's3://bkt/dir/data': credentials refused \(HTTP 403\)\$" "is refused, naming the URL"
check "not the secret" sh -c '! grep -qF -f "$T/pattern" "$T/err" "$T/out"'
check_exit 77 "no keys at all" artifact-fetch -q --no-cache --endpoint "$S3_ENDPOINT" -o "$T/x" s3://bkt/dir/data
check_stderr "credentials missing or refused" "may be missing"
echo '{"url":"s3://bkt/dir/data","path":"in/data","credentials":{"access_key_id":"'"$S3_KEY"'","secret_access_key":"'"$S3_SECRET"'"}}' >"$T/inline"
check_exit 0 "inline keys of an artifact on stdin" sh -c 'artifact-fetch -q --no-cache --endpoint "$S3_ENDPOINT" -C "$T/s" <"$T/inline"'
check_same "land at its path" "$(cksum <"$T/s/in/data")" "$(cksum <"$T/data")"
check "the result does not show the secret" sh -c '! grep -qF -f "$T/pattern" "$T/out"'
export AWS_ACCESS_KEY_ID="$S3_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET" AWS_ENDPOINT_URL="$S3_ENDPOINT"
check_exit 65 "an s3 URL without a key" artifact-fetch -q --no-cache -o "$T/x" s3://bkt
check_stderr "^artifact-fetch: 's3://bkt/?': an s3 URL is s3://BUCKET/KEY\$" "says what one is"
check_exit 66 "a missing key" artifact-fetch -q --no-cache -o "$T/x" s3://bkt/dir/nothing
check_stderr "'s3://bkt/dir/nothing': no such object \(HTTP 404\)" "says so"

# A prefix with a trailing slash: every object under it, past one page
# of the listing (the emulator pages at 1000), at their relative paths.
i=0
while [ $i -lt 1003 ]; do echo "$i" >"$T/k$i"; i=$((i + 1)); done
(cd "$T" && curl -s -f --aws-sigv4 "aws:amz:us-east-1:s3" --user "$S3_KEY:$S3_SECRET" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' -T "k[0-1002]" "$S3_ENDPOINT/bkt/many/" -o /dev/null)
# (The emulator escapes &amp; twice in listings: no & in this key.)
s3_put "$T/data" "bkt/many/sub%20dir/a%2Bb%3Dc.txt"
check_exit 0 "s3://bkt/many/ fetches the prefix" artifact-fetch -q --no-cache -C "$T/many" s3://bkt/many/
check_same "every object, over two pages" "$(wc -l <"$T/out" | tr -d ' ')" 1004
check_same "at its path" "$(cat "$T/many/k1002")" 1002
check_same "keys with spaces and signs too" "$(cksum <"$T/many/sub dir/a+b=c.txt")" "$(cksum <"$T/data")"
check "listed in two requests" test "$(grep -c "^GET /bkt .*list-type=2" "$S3_LOG")" -ge 2
# A prefix that fails half-way is taken back: nothing of it is left.
s3_put "$T/data" "bkt/half/a"
s3_put "$T/data" "bkt/half/b/c"
seq 1 200000 >"$T/more"
s3_put "$T/more" "bkt/half/d"
mkdir -p "$T/half"
echo mine >"$T/half/keep"
check_exit 65 "a prefix whose third object is over --max-bytes" \
    artifact-fetch -q --no-cache --max-bytes 600000 -C "$T/half" s3://bkt/half/
check_same "leaves only what was there" "$(cd "$T/half" && find . | sort | tr '\n' ' ')" ". ./keep "
check_exit 65 "a hash for a prefix is refused" artifact-fetch -q --no-cache -H "sha256:$sha" -C "$T/x" s3://bkt/many/

# Uploads: a file, and a folder packed by the URL's suffix.
check_exit 0 "--put a file" artifact-fetch -q --put "$T/data" s3://bkt/up/data
check_out "^{\"url\":\"s3://bkt/up/data\",\"size\":$(wc -c <"$T/data" | tr -d ' '),\"sha256\":\"$sha\"}\$" \
    "prints url, size and sha256"
check_same "the object is there" "$(s3_get bkt/up/data | cksum)" "$(cksum <"$T/data")"
mkdir -p "$T/tree/sub"
echo one >"$T/tree/one"
echo two >"$T/tree/sub/two"
check_exit 0 "--put a folder as .tar.gz" artifact-fetch -q --put "$T/tree" s3://bkt/up/tree.tar.gz
s3_get bkt/up/tree.tar.gz >"$T/tree.tgz"
check_same "is a gzip'd tar of it" "$(tar tzf "$T/tree.tgz" | sort | tr '\n' ' ')" "one sub/ sub/two "
check_exit 0 "and comes back with --unpack" artifact-fetch -q --no-cache -x -C "$T/back" s3://bkt/up/tree.tar.gz
check_same "whole" "$(cat "$T/back/one" "$T/back/sub/two" | tr '\n' ' ')" "one two "
# A large object goes in parts (16 MiB each): initiated, three parts,
# completed; its sha256 is of the whole.
head -c 41943040 /dev/urandom >"$T/big"
check_exit 0 "--put of 40 MiB" artifact-fetch -q --put "$T/big" s3://bkt/up/big
check_out "\"size\":41943040,\"sha256\":\"$(sha256sum <"$T/big" | cut -c1-64)\"" "prints the whole's sha256"
check_same "the object is whole" "$(s3_get bkt/up/big | cksum)" "$(cksum <"$T/big")"
check_same "sent as a multipart upload of three parts" \
    "$(grep -c '^PUT /bkt/up/big partNumber=[123]&uploadId=' "$S3_LOG") $(grep -c '^POST /bkt/up/big uploads' "$S3_LOG") $(grep -c '^POST /bkt/up/big uploadId=' "$S3_LOG")" "3 1 1"
# A part refused for good: the upload is aborted, no parts left behind,
# and no object made.
printf 'PUT /bkt/up/big2 partNumber=2&\n' >"$S3_FAIL"
check_exit 69 "--put whose second part is refused" artifact-fetch -q --retries 0 --put "$T/big" s3://bkt/up/big2
rm -f "$S3_FAIL"
check_stderr "bkt/up/big2" "names the object"
check_same "and prints no answer's body on stdout" "$(cat "$T/out")" ""
check_same "the upload was aborted" \
    "$(grep -c '^DELETE /bkt/up/big2 uploadId=' "$S3_LOG") $(grep -c '^PUT /bkt/up/big2 partNumber=3' "$S3_LOG") $(grep -c '^POST /bkt/up/big2 uploadId=' "$S3_LOG")" "1 0 0"
check_exit 22 "and made no object" s3_get bkt/up/big2
check_exit 77 "--put with a wrong secret" env AWS_SECRET_ACCESS_KEY=wrong artifact-fetch -q --put "$T/data" s3://bkt/up/x

done_testing
