#!/usr/bin/env bash
# Preliminary side-by-side MessagePack-RPC benchmark: tokamak's built-in echo
# vs net/rpc with ugorji's MsgpackSpecRpc codec (bench/peers/netrpc), both
# driven by the same client, bench/prelim/rpcload. The server runs pinned to
# CPU 0, the client to CPU 1; servers are interleaved and every shape is
# repeated; server CPU time comes from /proc/<pid>/stat (utime+stime).
#
#   bench/prelim/rpc.sh [reps] [seconds]
#
# Environment: SERVERS (default "tokamak netrpc"; "netrpc" checks the peer
# and the client alone; "fake" is rpcload's own minimal echo server, which
# shows how much load the client can produce), SHAPES (default
# "c50-d1 c8-d64": connections and calls in flight per connection), SIZE
# (payload bytes, default 16), KIND (str or bin, default str),
# TOKAMAK_SERVER (a prebuilt tokamak server binary to measure instead of
# building ./cmd/server).
#
# Prints one line per run and markdown tables of medians. server_cores and
# client_cores are each process's CPU time over the run's wall time;
# client_cores near 1.0 means the client, not the server, set the pace.
# cpu0_busy and cpu1_busy are how busy each CPU was in all (from /proc/stat):
# well above the process's own cores, something else ran there (this
# machine is shared) or the kernel spent time outside the process. Exits 1
# if any call failed. Needs taskset.
set -euo pipefail
cd "$(dirname "$0")/../.."
reps=${1:-5}
secs=${2:-10}
servers=${SERVERS:-tokamak netrpc}
shapes=${SHAPES:-c50-d1 c8-d64}
size=${SIZE:-16}
kind=${KIND:-str}
command -v taskset >/dev/null || { echo "taskset not installed (util-linux)" >&2; exit 2; }

tmp=$(mktemp -d)
spid=
cleanup() {
  if [ -n "$spid" ]; then kill "$spid" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
go build -o "$tmp/rpcload" ./bench/prelim/rpcload
go build -o "$tmp/netrpc" ./bench/peers/netrpc
tokamak_flags=()
case " $servers " in
*" tokamak "*)
  if [ -n "${TOKAMAK_SERVER:-}" ]; then
    cp "$TOKAMAK_SERVER" "$tmp/tokamak"
  else
    go build -o "$tmp/tokamak" ./cmd/server
  fi
  help=$("$tmp/tokamak" -h 2>&1 || true)
  has_flag() { grep -Eq -- "^[[:space:]]+-$1([[:space:]]|\$)" <<<"$help"; }
  if ! has_flag msgpackrpc; then
    echo "rpc.sh: this tokamak server has no -msgpackrpc flag: MessagePack-RPC (codec/msgpackrpc)" >&2
    echo "is not served by cmd/server yet. SERVERS=netrpc $0 checks the peer and the client alone." >&2
    exit 2
  fi
  # Only the listener under test: the others are disabled when the binary
  # knows their flags.
  for f in http cocaine locator; do
    if has_flag "$f"; then tokamak_flags+=("-$f" ""); fi
  done
  if has_flag loops; then tokamak_flags+=(-loops 1); fi
  if has_flag log-level; then tokamak_flags+=(-log-level warn); fi
  ;;
esac
clk=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# cpu_busy: busy and total ticks of CPU 0 and CPU 1 so far, from /proc/stat
# (busy = user nice system irq softirq steal), to show what else ran there.
cpu_busy() { awk '$1=="cpu0" || $1=="cpu1" {b=$2+$3+$4+$7+$8+$9; printf "%d %d ", b, b+$5+$6}' /proc/stat; }
method_of() { case $1 in netrpc) echo Echo.Echo ;; *) echo echo ;; esac; }

start_server() { # name port
  case $1 in
    tokamak) taskset -c 0 "$tmp/tokamak" "${tokamak_flags[@]}" -msgpackrpc "127.0.0.1:$2" >"$tmp/$1.log" 2>&1 & ;;
    netrpc) GOMAXPROCS=1 taskset -c 0 "$tmp/netrpc" -addr "127.0.0.1:$2" >"$tmp/$1.log" 2>&1 & ;;
    fake) taskset -c 0 "$tmp/rpcload" -serve "127.0.0.1:$2" >"$tmp/$1.log" 2>&1 & ;;
    *) echo "unknown server $1" >&2; exit 2 ;;
  esac
  spid=$!
  # Ready when one call comes back right (this also checks the method name).
  for _ in $(seq 50); do
    if taskset -c 1 "$tmp/rpcload" -addr "127.0.0.1:$2" -method "$(method_of "$1")" -c 1 -d 100ms \
      >"$tmp/probe.out" 2>&1; then
      return 0
    fi
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.1
  done
  echo "$1 did not answer an echo call" >&2
  cat "$tmp/probe.out" "$tmp/$1.log" >&2
  exit 1
}

stop_server() {
  kill "$spid" 2>/dev/null || true
  for _ in $(seq 50); do
    kill -0 "$spid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$spid" 2>/dev/null || true
  wait "$spid" 2>/dev/null || true
  spid=
}

