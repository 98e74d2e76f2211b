# Real servers on loopback for the tests of transfers (artifact-fetch):
# HTTP and HTTPS (nginx), a misbehaving HTTP server (python), S3 (the
# @20minutes/s3rver emulator) and FTP (vsftpd as root, pyftpdlib
# otherwise).  Each test starts its own, on free ports, with all state in
# $T, so test files may run at once.  Source it after lib.sh, and start
# the servers before printing the plan:
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/servers.sh"
#   servers_start http s3 ftp    any of them
# A program missing (scripts/servers-deps.sh installs them) makes the test
# print "1..0 # SKIP why" and exit 0; a server that fails to start makes
# it exit 1, saying why.  They stop when the test exits (chained onto the
# EXIT trap in force at servers_start: a test setting its own trap later
# must call servers_stop in it), or at servers_stop.  Call servers_start
# from the test's own shell, not in $(...) or a pipe: servers die with the
# shell that started them.
#
# http: nginx, and the python one (FLAKY_*)
#   SRV_ROOT      folder served at / of HTTP_URL, HTTPS_URL and OTHER_URL
#   HTTP_URL      http://127.0.0.1:PORT    (no trailing slash, as all URLs)
#   HTTPS_URL     https://127.0.0.1:PORT   certificate for 127.0.0.1 and
#   HTTPS_CA      localhost, signed by this CA (PEM)
#   HTTP_LOG      nginx's access log, a line a request, e.g.
#                   127.0.0.1 GET "/f?x" 206 100 range="bytes=0-99"
#                   inm="\x22etag\x22" auth=yes host=127.0.0.1:PORT
#                 (inm: If-None-Match; auth: yes when an Authorization
#                 header came, else "-"; an absent header logs as "-")
#   HTTP_USER HTTP_PASS  basic auth for /basic/ ($SRV_ROOT/basic/)
#   HTTP_TOKEN    /bearer/ ($SRV_ROOT/bearer/) answers 401 without
#                 "Authorization: Bearer $HTTP_TOKEN"
#   OTHER_URL     http://127.0.0.2:PORT, another host serving SRV_ROOT,
#                 logged in HTTP_LOG too; $HTTP_URL/redirect/NAME answers
#                 302 to $OTHER_URL/NAME
#   FLAKY_URL     http://127.0.0.1:PORT (tests/servers/flaky.py), each
#                 serving $SRV_ROOT/NAME: /503once/NAME (503 first, per
#                 NAME), /cut/NAME (first GET: half the body, then the
#                 connection closes; later: Range "bytes=N-" gets 206,
#                 with If-Range checked against its ETag), /norange/NAME,
#                 /always503/NAME; anything else 404
#   FLAKY_LOG     its log: "METHOD PATH RANGE" a request ("-": no Range)
# s3:
#   S3_ENDPOINT   http://127.0.0.1:PORT, path style (/bucket/key)
#   S3_KEY S3_SECRET  the one key pair it accepts (not as AWS_*: tests say
#                 what they hand the tool); unsigned requests get 403
#   S3_LOG        "METHOD PATH QUERY" a request ("-": no query), written
#                 as it arrives, whatever the answer
#   S3_FAIL       a file (none at first): while it exists, a request whose
#                 log line begins with its first line gets 400 InvalidRequest
#   s3_mkbucket NAME, s3_put FILE BUCKET/KEY, s3_get BUCKET/KEY (stdout):
#                 signed curl calls, failing on an HTTP error; the secret
#                 goes through a curl config file, never in ps
# ftp:
#   FTP_URL       ftp://127.0.0.1:PORT
#   FTP_USER FTP_PASS  its one login (a temporary system user as root,
#                 whose wrong password PAM answers after about 2 s)
#   FTP_ROOT      the login's folder: what is put there (readable by
#                 FTP_USER: the usual umask 022 does) is served, uploads
#                 land there; as root it is outside $T, which may be 0700
#
#   srv_wait_log FILE ERE   wait (10 s at most) for a line of FILE to
#                 match: nginx logs a request just after answering it,
#                 so a test reading HTTP_LOG right after curl may be early

_srv_dir=$T/srv
_srv_procs=""   # "pid:starttime" of each server started
_srv_user=""    # the FTP system user made, as root
_srv_home=""    # and the folder holding its home

_srv_die() {
	echo "servers: $*" >&2
	exit 1
}

