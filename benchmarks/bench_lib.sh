# Shell helpers shared by the benchmark scripts (sourced, not run).

# field NAME JSON: a number of load_client's or fs_ceiling's JSON line.
field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" <<< "$2"; }
# median "V1 V2 …" and spread "V1 V2 …" (min–max) of space-separated numbers.
median() { tr ' ' '\n' <<< "$1" | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
spread() { tr ' ' '\n' <<< "$1" | sed '/^$/d' | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "–" hi }'; }

# bench_netns DEPS TARGET... -- ARGS...: first, installs what
# `scripts/install-deps DEPS` lists, builds the TARGETs (Release) and runs
# the script again with ARGS in a private network namespace (nothing else
# can reach its servers); there, brings loopback up.
bench_netns() {
  local deps=$1 targets=()
  shift
  while [ "$1" != "--" ]; do targets+=("$1"); shift; done
  shift
  if [ -z "${DICOMD_BENCH_NETNS:-}" ]; then
    scripts/install-deps "$deps"
    cmake --preset release > /dev/null
    cmake --build --preset release --target "${targets[@]}" > /dev/null
    exec unshare --net env DICOMD_BENCH_NETNS=1 "$0" "$@"
  fi
  ip link set lo up
}

# bench_workdir NAME: sets $bin, a fresh $work (removed at exit) and $server,
# the PID of the one server the script runs at a time (ended at exit).
bench_workdir() {
  bin=build/release/bin
  work=$(mktemp -d "/tmp/dicomd-$1.XXXXXX")
  server=""
  trap bench_cleanup EXIT
}
bench_cleanup() {
  if [ -n "$server" ]; then kill "$server" 2> /dev/null || true; fi
  wait 2> /dev/null || true
  rm -rf "$work"
}

# tree_ticks PID: CPU ticks (user + system) of a process and its children
# (dicomd's isolated workers), from /proc.
tree_ticks() {
  local total=0 p
  for p in $1 $(pgrep -P "$1" || true); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2> /dev/null || echo 0)))
  done
  echo $total
}

# wait_ready: waits until the server on $port answers (10 s at most).
wait_ready() {
  for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$port/" && return 0; sleep 0.05; done
  echo "server on $port did not start" >&2; return 1
}

# start_orthanc DIR [PLUGINS_JSON]: Orthanc on $port with its storage and
# index in DIR, as the ingest comparisons run it (fsynced storage, no
# compression, the plugins listed: none by default); sets $server.
start_orthanc() {
  cat > "$1.json" << JSON
{ "Name": "bench", "StorageDirectory": "$1/storage", "IndexDirectory": "$1/index",
  "HttpPort": $port, "RemoteAccessAllowed": false, "AuthenticationEnabled": false,
  "DicomServerEnabled": false, "WebDavEnabled": false, "StorageCompression": false, "KeepAlive": true,
  "SyncStorageArea": true, "HttpCompressionEnabled": false, "Plugins": ${2:-[]} }
JSON
  Orthanc "$1.json" > "$1.log" 2>&1 &
  server=$!
}

# lookup_dataset COUNT: COUNT synthetic CT files ($work/ct lists them) and
# a tag lookup URL for each ($work/urls).
lookup_dataset() {
  "$bin/make_dataset" "$work/in" "$1" 0 > /dev/null
  ls "$work"/in/ct/*.dcm > "$work/ct"
  sed "s|.*/\(.*\)|/files/ct/\1/tag?tag=Rows\&tag=PatientName|" "$work/ct" > "$work/urls"
}

# lookup_rounds ROUNDS SECONDS NAME...: ROUNDS rounds, each running for every
# NAME the caller's `start NAME`, SECONDS of GET requests from $work/urls at
# 32 connections, and `stop`. Appends to the caller's associative arrays
# rps, p99 and client (declare -A rps p99 client). Fails on any error.
# A caller that defines `measured NAME OUT` has it called after each
# measure, before `stop`, while the server still runs.
lookup_rounds() {
  local rounds=$1 secs=$2 r name out
  shift 2
  for r in $(seq "$rounds"); do
    for name in "$@"; do
      start "$name"
      out=$("$bin/load_client" $port 32 "$secs" get "$work/urls")
      if declare -F measured > /dev/null; then measured "$name" "$out"; fi
      stop
      [ "$(field errors "$out")" = 0 ] || { echo "$name: errors: $out" >&2; exit 1; }
      rps[$name]+="$(field rps "$out") "; p99[$name]+="$(field p99_ms "$out") "
      client[$name]+="$(field client_cpu_pct "$out") "
      echo "round $r $name: $(field rps "$out") req/s" >&2
    done
  done
}

# lookup_row LABEL NAME BASE_NAME: a Markdown row of NAME's median req/s
# (min–max), its change against BASE_NAME's median, p99 and client CPU.
lookup_row() {
  local m base
  m=$(median "${rps[$2]}"); base=$(median "${rps[$3]}")
  echo "| $1 | $m ($(spread "${rps[$2]}")) | $(awk -v a="$m" -v b="$base" 'BEGIN { printf "%+.1f %%", 100 * (a - b) / b }') |" \
    "$(median "${p99[$2]}") ($(spread "${p99[$2]}")) | $(spread "${client[$2]}") |"
}