# jget key: a scalar from rpcload's JSON line in $json.
jget() { sed -E "s/.*\"$1\":\"?([^\",}]*).*/\1/" <<<"$json"; }

echo "# rpc.sh: reps=$reps seconds=$secs servers=($servers) shapes=($shapes) size=$size kind=$kind"
echo "# $(date -u +%FT%TZ) $(go version | cut -d' ' -f3) commit $(git rev-parse --short HEAD 2>/dev/null || echo ?) nproc=$(nproc) load average: $(cut -d' ' -f1-3 /proc/loadavg)"
results="$tmp/results"
: >"$results"
failed=0
port=19090
for rep in $(seq "$reps"); do
  for shape in $shapes; do
    c=${shape%%-*}; c=${c#c}
    depth=${shape##*-d}
    for srv in $servers; do
      port=$((port + 1))
      start_server "$srv" "$port"
      t0=$(cpu_ticks "$spid")
      read -r b0a n0a b1a n1a <<<"$(cpu_busy)"
      out=$(timeout $((secs + 30)) taskset -c 1 "$tmp/rpcload" -addr "127.0.0.1:$port" -method "$(method_of "$srv")" \
        -c "$c" -depth "$depth" -d "${secs}s" -size "$size" -kind "$kind" 2>"$tmp/rpcload.err") || true
      t1=$(cpu_ticks "$spid")
      read -r b0b n0b b1b n1b <<<"$(cpu_busy)"
      stop_server
      json=$(tail -n1 <<<"$out")
      if [[ $json != "{"* ]]; then
        echo "rep=$rep shape=$shape server=$srv: rpcload printed no summary" >&2
        cat "$tmp/rpcload.err" >&2
        exit 1
      fi
      calls=$(jget calls); cps=$(jget calls_per_s); errs=$(jget errors)
      wall=$(jget seconds); ccores=$(jget client_cpu_cores)
      us=$(awk -v t="$((t1 - t0))" -v k="$clk" -v n="$calls" 'BEGIN {printf "%.2f", (n > 0 ? t / k * 1e6 / n : 0)}')
      score=$(awk -v t="$((t1 - t0))" -v k="$clk" -v s="$wall" 'BEGIN {printf "%.2f", t / k / s}')
      ccores=$(awk -v x="$ccores" 'BEGIN {printf "%.2f", x}')
      busy0=$(awk -v b="$((b0b - b0a))" -v n="$((n0b - n0a))" 'BEGIN {printf "%.2f", (n > 0 ? b / n : 0)}')
      busy1=$(awk -v b="$((b1b - b1a))" -v n="$((n1b - n1a))" 'BEGIN {printf "%.2f", (n > 0 ? b / n : 0)}')
      cps=$(awk -v x="$cps" 'BEGIN {printf "%.0f", x}')
      note=
      if [ "$errs" != 0 ]; then
        failed=1
        note=" ERRORS: $(jget first_error) $(grep -o '"error_kinds":{[^}]*}' <<<"$json")"
      fi
      echo "rep=$rep shape=$shape server=$srv calls/s=$cps server_cpu_us_per_call=$us server_cores=$score client_cores=$ccores cpu0_busy=$busy0 cpu1_busy=$busy1 errors=$errs$note"
      echo "$rep $shape $srv $cps $us $score $ccores $busy0 $busy1 $errs" >>"$results"
    done
  done
done

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
range() { sort -g | awk 'NR==1 {lo=$1} {hi=$1} END {print lo "–" hi}'; }
col() { awk -v c="$1" -v s="$2" -v f="$3" '$2==c && $3==s {print $f}' "$results"; }
spread() { echo "$(col "$@" | median) ($(col "$@" | range))"; }
# Ratios are taken within each repetition (the two runs are neighbours in
# time), then summarised.
ratios() { # shape field: tokamak's figure over net/rpc's, per repetition
  awk -v c="$1" -v f="$2" '$2==c {v[$1 " " $3]=$f; r[$1]=1}
    END {for (k in r) {t=v[k " tokamak"]; n=v[k " netrpc"]; if (t>0 && n>0) printf "%.3f\n", t/n}}' "$results"
}

echo
echo "| shape | server | calls/s median (range) | server CPU µs/call median (range) | server cores | client cores | CPU 0 busy | CPU 1 busy |"
echo "|---|---|---|---|---|---|---|---|"
for shape in $shapes; do
  for srv in $servers; do
    echo "| $shape | $srv | $(spread "$shape" "$srv" 4) | $(spread "$shape" "$srv" 5) |" \
      "$(for f in 6 7 8 9; do printf '%s | ' "$(col "$shape" "$srv" $f | median)"; done)"
  done
done
if [[ " $servers " == *" tokamak "* && " $servers " == *" netrpc "* ]]; then
  echo
  echo "| shape | tokamak/net/rpc calls/s, per repetition: median (range) | tokamak/net/rpc server CPU per call: median (range) |"
  echo "|---|---|---|"
  for shape in $shapes; do
    echo "| $shape | $(ratios "$shape" 4 | median) ($(ratios "$shape" 4 | range)) | $(ratios "$shape" 5 | median) ($(ratios "$shape" 5 | range)) |"
  done
fi
exit "$failed"
