#!/usr/bin/env bash
# Radiograph renders and memory: 4 radiographs of 2000x2500 16-bit (10 MB)
# rendered uncached at 8 connections for SECONDS, ROUNDS times; prints
# req/s, p99, and the peak resident memory of dicomd's process tree (the
# server and each worker, sampled every 50 ms), with the server's after the
# uploads. docs/http.md, "Memory of renders", has the model.
#   benchmarks/render_memory.sh [SECONDS=10] [ROUNDS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-10}; rounds=${2:-2}

source benchmarks/bench_lib.sh
bench_netns build dicomd make_dataset load_client dicomd-plugin-storage-fs dicomd-plugin-files \
  dicomd-plugin-validator-gdcm dicomd-plugin-metadata-gdcm dicomd-plugin-render-png -- "$@"

bench_workdir render-memory
port=18072
"$bin/make_dataset" "$work/in" 0 4 > /dev/null
ls "$work"/in/dx/*.dcm > "$work/dx"
sed "s|.*/\(.*\)|/files/dx/\1/png|" "$work/dx" > "$work/urls"

rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status" 2> /dev/null || echo 0; }
for r in $(seq "$rounds"); do
  rm -rf "$work/data"
  "$bin/dicomd" --data "$work/data" --listen 127.0.0.1:$port --log-level warn --disable index-sqlite \
    --disable search --disable jobs 2> "$work/log" &
  server=$!
  for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.05; done
  "$bin/load_client" $port 4 0 upload-dicomd dx "$work/dx" > /dev/null
  after_uploads=$(rss $server)
  ( peak=0
    while true; do
      total=0; each=""
      for p in $server $(pgrep -P $server); do k=$(rss "$p"); total=$((total + k)); each="$each $((k / 1024))"; done
      [ $total -gt $peak ] && peak=$total && echo "$((total / 1024)) MiB (server, workers:$each)" > "$work/peak"
      sleep 0.05
    done ) &
  sampler=$!
  out=$("$bin/load_client" $port 8 "$secs" get "$work/urls")
  kill $sampler; wait $sampler 2> /dev/null || true
  kill "$server"; wait "$server" 2> /dev/null || true; server=""
  [ "$(field errors "$out")" = 0 ] || { echo "errors: $out" >&2; exit 1; }
  echo "round $r: $(field rps "$out") req/s, p99 $(field p99_ms "$out") ms, client CPU $(field client_cpu_pct "$out") %;" \
    "server after uploads $((after_uploads / 1024)) MiB; peak of the tree $(cat "$work/peak")"
done
