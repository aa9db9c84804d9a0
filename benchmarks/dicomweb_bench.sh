#!/usr/bin/env bash
# DICOMweb beside Orthanc 1.10.1 with Debian's orthanc-dicomweb 1.7, in one
# run on one machine (benchmarks/README.md, "DICOMweb"). Each round, for
# each server on a fresh folder:
#  1. STOW-RS of the SERIES-slice CT series (512x512) at 8 clients, one
#     instance per request (files/s);
#  2. after a restart, one /metadata of the series (dicomd's header cache
#     empty; ms);
#  3. then, SECONDS each at 8 connections (req/s, p99): QIDO-RS studies
#     search by patient name; the series' /metadata; /frames/1 of the first
#     100 instances; /rendered of the same 100 (JPEG).
# dicomd runs as it ships (its jobs make thumbnails at ingest: the measures
# start once its queue is empty). Prints medians (min–max) of ROUNDS rounds,
# the ratio, and the load client's CPU share.
#   benchmarks/dicomweb_bench.sh [SECONDS=5] [ROUNDS=3] [SERIES=300]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}; rounds=${2:-3}; count=${3:-300}

if [ -z "${DICOMD_BENCH_NETNS:-}" ] && ! [ -f /usr/share/orthanc/plugins/libOrthancDicomWeb.so ]; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends orthanc orthanc-dicomweb
fi
source benchmarks/bench_lib.sh
bench_netns build dicomd make_dataset load_client dicomd-plugin-storage-fs dicomd-plugin-files \
  dicomd-plugin-validator-gdcm dicomd-plugin-metadata-gdcm dicomd-plugin-render-png dicomd-plugin-index-sqlite \
  dicomd-plugin-search dicomd-plugin-jobs dicomd-plugin-dicomweb -- "$@"
bench_workdir dicomweb-bench

echo "generating $count CT slices..." >&2
"$bin/make_dataset" "$work/in" "$count" 0 > /dev/null
ls "$work"/in/ct/*.dcm > "$work/ct"
port=18071
url=http://127.0.0.1:$port
orthanc_dicomweb=$(dpkg-query -W -f='${Version}' orthanc-dicomweb)

start() {  # start KIND DIR
  case $1 in
    dicomd) "$bin/dicomd" --data "$2" --listen 127.0.0.1:$port --log-level warn 2> "$2.log" & server=$! ;;
    orthanc) start_orthanc "$2" '["/usr/share/orthanc/plugins/libOrthancDicomWeb.so"]' ;;
  esac
  wait_ready
}
stop() {
  kill "$server"; wait "$server" 2> /dev/null || true; server=""
}
pending_jobs() {
  curl -s "$url/metrics" | awk '/^dicomd_jobs\{state="(queued|running)"\}/ { n += $2 } END { print n + 0 }'
}
# measure NAME KIND OUT: records req/s, p99 and the client's CPU of a load_client line.
declare -A rps p99 client cold
measure() {
  [ "$(field errors "$3")" = 0 ] || { echo "$2 $1: errors: $3" >&2; exit 1; }
  rps[$1-$2]+="$(field rps "$3") "; p99[$1-$2]+="$(field p99_ms "$3") "; client[$1-$2]+="$(field client_cpu_pct "$3") "
  echo "  $2 $1: $(field rps "$3") req/s, p99 $(field p99_ms "$3") ms" >&2
}

for r in $(seq "$rounds"); do
  echo "round $r" >&2
  for kind in dicomd orthanc; do
    dir="$work/$kind-$r"
    start "$kind" "$dir"
    measure stow "$kind" "$("$bin/load_client" $port 8 0 upload-stow "$work/ct")"
    if [ "$kind" = dicomd ]; then
      for _ in $(seq 600); do [ "$(pending_jobs)" = 0 ] && break; sleep 0.1; done
    fi
    # The UIDs, from the server's own QIDO-RS.
    curl -s "$url/dicom-web/instances?limit=1000" > "$work/instances.json"
    read -r study series < <(/usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d[0]["0020000D"]["Value"][0], d[0]["0020000E"]["Value"][0])' "$work/instances.json")
    /usr/bin/python3 -c '
import json, sys
for i in json.load(open(sys.argv[1]))[:100]:
    print("/dicom-web" + i["00081190"]["Value"][0].split("/dicom-web", 1)[1])' "$work/instances.json" > "$work/instance_paths"
    echo "/dicom-web/studies?PatientName=B*" > "$work/qido"
    echo "/dicom-web/studies/$study/series/$series/metadata" > "$work/metadata"
    sed 's|$|/frames/1|' "$work/instance_paths" > "$work/frames"
    sed 's|$|/rendered|' "$work/instance_paths" > "$work/rendered"
    [ "$(wc -l < "$work/frames")" = 100 ] || [ "$count" -lt 100 ] || { echo "$kind: $(wc -l < "$work/frames") instances found" >&2; exit 1; }
    # The first /metadata after a restart: dicomd's header cache is empty.
    stop
    start "$kind" "$dir"
    first=$(curl -s -o /dev/null -w '%{time_total}' "$url$(cat "$work/metadata")")
    cold[$kind]+="$(awk -v t="$first" 'BEGIN { printf "%.1f", 1000 * t }') "
    echo "  $kind first metadata after a restart: ${first} s" >&2
    measure qido "$kind" "$("$bin/load_client" $port 8 "$secs" get "$work/qido")"
    measure metadata "$kind" "$("$bin/load_client" $port 8 "$secs" get "$work/metadata")"
    measure frames "$kind" "$(LOAD_CLIENT_HEADER='Accept: multipart/related; type="application/octet-stream"; transfer-syntax=*' \
                                "$bin/load_client" $port 8 "$secs" get "$work/frames")"
    measure rendered "$kind" "$(LOAD_CLIENT_HEADER='Accept: image/jpeg' "$bin/load_client" $port 8 "$secs" get "$work/rendered")"
    stop
  done
done

echo
echo "| measure (8 connections) | dicomd | Orthanc + orthanc-dicomweb $orthanc_dicomweb | dicomd / Orthanc | dicomd p99 (ms) | Orthanc p99 (ms) | client CPU % (dicomd / Orthanc) |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for m in stow qido metadata frames rendered; do
  a=$(median "${rps[$m-dicomd]}"); b=$(median "${rps[$m-orthanc]}")
  label=$m
  case $m in
    stow) label="STOW-RS, $count CT instances (files/s)" ;;
    qido) label="QIDO-RS studies search (req/s)" ;;
    metadata) label="series /metadata, $count instances (req/s)" ;;
    frames) label="/frames/1 of 100 instances (req/s)" ;;
    rendered) label="/rendered of 100 instances, JPEG (req/s)" ;;
  esac
  echo "| $label | $a ($(spread "${rps[$m-dicomd]}")) | $b ($(spread "${rps[$m-orthanc]}")) |" \
    "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f×", a / b }') | $(median "${p99[$m-dicomd]}") |" \
    "$(median "${p99[$m-orthanc]}") | $(spread "${client[$m-dicomd]}") / $(spread "${client[$m-orthanc]}") |"
done
a=$(median "${cold[dicomd]}"); b=$(median "${cold[orthanc]}")
echo "| first series /metadata after a restart (ms, lower is better) | $a ($(spread "${cold[dicomd]}")) |" \
  "$b ($(spread "${cold[orthanc]}")) | $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f× faster", b / a }') | | | |"
