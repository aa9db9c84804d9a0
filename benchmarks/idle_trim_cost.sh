#!/usr/bin/env bash
# The idle trim's cost (host/src/idle_trim.h): a radiograph render and a
# radiograph upload right after a quiet second (freed memory given back, to
# be faulted in again) against the same right after another request (memory
# kept). 5 renders and 4 uploads each way; prints each pair in seconds.
#   benchmarks/idle_trim_cost.sh
set -euo pipefail
cd "$(dirname "$0")/.."

source benchmarks/bench_lib.sh
bench_netns build dicomd make_dataset load_client dicomd-plugin-storage-fs dicomd-plugin-files dicomd-plugin-validator-gdcm \
  dicomd-plugin-metadata-gdcm dicomd-plugin-render-png dicomd-plugin-index-sqlite dicomd-plugin-search dicomd-plugin-jobs -- "$@"

bench_workdir idle-trim-cost
port=18085
"$bin/make_dataset" "$work/in" 0 8 > /dev/null
ls "$work"/in/dx/*.dcm > "$work/dx"
head -4 "$work/dx" > "$work/dx4"
"$bin/dicomd" --data "$work/data" --listen 127.0.0.1:$port --log-level warn 2> "$work/log" &
server=$!
for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$port/health" && break; sleep 0.05; done
"$bin/load_client" $port 4 0 upload-dicomd dx "$work/dx4" > /dev/null

first=$(head -1 "$work/dx")
render() { curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$port/files/dx/$(basename "$first")/png"; }
for _ in 1 2 3 4 5; do
  render > /dev/null
  warm=$(render)
  sleep 1.6
  echo "render: warm $warm s, after a quiet second $(render) s"
done

upload() { curl -s -o /dev/null -w '%{time_total}' -F "study=$1" -F "files=@$2" "http://127.0.0.1:$port/upload"; }
n=0
for file in $(tail -4 "$work/dx"); do
  n=$((n + 1))
  upload "warm-$n" "$first" > /dev/null
  warm=$(upload "a-$n" "$file")
  sleep 1.6
  echo "upload: warm $warm s, after a quiet second $(upload "b-$n" "$file") s"
done
