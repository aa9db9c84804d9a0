#!/usr/bin/env bash
# CT ingest side by side, in one run on one machine: dicomd as it ships
# (index-sqlite on, an upload answered once it is searchable; thumbnails
# queued at ingest: benchmarks/jobs_bench.sh measures them), dicomd with no
# index (nor jobs, which need it), and Orthanc (which indexes every upload
# too), each on fresh folders, the same CT slices sent by the same client, ROUNDS rounds alternating the
# three, and in each round the disk's own ceiling for the same files
# (fs_ceiling: write, fsync, rename and a shared folder fsync from CLIENTS
# threads, no HTTP). Besides files/s it prints the server's CPU per file (its
# process tree: dicomd's workers count) and the client's CPU share.
#   benchmarks/ingest_bench.sh [CT_COUNT=600] [ROUNDS=3] [CLIENTS=8]
# Everything runs in a private network namespace (Orthanc cannot bind to one
# address). Last figures: benchmarks/README.md, "CT ingest".
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-600}; rounds=${2:-3}; clients=${3:-8}

if [ -z "${DICOMD_BENCH_NETNS:-}" ]; then
  scripts/install-deps build
  if ! command -v Orthanc > /dev/null; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends orthanc
  fi
  cmake --preset release > /dev/null
  cmake --build --preset release --target dicomd make_dataset load_client fs_ceiling dicomd-plugin-storage-fs dicomd-plugin-files \
    dicomd-plugin-validator-gdcm dicomd-plugin-metadata-gdcm dicomd-plugin-render-png dicomd-plugin-index-sqlite \
    dicomd-plugin-search dicomd-plugin-jobs > /dev/null
  exec unshare --net env DICOMD_BENCH_NETNS=1 "$0" "$@"
fi
ip link set lo up
source benchmarks/bench_lib.sh

bench_workdir ingest-bench

echo "generating $count CT slices..." >&2
"$bin/make_dataset" "$work/in" "$count" 0
ls "$work"/in/ct/*.dcm > "$work/ct"
port=18060

start() {  # start KIND ROUND
  local dir="$work/$1-$2"
  case $1 in
    index) "$bin/dicomd" --data "$dir" --listen 127.0.0.1:$port --log-level warn 2> "$dir.log" & ;;
    noindex) "$bin/dicomd" --data "$dir" --listen 127.0.0.1:$port --log-level warn --disable search \
      --disable index-sqlite --disable jobs 2> "$dir.log" & ;;
    orthanc) start_orthanc "$dir" ;;
  esac
  server=$!
  wait_ready
}
stop() {
  kill "$server"; wait "$server" 2> /dev/null || true; server=""
}

hz=$(getconf CLK_TCK)
declare -A rps cpu client
for r in $(seq "$rounds"); do
  for kind in index noindex orthanc; do
    start "$kind" "$r"
    before=$(tree_ticks "$server")
    if [ "$kind" = orthanc ]; then
      out=$("$bin/load_client" $port "$clients" 0 upload-orthanc "$work/ct" "$work/ids")
    else
      out=$("$bin/load_client" $port "$clients" 0 upload-dicomd ct "$work/ct")
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
  out=$("$bin/fs_ceiling" "$work/ceiling-$r" "$clients" "$work/ct")
  rps[ceiling]+="$(field files_per_s "$out") "
  echo "round $r ceiling: $(field files_per_s "$out") files/s" >&2
done

o=$(median "${rps[orthanc]}")
echo
echo "CT ingest, $count slices of 525 KB, $clients clients, median of $rounds rounds (min–max)"
echo
ceiling=$(median "${rps[ceiling]}")
echo "| server | files/s | ratio to Orthanc | share of the disk's ceiling | server CPU per file (ms) | client CPU (%) |"
echo "| --- | --- | --- | --- | --- | --- |"
for kind in index noindex orthanc; do
  label=$([ $kind = index ] && echo "dicomd, index-sqlite on" || ([ $kind = noindex ] && echo "dicomd, no index" || echo "Orthanc"))
  m=$(median "${rps[$kind]}")
  echo "| $label | $m ($(spread "${rps[$kind]}")) | $(awk -v a="$m" -v b="$o" 'BEGIN { printf "%.2f×", a / b }') |" \
    "$(awk -v a="$m" -v b="$ceiling" 'BEGIN { printf "%.0f %%", 100 * a / b }') |" \
    "$(median "${cpu[$kind]}") ($(spread "${cpu[$kind]}")) | $(spread "${client[$kind]}") |"
done
echo "| the disk's ceiling (write + fsync + rename, $clients threads, no HTTP) | $ceiling ($(spread "${rps[ceiling]}")) |" \
  "$(awk -v a="$ceiling" -v b="$o" 'BEGIN { printf "%.2f×", a / b }') | 100 % | | |"
