#!/usr/bin/env bash
# dicomd and Orthanc side by side, on the same machine, files and client, in
# one run, every measure repeated REPS times (medians and min–max): uploads
# (each repetition into an emptied server), tag lookups and uncached renders,
# with the peak memory of each server's process tree in every scenario
# (proportional and resident sets), the load client's CPU share in every row, and this machine's
# ceiling for storing the same files (fs_ceiling: write, fsync, rename by 8
# threads, no HTTP), of which uploads are reported as a share (each against
# the ceiling measured just before it).
# Everything runs in a private network namespace (Orthanc cannot bind to one
# address; there it only has loopback).
#   benchmarks/compare_orthanc.sh [CT_COUNT=1200] [RADIOGRAPH_COUNT=24] [SECONDS=8] [REPS=3]
# Prints one Markdown table (figures of the last run: benchmarks/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ct_count=${1:-1200}; dx_count=${2:-24}; secs=${3:-8}; reps=${4:-3}

if [ -z "${DICOMD_BENCH_NETNS:-}" ] && ! command -v Orthanc > /dev/null; then
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends orthanc
fi
source benchmarks/bench_lib.sh
bench_netns build dicomd make_dataset load_client fs_ceiling tree_memory dicomd-plugin-storage-fs dicomd-plugin-files dicomd-plugin-validator-gdcm \
  dicomd-plugin-metadata-gdcm dicomd-plugin-render-png dicomd-plugin-index-sqlite dicomd-plugin-search dicomd-plugin-jobs -- "$@"

bench_workdir compare-orthanc
pids=()
trap 'stop_samplers; for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done; bench_cleanup' EXIT

echo "generating $ct_count CT slices and $dx_count radiographs..." >&2
"$bin/make_dataset" "$work/in" "$ct_count" "$dx_count" > /dev/null
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

# Peak memory (KiB) of each server with its child processes (dicomd's
# workers count), sampled every 100 ms by tree_memory while a scenario
# runs, two ways: the sum of resident sets (RSS), which counts a page shared
# by several processes (shared libraries, the page cache of a file two
# workers map) once per process, and the sum of proportional sets (PSS),
# which splits each shared page among its users: the physical memory the
# tree holds.
sample() {  # sample NAME PID
  exec "$bin/tree_memory" "$2" "$work/peak.$1" 100
}
samplers=()
stop_samplers() {
  for s in "${samplers[@]:-}"; do [ -n "$s" ] && kill "$s" 2> /dev/null || true; done
  samplers=()
}
start_samplers() {
  stop_samplers
  echo 0 0 > "$work/peak.dicomd"; echo 0 0 > "$work/peak.orthanc"
  sample dicomd "$dicomd_pid" & samplers+=($!)
  sample orthanc "$orthanc_pid" & samplers+=($!)
}
# keep_peaks SCENARIO: the peaks of this repetition, in MiB: mem[d|o,SCENARIO]
# the RSS sums, pss[d|o,SCENARIO] the PSS sums.
declare -A mem pss
keep_peaks() {  # keep_peaks SCENARIO [dicomd|orthanc]: both unless one is named
  local rss_kib pss_kib
  stop_samplers
  if [ "${2:-dicomd}" = dicomd ]; then
    read -r rss_kib pss_kib < "$work/peak.dicomd"; mem[d,$1]+="$((rss_kib / 1024)) "; pss[d,$1]+="$((pss_kib / 1024)) "
  fi
  if [ "${2:-orthanc}" = orthanc ]; then
    read -r rss_kib pss_kib < "$work/peak.orthanc"; mem[o,$1]+="$((rss_kib / 1024)) "; pss[o,$1]+="$((pss_kib / 1024)) "
  fi
}

# Every figure of every repetition: val[d|o,SCENARIO,FIELD] holds a list.
declare -A val
keep() {  # keep SCENARIO DICOMD_JSON ORTHANC_JSON
  local f
  for f in rps mbps p50_ms p99_ms client_cpu_pct; do
    val[d,$1,$f]+="$(field $f "$2") "; val[o,$1,$f]+="$(field $f "$3") "
  done
}

# Empties both servers between upload repetitions (a repetition must store,
# not find the files already there).
empty_servers() {  # empty_servers REP
  local s
  for s in ct1 ct8 dx; do curl -s -o /dev/null -X DELETE "http://127.0.0.1:$dicomd_port/files/$s-$1"; done
  cat "$work"/ids_* 2> /dev/null | sed "s|^|http://127.0.0.1:$orthanc_port/instances/|" |
    xargs -r -n 100 curl -s -X DELETE > /dev/null
}

