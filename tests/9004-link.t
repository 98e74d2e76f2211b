#!/bin/sh
# The tools a shell loop runs once per job link only what they use: of
# libcrypto its SHA-256, not OpenSSL 3's EVP and providers, whose relocated
# tables the loader would touch on every start (a hundred page faults).
# artifact-fetch, which hashes through EVP as it streams, may link them.
. "$(dirname "$0")/lib.sh"
command -v nm >/dev/null 2>&1 || { echo "1..0 # SKIP no nm"; exit 0; }
plan 10

for t in job-submit job-describe run-query exec-run task-keepalive; do
	nm "$JOBKIT_BIN/$t" >"$T/syms" 2>/dev/null
	check "$t has a symbol table" grep -q ' T main$' "$T/syms"
	check "$t links no EVP digest or provider" \
	    sh -c "! grep -Eq ' [TtDd] (EVP_Q_digest|EVP_MD_fetch|OSSL_PROVIDER_load)$' '$T/syms'"
done
