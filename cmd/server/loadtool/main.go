// Command loadtool loads a Socket.IO server implementing the load-test
// contract of cmd/server -mode bench (on "/", event "echo" is acknowledged
// with its own arguments; event "broadcast" is emitted again to every
// socket of the namespace) and measures it.
//
//	go run ./cmd/server/loadtool -url http://127.0.0.1:3000 -scenario echo -n 100 -pid PID
//
// It speaks Engine.IO v4 / Socket.IO v5 itself on raw connections
// (WebSocket only, or HTTP long-polling only), opens N of them from
// several loopback source addresses, and runs one scenario:
//
//   - connect: opens the N connections (joining "/"), reports connections
//     per second and, after they have been idle for -settle, the growth of
//     the server's resident memory per connection.
//   - echo: N clients in a closed loop of "echo" emitted with an ack:
//     acks per second and the latency percentiles of the round trip.
//   - broadcast: N receivers and one more connection that emits
//     "broadcast" at -rate per second (or, with -rate 0, as fast as the
//     server delivers, -window broadcasts ahead): deliveries per second
//     and the percentiles of the fan-out latency, from a timestamp carried
//     in the payload.
//   - cluster: broadcast over the nodes of a cluster (servers sharing an
//     adapter, e.g. Redis), whose URLs -url lists separated by commas:
//     the N receivers are spread evenly over the nodes (receiver i on node
//     i mod nodes) and the sender is on the first node, so that most
//     deliveries cross the adapter. The figures are those of broadcast,
//     for all the deliveries and for each node's.
//
// With -pid (one process id per URL, separated by commas), the servers'
// CPU time (utime+stime of /proc/PID/stat) over the measurement is reported
// per operation (ack or delivery), summed over the servers, and for a
// cluster per node; -redis-pid adds the CPU time of the process that
// carries the nodes' messages (redis-server). It prints one line of JSON
// on stdout and a human-readable line on stderr. Only loopback addresses
// are accepted.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gosio/socketio/sio/eio"
)

func main() {
	cfg, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtool:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtool:", err)
		os.Exit(1)
	}
	line, _ := json.Marshal(res)
	fmt.Println(string(line))
	fmt.Fprintln(os.Stderr, res.human())
}

// config is the command line.
type config struct {
	URLs        []string // one per node; one but for the cluster scenario
	Path        string
	Scenario    string
	N           int
	Transport   string
	PIDs        []int // one per URL, or none
	RedisPID    int
	Payload     int
	Duration    time.Duration
	Warmup      time.Duration
	Settle      time.Duration
	Concurrency int
	Sources     int
	Rate        float64
	Window      int
	Label       string
	Goroutines  bool
	Parser      string
}

