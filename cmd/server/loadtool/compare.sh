#!/usr/bin/env bash
# compare.sh loads this project's Go server (cmd/server -mode bench) and the
# official Node server (e2e/testdata/node/bench-server.js, socket.io 4.8.4)
# with the same scenarios, and prints one markdown table: Go, Node, ratio.
#
#   cmd/server/loadtool/compare.sh            # from anywhere in the module
#   DURATION=5s SCENARIOS="echo100 connect10k" cmd/server/loadtool/compare.sh
#
# Each server runs alone on CPU 0 (taskset -c 0), the load tool on CPU 1; a
# fresh server is started for every scenario. Environment:
#   DURATION   measurement time of echo and broadcast runs (default 10s)
#   SCENARIOS  subset of: echo100 echo1k bcast1k bcast10k rate1k rate10k connect10k
# bcast* saturate the server (the sender keeps 4 broadcasts in flight);
# rate* emit at a steady 20,000 deliveries/s, which both servers sustain,
# so that their fan-out latencies and CPU per delivery compare at the same
# load.
#   REPEAT     runs of each scenario and server (default 3); the table keeps,
#              for each, the run least slowed by the machine: the one whose
#              server spent the least CPU time per operation. On a shared
#              (virtual) machine the other tenants only ever add to it, and
#              much of that is invisible from inside (caches, memory, steal
#              time): the same server and load measured 14 and 21 µs per
#              ack here, minutes apart
#   KINDS      servers to run (default "go node"; "go" alone gives Go figures
#              only, with empty Node columns)
#   OUT        folder for the JSON lines and server logs (default a temp dir)
# Needs node, taskset and jq. Every run is bounded by `timeout`.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
cd "$root"
DURATION=${DURATION:-10s}
REPEAT=${REPEAT:-3}
KINDS=${KINDS:-"go node"}
SCENARIOS=${SCENARIOS:-"echo100 echo1k bcast1k bcast10k rate1k rate10k connect10k"}
OUT=${OUT:-$(mktemp -d /tmp/sio-compare.XXXXXX)}
mkdir -p "$OUT"

# 10,000 connections need 10,000+ descriptors on each side.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 20000 ]; then
	echo "compare.sh: warning: ulimit -n is $(ulimit -n), the 10,000-connection runs may fail" >&2
fi
for tool in node taskset jq; do
	command -v "$tool" >/dev/null || { echo "compare.sh: $tool is required" >&2; exit 1; }
done

echo "compare.sh: building into $OUT" >&2
go build -o "$OUT/server" ./cmd/server
go build -o "$OUT/loadtool" ./cmd/server/loadtool

server_pid=""
stop_server() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		for _ in $(seq 50); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=""
	fi
}
trap stop_server EXIT

# start_server go|node LOG: starts the server on CPU 0 and sets server_pid
# and server_port.
start_server() {
	local kind=$1 log=$2
	: >"$log"
	if [ "$kind" = go ]; then
		taskset -c 0 "$OUT/server" -mode bench -addr 127.0.0.1:0 >"$log" 2>&1 &
	else
		PORT=0 taskset -c 0 node e2e/testdata/node/bench-server.js >"$log" 2>&1 &
	fi
	server_pid=$!
	server_port=""
	for _ in $(seq 100); do
		server_port=$(grep -oE '"port":[0-9]+|127\.0\.0\.1:[0-9]+' "$log" | head -1 | grep -oE '[0-9]+$' || true)
		[ -n "$server_port" ] && break
		sleep 0.1
	done
	if [ -z "$server_port" ]; then
		echo "compare.sh: the $kind server did not start:" >&2
		cat "$log" >&2
		exit 1
	fi
}

# run_one NAME KIND I ARGS...: run I of one scenario against a fresh
# server; the JSON line goes to $OUT/NAME.KIND.I.json.
run_one() {
	local name=$1 kind=$2 i=$3
	shift 3
	start_server "$kind" "$OUT/$name.$kind.$i.log"
	echo "compare.sh: $name $kind #$i: loadtool $*" >&2
	if ! timeout 300 taskset -c 1 "$OUT/loadtool" -url "http://127.0.0.1:$server_port" \
		-pid "$server_pid" -label "$kind" -duration "$DURATION" "$@" >"$OUT/$name.$kind.$i.json"; then
		echo "compare.sh: $name $kind #$i failed" >&2
		echo '{}' >"$OUT/$name.$kind.$i.json"
	fi
	stop_server
	sleep 1 # let the sockets of the run close
}

scenario_args() {
	case $1 in
	echo100) echo "-scenario echo -n 100" ;;
	echo1k) echo "-scenario echo -n 1000" ;;
	bcast1k) echo "-scenario broadcast -n 1000 -window 4" ;;
	bcast10k) echo "-scenario broadcast -n 10000 -window 4 -src 8" ;;
	rate1k) echo "-scenario broadcast -n 1000 -rate 20" ;;
	rate10k) echo "-scenario broadcast -n 10000 -rate 2 -src 8" ;;
	connect10k) echo "-scenario connect -n 10000 -src 8" ;;
	*) echo "compare.sh: unknown scenario $1" >&2; exit 1 ;;
	esac
}

