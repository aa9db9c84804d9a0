#!/usr/bin/env bash
# What auth-jwt costs on the cheapest request there is: cached tag lookups
# (GET /files/ct/F/tag?tag=Rows&tag=PatientName) at 32 connections, on the
# same files, dicomd without auth, with auth-jwt on HS256 and with auth-jwt
# on RS256 (the same token on every request, as a client sends it), and —
# to tell the filter's cost from the longer request's — dicomd without auth
# sent the RS256 token in a header nobody reads; ROUNDS rounds alternating
# the four.
#   benchmarks/auth_bench.sh [SECONDS=5] [ROUNDS=3] [CT_COUNT=100]
# Runs in a private network namespace; last figures: benchmarks/README.md, "Auth".
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}; rounds=${2:-3}; count=${3:-100}

source benchmarks/bench_lib.sh
bench_netns test dicomd make_dataset load_client dicomd-plugin-storage-fs dicomd-plugin-files \
  dicomd-plugin-validator-gdcm dicomd-plugin-metadata-gdcm dicomd-plugin-auth-jwt -- "$@"

bench_workdir auth-bench
port=18070

lookup_dataset "$count"

# Keys and tokens: an HS256 secret (dicomd token mints from it) and an RSA
# key pair (the token signed here with openssl, as an identity provider would).
(umask 077 && head -c 32 /dev/urandom | base64 > "$work/hs.key")
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/rs.key" 2> /dev/null
openssl pkey -in "$work/rs.key" -pubout -out "$work/rs.pub"
hs_token=$("$bin/dicomd" token --key-file "$work/hs.key" --role admin --sub bench --ttl 3600)
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
rs_input="$(printf '{"alg":"RS256"}' | b64url).$(printf '{"sub":"bench","role":"admin","exp":%d}' $(($(date +%s) + 3600)) | b64url)"
rs_token="$rs_input.$(printf '%s' "$rs_input" | openssl dgst -sha256 -sign "$work/rs.key" | b64url)"

config() {  # config NAME [AUTH_CONFIG]
  local auth=""
  [ -n "${2:-}" ] && auth='{"name":"auth-jwt","config":'"$2"'},'
  echo '{"listen":"127.0.0.1:'"$port"'","log_level":"warn","plugins":['"$auth"'{"name":"storage-fs"},{"name":"files"},'\
'{"name":"validator-gdcm"},{"name":"metadata-gdcm"}]}' > "$work/$1.json"
}
config none
config hs256 '{"algorithm":"HS256","key_file":"'"$work/hs.key"'"}'
config rs256 '{"algorithm":"RS256","key_file":"'"$work/rs.pub"'"}'
cp "$work/none.json" "$work/padded.json"
declare -A header=([none]="" [padded]="X-Unread: $rs_token" [hs256]="Authorization: Bearer $hs_token"
  [rs256]="Authorization: Bearer $rs_token")

start() {  # start NAME: the server on one data folder, every file uploaded and its tags cached
  "$bin/dicomd" --config "$work/$1.json" --data "$work/data" 2> "$work/$1.log" &
  server=$!
  for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.05; done
  export LOAD_CLIENT_HEADER="${header[$1]}"
  [ -n "${header[$1]}" ] || unset LOAD_CLIENT_HEADER
  "$bin/load_client" $port 8 0 upload-dicomd ct "$work/ct" > /dev/null
  "$bin/load_client" $port 8 1 get "$work/urls" > /dev/null  # parse every header once: the lookups are cached
}
stop() { kill "$server"; wait "$server" 2> /dev/null || true; server=""; }

declare -A rps p99 client
lookup_rounds "$rounds" "$secs" none padded hs256 rs256

echo
echo "Cached tag lookups, 32 connections, $secs s × $rounds rounds, $count files (median, min–max)"
echo
echo "| server | req/s | change against no auth | p99 (ms) | client CPU (%) |"
echo "| --- | --- | --- | --- | --- |"
declare -A label=([none]="dicomd, no auth" [padded]="dicomd, no auth, the RS256 token in an unread header"
  [hs256]="dicomd + auth-jwt, HS256" [rs256]="dicomd + auth-jwt, RS256")
for name in none padded hs256 rs256; do lookup_row "${label[$name]}" "$name" none; done
