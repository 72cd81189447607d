#!/usr/bin/env bash
# Preliminary side-by-side benchmark: tokamak vs net/http with wrk.
# The server runs pinned to CPU 0, wrk to CPU 1; peers are interleaved and
# every configuration is repeated; server CPU time comes from /proc/<pid>/stat.
#
#   bench/prelim/run.sh [reps] [seconds]
#
# Needs wrk (apt-get install -y wrk) and taskset. Prints one line per run and
# a markdown table of medians. The full harness is bench/compare (later).
set -euo pipefail
cd "$(dirname "$0")/../.."
reps=${1:-3}
secs=${2:-10}
command -v wrk >/dev/null || { echo "wrk not installed: apt-get install -y wrk" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; [ -n "${spid:-}" ] && kill "$spid" 2>/dev/null || true' EXIT
go build -o "$tmp/tokamak" ./cmd/server
go build -o "$tmp/nethttp" ./bench/peers/nethttp
clk=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

start_server() { # name port
  case $1 in
    tokamak) taskset -c 0 "$tmp/tokamak" -http "127.0.0.1:$2" -loops 1 -log-level warn >"$tmp/$1.log" 2>&1 & ;;
    nethttp) GOMAXPROCS=1 taskset -c 0 "$tmp/nethttp" -addr "127.0.0.1:$2" >"$tmp/$1.log" 2>&1 & ;;
  esac
  spid=$!
  for _ in $(seq 50); do
    curl -sf "http://127.0.0.1:$2/plaintext" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "$1 did not start" >&2; cat "$tmp/$1.log" >&2; exit 1
}

results="$tmp/results"
: >"$results"
port=18080
for rep in $(seq "$reps"); do
  for cfg in "c50" "c50-p16"; do
    for srv in tokamak nethttp; do
      port=$((port + 1))
      start_server "$srv" "$port"
      case $cfg in
        c50) args=(-t1 -c50 "-d${secs}s" "http://127.0.0.1:$port/plaintext") ;;
        c50-p16) args=(-t1 -c50 "-d${secs}s" -s bench/prelim/pipeline.lua "http://127.0.0.1:$port/plaintext" -- 16) ;;
      esac
      t0=$(cpu_ticks "$spid")
      out=$(taskset -c 1 wrk "${args[@]}")
      t1=$(cpu_ticks "$spid")
      kill "$spid"; wait "$spid" 2>/dev/null || true; spid=
      reqs=$(echo "$out" | awk '/requests in/ {print $1}')
      rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
      errs=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}' | tr '\n' ' ')
      us=$(awk -v t="$((t1 - t0))" -v c="$clk" -v n="$reqs" 'BEGIN {printf "%.2f", t / c * 1e6 / n}')
      echo "rep=$rep cfg=$cfg server=$srv req/s=$rps cpu_us_per_req=$us $errs"
      echo "$rep $cfg $srv $rps $us" >>"$results"
    done
  done
done

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
range() { sort -g | awk 'NR==1 {lo=$1} {hi=$1} END {print lo "–" hi}'; }
col() { awk -v c="$1" -v s="$2" -v f="$3" '$2==c && $3==s {print $f}' "$results"; }
# Ratios are taken within each repetition (the two runs are neighbours in
# time), then summarised.
ratios() { # cfg field: tokamak's figure over net/http's, per repetition
  awk -v c="$1" -v f="$2" '$2==c {v[$1 " " $3]=$f; r[$1]=1}
    END {for (k in r) {t=v[k " tokamak"]; n=v[k " nethttp"]; if (t>0 && n>0) printf "%.3f\n", t/n}}' "$results"
}

echo
echo "| config | server | req/s median (range) | server CPU µs/req median (range) |"
echo "|---|---|---|---|"
for cfg in c50 c50-p16; do
  for srv in tokamak nethttp; do
    echo "| $cfg | $srv | $(col $cfg $srv 4 | median) ($(col $cfg $srv 4 | range)) | $(col $cfg $srv 5 | median) ($(col $cfg $srv 5 | range)) |"
  done
done
echo
echo "| config | tokamak/net/http req/s, per repetition: median (range) | tokamak/net/http CPU per request: median (range) |"
echo "|---|---|---|"
for cfg in c50 c50-p16; do
  echo "| $cfg | $(ratios $cfg 4 | median) ($(ratios $cfg 4 | range)) | $(ratios $cfg 5 | median) ($(ratios $cfg 5 | range)) |"
done