# A program, from PATH or the sbin folders a normal user's PATH may lack.
_srv_prog() {
	for _srv_p in $(command -v "$1") /usr/sbin/"$1" /sbin/"$1"; do
		[ -x "$_srv_p" ] && echo "$_srv_p" && return 0
	done
	return 1
}

# N free ports of 127.0.0.1, held together while picked so they differ.
_srv_ports() {
	/usr/bin/python3 -Ic 'import socket, sys
s = [socket.socket() for _ in range(int(sys.argv[1]))]
for x in s: x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))' "$1"
}

_srv_secret() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'; }

# The start time of a process: with its PID, it says the process is still
# the one started here (a PID is reused once its process is gone).
_srv_start() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20; }

# Whether pid:starttime $1 still runs (a zombie does not).
_srv_alive() {
	_srv_st=$(sed 's/.*) //' "/proc/${1%%:*}/stat" 2>/dev/null) || return 1
	[ "${_srv_st%% *}" != Z ] && [ "$(echo "$_srv_st" | cut -d' ' -f20)" = "${1#*:}" ]
}

# Start a server in the background; $_srv_pid is its pid:starttime.  It
# gets SIGTERM should this shell die without its EXIT trap (SIGKILL).  Its
# output goes to file $1, and so does what it writes to fd 0 (vsftpd's
# errors: in inetd mode fd 0 is the client's connection).
_srv_spawn() {
	_srv_out=$1
	shift
	if [ -n "$_srv_pdeath" ]; then
		setpriv --pdeathsig TERM "$@" >"$_srv_out" 2>&1 0>&1 &
	else
		"$@" >"$_srv_out" 2>&1 0>&1 &
	fi
	_srv_pid=$!:$(_srv_start $!)
	_srv_procs="$_srv_procs $_srv_pid"
}

# Wait until "$@" succeeds while server $1 ($2 names it, $3 is its log)
# runs, polling: 30 s at most.  Fails when the server has exited.
_srv_until() {
	_srv_w=$1 _srv_what=$2 _srv_o=$3
	shift 3
	_srv_i=0
	until "$@" >/dev/null 2>&1; do
		_srv_alive "$_srv_w" || return 1
		_srv_i=$((_srv_i + 1))
		[ $_srv_i -gt 600 ] && _srv_die "$_srv_what not ready after 30 s:" "$(_srv_tail "$_srv_o")"
		sleep 0.05
	done
}

# The end of a server's log, for a message saying why it failed.
_srv_tail() { echo "(from $1)"; tail -5 "$1" 2>/dev/null; }

_srv_stop1() {
	_srv_x=$1
	_srv_alive "$_srv_x" || return 0
	kill -TERM "${_srv_x%%:*}" 2>/dev/null
	_srv_i=0
	while _srv_alive "$_srv_x" && [ $_srv_i -lt 100 ]; do
		_srv_i=$((_srv_i + 1))
		sleep 0.05
	done
	_srv_alive "$_srv_x" && kill -KILL "${_srv_x%%:*}" 2>/dev/null
	wait "${_srv_x%%:*}" 2>/dev/null
	return 0
}

# Commands editing /etc/passwd fail at once while another (a test running
# alongside) holds its lock: try again for a while.
_srv_retry() {
	_srv_i=0
	until "$@"; do
		_srv_i=$((_srv_i + 1))
		[ $_srv_i -gt 50 ] && return 1
		sleep 0.1
	done
}

servers_stop() {
	for _srv_p in $_srv_procs; do _srv_stop1 "$_srv_p"; done
	_srv_procs=""
	if [ -n "$_srv_user" ]; then
		# vsftpd's sessions run as the user, and userdel waits for none.
		for _srv_p in $(pgrep -u "$_srv_user"); do kill -KILL "$_srv_p" 2>/dev/null; done
		_srv_retry userdel "$_srv_user" 2>/dev/null ||
		    echo "servers: could not remove user $_srv_user" >&2
		_srv_user=""
	fi
	[ -n "$_srv_home" ] && rm -rf "$_srv_home"
	_srv_home=""
	return 0
}

# A CA, and the certificate for 127.0.0.1 and localhost it signs, in $1;
# EC keys, quick to make; no system openssl.cnf to read.
_srv_cert() {
	_srv_o=$1
	set -- -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2
	OPENSSL_CONF=/dev/null openssl req -x509 "$@" -keyout "$_srv_o/ca.key" \
	    -out "$_srv_o/ca.pem" -subj "/CN=jobkit test CA" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign || return 1
	OPENSSL_CONF=/dev/null openssl req -x509 "$@" -CA "$_srv_o/ca.pem" \
	    -CAkey "$_srv_o/ca.key" -keyout "$_srv_o/server.key" -out "$_srv_o/server.pem" \
	    -subj /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
	    -addext basicConstraints=critical,CA:FALSE -addext extendedKeyUsage=serverAuth
}

