#!/usr/bin/env bash
# Background jobs, in one run on one machine (benchmarks/README.md, "Jobs"):
#  1. CT ingest with thumbnails at ingest on (dicomd as it ships), off
#     (--disable jobs), and Orthanc, ROUNDS rounds alternating the three on
#     fresh folders, CLIENTS uploading; for the first, the thumbnail queue's
#     length sampled every 0.25 s during the ingest (its peak) and the time
#     the queue takes to drain after the last upload.
#  2. A 300-slice CT series (512x512) animated at size 256 in each format,
#     from POST /jobs to done, REPS times each (another fps each time, so no
#     request is deduplicated).
# Prints the server's CPU per file and the load client's CPU share.
#   benchmarks/jobs_bench.sh [CT_COUNT=600] [ROUNDS=3] [CLIENTS=8] [REPS=3]
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-600}; rounds=${2:-3}; clients=${3:-8}; reps=${4:-3}

if [ -z "${DICOMD_BENCH_NETNS:-}" ] && ! command -v Orthanc > /dev/null; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends orthanc
fi
source benchmarks/bench_lib.sh
bench_netns build dicomd make_dataset load_client dicomd-plugin-storage-fs dicomd-plugin-files \
  dicomd-plugin-validator-gdcm dicomd-plugin-metadata-gdcm dicomd-plugin-render-png dicomd-plugin-index-sqlite \
  dicomd-plugin-search dicomd-plugin-jobs -- "$@"
bench_workdir jobs-bench

slices=$((count > 300 ? count : 300))
echo "generating $slices CT slices..." >&2
"$bin/make_dataset" "$work/in" "$slices" 0
ls "$work"/in/ct/*.dcm | sed -n "1,${count}p" > "$work/ct"  # sed, not head: no SIGPIPE under pipefail
ls "$work"/in/ct/*.dcm | sed -n "1,300p" > "$work/series"
port=18070
url=http://127.0.0.1:$port
hz=$(getconf CLK_TCK)

start() {  # start KIND DIR
  case $1 in
    thumbnails) "$bin/dicomd" --data "$2" --listen 127.0.0.1:$port --log-level warn 2> "$2.log" & ;;
    nothumbnails) "$bin/dicomd" --data "$2" --listen 127.0.0.1:$port --log-level warn --disable jobs 2> "$2.log" & ;;
    orthanc) start_orthanc "$2" ;;
  esac
  server=$!
  wait_ready
}
stop() {
  kill "$server"; wait "$server" 2> /dev/null || true; server=""
}
# Jobs not yet done: queued + running, from /metrics.
pending() {
  curl -s "$url/metrics" | awk '/^dicomd_jobs\{state="(queued|running)"\}/ { n += $2 } END { print n + 0 }'
}

declare -A rps cpu client
peaks="" drains="" thumbs=""
for r in $(seq "$rounds"); do
  for kind in thumbnails nothumbnails orthanc; do
    dir="$work/$kind-$r"
    start "$kind" "$dir"
    before=$(tree_ticks "$server")
    if [ "$kind" = thumbnails ]; then
      (peak=0; while [ ! -e "$dir.done" ]; do n=$(pending); [ "$n" -gt "$peak" ] && peak=$n; sleep 0.25; done
       echo "$peak" > "$dir.peak") &
      sampler=$!
    fi
    started=$(date +%s.%N)
    if [ "$kind" = orthanc ]; then
      out=$("$bin/load_client" $port "$clients" 0 upload-orthanc "$work/ct" "$work/ids")
    else
      out=$("$bin/load_client" $port "$clients" 0 upload-dicomd ct "$work/ct")
    fi
    if [ "$kind" = thumbnails ]; then
      ingested=$(date +%s.%N)
      touch "$dir.done"; wait "$sampler"
      until [ "$(pending)" = 0 ]; do sleep 0.05; done
      drained=$(date +%s.%N)
      done_count=$(curl -s "$url/metrics" | awk '/^dicomd_jobs\{state="done"\}/ { print $2 }')
      [ "$done_count" = "$count" ] || { echo "round $r: $done_count thumbnails of $count" >&2; exit 1; }
      peaks+="$(cat "$dir.peak") "
      drains+="$(awk -v a="$ingested" -v b="$drained" 'BEGIN { printf "%.2f", b - a }') "
      thumbs+="$(awk -v a="$started" -v b="$drained" -v n="$count" 'BEGIN { printf "%.0f", n / (b - a) }') "
    fi
    after=$(tree_ticks "$server")
    stop
    errors=$(field errors "$out")
    [ "${errors:-1}" = 0 ] || { echo "$kind round $r: upload errors: $out" >&2; exit 1; }
    rps[$kind]+="$(field rps "$out") "
    cpu[$kind]+="$(awk -v t=$((after - before)) -v hz="$hz" -v n="$count" 'BEGIN { printf "%.2f", t / hz * 1000 / n }') "
    client[$kind]+="$(field client_cpu_pct "$out") "
    echo "round $r $kind: $(field rps "$out") files/s" >&2
  done
done

# 2. Animations of 300 slices.
dir="$work/animate"
start thumbnails "$dir"
"$bin/load_client" $port "$clients" 0 upload-dicomd series "$work/series" > /dev/null
until [ "$(pending)" = 0 ]; do sleep 0.1; done
uid=$(curl -s "$url/search?level=series" | sed -n 's/.*"SeriesInstanceUID":"\([0-9.]*\)".*/\1/p')
declare -A secs size
for rep in $(seq "$reps"); do
  for format in apng gif webp; do
    t0=$(date +%s.%N)
    id=$(curl -s -X POST -H 'Content-Type: application/json' \
      -d "{\"type\":\"animate\",\"study\":\"series\",\"series\":\"$uid\",\"format\":\"$format\",\"size\":256,\"fps\":$((9 + rep))}" \
      "$url/jobs" | sed -n 's/.*"job":\([0-9]*\).*/\1/p')
    until state=$(curl -s "$url/jobs/$id" | sed -n 's/.*"state":"\([a-z]*\)".*/\1/p'); [ "$state" = done ] || [ "$state" = failed ]; do
      sleep 0.02
    done
    [ "$state" = done ] || { echo "animation $format failed: $(curl -s "$url/jobs/$id")" >&2; exit 1; }
    t1=$(date +%s.%N)
    secs[$format]+="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') "
    size[$format]=$(curl -s "$url/jobs/$id" | sed -n 's/.*"result_size":\([0-9]*\).*/\1/p')
    echo "rep $rep $format: $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s" >&2
  done