func parseFlags(args []string) (*config, error) {
	c := &config{}
	var urls, pids string
	fs := flag.NewFlagSet("loadtool", flag.ContinueOnError)
	fs.StringVar(&urls, "url", "http://127.0.0.1:3000", "server URL (loopback only); for -scenario cluster, the nodes' URLs separated by commas")
	fs.StringVar(&c.Path, "path", "/socket.io/", "Engine.IO path, when -url has none")
	fs.StringVar(&c.Scenario, "scenario", "echo", "connect, echo, broadcast or cluster")
	fs.IntVar(&c.N, "n", 100, "connections (receivers for broadcast and cluster)")
	fs.StringVar(&c.Transport, "transport", "websocket", "websocket or polling")
	fs.StringVar(&pids, "pid", "", "server process id, for CPU time and RSS (none: not observed); for a cluster, one per -url, separated by commas")
	fs.IntVar(&c.RedisPID, "redis-pid", 0, "process id of the cluster's message broker (redis-server), for its CPU time (0: not observed)")
	fs.IntVar(&c.Payload, "payload", 100, "payload string length, in bytes")
	fs.DurationVar(&c.Duration, "duration", 10*time.Second, "measurement duration (echo, broadcast)")
	fs.DurationVar(&c.Warmup, "warmup", time.Second, "load before the measurement starts (echo, broadcast)")
	fs.DurationVar(&c.Settle, "settle", 2*time.Second, "idle time before reading the RSS (connect)")
	fs.IntVar(&c.Concurrency, "c", 64, "connections being opened at once")
	fs.IntVar(&c.Sources, "src", 0, "loopback source addresses 127.0.0.1.. (0: one per 5,000 connections)")
	fs.Float64Var(&c.Rate, "rate", 0, "broadcasts per second (0: as fast as delivered, -window ahead)")
	fs.IntVar(&c.Window, "window", 2, "broadcasts in flight when -rate is 0")
	fs.StringVar(&c.Label, "label", "", "free text copied to the JSON output (e.g. the server's name)")
	fs.BoolVar(&c.Goroutines, "goroutines", false, "read each WebSocket on a goroutine of its own (default on Linux: one epoll poller reads them all)")
	fs.StringVar(&c.Parser, "parser", "json", "packet format: json (the default parser) or msgpack (socket.io-msgpack-parser; the server must use it too)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	for u := range strings.SplitSeq(urls, ",") {
		if u = strings.TrimSpace(u); u != "" {
			c.URLs = append(c.URLs, u)
		}
	}
	for p := range strings.SplitSeq(pids, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		pid, err := strconv.Atoi(p)
		if err != nil || pid <= 0 {
			return nil, fmt.Errorf("-pid %q: not a process id", p)
		}
		c.PIDs = append(c.PIDs, pid)
	}
	switch {
	case c.Parser != "json" && c.Parser != "msgpack":
		return nil, fmt.Errorf("unknown -parser %q", c.Parser)
	case c.Scenario != "connect" && c.Scenario != "echo" && c.Scenario != "broadcast" && c.Scenario != "cluster":
		return nil, fmt.Errorf("unknown -scenario %q", c.Scenario)
	case c.Scenario == "cluster" && len(c.URLs) < 2:
		return nil, errors.New("-scenario cluster needs the URLs of at least two nodes in -url")
	case c.Scenario != "cluster" && len(c.URLs) != 1:
		return nil, fmt.Errorf("-scenario %s loads one server: give one -url", c.Scenario)
	case len(c.PIDs) != 0 && len(c.PIDs) != len(c.URLs):
		return nil, errors.New("-pid needs one process id per -url")
	case c.RedisPID < 0:
		return nil, errors.New("-redis-pid must not be negative")
	case c.Transport != "websocket" && c.Transport != "polling":
		return nil, fmt.Errorf("unknown -transport %q", c.Transport)
	case c.N < 1 || c.N > 100_000:
		return nil, errors.New("-n must be in [1, 100000]")
	case c.Duration <= 0 || c.Duration > 10*time.Minute:
		return nil, errors.New("-duration must be in (0, 10m]")
	case c.Payload < 0 || c.Payload > 1<<20:
		return nil, errors.New("-payload must be in [0, 1MiB]")
	case c.Window < 1:
		return nil, errors.New("-window must be positive")
	}
	if c.Sources <= 0 {
		c.Sources = 1 + c.N/5000
	}
	c.Concurrency = max(c.Concurrency, 1)
	return c, nil
}

// result is the outcome of one run, printed as one JSON line.
type result struct {
	Label     string `json:"label,omitempty"`
	Scenario  string `json:"scenario"`
	Transport string `json:"transport"`
	N         int    `json:"n"`
	Payload   int    `json:"payload"`

	ConnectSeconds float64 `json:"connect_s"`
	ConnsPerSec    float64 `json:"conns_per_s"`
	ConnectErrors  int64   `json:"connect_errors"`

	Seconds  float64 `json:"seconds,omitempty"`
	Ops      int64   `json:"ops,omitempty"` // acks or deliveries measured
	OpsPerS  float64 `json:"ops_per_s,omitempty"`
	Emits    int64   `json:"emits,omitempty"` // broadcasts sent during the measurement
	P50Us    float64 `json:"p50_us,omitempty"`
	P99Us    float64 `json:"p99_us,omitempty"`
	Timeouts int64   `json:"window_timeouts,omitempty"`

	ServerCPUSeconds float64 `json:"server_cpu_s"` // summed over the servers
	ClientCPUSeconds float64 `json:"client_cpu_s"` // this tool's CPU time, same interval
	RedisCPUSeconds  float64 `json:"redis_cpu_s,omitempty"`
	// CPUBusyPct is how busy each CPU of the machine was, same interval:
	// with the server and this tool pinned, what exceeds their own CPU
	// time is interference from other processes.
	CPUBusyPct   []float64 `json:"cpu_busy_pct,omitempty"`
	CPUUsPerOp   float64   `json:"server_cpu_us_per_op,omitempty"`
	RSSBefore    int64     `json:"server_rss_before,omitempty"`
	RSSAfter     int64     `json:"server_rss_after,omitempty"`
	BytesPerConn float64   `json:"server_bytes_per_conn,omitempty"`

	// Nodes are the figures of each node (cluster scenario).
	Nodes []nodeResult `json:"nodes,omitempty"`
}