# The disk's ceiling is measured right before each server's uploads of the
# same files (it moves by tens of percent within minutes on this shared
# disk), and each upload is set against the ceiling measured next to it.
# The disk also slows for seconds after any large burst of writes (right
# after 800 CT uploads its ceiling was about half the one before them): a
# share says how near a server came to the disk's speed of that moment,
# not to one fixed figure, and the server measured after the other's
# uploads meets the slower disk.
# Every one starts with the dirty pages of the one before written out
# (sync): otherwise a measure pays for its predecessor's writeback.
ceiling() {  # ceiling KIND LIST: appends to val[c,KIND,rps]
  local c
  sync
  c=$("$bin/fs_ceiling" "$work/ceiling" 8 "$2"); val[c,$1,rps]+="$(field files_per_s "$c") "
  rm -rf "$work/ceiling"
  sync
}
# uploads8 SCENARIO CEILING LIST STUDY IDS: each server stores LIST from 8
# clients right after its own ceiling (val[c,CEILING] and [c,CEILING_o]),
# with its memory sampled; dicomd into STUDY, Orthanc's ids into IDS.
uploads8() {
  local d o
  ceiling "$2" "$3"
  start_samplers
  d=$("$bin/load_client" $dicomd_port 8 0 upload-dicomd "$4" "$3")
  keep_peaks "$1" dicomd
  ceiling "$2_o" "$3"
  start_samplers
  o=$("$bin/load_client" $orthanc_port 8 0 upload-orthanc "$3" "$5")
  keep_peaks "$1" orthanc
  keep "$1" "$d" "$o"
}
for r in $(seq "$reps"); do
  echo "uploads, repetition $r of $reps..." >&2
  [ "$r" -gt 1 ] && empty_servers $((r - 1))
  sync
  d=$("$bin/load_client" $dicomd_port 1 0 upload-dicomd "ct1-$r" "$work/ct_1")
  sync
  o=$("$bin/load_client" $orthanc_port 1 0 upload-orthanc "$work/ct_1" "$work/ids_1")
  keep up_ct1 "$d" "$o"
  uploads8 up_ct8 ct "$work/ct_8" "ct8-$r" "$work/ids_8"
  uploads8 up_dx dx "$work/dx_all" "dx-$r" "$work/ids_dx"
done

# URL lists over the last repetition's files: the same instances on both.
sed "s|.*/\(.*\)|/files/ct8-$reps/\1/tag?tag=Rows\&tag=PatientName|" "$work/ct_8" > "$work/tag_d"
sed "s|\(.*\)|/instances/\1/tags?simplify|" "$work/ids_8" > "$work/tag_o"
sed "s|.*/\(.*\)|/files/ct8-$reps/\1/png|" "$work/ct_8" > "$work/png_d"
sed "s|\(.*\)|/instances/\1/preview|" "$work/ids_8" > "$work/png_o"
sed "s|.*/\(.*\)|/files/dx-$reps/\1/png|" "$work/dx_all" > "$work/dx_d"
sed "s|\(.*\)|/instances/\1/preview|" "$work/ids_dx" > "$work/dx_o"

measure() {  # measure SCENARIO CONNECTIONS MODE DICOMD_LIST ORTHANC_LIST: REPS alternating rounds
  local r d o
  for r in $(seq "$reps"); do
    start_samplers
    d=$("$bin/load_client" $dicomd_port "$2" "$secs" "$3" "$4")
    o=$("$bin/load_client" $orthanc_port "$2" "$secs" "$3" "$5")
    keep_peaks "$1"; keep "$1" "$d" "$o"
  done
}
echo "tag lookups..." >&2
measure tag1 1 get "$work/tag_d" "$work/tag_o"
measure tag32 32 get "$work/tag_d" "$work/tag_o"
echo "renders..." >&2
measure png_ct8 8 get "$work/png_d" "$work/png_o"
measure png_dx1 1 get "$work/dx_d" "$work/dx_o"
measure png_dx8 8 get "$work/dx_d" "$work/dx_o"
# Cached: a viewer that has the image asks again with If-None-Match (the
# ETag of a first GET, when the server sends one); dicomd answers 304 from
# the file's identity and the options, without rendering.
measure png_ct8_cached 8 get-revalidate "$work/png_d" "$work/png_o"

