#!/bin/sh
# artifact-fetch and FTP: a password login by reference, refused logins,
# missing files, uploads.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/servers.sh"
servers_start ftp
plan 14

seq 1 50000 >"$FTP_ROOT/data"
chmod 644 "$FTP_ROOT/data"
export PW="$FTP_PASS" BAD="x$FTP_PASS"
printf '%s\n' "$FTP_PASS" >"$T/pattern"

check_exit 0 "ftp:// with a password from a variable" \
    artifact-fetch -q --no-cache -u "$FTP_USER" --password-env PW -o "$T/a" "$FTP_URL/data"
check_same "is the file" "$(cksum <"$T/a")" "$(cksum <"$FTP_ROOT/data")"
printf 'machine 127.0.0.1 login %s password %s\n' "$FTP_USER" "$FTP_PASS" >"$T/netrc"
check_exit 0 "with a login from --netrc-file" artifact-fetch -q --no-cache --netrc-file "$T/netrc" -o "$T/b" "$FTP_URL/data"
check_same "is the file" "$(cksum <"$T/b")" "$(cksum <"$FTP_ROOT/data")"
check_exit 77 "a wrong password" artifact-fetch -q --no-cache --retries 0 -u "$FTP_USER" --password-env BAD -o "$T/x" "$FTP_URL/data"
check_stderr "^artifact-fetch: '$FTP_URL/data': credentials refused\$" "is refused, naming the URL"
check "not the password" sh -c '! grep -qF -f "$T/pattern" "$T/err"'
check_exit 66 "a missing file" artifact-fetch -q --no-cache -u "$FTP_USER" --password-env PW -o "$T/x" "$FTP_URL/nothing"
check_stderr "'$FTP_URL/nothing': no such object" "says so"
check_exit 66 "a file in a missing folder" artifact-fetch -q --no-cache -u "$FTP_USER" --password-env PW -o "$T/x" "$FTP_URL/nodir/data"
check_stderr "'$FTP_URL/nodir/data': no such object \(a folder of its path is missing" "says so"
check_exit 0 "--put uploads" artifact-fetch -q -u "$FTP_USER" --password-env PW --put "$T/a" "$FTP_URL/up/a"
check_same "into a new folder" "$(cksum <"$FTP_ROOT/up/a")" "$(cksum <"$FTP_ROOT/data")"
check_out "\"sha256\":\"$(sha256sum <"$T/a" | cut -c1-64)\"" "and prints its sha256"
done_testing
