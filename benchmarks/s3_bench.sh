#!/usr/bin/env bash
# Object storage side by side, in one run on one machine: CT uploads at 8
# clients and uncached PNG renders of CT at 8 connections, on
#   fs    one dicomd on storage-fs,
#   s3    one dicomd on storage-s3 (the tests' S3 server, npm
#         @20minutes/s3rver, on loopback),
#   s3inm the same with create_guard "if-none-match" (one conditional PUT
#         instead of the claim's five requests; s3rver ignores the header,
#         so this shows the cost of the claim, not a safe setting for it),
#   s3x2  two dicomd hosts on that one bucket, the clients split between
#         them (4 + 4).
# No index in any (files, validator, metadata, render only): what the
# storage costs, not the index. Every round starts fresh folders and a fresh
# bucket. Besides files/s and renders/s it prints the client's CPU share and
# the S3 server's (one node process: a core at most).
#   benchmarks/s3_bench.sh [CT_COUNT=200] [ROUNDS=3] [SECONDS=10]
# Last figures: benchmarks/README.md, "Object storage".
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-200}; rounds=${2:-3}; secs=${3:-10}
source benchmarks/bench_lib.sh
if [ -z "${DICOMD_BENCH_NETNS:-}" ]; then
  (cd tests/s3 && npm ci --no-audit --no-fund --loglevel=error)
fi
bench_netns build dicomd make_dataset load_client dicomd-plugin-storage-fs dicomd-plugin-storage-s3 \
  dicomd-plugin-files dicomd-plugin-validator-gdcm dicomd-plugin-metadata-gdcm dicomd-plugin-render-png -- "$@"

bench_workdir s3-bench
s3=""
cleanup_all() {
  for p in $server ${second:-} $s3; do kill "$p" 2> /dev/null || true; done
  bench_cleanup
}
trap cleanup_all EXIT

