package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/gosio/socketio/cmd/server/app"
	"github.com/gosio/socketio/sio/parser"
	"github.com/gosio/socketio/sio/parser/msgpack"
	"github.com/gosio/socketio/sio/server"
)

func TestHistogramPercentiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Microsecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.99, 990 * time.Microsecond}} {
		got := h.percentile(c.q)
		if d := float64(got-c.want) / float64(c.want); d < -0.04 || d > 0.04 {
			t.Errorf("p%v = %v, want %v ±4%%", c.q*100, got, c.want)
		}
	}
	for i := range 59 * histSub { // past that, lower overflows a Duration
		if b := bucket(lower(i)); b != i {
			t.Fatalf("bucket(lower(%d)) = %d", i, b)
		}
	}
}

func TestReadProcSelf(t *testing.T) {
	st, err := readProc(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if st.RSS <= 0 {
		t.Errorf("RSS = %d", st.RSS)
	}
}

func TestParseFlagsRejectsBadInput(t *testing.T) {
	for _, args := range [][]string{
		{"-scenario", "nope"},
		{"-transport", "carrier-pigeon"},
		{"-n", "0"},
		{"-scenario", "cluster", "-url", "http://127.0.0.1:1"},
		{"-scenario", "echo", "-url", "http://127.0.0.1:1,http://127.0.0.1:2"},
		{"-scenario", "cluster", "-url", "http://127.0.0.1:1,http://127.0.0.1:2", "-pid", "1"},
		{"-pid", "x"},
		{"-parser", "protobuf"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
	if _, err := newDialer("http://10.1.2.3:80", "/socket.io/", "websocket", 1); err == nil {
		t.Error("a non-loopback URL was accepted")
	}
}

// TestScenariosAgainstBenchServer runs the echo and broadcast scenarios
// briefly against the bench server, with the sessions read by the poller
// (Linux) and by goroutines, and checks that acks and deliveries were
// counted and that every connection was opened.
func TestScenariosAgainstBenchServer(t *testing.T) {
	srv := app.NewBench(slog.New(slog.DiscardHandler))
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Close()
		hs.Close()
	})
	for _, scenario := range []string{"echo", "broadcast"} {
		for _, goroutines := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/goroutines=%v", scenario, goroutines), func(t *testing.T) {
				cfg, err := parseFlags([]string{"-url", hs.URL, "-scenario", scenario, "-n", "20",
					"-duration", "300ms", "-warmup", "100ms", fmt.Sprintf("-goroutines=%v", goroutines)})
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				res, err := run(ctx, cfg)
				if err != nil {
					t.Fatal(err)
				}
				if res.ConnectErrors != 0 {
					t.Errorf("%d connections failed", res.ConnectErrors)
				}
				if res.Ops <= 0 {
					t.Errorf("no %s measured: %+v", scenario, res)
				}
			})
		}
	}
}

// TestScenariosMsgpack runs the echo and broadcast scenarios with -parser
// msgpack against the bench server with the msgpack parser, over both
// transports and both read paths: a packet the server could not read would
// leave nothing measured.
func TestScenariosMsgpack(t *testing.T) {
	srv := app.NewBenchOptions(&server.Options{Parser: msgpack.New()})
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Close()
		hs.Close()
	})
	for _, c := range []struct {
		scenario, transport string
		goroutines          bool
	}{{"echo", "websocket", false}, {"echo", "websocket", true}, {"echo", "polling", false}, {"broadcast", "websocket", false}, {"broadcast", "polling", false}} {
		t.Run(fmt.Sprintf("%s/%s/goroutines=%v", c.scenario, c.transport, c.goroutines), func(t *testing.T) {
			cfg, err := parseFlags([]string{"-url", hs.URL, "-scenario", c.scenario, "-n", "10", "-transport", c.transport,
				"-duration", "300ms", "-warmup", "100ms", fmt.Sprintf("-goroutines=%v", c.goroutines), "-parser", "msgpack"})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			res, err := run(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.ConnectErrors != 0 {
				t.Errorf("%d connections failed", res.ConnectErrors)
			}
			if res.Ops <= 0 {
				t.Errorf("no %s measured: %+v", c.scenario, res)
			}
		})
	}
}

