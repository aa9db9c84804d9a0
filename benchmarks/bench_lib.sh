# Shell helpers shared by the benchmark scripts (sourced, not run).

# field NAME JSON: a number of load_client's or fs_ceiling's JSON line.
field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" <<< "$2"; }
# median "V1 V2 …" and spread "V1 V2 …" (min–max) of space-separated numbers.
median() { tr ' ' '\n' <<< "$1" | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
spread() { tr ' ' '\n' <<< "$1" | sed '/^$/d' | sort -g | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo "–" hi }'; }

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
