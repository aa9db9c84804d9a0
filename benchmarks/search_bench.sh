#!/usr/bin/env bash
# Search side by side, in one run on one machine: dicomd with index-sqlite,
# dicomd with index-postgres, and Orthanc's /tools/find, on the same
# synthetic instances (make_search_dataset: 1,000 patients with accented
# names, 5 studies each, 20 instances per study, 6 modalities, 10 years of
# dates), measured at 10k instances and again at the full count.
#   benchmarks/search_bench.sh [INSTANCES=100000] [SECONDS=6] [REPS=3]
# Everything runs in a private network namespace (Orthanc cannot bind to one
# address). Prints markdown tables (last figures: benchmarks/README.md).
set -euo pipefail
cd "$(dirname "$0")/.."
total=${1:-100000}; secs=${2:-6}; reps=${3:-3}
first=$((total >= 10000 ? 10000 : total))

if [ -z "${DICOMD_BENCH_NETNS:-}" ]; then
  scripts/install-deps test
  if ! command -v Orthanc > /dev/null; then
    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends orthanc
  fi
  cmake --preset release > /dev/null
  cmake --build --preset release --target dicomd make_search_dataset load_client dicomd-plugin-storage-fs dicomd-plugin-files \
    dicomd-plugin-validator-gdcm dicomd-plugin-metadata-gdcm dicomd-plugin-index-sqlite \
    dicomd-plugin-index-postgres dicomd-plugin-search dicomd-plugin-jobs > /dev/null
  exec unshare --net env DICOMD_BENCH_NETNS=1 "$0" "$@"
fi
ip link set lo up