func TestClusterNodeSpreadsReceivers(t *testing.T) {
	for _, c := range []struct{ n, nodes int }{{1000, 2}, {7, 2}, {10, 3}} {
		nodeOf := clusterNode(c.n, c.nodes)
		counts := make([]int, c.nodes)
		for i := range c.n {
			counts[nodeOf(i)]++
		}
		for k, got := range counts {
			if got < c.n/c.nodes || got > c.n/c.nodes+1 {
				t.Errorf("n=%d nodes=%d: node %d has %d receivers: %v", c.n, c.nodes, k, got, counts)
			}
		}
		if got := nodeOf(c.n); got != 0 {
			t.Errorf("n=%d nodes=%d: the sender is on node %d, want 0", c.n, c.nodes, got)
		}
	}
}

// linkedCluster links the bench servers of one test process as a cluster
// adapter links processes: a broadcast that is not local also reaches the
// other nodes' sockets.
type linkedCluster struct {
	mu    sync.Mutex
	nodes []*linkedAdapter
}

type linkedAdapter struct {
	*server.MemoryAdapter
	c *linkedCluster
}

func (c *linkedCluster) factory(nsp *server.Namespace) server.Adapter {
	a := &linkedAdapter{MemoryAdapter: server.NewMemoryAdapter(nsp), c: c}
	if nsp.Name() == "/" {
		c.mu.Lock()
		c.nodes = append(c.nodes, a)
		c.mu.Unlock()
	}
	return a
}

func (a *linkedAdapter) Broadcast(p *parser.Packet, opts *server.BroadcastOptions) error {
	if err := a.MemoryAdapter.Broadcast(p, opts); err != nil || opts.Local {
		return err
	}
	a.c.mu.Lock()
	nodes := a.c.nodes
	a.c.mu.Unlock()
	for _, o := range nodes {
		if o != a {
			if err := o.MemoryAdapter.Broadcast(p, opts); err != nil {
				return err
			}
		}
	}
	return nil
}

// TestClusterScenario runs the cluster scenario briefly against two bench
// servers linked as a cluster, and checks that the receivers were spread
// over both and that both nodes' receivers got broadcasts, the second
// node's only through the link, each counted for its node.
func TestClusterScenario(t *testing.T) {
	var lc linkedCluster
	var urls string
	for i := range 2 {
		srv := app.NewBenchAdapter(slog.New(slog.DiscardHandler), lc.factory)
		hs := httptest.NewServer(srv)
		t.Cleanup(func() {
			_ = srv.Close()
			hs.Close()
		})
		if i > 0 {
			urls += ","
		}
		urls += hs.URL
	}
	cfg, err := parseFlags([]string{"-url", urls, "-scenario", "cluster", "-n", "21",
		"-duration", "300ms", "-warmup", "100ms", "-pid", strconv.Itoa(os.Getpid()) + "," + strconv.Itoa(os.Getpid())})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.ConnectErrors != 0 {
		t.Errorf("%d connections failed", res.ConnectErrors)
	}
	if len(res.Nodes) != 2 {
		t.Fatalf("%d nodes in the result, want 2: %+v", len(res.Nodes), res)
	}
	if res.Nodes[0].Receivers != 11 || res.Nodes[1].Receivers != 10 {
		t.Errorf("receivers per node %d and %d, want 11 and 10", res.Nodes[0].Receivers, res.Nodes[1].Receivers)
	}
	var sum int64
	for i, n := range res.Nodes {
		if n.Ops <= 0 {
			t.Errorf("node %d: no delivery measured: %+v", i, n)
		}
		if n.URL != cfg.URLs[i] {
			t.Errorf("node %d: URL %q, want %q", i, n.URL, cfg.URLs[i])
		}
		sum += n.Ops
	}
	if sum != res.Ops {
		t.Errorf("the nodes' deliveries add up to %d, the total is %d", sum, res.Ops)
	}
	if res.Emits <= 0 {
		t.Errorf("no broadcast sent: %+v", res)
	}
}