// nodeResult is what one node of a cluster did: the deliveries to its
// connections and its CPU time.
type nodeResult struct {
	URL              string  `json:"url"`
	Receivers        int     `json:"receivers"` // the sender's connection not included
	Ops              int64   `json:"ops"`
	OpsPerS          float64 `json:"ops_per_s"`
	P50Us            float64 `json:"p50_us"`
	P99Us            float64 `json:"p99_us"`
	ServerCPUSeconds float64 `json:"server_cpu_s,omitempty"`
}

func (r *result) human() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s n=%d: %d connections in %.2fs (%.0f/s, %d errors)",
		r.Scenario, r.Transport, r.N, r.N-int(r.ConnectErrors), r.ConnectSeconds, r.ConnsPerSec, r.ConnectErrors)
	switch r.Scenario {
	case "connect":
		if r.RSSAfter > 0 {
			fmt.Fprintf(&b, "; server RSS %.1f -> %.1f MiB, %.1f KiB per idle connection",
				float64(r.RSSBefore)/(1<<20), float64(r.RSSAfter)/(1<<20), r.BytesPerConn/1024)
		}
	case "echo":
		fmt.Fprintf(&b, "; %.0f acks/s, p50 %.0fµs, p99 %.0fµs", r.OpsPerS, r.P50Us, r.P99Us)
	case "broadcast", "cluster":
		fmt.Fprintf(&b, "; %d broadcasts, %.0f deliveries/s, p50 %.0fµs, p99 %.0fµs", r.Emits, r.OpsPerS, r.P50Us, r.P99Us)
	}
	for i, n := range r.Nodes {
		fmt.Fprintf(&b, "; node %d (%d receivers): %.0f deliveries/s, p50 %.0fµs, p99 %.0fµs", i, n.Receivers, n.OpsPerS, n.P50Us, n.P99Us)
		if n.ServerCPUSeconds > 0 {
			fmt.Fprintf(&b, ", CPU %.2fs", n.ServerCPUSeconds)
		}
	}
	fmt.Fprintf(&b, "; load tool CPU %.2fs", r.ClientCPUSeconds)
	if r.RedisCPUSeconds > 0 {
		fmt.Fprintf(&b, "; redis CPU %.2fs", r.RedisCPUSeconds)
	}
	for i, p := range r.CPUBusyPct {
		fmt.Fprintf(&b, "; CPU %d busy %.0f%%", i, p)
	}
	if r.CPUUsPerOp > 0 {
		fmt.Fprintf(&b, "; server CPU %.2fs, %.2fµs per op", r.ServerCPUSeconds, r.CPUUsPerOp)
	} else if r.ServerCPUSeconds > 0 {
		fmt.Fprintf(&b, "; server CPU %.2fs", r.ServerCPUSeconds)
	}
	return b.String()
}

// phase of a measured scenario.
const (
	phaseWarmup int32 = iota
	phaseMeasure
	phaseStop
)

// runner holds the state of one run.
type runner struct {
	cfg *config
	ds  []*dialer // one per URL
	// nodeOf returns the index in ds of connection i's server (nil: 0).
	nodeOf func(i int) int
	start  time.Time // origin of the timestamps in payloads

	phase atomic.Int32
	ops   atomic.Int64 // acks or deliveries during the measurement
	hist  histogram
	nodes []nodeStats // per node, cluster scenario only

	conns   []conn
	readers sync.WaitGroup // the connections' readers
}

// nodeStats are the deliveries to one node's connections.
type nodeStats struct {
	ops  atomic.Int64
	hist histogram
}

func run(ctx context.Context, cfg *config) (*result, error) {
	r := &runner{cfg: cfg, start: time.Now()}
	for i, u := range cfg.URLs {
		d, err := newDialer(u, cfg.Path, cfg.Transport, cfg.Sources)
		if err != nil {
			return nil, err
		}
		d.noPoller = cfg.Goroutines
		d.msgpack = cfg.Parser == "msgpack"
		if i > 0 {
			d.pollers = r.ds[0].pollers
		}
		r.ds = append(r.ds, d)
	}
	defer r.ds[0].pollers.close()
	res := &result{Label: cfg.Label, Scenario: cfg.Scenario, Transport: cfg.Transport, N: cfg.N, Payload: cfg.Payload}
	defer r.closeAll()
	switch cfg.Scenario {
	case "connect":
		return res, r.connect(ctx, res)
	case "echo":
		return res, r.echo(ctx, res)
	case "cluster":
		r.nodes = make([]nodeStats, len(r.ds))
		r.nodeOf = clusterNode(cfg.N, len(r.ds))
	}
	return res, r.broadcast(ctx, res)
}

