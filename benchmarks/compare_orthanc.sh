#!/usr/bin/env bash
# dicomd and Orthanc side by side, on the same machine, files and client, in
# one run. Everything runs in a private network namespace (Orthanc cannot
# bind to one address; there it only has loopback).
#   benchmarks/compare_orthanc.sh [CT_COUNT=600] [RADIOGRAPH_COUNT=4] [SECONDS=8] [ROUNDS=2]
# Prints one table (figures of the last run: benchmarks/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ct_count=${1:-600}; dx_count=${2:-4}; secs=${3:-8}; rounds=${4:-2}

if [ -z "${DICOMD_BENCH_NETNS:-}" ]; then
  scripts/install-deps build
  if ! command -v Orthanc > /dev/null; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends orthanc
  fi
  cmake --preset release > /dev/null
  cmake --build --preset release --target dicomd make_dataset load_client dicomd-plugin-storage-fs \
    dicomd-plugin-validator-gdcm dicomd-plugin-metadata-gdcm dicomd-plugin-render-png dicomd-plugin-index-sqlite \
    dicomd-plugin-search > /dev/null
  exec unshare --net env DICOMD_BENCH_NETNS=1 "$0" "$@"
fi
ip link set lo up

bin=build/release/bin
work=$(mktemp -d)
pids=()
cleanup() {
  stop_samplers
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  wait 2> /dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "generating $ct_count CT slices and $dx_count radiographs..." >&2
"$bin/make_dataset" "$work/in" "$ct_count" "$dx_count"
ls "$work"/in/ct/*.dcm > "$work/ct_all"
head -n $((ct_count / 3)) "$work/ct_all" > "$work/ct_1"
tail -n +$((ct_count / 3 + 1)) "$work/ct_all" > "$work/ct_8"
ls "$work"/in/dx/*.dcm > "$work/dx_all"

dicomd_port=18042; orthanc_port=18043
"$bin/dicomd" --data "$work/dicomd" --listen 127.0.0.1:$dicomd_port --log-level warn 2> "$work/dicomd.log" &
dicomd_pid=$!; pids+=("$dicomd_pid")
cat > "$work/orthanc.json" <<JSON
{ "Name": "bench", "StorageDirectory": "$work/orthanc-storage", "IndexDirectory": "$work/orthanc-index",
  "HttpPort": $orthanc_port, "RemoteAccessAllowed": false, "AuthenticationEnabled": false,
  "DicomServerEnabled": false, "WebDavEnabled": false, "StorageCompression": false, "KeepAlive": true,
  "SyncStorageArea": true, "HttpCompressionEnabled": false, "Plugins": [] }
JSON
Orthanc "$work/orthanc.json" > "$work/orthanc.log" 2>&1 &
orthanc_pid=$!; pids+=("$orthanc_pid")
for port in $dicomd_port $orthanc_port; do
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done

# Peak resident memory of each server with its child processes (dicomd's
# workers count), sampled every 100 ms into $work/peak.<name>.
tree_rss() {
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do
    total=$((total + $(awk '/VmRSS/ {print $2}' /proc/$p/status 2> /dev/null || echo 0)))
  done
  echo $total
}
sample() {  # sample NAME PID
  local peak=0 now
  while true; do now=$(tree_rss "$2"); [ "$now" -gt "$peak" ] && peak=$now && echo $peak > "$work/peak.$1"; sleep 0.1; done
}
stop_samplers() {
  for s in "${samplers[@]:-}"; do [ -n "$s" ] && kill "$s" 2> /dev/null || true; done
  samplers=()
}
# Sampling costs CPU (pgrep, awk): it runs only while peak memory is measured.
reset_peaks() {
  stop_samplers
  echo 0 > "$work/peak.dicomd"; echo 0 > "$work/peak.orthanc"
  sample dicomd "$dicomd_pid" & samplers+=($!)
  sample orthanc "$orthanc_pid" & samplers+=($!)
}
samplers=()

field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" <<< "$2"; }
results=()
row() {  # row LABEL UNIT FIELD DICOMD_JSON ORTHANC_JSON [lower-is-better]
  local a b
  a=$(field "$3" "$4"); b=$(field "$3" "$5")
  results+=("$(awk -v l="$1" -v u="$2" -v a="$a" -v b="$b" -v low="${6:-}" -v ca="$(field client_cpu_pct "$4")" \
    -v cb="$(field client_cpu_pct "$5")" 'BEGIN { r = (low == "" ? ((b > 0) ? a / b : 0) : ((a > 0) ? b / a : 0));
    printf "%-42s %12.1f %12.1f %8.2fx   client cpu %s%% / %s%%", l " (" u ")", a, b, r, ca, cb }')")
}

echo "uploads..." >&2
d=$("$bin/load_client" $dicomd_port 1 0 upload-dicomd ct1 "$work/ct_1")
o=$("$bin/load_client" $orthanc_port 1 0 upload-orthanc "$work/ct_1" "$work/ids_1")
row "upload CT, 1 client" "files/s" rps "$d" "$o"; row "upload CT, 1 client" "MB/s" mbps "$d" "$o"
d=$("$bin/load_client" $dicomd_port 8 0 upload-dicomd ct8 "$work/ct_8")
o=$("$bin/load_client" $orthanc_port 8 0 upload-orthanc "$work/ct_8" "$work/ids_8")
row "upload CT, 8 clients" "files/s" rps "$d" "$o"; row "upload CT, 8 clients" "MB/s" mbps "$d" "$o"
reset_peaks
d=$("$bin/load_client" $dicomd_port 8 0 upload-dicomd dx "$work/dx_all")
o=$("$bin/load_client" $orthanc_port 8 0 upload-orthanc "$work/dx_all" "$work/ids_dx")
sleep 0.3
stop_samplers
row "upload radiograph, 8 clients" "files/s" rps "$d" "$o"
mem_d=$(cat "$work/peak.dicomd"); mem_o=$(cat "$work/peak.orthanc")
results+=("$(awk -v a="$mem_d" -v b="$mem_o" 'BEGIN { printf "%-42s %12.1f %12.1f %8.2fx   (Orthanc / dicomd)", "peak memory, radiograph uploads (MiB)", a / 1024, b / 1024, (a > 0 ? b / a : 0) }')")

# URL lists: the same instances on both servers.
sed "s|.*/\(.*\)|/files/ct8/\1/tag?tag=Rows\&tag=PatientName|" "$work/ct_8" > "$work/tag_d"
sed "s|\(.*\)|/instances/\1/tags?simplify|" "$work/ids_8" > "$work/tag_o"
sed "s|.*/\(.*\)|/files/ct8/\1/png|" "$work/ct_8" > "$work/png_d"
sed "s|\(.*\)|/instances/\1/preview|" "$work/ids_8" > "$work/png_o"
sed "s|.*/\(.*\)|/files/dx/\1/png|" "$work/dx_all" > "$work/dx_d"
sed "s|\(.*\)|/instances/\1/preview|" "$work/ids_dx" > "$work/dx_o"

# A GET measure: ROUNDS rounds, dicomd then Orthanc in each; for each server
# the round with the most requests/s is kept (with its latencies), so that a
# burst from another tenant of this shared machine does not decide a row.
# Sets d and o.  measure CONNECTIONS MODE DICOMD_LIST ORTHANC_LIST
best() { if [ -z "$1" ] || awk -v a="$(field rps "$2")" -v b="$(field rps "$1")" 'BEGIN { exit !(a > b) }'; then echo "$2"; else echo "$1"; fi; }
measure() {
  local r one
  d=""; o=""
  for r in $(seq "$rounds"); do
    one=$("$bin/load_client" $dicomd_port "$1" "$secs" "$2" "$3"); d=$(best "$d" "$one")
    one=$("$bin/load_client" $orthanc_port "$1" "$secs" "$2" "$4"); o=$(best "$o" "$one")
  done
}

for c in 1 32; do
  echo "tag lookups, $c connections..." >&2
  measure $c get "$work/tag_d" "$work/tag_o"
  row "tag lookup, $c conn" "req/s" rps "$d" "$o"; row "tag lookup, $c conn" "p50 ms" p50_ms "$d" "$o" low
  row "tag lookup, $c conn" "p99 ms" p99_ms "$d" "$o" low
done
for c in 1 8; do
  echo "renders, $c connections..." >&2
  measure $c get "$work/png_d" "$work/png_o"
  row "PNG CT uncached, $c conn" "req/s" rps "$d" "$o"; row "PNG CT uncached, $c conn" "p99 ms" p99_ms "$d" "$o" low
  measure $c get "$work/dx_d" "$work/dx_o"
  row "PNG radiograph uncached, $c conn" "req/s" rps "$d" "$o"; row "PNG radiograph uncached, $c conn" "p99 ms" p99_ms "$d" "$o" low
done
# Cached: a viewer that has the image asks again with If-None-Match (the
# ETag of a first GET, when the server sends one); dicomd answers 304 from
# the file's identity and the options, without rendering.
echo "renders revalidated, 8 connections..." >&2
measure 8 get-revalidate "$work/png_d" "$work/png_o"
row "PNG CT cached (If-None-Match), 8 conn" "req/s" rps "$d" "$o"

echo
date -u +"%Y-%m-%d %H:%M UTC, $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "dicomd $("$bin/dicomd" --version | cut -d' ' -f2) vs $(Orthanc --version 2>&1 | head -n 1)"
printf '%-42s %12s %12s %9s\n' metric dicomd Orthanc ratio
for r in "${results[@]}"; do echo "$r"; done