done
stop

o=$(median "${rps[orthanc]}")
echo
echo "CT ingest, $count slices of 525 KB, $clients clients, median of $rounds rounds (min–max)"
echo
echo "| server | files/s | ratio to Orthanc | server CPU per file (ms) | client CPU (%) |"
echo "| --- | --- | --- | --- | --- |"
for kind in thumbnails nothumbnails orthanc; do
  case $kind in
    thumbnails) label="dicomd, thumbnails at ingest (as it ships)" ;;
    nothumbnails) label="dicomd, --disable jobs" ;;
    orthanc) label="Orthanc" ;;
  esac
  m=$(median "${rps[$kind]}")
  echo "| $label | $m ($(spread "${rps[$kind]}")) | $(awk -v a="$m" -v b="$o" 'BEGIN { printf "%.2f×", a / b }') |" \
    "$(median "${cpu[$kind]}") ($(spread "${cpu[$kind]}")) | $(spread "${client[$kind]}") |"
done
echo
echo "Thumbnails (128 px) during that ingest: peak queue $(median "$peaks") jobs ($(spread "$peaks")),"
echo "drained $(median "$drains") s after the last upload ($(spread "$drains")), $(median "$thumbs") thumbnails/s overall ($(spread "$thumbs"))."
echo
echo "A 300-slice CT series (512x512) animated at size 256, POST to done, median of $reps (min–max)"
echo
echo "| format | seconds | result |"
echo "| --- | --- | --- |"
for format in apng gif webp; do
  echo "| $format | $(median "${secs[$format]}") ($(spread "${secs[$format]}")) | $(awk -v b="${size[$format]}" 'BEGIN { printf "%.1f MB", b / 1e6 }') |"
done