// clusterNode returns the node of each connection of the cluster scenario
// over nodes nodes: receiver i (i < n) on node i mod nodes, the sender
// (connection n) on node 0.
func clusterNode(n, nodes int) func(i int) int {
	return func(i int) int {
		if i >= n {
			return 0
		}
		return i % nodes
	}
}

// node returns the index of connection i's server.
func (r *runner) node(i int) int {
	if r.nodeOf == nil {
		return 0
	}
	return r.nodeOf(i)
}

// readProcs reads the CPU time and RSS of every server, and the CPU time
// of the Redis server.
func (r *runner) readProcs() (servers []procStats, redis procStats, err error) {
	for _, pid := range r.cfg.PIDs {
		st, err := readProc(pid)
		if err != nil {
			return nil, procStats{}, err
		}
		servers = append(servers, st)
	}
	redis, err = readProc(r.cfg.RedisPID)
	return servers, redis, err
}

// sumProcs returns the total of the servers' CPU times and RSS.
func sumProcs(ps []procStats) procStats {
	var t procStats
	for _, p := range ps {
		t.CPU += p.CPU
		t.RSS += p.RSS
	}
	return t
}

// openAll opens n connections, cfg.Concurrency at a time, with the handler
// that h returns for each index; it fills res's connection figures. Failed
// connections are counted, not retried; it fails if none was opened.
func (r *runner) openAll(ctx context.Context, n int, h func(i int) handler, res *result) error {
	r.conns = make([]conn, n)
	var (
		next  atomic.Int64
		fails atomic.Int64
		wg    sync.WaitGroup
	)
	t0 := time.Now()
	for range min(r.cfg.Concurrency, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				r.readers.Add(1)
				c, err := r.ds[r.node(i)].dial(dctx, i, h(i), r.readers.Done)
				cancel()
				if err != nil {
					r.readers.Done()
					if fails.Add(1) <= 3 {
						fmt.Fprintf(os.Stderr, "loadtool: connection %d: %v\n", i, err)
					}
					continue
				}
				r.conns[i] = c
			}
		}()
	}
	wg.Wait()
	el := time.Since(t0)
	res.ConnectSeconds = el.Seconds()
	res.ConnectErrors = fails.Load()
	res.ConnsPerSec = float64(int64(n)-fails.Load()) / el.Seconds()
	if err := ctx.Err(); err != nil {
		return err
	}
	if fails.Load() == int64(n) {
		return errors.New("no connection could be opened")
	}
	return nil
}

// closeAll closes every connection and waits (boundedly) for the readers.
func (r *runner) closeAll() {
	r.phase.Store(phaseStop)
	var wg sync.WaitGroup
	const workers = 32
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(r.conns); i += workers {
				if c := r.conns[i]; c != nil {
					c.Close()
				}
			}
		}()
	}
	wg.Wait()
	done := make(chan struct{})
	go func() { r.readers.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
	}
}

// connect runs the connect scenario.
func (r *runner) connect(ctx context.Context, res *result) error {
	b, _, err := r.readProcs()
	if err != nil {
		return err
	}
	before := sumProcs(b)
	self, busy, t0 := selfCPU(), cpuBusy(), time.Now()
	if err := r.openAll(ctx, r.cfg.N, func(int) handler { return func(eio.Packet) {} }, res); err != nil {
		return err
	}
	o, _, err := r.readProcs()
	if err != nil {
		return err
	}
	opened := sumProcs(o)
	res.ClientCPUSeconds = (selfCPU() - self).Seconds()
	res.CPUBusyPct = busyPercent(busy, cpuBusy(), time.Since(t0))
	select {
	case <-time.After(r.cfg.Settle):
	case <-ctx.Done():
		return ctx.Err()
	}
	a, _, err := r.readProcs()
	if err != nil {
		return err
	}
	after := sumProcs(a)
	up := int64(r.cfg.N) - res.ConnectErrors
	res.ServerCPUSeconds = (opened.CPU - before.CPU).Seconds()
	if up > 0 {
		res.CPUUsPerOp = float64((opened.CPU - before.CPU).Microseconds()) / float64(up)
	}
	res.RSSBefore, res.RSSAfter = before.RSS, after.RSS
	if up > 0 && after.RSS > 0 {
		res.BytesPerConn = float64(after.RSS-before.RSS) / float64(up)
	}
	return nil
}

