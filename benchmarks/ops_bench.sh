#!/usr/bin/env bash
# What operations cost on the cheapest request there is: cached tag lookups
# (GET /files/ct/F/tag?tag=Rows&tag=PatientName) at 32 connections, dicomd
# with the access log off (--log-level warn: metrics still recorded), with
# the text access log, and with the JSON one; and, when BASELINE_BIN names
# the bin/ folder of a build from before metrics and access logs, that
# build as the reference. ROUNDS rounds alternating them.
#   BASELINE_BIN=/path/to/old/build/release/bin benchmarks/ops_bench.sh [SECONDS=5] [ROUNDS=3] [CT_COUNT=100]
# Runs in a private network namespace; last figures: benchmarks/README.md, "Operations".
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}; rounds=${2:-3}; count=${3:-100}

source benchmarks/bench_lib.sh
bench_netns build dicomd make_dataset load_client dicomd-plugin-storage-fs dicomd-plugin-files \
  dicomd-plugin-validator-gdcm dicomd-plugin-metadata-gdcm -- "$@"

bench_workdir ops-bench
port=18071

lookup_dataset "$count"
echo '{"listen":"127.0.0.1:'"$port"'","plugins":[{"name":"storage-fs"},{"name":"files"},{"name":"validator-gdcm"},'\
'{"name":"metadata-gdcm"}]}' > "$work/config.json"

declare -A args=([quiet]="--log-level warn" [text]="" [json]="--log-format json" [baseline]="")
variants=(quiet text json)
[ -n "${BASELINE_BIN:-}" ] && variants=(baseline "${variants[@]}")

start() {  # start NAME: the server on one data folder, every file uploaded and its tags cached
  local exe="$bin/dicomd"
  [ "$1" = baseline ] && exe="$BASELINE_BIN/dicomd"
  # shellcheck disable=SC2086
  "$exe" --config "$work/config.json" --data "$work/data-$1" ${args[$1]} 2> "$work/$1.log" &
  server=$!
  for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.05; done
  "$bin/load_client" $port 8 0 upload-dicomd ct "$work/ct" > /dev/null
  "$bin/load_client" $port 8 1 get "$work/urls" > /dev/null  # parse every header once: the lookups are cached
}
stop() { kill "$server"; wait "$server" 2> /dev/null || true; server=""; }

declare -A rps p99 client
lookup_rounds "$rounds" "$secs" "${variants[@]}"

echo
echo "Cached tag lookups, 32 connections, $secs s × $rounds rounds, $count files (median, min–max)"
echo
echo "| server | req/s | vs. first row | p99 (ms) | client CPU (%) |"
echo "| --- | --- | --- | --- | --- |"
declare -A label=([baseline]="dicomd before metrics and access logs" [quiet]="dicomd, metrics, no access log"
  [text]="dicomd, metrics, text access log" [json]="dicomd, metrics, JSON access log")
for name in "${variants[@]}"; do lookup_row "${label[$name]}" "$name" "${variants[0]}"; done