# nginx, on ports picked first: another process may take one meanwhile,
# so a failed bind picks anew.
_srv_nginx() {
	_srv_n=$_srv_dir/nginx
	mkdir -p "$_srv_n/tmp" "$SRV_ROOT/basic" "$SRV_ROOT/bearer"
	HTTP_USER=jobkit HTTP_PASS=$(_srv_secret 8) HTTP_TOKEN=$(_srv_secret 16)
	printf '%s:%s\n' "$HTTP_USER" "$(openssl passwd -apr1 "$HTTP_PASS")" >"$_srv_n/htpasswd"
	_srv_cert "$_srv_n" 2>"$_srv_n/openssl.err" ||
	    _srv_die "could not make a certificate:" "$(cat "$_srv_n/openssl.err")"
	HTTPS_CA=$_srv_n/ca.pem
	for _srv_try in 1 2 3; do
		# shellcheck disable=SC2046 # the ports, as $1 $2 $3
		set -- $(_srv_ports 3)
		sed -e "s|@P@|$_srv_n|g" -e "s|@ROOT@|$SRV_ROOT|g" -e "s|@HTTP@|$1|g" \
		    -e "s|@HTTPS@|$2|g" -e "s|@OTHER@|$3|g" -e "s|@TOKEN@|$HTTP_TOKEN|g" \
		    "$TOP/tests/servers/nginx.conf" >"$_srv_n/nginx.conf"
		rm -f "$_srv_n/nginx.pid"
		_srv_spawn "$_srv_n/out" "$_srv_nginx_bin" -p "$_srv_n" -c "$_srv_n/nginx.conf" -e "$_srv_n/error.log"
		# nginx writes its pid file once it holds its sockets.
		if _srv_until "$_srv_pid" nginx "$_srv_n/error.log" test -s "$_srv_n/nginx.pid"; then
			HTTP_URL=http://127.0.0.1:$1 HTTPS_URL=https://127.0.0.1:$2
			OTHER_URL=http://127.0.0.2:$3 HTTP_LOG=$_srv_n/access.log
			return 0
		fi
		grep -q 'Address already in use' "$_srv_n/error.log" ||
		    _srv_die "nginx did not start" "$(_srv_tail "$_srv_n/error.log")"
	done
	_srv_die "nginx found no free port in 3 tries"
}

_srv_vsftpd() {
	_srv_f=$_srv_dir/ftp
	mkdir -p "$_srv_f/empty"
	# Users left by killed tests (SIGKILL skips the EXIT trap) go first:
	# those whose test, the PID in their name, is gone or is ours.
	# shellcheck disable=SC2013 # the names hold no space
	for _srv_p in $(sed -n 's/^jkftp\([0-9]*\):.*/\1/p' /etc/passwd); do
		[ "$_srv_p" = $$ ] || [ ! -d "/proc/$_srv_p" ] || continue
		_srv_o=$(getent passwd "jkftp$_srv_p" | cut -d: -f6)
		userdel "jkftp$_srv_p" >/dev/null 2>&1
		case $_srv_o in /tmp/jobkit-ftp.*/home) rm -rf "${_srv_o%/home}" ;; esac
	done
	# Its user's home must be reachable by that user: not under a 0700
	# TMPDIR.
	_srv_home=$(mktemp -d /tmp/jobkit-ftp.XXXXXX) || _srv_die "no folder in /tmp"
	chmod 0755 "$_srv_home"
	FTP_USER=jkftp$$ FTP_PASS=$(_srv_secret 8) FTP_ROOT=$_srv_home/home
	_srv_retry useradd -M -d "$FTP_ROOT" -s /bin/sh "$FTP_USER" ||
	    _srv_die "useradd $FTP_USER failed"
	_srv_user=$FTP_USER
	mkdir "$FTP_ROOT" && chown "$FTP_USER:" "$FTP_ROOT"
	printf '%s:%s\n' "$FTP_USER" "$FTP_PASS" | _srv_retry chpasswd ||
	    _srv_die "chpasswd failed"
	printf 'user = "%s:%s"\n' "$FTP_USER" "$FTP_PASS" >"$_srv_f/curlrc"
	for _srv_try in 1 2 3; do
		# shellcheck disable=SC2046 # the port, as $1
		set -- $(_srv_ports 1)
		: >"$_srv_f/vsftpd.log"
		sed -e "s|@PORT@|$1|g" -e "s|@EMPTY@|$_srv_f/empty|g" -e "s|@LOG@|$_srv_f/vsftpd.log|g" \
		    "$TOP/tests/servers/vsftpd.conf" >"$_srv_f/vsftpd.conf"
		_srv_spawn "$_srv_f/out" "$_srv_vsftpd_bin" "$_srv_f/vsftpd.conf"
		FTP_URL=ftp://127.0.0.1:$1
		# Our login works, and our log saw it: not another test's vsftpd
		# that took the port first.
		# shellcheck disable=SC2016 # sh -c's own $0 $1 $2
		if _srv_until "$_srv_pid" vsftpd "$_srv_f/out" sh -c \
		    'curl -q -s -o /dev/null -K "$0" "$1/" && grep -q "OK LOGIN" "$2"' \
		    "$_srv_f/curlrc" "$FTP_URL" "$_srv_f/vsftpd.log"; then
			return 0
		fi
		grep -q 'could not bind' "$_srv_f/out" ||
		    _srv_die "vsftpd did not start" "$(_srv_tail "$_srv_f/out")"
	done
	_srv_die "vsftpd found no free port in 3 tries"
}