// measure runs the warm-up and the measurement phases and fills the
// throughput, latency and CPU figures of res.
func (r *runner) measure(ctx context.Context, res *result) error {
	select {
	case <-time.After(r.cfg.Warmup):
	case <-ctx.Done():
		return ctx.Err()
	}
	before, redisBefore, err := r.readProcs()
	if err != nil {
		return err
	}
	self, busy := selfCPU(), cpuBusy()
	t0 := time.Now()
	r.phase.Store(phaseMeasure)
	select {
	case <-time.After(r.cfg.Duration):
	case <-ctx.Done():
	}
	r.phase.Store(phaseStop)
	el := time.Since(t0)
	res.ClientCPUSeconds = (selfCPU() - self).Seconds()
	res.CPUBusyPct = busyPercent(busy, cpuBusy(), el)
	after, redisAfter, err := r.readProcs()
	if err != nil {
		return err
	}
	res.Seconds = el.Seconds()
	res.Ops = r.ops.Load()
	res.OpsPerS = float64(res.Ops) / el.Seconds()
	res.P50Us = float64(r.hist.percentile(0.50)) / 1e3
	res.P99Us = float64(r.hist.percentile(0.99)) / 1e3
	tb, ta := sumProcs(before), sumProcs(after)
	res.ServerCPUSeconds = (ta.CPU - tb.CPU).Seconds()
	res.RedisCPUSeconds = (redisAfter.CPU - redisBefore.CPU).Seconds()
	res.RSSBefore, res.RSSAfter = tb.RSS, ta.RSS
	if res.Ops > 0 && len(r.cfg.PIDs) > 0 {
		res.CPUUsPerOp = float64((ta.CPU - tb.CPU).Microseconds()) / float64(res.Ops)
	}
	for i := range r.nodes {
		ns := &r.nodes[i]
		nr := nodeResult{URL: r.cfg.URLs[i], Ops: ns.ops.Load()}
		for k := range r.cfg.N {
			if r.node(k) == i {
				nr.Receivers++
			}
		}
		nr.OpsPerS = float64(nr.Ops) / el.Seconds()
		nr.P50Us = float64(ns.hist.percentile(0.50)) / 1e3
		nr.P99Us = float64(ns.hist.percentile(0.99)) / 1e3
		if len(after) > i {
			nr.ServerCPUSeconds = (after[i].CPU - before[i].CPU).Seconds()
		}
		res.Nodes = append(res.Nodes, nr)
	}
	return ctx.Err()
}

// payload returns the payload string: cfg.Payload letters.
func (r *runner) payload() string { return strings.Repeat("x", r.cfg.Payload) }

// echo runs the echo scenario: every connection keeps one "echo" in flight.
func (r *runner) echo(ctx context.Context, res *result) error {
	pl, _ := json.Marshal(r.payload())
	clients := make([]*echoClient, r.cfg.N)
	for i := range clients {
		clients[i] = &echoClient{r: r, payload: pl}
	}
	if err := r.openAll(ctx, r.cfg.N, func(i int) handler { return clients[i].onPacket }, res); err != nil {
		return err
	}
	for i, c := range clients {
		if r.conns[i] != nil {
			c.c = r.conns[i]
			c.start()
		}
	}
	return r.measure(ctx, res)
}

// echoClient is one closed loop of "echo" with an ack.
type echoClient struct {
	r       *runner
	c       conn
	payload []byte // JSON string

	// mu orders the first send, from the main goroutine, before what the
	// reader goroutine does; it is never contended.
	mu   sync.Mutex
	id   uint64
	sent time.Time
	buf  []byte
}

// start emits the first "echo".
func (e *echoClient) start() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.send()
}

// send emits the next "echo": 42<id>["echo",<payload>]. e.mu held.
func (e *echoClient) send() {
	e.id++
	e.buf = append(e.buf[:0], "42"...)
	e.buf = strconv.AppendUint(e.buf, e.id, 10)
	e.buf = append(e.buf, `["echo",`...)
	e.buf = append(e.buf, e.payload...)
	e.buf = append(e.buf, ']')
	e.sent = time.Now()
	_ = e.c.Send(context.Background(), e.buf)
}