for i in $(seq "$REPEAT"); do
	for s in $SCENARIOS; do
		args=$(scenario_args "$s")
		for kind in $KINDS; do
			# shellcheck disable=SC2086
			run_one "$s" "$kind" "$i" $args
		done
	done
done

# cost FILE: the server's CPU time per operation in the run of FILE
# (1e12 if it failed).
cost() {
	jq -r '.server_cpu_us_per_op // 1e12' "$1" 2>/dev/null || echo 1e12
}

# Keep the least slowed run of each scenario and server as NAME.KIND.json.
for s in $SCENARIOS; do
	for kind in $KINDS; do
		best="" bestv=""
		for f in "$OUT/$s.$kind".[0-9]*.json; do
			v=$(cost "$f")
			if [ -z "$best" ] || awk -v a="$v" -v b="$bestv" 'BEGIN { exit !(a < b) }'; then
				best=$f bestv=$v
			fi
		done
		cp "$best" "$OUT/$s.$kind.json"
	done
done

# row LABEL SCENARIO JQ-EXPR FORMAT BETTER: one table row; the ratio is
# Go/Node, BETTER says whether higher or lower is better.
row() {
	local label=$1 s=$2 expr=$3 better=$4 g n
	[ -f "$OUT/$s.go.json" ] || return 0
	g=$(jq -r "try ($expr) // empty" "$OUT/$s.go.json")
	n=$(jq -r "try ($expr) // empty" "$OUT/$s.node.json" 2>/dev/null || true)
	awk -v l="$label" -v g="$g" -v n="$n" -v b="$better" 'BEGIN {
		fmt = (g + 0 >= 100 || n + 0 >= 100) ? "%.0f" : "%.2f"
		gs = g == "" ? "n/a" : sprintf(fmt, g)
		ns = n == "" ? "n/a" : sprintf(fmt, n)
		r = (g == "" || n == "" || n + 0 == 0) ? "n/a" : sprintf("%.2f×", g / n)
		printf "| %s | %s | %s | %s (%s is better) |\n", l, gs, ns, r, b
	}'
}

echo
echo "Go (cmd/server -mode bench) vs Node (socket.io 4.8.4), WebSocket, payload 100 B, $DURATION per run; server on CPU 0, load tool on CPU 1; of $REPEAT runs each, the one whose server spent the least CPU per operation."
echo
echo "| scenario | Go | Node | Go/Node |"
echo "|---|---|---|---|"
for s in $SCENARIOS; do
	case $s in
	echo100 | echo1k)
		c=${s#echo}
		row "echo $c clients: acks/s" "$s" .ops_per_s higher
		row "echo $c clients: p50 µs" "$s" .p50_us lower
		row "echo $c clients: p99 µs" "$s" .p99_us lower
		row "echo $c clients: server CPU µs/ack" "$s" .server_cpu_us_per_op lower
		;;
	bcast1k | bcast10k)
		c=${s#bcast}
		row "broadcast to $c: deliveries/s" "$s" .ops_per_s higher
		row "broadcast to $c: p50 fan-out µs" "$s" .p50_us lower
		row "broadcast to $c: p99 fan-out µs" "$s" .p99_us lower
		row "broadcast to $c: server CPU µs/delivery" "$s" .server_cpu_us_per_op lower
		;;
	rate1k | rate10k)
		c=${s#rate}
		row "broadcast to $c at 20k deliveries/s: deliveries/s" "$s" .ops_per_s higher
		row "broadcast to $c at 20k deliveries/s: p50 fan-out µs" "$s" .p50_us lower
		row "broadcast to $c at 20k deliveries/s: p99 fan-out µs" "$s" .p99_us lower
		row "broadcast to $c at 20k deliveries/s: server CPU µs/delivery" "$s" .server_cpu_us_per_op lower
		;;
	connect10k)
		row "connect 10k: connections/s" "$s" .conns_per_s higher
		row "connect 10k: server CPU µs/connection" "$s" .server_cpu_us_per_op lower
		row "idle WS connection (10k): server KiB/conn" "$s" '(.server_bytes_per_conn / 1024)' lower
		;;
	esac
done
echo
echo "What limited each run: CPU time over the measured interval (100% = one core). CPU 0 runs the"
echo "server, CPU 1 the load tool; what a CPU was busy beyond them is other processes (interference)."
echo
echo "| run | server | server CPU | CPU 0 busy | load tool CPU | CPU 1 busy |"
echo "|---|---|---|---|---|---|"
for s in $SCENARIOS; do
	for kind in $KINDS; do
		jq -r --arg s "$s" --arg k "$kind" 'select(.scenario != null) |
			(if .scenario == "connect" then .connect_s else .seconds end) as $t |
			"| \($s) | \($k) | \(.server_cpu_s / $t * 100 | floor)% | \((.cpu_busy_pct // [0])[0] | floor)% | \(.client_cpu_s / $t * 100 | floor)% | \((.cpu_busy_pct // [0,0])[1] | floor)% |"' \
			"$OUT/$s.$kind.json" 2>/dev/null || true
	done
done
echo
echo "JSON lines and logs: $OUT"