servers_start() {
	# What is needed, all checked before anything starts.
	_srv_need=""
	_srv_pdeath=""
	setpriv --help 2>/dev/null | grep -q pdeathsig && _srv_pdeath=yes
	command -v curl >/dev/null || _srv_need="$_srv_need curl"
	[ -x /usr/bin/python3 ] || _srv_need="$_srv_need python3"
	_srv_ftp=""
	for _srv_s in "$@"; do
		case $_srv_s in
		http)
			_srv_nginx_bin=$(_srv_prog nginx) || _srv_need="$_srv_need nginx"
			command -v openssl >/dev/null || _srv_need="$_srv_need openssl" ;;
		s3)
			command -v node >/dev/null || _srv_need="$_srv_need nodejs"
			[ -f "$TOP/build/s3/node_modules/@20minutes/s3rver/lib/s3rver.js" ] ||
			    _srv_need="$_srv_need @20minutes/s3rver(in build/s3)" ;;
		ftp)
			if [ "$(id -u)" = 0 ] && _srv_vsftpd_bin=$(_srv_prog vsftpd) &&
			    command -v useradd >/dev/null && command -v chpasswd >/dev/null; then
				_srv_ftp=vsftpd
			elif /usr/bin/python3 -Ic 'import pyftpdlib' 2>/dev/null; then
				_srv_ftp=pyftpdlib
			else
				_srv_need="$_srv_need vsftpd(as root)|python3-pyftpdlib"
			fi ;;
		*) _srv_die "servers_start: no server '$_srv_s' (http s3 ftp)" ;;
		esac
	done
	if [ -n "$_srv_need" ]; then
		echo "1..0 # SKIP needs$_srv_need (scripts/servers-deps.sh installs them)"
		exit 0
	fi

	# Stop them at exit, then do what was to be done at exit: the EXIT
	# trap in force (lib.sh's removes $T).  A signal exits, so that runs.
	trap >"$T/.traps"
	_srv_prev=$(sed -n "s/^trap -- \(.*\) EXIT\$/\1/p" "$T/.traps")
	eval "_srv_prev=${_srv_prev:-''}"
	# shellcheck disable=SC2064
	trap "servers_stop; $_srv_prev" EXIT
	for _srv_sig in HUP INT TERM; do
		grep -q " $_srv_sig\$" "$T/.traps" || trap 'exit 1' "$_srv_sig"
	done
	rm -f "$T/.traps"
	mkdir -p "$_srv_dir"
	SRV_ROOT=$_srv_dir/www
	mkdir -p "$SRV_ROOT"
	chmod 0755 "$SRV_ROOT"

	# The slow starters first, to start together; then wait for each.
	for _srv_s in "$@"; do
		case $_srv_s in
		s3)
			S3_KEY=JOBKIT$(_srv_secret 6 | tr a-f A-F) S3_SECRET=$(_srv_secret 20)
			S3_LOG=$_srv_dir/s3.log S3_FAIL=$_srv_dir/s3.fail
			mkdir -p "$_srv_dir/s3"
			printf 'user = "%s:%s"\n' "$S3_KEY" "$S3_SECRET" >"$_srv_dir/s3.curlrc"
			_srv_spawn "$_srv_dir/s3.out" env -u NODE_OPTIONS \
			    S3RVER_DIR="$TOP/build/s3" S3_DATA="$_srv_dir/s3" S3_LOG="$S3_LOG" S3_FAIL="$S3_FAIL" \
			    S3_PORTFILE="$_srv_dir/s3.port" S3_KEY="$S3_KEY" S3_SECRET="$S3_SECRET" \
			    node --openssl-legacy-provider "$TOP/tests/servers/s3.js"
			_srv_s3pid=$_srv_pid ;;
		http)
			FLAKY_LOG=$_srv_dir/flaky.log
			_srv_spawn "$_srv_dir/flaky.out" /usr/bin/python3 -I \
			    "$TOP/tests/servers/flaky.py" "$SRV_ROOT" "$_srv_dir/flaky.port" "$FLAKY_LOG"
			_srv_flakypid=$_srv_pid ;;
		ftp)
			[ $_srv_ftp = pyftpdlib ] || continue
			FTP_USER=jobkit FTP_PASS=$(_srv_secret 8) FTP_ROOT=$_srv_dir/ftp/root
			mkdir -p "$FTP_ROOT"
			_srv_spawn "$_srv_dir/ftp.out" env FTP_USER="$FTP_USER" FTP_PASS="$FTP_PASS" \
			    /usr/bin/python3 -I "$TOP/tests/servers/ftp.py" "$FTP_ROOT" \
			    "$_srv_dir/ftp.port" "$_srv_dir/ftp.log"
			_srv_ftppid=$_srv_pid ;;
		esac
	done
	for _srv_s in "$@"; do
		case $_srv_s in
		http)
			_srv_nginx
			_srv_until "$_srv_flakypid" "the flaky server" "$_srv_dir/flaky.out" \
			    test -s "$_srv_dir/flaky.port" ||
			    _srv_die "the flaky server exited" "$(_srv_tail "$_srv_dir/flaky.out")"
			FLAKY_URL=http://127.0.0.1:$(cat "$_srv_dir/flaky.port") ;;
		s3)
			_srv_until "$_srv_s3pid" "the S3 emulator" "$_srv_dir/s3.out" \
			    test -s "$_srv_dir/s3.port" ||
			    _srv_die "the S3 emulator exited" "$(_srv_tail "$_srv_dir/s3.out")"
			S3_ENDPOINT=http://127.0.0.1:$(cat "$_srv_dir/s3.port") ;;
		ftp)
			mkdir -p "$_srv_dir/ftp"
			if [ $_srv_ftp = vsftpd ]; then
				_srv_vsftpd
			else
				_srv_until "$_srv_ftppid" "the FTP server" "$_srv_dir/ftp.out" \
				    test -s "$_srv_dir/ftp.port" ||
				    _srv_die "the FTP server exited" "$(_srv_tail "$_srv_dir/ftp.out")"
				FTP_URL=ftp://127.0.0.1:$(cat "$_srv_dir/ftp.port")
			fi ;;
		esac
	done
	export SRV_ROOT HTTP_URL HTTPS_URL HTTPS_CA HTTP_LOG HTTP_USER HTTP_PASS \
	    HTTP_TOKEN OTHER_URL FLAKY_URL FLAKY_LOG S3_ENDPOINT S3_KEY S3_SECRET \
	    S3_LOG S3_FAIL FTP_URL FTP_USER FTP_PASS FTP_ROOT 2>/dev/null
	return 0
}

# -q first: no ~/.curlrc, wherever HOME points.
_srv_s3() {
	curl -q -sS --fail -K "$_srv_dir/s3.curlrc" --aws-sigv4 "aws:amz:us-east-1:s3" \
	    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"
}
s3_mkbucket() { _srv_s3 -o /dev/null -X PUT "$S3_ENDPOINT/$1"; }
s3_put() { _srv_s3 -o /dev/null -T "$1" "$S3_ENDPOINT/$2"; }
s3_get() { _srv_s3 "$S3_ENDPOINT/$1"; }

srv_wait_log() {
	_srv_i=0
	until grep -Eq -- "$2" "$1" 2>/dev/null; do
		_srv_i=$((_srv_i + 1))
		[ $_srv_i -gt 200 ] && return 1
		sleep 0.05
	done
}