echo "generating $count CT slices..." >&2
"$bin/make_dataset" "$work/in" "$count" 0 > /dev/null
ls "$work"/in/ct/*.dcm > "$work/ct"
head -n $((count / 2)) "$work/ct" > "$work/ct-a"
tail -n +$((count / 2 + 1)) "$work/ct" > "$work/ct-b"
sed "s|.*/\(.*\)|/files/ct/\1/png|" "$work/ct" > "$work/urls"
echo AKIDBENCH > "$work/access"; echo bench-secret > "$work/secret"
port=18070; port2=18071; s3port=18072

ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2> /dev/null || echo 0; }
wait_ready() {
  for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$1/health" && return 0; sleep 0.05; done
  echo "server on $1 did not start" >&2; return 1
}
start_s3() {  # a fresh bucket in $work/s3-$1
  node --openssl-legacy-provider tests/s3/s3_server.cjs --dir "$work/s3-$1" --bucket dicom --access-key-file \
    "$work/access" --secret-key-file "$work/secret" --port $s3port --detached yes < /dev/null > "$work/s3-$1.out" &
  s3=$!
  for _ in $(seq 200); do grep -q listening "$work/s3-$1.out" 2> /dev/null && return 0; sleep 0.05; done
  echo "the S3 server did not start" >&2; return 1
}
config() {  # config KIND: the plugins of that setup
  local storage='{"name":"storage-fs"}'
  [ "$1" = fs ] || storage='{"name":"storage-s3","config":{"endpoint":"http://127.0.0.1:'$s3port'","bucket":"dicom",'\
'"access_key_file":"'$work/access'","secret_key_file":"'$work/secret'"'$([ "$1" != s3inm ] || echo ',"create_guard":"if-none-match"')'}}'
  echo '{"log_level":"warn","plugins":['"$storage"',{"name":"files"},{"name":"validator-gdcm"},'\
'{"name":"metadata-gdcm"},{"name":"render-png"}]}'
}
start() {  # start KIND ROUND
  local dir="$work/$1-$2"
  mkdir -p "$dir"
  config "$1" > "$dir.json"
  [ "$1" = fs ] || start_s3 "$1-$2"
  "$bin/dicomd" --config "$dir.json" --data "$dir/a" --listen 127.0.0.1:$port 2> "$dir-a.log" &
  server=$!
  wait_ready $port
  second=""
  if [ "$1" = s3x2 ]; then
    "$bin/dicomd" --config "$dir.json" --data "$dir/b" --listen 127.0.0.1:$port2 2> "$dir-b.log" &
    second=$!
    wait_ready $port2
  fi
}
stop() {
  for p in $server $second $s3; do kill "$p" 2> /dev/null || true; wait "$p" 2> /dev/null || true; done
  server=""; second=""; s3=""
}
# run KIND MODE: load through one host, or split between two; prints
# "rate client_cpu_pct s3_cpu_pct".
run() {
  local s3_before=0 s3_after=0 t0 t1 out1 out2 args1 args2
  [ -z "$s3" ] || s3_before=$(ticks "$s3")
  t0=$(date +%s.%N)
  if [ "$2" = upload ]; then args1=(0 upload-dicomd ct "$work/ct"); else args1=("$secs" get "$work/urls"); fi
  if [ "$1" = s3x2 ]; then
    if [ "$2" = upload ]; then args1=(0 upload-dicomd ct "$work/ct-a"); args2=(0 upload-dicomd ct "$work/ct-b");
    else args2=("$secs" get "$work/urls"); fi
    "$bin/load_client" $port 4 "${args1[@]}" > "$work/out1" &
    local c1=$!
    "$bin/load_client" $port2 4 "${args2[@]}" > "$work/out2"
    wait $c1
  else
    "$bin/load_client" $port 8 "${args1[@]}" > "$work/out1"
    echo '{"requests":0,"errors":0,"seconds":0,"client_cpu_pct":0}' > "$work/out2"
  fi
  t1=$(date +%s.%N)
  [ -z "$s3" ] || s3_after=$(ticks "$s3")
  out1=$(cat "$work/out1"); out2=$(cat "$work/out2")
  [ "$(field errors "$out1")" = 0 ] && [ "$(field errors "$out2")" = 0 ] ||
    { echo "$1 $2: errors: $out1 $out2" >&2; exit 1; }
  awk -v r1="$(field requests "$out1")" -v r2="$(field requests "$out2")" -v s1="$(field seconds "$out1")" \
    -v s2="$(field seconds "$out2")" -v c1="$(field client_cpu_pct "$out1")" -v c2="$(field client_cpu_pct "$out2")" \
    -v t="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" -v hz="$(getconf CLK_TCK)" \
    -v s3t=$((s3_after - s3_before)) \
    'BEGIN { s = (s1 > s2 ? s1 : s2); printf "%.1f %.1f %.1f\n", (r1 + r2) / s, c1 + c2, 100 * s3t / hz / t }'
}

declare -A rate client s3cpu
for r in $(seq "$rounds"); do
  for kind in fs s3 s3inm s3x2; do
    start "$kind" "$r"
    for mode in upload png; do
      read -r v c s <<< "$(run "$kind" "$mode")"
      rate[$kind-$mode]+="$v "; client[$kind-$mode]+="$c "; s3cpu[$kind-$mode]+="$s "
      echo "round $r $kind $mode: $v/s (client $c %, S3 server $s %)" >&2
    done
    stop
  done
done

echo
echo "Object storage: $count CT slices of 525 KB, 8 clients, median of $rounds rounds (min–max); renders for $secs s"
for mode in upload png; do
  echo
  [ "$mode" = upload ] && echo "CT uploads (files/s)" || echo "Uncached PNG renders of CT (renders/s)"
  echo
  echo "| setup | per second | against storage-fs | client CPU (%) | S3 server CPU (% of a core) |"
  echo "| --- | --- | --- | --- | --- |"
  base=$(median "${rate[fs-$mode]}")
  for kind in fs s3 s3inm s3x2; do
    case $kind in
      fs) label="one host, storage-fs" ;;
      s3) label="one host, storage-s3" ;;
      s3inm) label="one host, storage-s3, create_guard if-none-match" ;;
      s3x2) label="two hosts, storage-s3" ;;
    esac
    m=$(median "${rate[$kind-$mode]}")
    echo "| $label | $m ($(spread "${rate[$kind-$mode]}")) | $(awk -v a="$m" -v b="$base" 'BEGIN { printf "%.2f×", a / b }') |" \
      "$(spread "${client[$kind-$mode]}") | $(spread "${s3cpu[$kind-$mode]}") |"
  done
done
