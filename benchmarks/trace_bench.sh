#!/usr/bin/env bash
# What request tracing costs on the cheapest request there is: cached tag
# lookups (GET /files/ct/F/tag?tag=Rows&tag=PatientName) at 32
# connections, dicomd without traces-otlp, with it sampling nothing (the
# plugin's per-request decision alone), sampling 10 % and sampling every
# request, exporting OTLP/HTTP JSON to telemetry_sink (a collector that
# counts and drops, on the same machine); ROUNDS rounds alternating the four.
# With BASELINE_BIN set to another build's bin folder (an older commit's
# build/release/bin), its dicomd runs too, as a fifth: what the host's own
# recording of traces costs.
#   [BASELINE_BIN=DIR] benchmarks/trace_bench.sh [SECONDS=5] [ROUNDS=3] [CT_COUNT=100]
# Runs in a private network namespace; last figures: benchmarks/README.md,
# "Traces".
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}; rounds=${2:-3}; count=${3:-100}

source benchmarks/bench_lib.sh
bench_netns test dicomd make_dataset load_client telemetry_sink dicomd-plugin-storage-fs dicomd-plugin-files \
  dicomd-plugin-validator-gdcm dicomd-plugin-metadata-gdcm dicomd-plugin-traces-otlp -- "$@"

bench_workdir trace-bench
port=18071
sink=""
cleanup_sink() { if [ -n "$sink" ]; then kill "$sink" 2> /dev/null || true; fi; bench_cleanup; }
trap cleanup_sink EXIT

lookup_dataset "$count"

config() {  # config NAME [SAMPLE_RATIO]
  local traces=""
  [ -n "${2:-}" ] && traces='{"name":"traces-otlp","config":{"endpoint":"http://127.0.0.1:'"$sink_port"'","sample_ratio":'"$2"'}},'
  echo '{"listen":"127.0.0.1:'"$port"'","log_level":"warn","plugins":['"$traces"'{"name":"storage-fs"},{"name":"files"},'\
'{"name":"validator-gdcm"},{"name":"metadata-gdcm"}]}' > "$work/$1.json"
}

"$bin/telemetry_sink" > "$work/sink.out" &
sink=$!
for _ in $(seq 100); do [ -s "$work/sink.out" ] && break; sleep 0.05; done
sink_port=$(head -n 1 "$work/sink.out")
config none
cp "$work/none.json" "$work/baseline.json"
config sample0 0
config sample10 0.1
config sample100 1

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
names=(none sample0 sample10 sample100)
[ -n "${BASELINE_BIN:-}" ] && names=(baseline "${names[@]}")
start() {  # start NAME: the server on one data folder, every file uploaded and its tags cached
  local exe="$bin/dicomd"
  [ "$1" = baseline ] && exe="$BASELINE_BIN/dicomd"
  "$exe" --config "$work/$1.json" --data "$work/data" 2> "$work/$1.log" &
  server=$!
  for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.05; done
  "$bin/load_client" $port 8 0 upload-dicomd ct "$work/ct" > /dev/null
  "$bin/load_client" $port 8 1 get "$work/urls" > /dev/null  # parse every header once: the lookups are cached
  sink_before=$(cpu_ticks "$sink")
  server_before=$(cpu_ticks "$server")
}
stop() { kill "$server"; wait "$server" 2> /dev/null || true; server=""; }
# After each measure: the server's CPU per request (what tracing costs it,
# whatever else the shared machine is doing) and the collector's CPU.
declare -A sink_cpu server_us
measured() {  # measured NAME LOAD_CLIENT_OUTPUT
  server_us[$1]+="$(awk -v t=$(( $(cpu_ticks "$server") - server_before )) -v hz="$(getconf CLK_TCK)" \
    -v n="$(field requests "$2")" 'BEGIN { printf "%.2f", 1e6 * t / hz / n }') "
  sink_cpu[$1]+="$(( $(cpu_ticks "$sink") - sink_before )) "
}

declare -A rps p99 client
lookup_rounds "$rounds" "$secs" "${names[@]}"
kill -TERM "$sink"; wait "$sink" 2> /dev/null || true; sink=""
hz=$(getconf CLK_TCK)

echo
echo "Cached tag lookups, 32 connections, $secs s × $rounds rounds, $count files (median, min–max)"
echo "Collector: $(tail -n 1 "$work/sink.out")"
echo
echo "| server | req/s | change against no tracing | p99 (ms) | client CPU (%) | collector CPU (% of a core) | server CPU per request (µs) | change |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- |"
declare -A label=([baseline]="dicomd of BASELINE_BIN (before traces)" [none]="dicomd, no traces-otlp" [sample0]="dicomd + traces-otlp, sample_ratio 0"
  [sample10]="dicomd + traces-otlp, sample_ratio 0.1" [sample100]="dicomd + traces-otlp, sample_ratio 1")
for name in "${names[@]}"; do
  row=$(lookup_row "${label[$name]}" "$name" none)
  us=$(median "${server_us[$name]}"); base_us=$(median "${server_us[none]}")
  echo "$row $(median "$(for t in ${sink_cpu[$name]}; do awk -v t="$t" -v hz="$hz" -v s="$secs" 'BEGIN { printf "%.1f ", 100 * t / hz / s }'; done)") |" \
    "$us ($(spread "${server_us[$name]}")) | $(awk -v a="$us" -v b="$base_us" 'BEGIN { printf "%+.1f %%", 100 * (a - b) / b }') |"
done