bin=build/release/bin
work=$(mktemp -d /tmp/dicomd-search-bench.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2> /dev/null || true; done
  wait 2> /dev/null || true
  scripts/pg-test-server stop "$work/pg.state" || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "generating $total instances..." >&2
"$bin/make_search_dataset" "$work/in" 0 "$total"
find "$work/in" -name "*.dcm" | sort > "$work/all"
head -n "$first" "$work/all" > "$work/chunk.1"
tail -n +$((first + 1)) "$work/all" > "$work/chunk.2"

scripts/pg-test-server start "$work/pg.state" > /dev/null
pgdir=$(cat "$work/pg.state")
psql -q -h "$pgdir" -U postgres -c "CREATE DATABASE bench" postgres

declare -A port=([sqlite]=18050 [postgres]=18051 [orthanc]=18052)
plugins_with() {  # the default plugins with index plugin $1
  echo '[{"name":"storage-fs"},{"name":"files"},{"name":"validator-gdcm"},{"name":"metadata-gdcm"},'"$1"',{"name":"search"}]'
}
echo '{"listen":"127.0.0.1:'"${port[sqlite]}"'","log_level":"warn","plugins":'"$(plugins_with '{"name":"index-sqlite"}')"'}' \
  > "$work/sqlite.json"
echo '{"listen":"127.0.0.1:'"${port[postgres]}"'","log_level":"warn","plugins":'"$(plugins_with \
  '{"name":"index-postgres","config":{"conninfo":"host='"$pgdir"' user=postgres dbname=bench"}}')"'}' \
  > "$work/postgres.json"
start_dicomd() {  # start_dicomd NAME
  "$bin/dicomd" --config "$work/$1.json" --data "$work/data-$1" 2> "$work/$1.log" &
  pids+=($!)
  eval "pid_$1=$!"
}
start_dicomd sqlite
start_dicomd postgres
cat > "$work/orthanc.json" <<JSON
{ "Name": "bench", "StorageDirectory": "$work/orthanc-storage", "IndexDirectory": "$work/orthanc-index",
  "HttpPort": ${port[orthanc]}, "RemoteAccessAllowed": false, "AuthenticationEnabled": false,
  "DicomServerEnabled": false, "WebDavEnabled": false, "StorageCompression": false, "KeepAlive": true,
  "SyncStorageArea": true, "HttpCompressionEnabled": false, "LimitFindResults": 0, "Plugins": [] }
JSON
Orthanc "$work/orthanc.json" > "$work/orthanc.log" 2>&1 &
pid_orthanc=$!; pids+=("$pid_orthanc")
for p in "${port[@]}"; do
  for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$p/" && break; sleep 0.1; done
done

json() { python3 -c "import json,sys; print(json.loads(sys.argv[1])['$2'])" "$1"; }
tree_rss_mib() {  # resident memory of a process and its children, MiB
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do
    total=$((total + $(awk '/VmRSS/ {print $2}' /proc/$p/status 2> /dev/null || echo 0)))
  done
  echo $((total / 1024))
}

ingest() {  # ingest CHUNK_FILE LABEL
  local name r
  for name in sqlite postgres orthanc; do
    if [ "$name" = orthanc ]; then
      r=$("$bin/load_client" "${port[$name]}" 8 0 upload-orthanc "$1")
    else
      r=$("$bin/load_client" "${port[$name]}" 8 0 upload-dicomd bench "$1")
    fi
    echo "| ingest $2, 8 clients | $name | $(json "$r" rps) files/s | errors $(json "$r" errors) | client CPU $(json "$r" client_cpu_pct) % |"
  done
}

# Query lists: 200 different values per query, cycling.
make_queries() {  # make_queries STUDIES_INDEXED
  python3 - "$work" "$1" <<'PY'
import json, sys, urllib.parse
work, studies = sys.argv[1], int(sys.argv[2])
prefixes = ["mül", "sch", "núñ", "gar", "lef", "ång", "øst", "dvo", "kow", "nak", "o'b", "smi", "joh", "bro",
            "łuk", "jér", "bea", "göb", "çel", "sør", "mar", "ber", "dub", "ros", "rus", "fer", "esp", "nov",
            "hor", "nag", "kim", "lee", "par", "wan", "zha", "sat", "suz", "and", "han"]
mods = ["CT", "MR", "US", "CR", "DX", "MG"]
def q(name, dicomd, orthanc):
    with open(f"{work}/q.{name}.dicomd", "w") as d, open(f"{work}/q.{name}.orthanc", "w") as o:
        for i in range(200):
            params, query = dicomd(i), orthanc(i)
            d.write("/search?" + urllib.parse.urlencode(params) + "\n")
            o.write("/tools/find\t" + json.dumps({"Level": "Study", "Query": query, "Limit": 50, "Expand": True,
                                                 "CaseSensitive": False}, ensure_ascii=False) + "\n")
study = lambda i: (i * 7919) % studies
q("name", lambda i: {"level": "study", "PatientName": prefixes[i % len(prefixes)] + "*", "limit": 50},
  lambda i: {"PatientName": prefixes[i % len(prefixes)] + "*"})
q("range", lambda i: {"level": "study", "StudyDate": f"{2016 + i % 10}0101-{2016 + i % 10}1231",
                      "ModalitiesInStudy": mods[i % 6], "limit": 50},
  lambda i: {"StudyDate": f"{2016 + i % 10}0101-{2016 + i % 10}1231", "ModalitiesInStudy": mods[i % 6]})
q("accession", lambda i: {"level": "study", "AccessionNumber": f"A{1000000 + study(i)}", "limit": 50},
  lambda i: {"AccessionNumber": f"A{1000000 + study(i)}"})
q("patient", lambda i: {"level": "study", "PatientID": f"P{10000 + study(i) // 5}", "limit": 50},
  lambda i: {"PatientID": f"P{10000 + study(i) // 5}"})
PY
}

# One query type on the three servers, REPS rounds alternating; prints the
# median and the spread (min-max) of req/s and p99 over the rounds.
measure() {  # measure QUERY LABEL
  local round name r
  declare -A rps p99 cpu
  for round in $(seq "$reps"); do
    for name in sqlite postgres orthanc; do
      if [ "$name" = orthanc ]; then
        r=$("$bin/load_client" "${port[$name]}" 8 "$secs" post "$work/q.$1.orthanc")
      else
        r=$("$bin/load_client" "${port[$name]}" 8 "$secs" get "$work/q.$1.dicomd")
      fi
      [ "$(json "$r" errors)" = 0 ] || echo "  ($name: $(json "$r" errors) errors in $1)" >&2
      rps[$name]+="$(json "$r" rps) "; p99[$name]+="$(json "$r" p99_ms) "; cpu[$name]+="$(json "$r" client_cpu_pct) "
    done
  done
  python3 - "$2" "${rps[sqlite]}" "${rps[postgres]}" "${rps[orthanc]}" "${p99[sqlite]}" "${p99[postgres]}" \
    "${p99[orthanc]}" "${cpu[sqlite]} ${cpu[postgres]} ${cpu[orthanc]}" <<'PY'
import statistics, sys
label = sys.argv[1]
rps = [list(map(float, a.split())) for a in sys.argv[2:5]]
p99 = [list(map(float, a.split())) for a in sys.argv[5:8]]
cpu = max(map(float, sys.argv[8].split()))
m = lambda v: statistics.median(v)
cell = lambda v, unit: f"{m(v):.0f} {unit} ({min(v):.0f}–{max(v):.0f})" if unit == "req/s" else f"{m(v):.1f} ms ({min(v):.1f}–{max(v):.1f})"
print(f"| {label} | {cell(rps[0], 'req/s')}, p99 {cell(p99[0], 'ms')} | {cell(rps[1], 'req/s')}, p99 {cell(p99[1], 'ms')} "
      f"| {cell(rps[2], 'req/s')}, p99 {cell(p99[2], 'ms')} | {m(rps[0]) / m(rps[2]):.1f}× / {m(rps[1]) / m(rps[2]):.1f}× | {cpu:.0f} % |")
PY
}

header() {
  echo
  echo "| query, $1 instances, 8 connections, limit 50 | dicomd + index-sqlite | dicomd + index-postgres | Orthanc /tools/find | ratio (sqlite / postgres vs Orthanc) | client CPU, max |"
  echo "| --- | --- | --- | --- | --- | --- |"
}

echo "ingesting the first $first..." >&2
ingest "$work/chunk.1" "$first"
make_queries $((first / 20))
header "$first"
for qn in name range accession patient; do measure "$qn" "$qn"; done

if [ "$total" -gt "$first" ]; then
  echo "ingesting the rest, to $total..." >&2
  ingest "$work/chunk.2" "$((total - first)) more"
  make_queries $((total / 20))
  header "$total"
  for qn in name range accession patient; do measure "$qn" "$qn"; done
fi

echo
echo "| at $total instances | dicomd + index-sqlite | dicomd + index-postgres | Orthanc |"
echo "| --- | --- | --- | --- |"
pg_rss=0
for p in $(pgrep -u postgres postgres || true); do pg_rss=$((pg_rss + $(awk '/VmRSS/ {print $2}' /proc/$p/status))); done
main_rss() { echo $(($(awk '/VmRSS/ {print $2}' /proc/$1/status) / 1024)); }
echo "| resident memory, server process alone | $(main_rss "$pid_sqlite") MiB | $(main_rss "$pid_postgres") MiB | $(main_rss "$pid_orthanc") MiB |"
echo "| resident memory (process and workers) | $(tree_rss_mib "$pid_sqlite") MiB | $(tree_rss_mib "$pid_postgres") MiB (+ PostgreSQL $((pg_rss / 1024)) MiB) | $(tree_rss_mib "$pid_orthanc") MiB |"
echo "| index on disk | $(du -sm "$work/data-sqlite"/index.sqlite3* | awk '{s += $1} END {print s}') MiB | $(psql -tA -h "$pgdir" -U postgres -c "SELECT pg_database_size('bench') / 1048576" postgres) MiB | $(du -sm "$work/orthanc-index" | cut -f1) MiB |"

# What the index itself holds: the SQLite server restarted (no parsed
# headers cached, no upload buffers), after 2 s of each query; the whole
# process, so an upper bound of the index's share.
kill "$pid_sqlite"; wait "$pid_sqlite" 2> /dev/null || true
start_dicomd sqlite
for _ in $(seq 600); do curl -s -o /dev/null "http://127.0.0.1:${port[sqlite]}/" && break; sleep 0.1; done
for qn in name range accession patient; do "$bin/load_client" "${port[sqlite]}" 8 2 get "$work/q.$qn.dicomd" > /dev/null; done
echo "| resident memory, server restarted, after 2 s of each query (the index's own, and the rest of the server) | $(main_rss "$pid_sqlite") MiB | | |"

kill "$pid_sqlite"; wait "$pid_sqlite" 2> /dev/null || true
out=$("$bin/dicomd" reindex --config "$work/sqlite.json" --data "$work/data-sqlite" 2>&1 | tail -n 1)
echo
echo "dicomd reindex (index-sqlite): $out"
