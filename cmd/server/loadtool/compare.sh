#!/usr/bin/env bash
# compare.sh loads this project's Go server (cmd/server -mode bench) and the
# official Node server (e2e/testdata/node/bench-server.js, socket.io 4.8.4)
# with the same scenarios, and prints one markdown table: Go, Node, ratio.
#
#   cmd/server/loadtool/compare.sh            # from anywhere in the module
#   DURATION=5s SCENARIOS="echo100 connect10k" cmd/server/loadtool/compare.sh
#
# Each server runs alone on CPU 0 (taskset -c 0), the load tool on CPU 1; a
# fresh server is started for every scenario. The cluster* scenarios start
# two nodes of the same kind on one fresh redis-server (a free port, no
# persistence), both nodes on CPU 0 and redis-server with the load tool on
# CPU 1: the nodes share a core, as one server does in the other scenarios,
# so that deliveries per second compare with theirs, and what the cluster
# costs is the CPU the nodes spend on the adapter. Environment:
#   DURATION   measurement time of echo and broadcast runs (default 10s)
#   SCENARIOS  subset of: echo100 echo1k bcast1k bcast10k rate1k rate10k
#              connect10k cluster100 cluster1k cluster10k clusterrate1k
# bcast* saturate the server (the sender keeps 4 broadcasts in flight);
# rate* emit at a steady 20,000 deliveries/s, which both servers sustain,
# so that their fan-out latencies and CPU per delivery compare at the same
# load. cluster* are bcast* and rate1k over two nodes: the receivers are
# spread evenly over them, the sender is on the first, which re-emits to
# the namespace through the Redis adapter.
#   ADAPTER    the cluster's adapter: redis (default; Go -adapter redis, Node
#              createAdapter) or sharded (Go -adapter sharded, Node
#              createShardedAdapter; needs Redis 7)
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
# Needs node, taskset and jq (and redis-server for cluster*). Every run is
# bounded by `timeout`.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
cd "$root"
DURATION=${DURATION:-10s}
REPEAT=${REPEAT:-3}
KINDS=${KINDS:-"go node"}
SCENARIOS=${SCENARIOS:-"echo100 echo1k bcast1k bcast10k rate1k rate10k connect10k cluster100 cluster1k cluster10k clusterrate1k"}
ADAPTER=${ADAPTER:-redis}
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
case " $SCENARIOS " in
*" cluster"*)
	command -v redis-server >/dev/null || { echo "compare.sh: redis-server is required by the cluster scenarios" >&2; exit 1; }
	;;
esac
case $ADAPTER in
redis | sharded) ;;
*) echo "compare.sh: ADAPTER must be redis or sharded" >&2; exit 1 ;;
esac

echo "compare.sh: building into $OUT" >&2
go build -o "$OUT/server" ./cmd/server
go build -o "$OUT/loadtool" ./cmd/server/loadtool

# The processes started for the current run, in order (redis-server first).
started_pids=()
stop_pid() {
	kill "$1" 2>/dev/null || true
	for _ in $(seq 50); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}