# A table row: medians (min–max) of both servers and the ratio of medians
# (dicomd / Orthanc, or Orthanc / dicomd where lower is better), with the
# client's largest CPU share (% of one core) against each server.
row() {  # row LABEL SCENARIO FIELD [lower]
  local a b ratio
  a=$(median "${val[d,$2,$3]}"); b=$(median "${val[o,$2,$3]}")
  ratio=$(awk -v a="$a" -v b="$b" -v low="${4:-}" 'BEGIN { r = low == "" ? (b > 0 ? a / b : 0) : (a > 0 ? b / a : 0); printf "%.2f×", r }')
  echo "| $1 | $a ($(spread "${val[d,$2,$3]}")) | $b ($(spread "${val[o,$2,$3]}")) | $ratio |" \
    "$(spread "${val[d,$2,client_cpu_pct]}") / $(spread "${val[o,$2,client_cpu_pct]}") |"
}
mem_line() {  # mem_line LABEL KIND DICOMD_PEAKS ORTHANC_PEAKS
  local a b
  a=$(median "$3"); b=$(median "$4")
  echo "| peak memory, $1 ($2, MiB) | $a ($(spread "$3")) | $b ($(spread "$4")) |" \
    "$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f× of Orthanc", (b > 0 ? a / b : 0) }') | |"
}
mem_row() {  # mem_row LABEL SCENARIO: the PSS sums, then the RSS sums
  mem_line "$1" PSS "${pss[d,$2]}" "${pss[o,$2]}"
  mem_line "$1" RSS "${mem[d,$2]}" "${mem[o,$2]}"
}
share_row() {  # share_row LABEL SCENARIO CEILING: each upload against the ceiling measured before it
  local d o
  d=$(paste -d' ' <(tr ' ' '\n' <<< "${val[d,$2,rps]}") <(tr ' ' '\n' <<< "${val[c,$3,rps]}") |
    awk 'NF == 2 && $2 > 0 { printf "%.0f ", 100 * $1 / $2 }')
  o=$(paste -d' ' <(tr ' ' '\n' <<< "${val[o,$2,rps]}") <(tr ' ' '\n' <<< "${val[c,$3_o,rps]}") |
    awk 'NF == 2 && $2 > 0 { printf "%.0f ", 100 * $1 / $2 }')
  echo "| $1 | $(median "$d") % ($(spread "$d")) of $(median "${val[c,$3,rps]}") files/s" \
    "($(spread "${val[c,$3,rps]}")) | $(median "$o") % ($(spread "$o")) of $(median "${val[c,$3_o,rps]}") files/s | | |"
}

echo
echo "$(date -u +"%Y-%m-%d %H:%M UTC"), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs);" \
  "dicomd $("$bin/dicomd" --version | cut -d' ' -f2) vs $(Orthanc --version 2>&1 | head -n 1);" \
  "$ct_count CT + $dx_count radiographs, $secs s per measure, $reps repetitions: median (min–max)"
echo
echo "| metric | dicomd | Orthanc | ratio | client CPU % (dicomd / Orthanc) |"
echo "| --- | --- | --- | --- | --- |"
row "upload CT, 1 client (files/s)" up_ct1 rps
row "upload CT, 8 clients (files/s)" up_ct8 rps
row "upload CT, 8 clients (MB/s)" up_ct8 mbps
share_row "upload CT, 8 clients: share of the machine's ceiling" up_ct8 ct
mem_row "CT uploads, 8 clients" up_ct8
row "upload radiograph, 8 clients (files/s)" up_dx rps
row "upload radiograph, 8 clients (MB/s)" up_dx mbps
share_row "upload radiograph, 8 clients: share of the machine's ceiling" up_dx dx
mem_row "radiograph uploads, 8 clients" up_dx
row "tag lookup, 1 conn (req/s)" tag1 rps
row "tag lookup, 32 conn (req/s)" tag32 rps
row "tag lookup, 32 conn (p99 ms)" tag32 p99_ms lower
mem_row "tag lookups, 32 conn" tag32
row "PNG CT uncached, 8 conn (req/s)" png_ct8 rps
row "PNG CT uncached, 8 conn (p99 ms)" png_ct8 p99_ms lower
mem_row "PNG CT, 8 conn" png_ct8
row "PNG radiograph uncached, 1 conn (req/s)" png_dx1 rps
row "PNG radiograph uncached, 8 conn (req/s)" png_dx8 rps
row "PNG radiograph uncached, 8 conn (p99 ms)" png_dx8 p99_ms lower
mem_row "PNG radiograph, 8 conn" png_dx8
row "PNG CT cached (If-None-Match), 8 conn (req/s)" png_ct8_cached rps