// onPacket handles the ack 3<id>[...] of the "echo" in flight.
func (e *echoClient) onPacket(p eio.Packet) {
	if p.Type != eio.Message || len(p.Data) < 2 || p.Data[0] != '3' {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	d := p.Data[1:]
	n := 0
	for n < len(d) && d[n] >= '0' && d[n] <= '9' {
		n++
	}
	id, err := strconv.ParseUint(string(d[:n]), 10, 64)
	if err != nil || id != e.id {
		return
	}
	switch e.r.phase.Load() {
	case phaseStop:
		return
	case phaseMeasure:
		e.r.hist.add(time.Since(e.sent))
		e.r.ops.Add(1)
	}
	e.send()
}

// broadcast runs the broadcast scenario, and the cluster scenario (the
// same over several nodes, r.nodes counting each node's deliveries).
func (r *runner) broadcast(ctx context.Context, res *result) error {
	n := r.cfg.N + 1 // the receivers, then the sender (which receives too)
	var (
		delivered atomic.Int64 // all deliveries, measured or not
		target    atomic.Int64 // delivered value that lets the sender go on
		progress  = make(chan struct{}, 1)
	)
	target.Store(-1)
	prefix := []byte(`2["broadcast",`)
	onPacket := func(ns *nodeStats, p eio.Packet) {
		if p.Type != eio.Message || len(p.Data) <= len(prefix) || string(p.Data[:len(prefix)]) != string(prefix) {
			return
		}
		d := p.Data[len(prefix):]
		k := 0
		for k < len(d) && d[k] >= '0' && d[k] <= '9' {
			k++
		}
		ts, err := strconv.ParseInt(string(d[:k]), 10, 64)
		if err != nil {
			return
		}
		if r.phase.Load() == phaseMeasure {
			lat := time.Since(r.start) - time.Duration(ts)
			r.hist.add(lat)
			r.ops.Add(1)
			if ns != nil {
				ns.hist.add(lat)
				ns.ops.Add(1)
			}
		}
		if delivered.Add(1) == target.Load() {
			select {
			case progress <- struct{}{}:
			default:
			}
		}
	}
	handlerOf := func(i int) handler {
		var ns *nodeStats
		if r.nodes != nil {
			ns = &r.nodes[r.node(i)]
		}
		return func(p eio.Packet) { onPacket(ns, p) }
	}
	if err := r.openAll(ctx, n, handlerOf, res); err != nil {
		return err
	}
	res.N = r.cfg.N
	sender := r.conns[n-1]
	if sender == nil {
		return errors.New("the sender could not connect")
	}
	up := int64(0)
	for _, c := range r.conns {
		if c != nil {
			up++
		}
	}

	pl, _ := json.Marshal(r.payload())
	var (
		emits    atomic.Int64
		timeouts atomic.Int64
		done     = make(chan struct{})
		wg       sync.WaitGroup
	)
	emit := func(buf []byte) []byte {
		buf = append(buf[:0], `42["broadcast",`...)
		buf = strconv.AppendInt(buf, int64(time.Since(r.start)), 10)
		buf = append(buf, ',')
		buf = append(buf, pl...)
		buf = append(buf, ']')
		_ = sender.Send(context.Background(), buf)
		if r.phase.Load() == phaseMeasure {
			emits.Add(1)
		}
		return buf
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		var buf []byte
		if r.cfg.Rate > 0 {
			t0 := time.Now()
			tick := time.NewTicker(max(time.Duration(float64(time.Second)/r.cfg.Rate), 100*time.Microsecond))
			defer tick.Stop()
			var sent int64
			for {
				select {
				case <-done:
					return
				case <-tick.C:
				}
				due := int64(time.Since(t0).Seconds() * r.cfg.Rate)
				for ; sent < due && due-sent <= 100; sent++ { // bounded catch-up
					buf = emit(buf)
				}
				sent = max(sent, due-100)
			}
		}
		// Window mode: broadcast k+window is sent once broadcast k reached
		// every connection, or after a second without it (a timeout, whose
		// missing deliveries are then written off).
		var sent, credit int64
		w := int64(r.cfg.Window)
		for {
			for sent >= (delivered.Load()+credit)/up+w {
				want := (sent-w+1)*up - credit
				target.Store(want)
				if delivered.Load() >= want {
					break
				}
				select {
				case <-done:
					return
				case <-progress:
				case <-time.After(time.Second):
					timeouts.Add(1)
					credit += want - delivered.Load()
				}
			}
			select {
			case <-done:
				return
			default:
			}
			buf = emit(buf)
			sent++
		}
	}()
	err := r.measure(ctx, res)
	close(done)
	wg.Wait()
	res.Emits = emits.Load()
	res.Timeouts = timeouts.Load()
	return err
}