# stop_all stops them last first, so that the nodes end before their
# redis-server (they would log their lost connection otherwise).
stop_all() {
	local i
	for ((i = ${#started_pids[@]} - 1; i >= 0; i--)); do
		stop_pid "${started_pids[i]}"
	done
	started_pids=()
}
trap stop_all EXIT

# free_port: a TCP port of 127.0.0.1 that nothing listens on.
free_port() {
	node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })'
}

# start_redis LOG: starts redis-server on CPU 1 (a free port, no
# persistence) and sets redis_pid and redis_url.
start_redis() {
	local log=$1 port
	for _ in 1 2 3 4 5; do # a free port may be taken before redis binds it
		port=$(free_port)
		taskset -c 1 redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
			--dir "$OUT" >"$log" 2>&1 &
		redis_pid=$!
		for _ in $(seq 50); do
			if grep -q "Ready to accept connections" "$log"; then
				started_pids+=("$redis_pid")
				redis_url=redis://127.0.0.1:$port
				return 0
			fi
			kill -0 "$redis_pid" 2>/dev/null || break
			sleep 0.1
		done
		stop_pid "$redis_pid"
	done
	echo "compare.sh: redis-server did not start:" >&2
	cat "$log" >&2
	exit 1
}

# start_server go|node LOG [REDIS_URL]: starts the server on CPU 0 (with
# REDIS_URL, on the $ADAPTER adapter) and sets server_pid and server_port.
start_server() {
	local kind=$1 log=$2 redis=${3:-}
	: >"$log"
	if [ "$kind" = go ]; then
		if [ -n "$redis" ]; then
			taskset -c 0 "$OUT/server" -mode bench -addr 127.0.0.1:0 -redis "$redis" -adapter "$ADAPTER" >"$log" 2>&1 &
		else
			taskset -c 0 "$OUT/server" -mode bench -addr 127.0.0.1:0 >"$log" 2>&1 &
		fi
	else
		PORT=0 REDIS_URL=$redis ADAPTER=$ADAPTER taskset -c 0 node e2e/testdata/node/bench-server.js >"$log" 2>&1 &
	fi
	server_pid=$!
	started_pids+=("$server_pid")
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
# server (for cluster*, two fresh nodes and a fresh redis-server); the JSON
# line goes to $OUT/NAME.KIND.I.json.
run_one() {
	local name=$1 kind=$2 i=$3 urls pids extra=()
	shift 3
	case $name in
	cluster*)
		start_redis "$OUT/$name.$kind.$i.redis.log"
		start_server "$kind" "$OUT/$name.$kind.$i.a.log" "$redis_url"
		urls=http://127.0.0.1:$server_port pids=$server_pid
		start_server "$kind" "$OUT/$name.$kind.$i.b.log" "$redis_url"
		urls+=,http://127.0.0.1:$server_port pids+=,$server_pid
		extra=(-redis-pid "$redis_pid" -label "$kind $ADAPTER")
		;;
	*)
		start_server "$kind" "$OUT/$name.$kind.$i.log"
		urls=http://127.0.0.1:$server_port pids=$server_pid
		extra=(-label "$kind")
		;;
	esac
	echo "compare.sh: $name $kind #$i: loadtool $*" >&2
	if ! timeout 300 taskset -c 1 "$OUT/loadtool" -url "$urls" \
		-pid "$pids" "${extra[@]}" -duration "$DURATION" "$@" >"$OUT/$name.$kind.$i.json"; then
		echo "compare.sh: $name $kind #$i failed" >&2
		echo '{}' >"$OUT/$name.$kind.$i.json"
	fi
	stop_all
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
	cluster100) echo "-scenario cluster -n 100 -window 4" ;;
	cluster1k) echo "-scenario cluster -n 1000 -window 4" ;;
	cluster10k) echo "-scenario cluster -n 10000 -window 4 -src 8" ;;
	clusterrate1k) echo "-scenario cluster -n 1000 -rate 20" ;;
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
echo "Go (cmd/server -mode bench) vs Node (socket.io 4.8.4), WebSocket, payload 100 B, $DURATION per run; server on CPU 0, load tool on CPU 1 (cluster*: two nodes on CPU 0 with the $ADAPTER Redis adapter, redis-server and the load tool on CPU 1); of $REPEAT runs each, the one whose server(s) spent the least CPU per operation."
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
	cluster100 | cluster1k | cluster10k | clusterrate1k)
		c=${s#cluster}
		l="2 nodes ($ADAPTER), broadcast to $c"
		if [ "$s" = clusterrate1k ]; then
			l="2 nodes ($ADAPTER), broadcast to 1k at 20k deliveries/s"
		fi
		row "$l: deliveries/s" "$s" .ops_per_s higher
		row "$l: p50 µs" "$s" .p50_us lower
		row "$l: p99 µs" "$s" .p99_us lower
		row "$l: p99 µs on the other node" "$s" '.nodes[1].p99_us' lower
		row "$l: both nodes' CPU µs/delivery" "$s" .server_cpu_us_per_op lower
		;;
	esac
done
echo
echo "What limited each run: CPU time over the measured interval (100% = one core). CPU 0 runs the"
echo "server (cluster*: both nodes), CPU 1 the load tool (cluster*: and redis-server); what a CPU was"
echo "busy beyond them is other processes (interference)."
echo
echo "| run | server | server CPU | CPU 0 busy | load tool CPU | redis CPU | CPU 1 busy |"
echo "|---|---|---|---|---|---|---|"
for s in $SCENARIOS; do
	for kind in $KINDS; do
		jq -r --arg s "$s" --arg k "$kind" 'select(.scenario != null) |
			(if .scenario == "connect" then .connect_s else .seconds end) as $t |
			(if .nodes then " (\(.nodes | map(.server_cpu_s / $t * 100 | floor | tostring + "%") | join(" + ")))" else "" end) as $each |
			"| \($s) | \($k) | \(.server_cpu_s / $t * 100 | floor)%\($each) | \((.cpu_busy_pct // [0])[0] | floor)% | \(.client_cpu_s / $t * 100 | floor)% | \(if .redis_cpu_s then "\(.redis_cpu_s / $t * 100 | floor)%" else "-" end) | \((.cpu_busy_pct // [0,0])[1] | floor)% |"' \
			"$OUT/$s.$kind.json" 2>/dev/null || true
	done
done
echo
echo "JSON lines and logs: $OUT"
