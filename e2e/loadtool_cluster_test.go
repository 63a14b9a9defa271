package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/gosio/socketio/e2e/internal/clusterenv"
	"github.com/gosio/socketio/e2e/internal/redisenv"
	"github.com/gosio/socketio/internal/nodeenv"
)

// TestLoadToolCluster runs the load tool's cluster scenario, briefly, on
// the clusters compare.sh measures (two Go nodes, two Node.js nodes
// running bench-server.js with the official adapter) and on a mixed one,
// on one Redis with each adapter: every receiver connects, and broadcasts
// from the sender on the first node reach the receivers of both nodes, the
// second node's through Redis. It asserts no speed.
func TestLoadToolCluster(t *testing.T) {
	nodeenv.Require(t)
	redisenv.Require(t)
	goBin := clusterenv.BuildServer(t)
	tool := buildLoadTool(t)
	for _, adapter := range []string{"redis", "sharded"} {
		for _, kinds := range [][]string{
			{clusterenv.Go, clusterenv.Go},
			{clusterenv.Node, clusterenv.Node},
			{clusterenv.Go, clusterenv.Node},
		} {
			t.Run(adapter+"/"+topologyName(kinds), func(t *testing.T) {
				rs := redisenv.Start(t)
				var urls, pids []string
				for i, kind := range kinds {
					url, pid := startBenchNode(t, goBin, kind, nodeNames[i], rs.URL(), adapter)
					urls = append(urls, url)
					pids = append(pids, strconv.Itoa(pid))
				}
				// Both nodes subscribed: a broadcast published before the
				// second node subscribes would not reach it.
				waitSubscribers(t, rs, adapter, 2)
				res := runLoadTool(t, tool, "-scenario", "cluster", "-n", "20", "-window", "2",
					"-warmup", "200ms", "-duration", "700ms",
					"-url", strings.Join(urls, ","), "-pid", strings.Join(pids, ","))
				if res.ConnectErrors != 0 {
					t.Errorf("%d connections failed", res.ConnectErrors)
				}
				if res.Emits <= 0 {
					t.Errorf("no broadcast was sent: %+v", res)
				}
				if len(res.Nodes) != 2 {
					t.Fatalf("%d nodes in the result, want 2", len(res.Nodes))
				}
				for i, n := range res.Nodes {
					if n.Receivers != 10 || n.Ops <= 0 {
						t.Errorf("node %d (%s): %d receivers, %d deliveries measured; want 10 and some", i, kinds[i], n.Receivers, n.Ops)
					}
				}
				if res.ServerCPUSeconds < 0 {
					t.Errorf("negative server CPU time %v", res.ServerCPUSeconds)
				}
			})
		}
	}
}

// loadResult is what TestLoadToolCluster reads of the load tool's JSON line.
type loadResult struct {
	ConnectErrors    int64   `json:"connect_errors"`
	Emits            int64   `json:"emits"`
	ServerCPUSeconds float64 `json:"server_cpu_s"`
	Nodes            []struct {
		Receivers int   `json:"receivers"`
		Ops       int64 `json:"ops"`
	} `json:"nodes"`
}

// buildLoadTool builds cmd/server/loadtool into the test's temporary folder.
func buildLoadTool(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "loadtool")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/gosio/socketio/cmd/server/loadtool")
	cmd.Dir = nodeenv.Dir() // inside the module
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build loadtool: %v\n%s", err, out)
	}
	return bin
}

// runLoadTool runs the load tool and decodes its JSON line.
func runLoadTool(t *testing.T, bin string, args ...string) loadResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	t.Logf("loadtool: %s", strings.TrimSpace(stderr.String()))
	if err != nil {
		t.Fatalf("loadtool %v: %v", args, err)
	}
	var res loadResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("loadtool output %q: %v", stdout.String(), err)
	}
	return res
}

// startBenchNode starts a node of the load-test contract on the Redis at
// redisURL: cmd/server -mode bench (Go) or bench-server.js (Node.js). It
// returns the node's URL and process id; the node stops when the test ends.
func startBenchNode(t *testing.T, goBin, kind, name, redisURL, adapter string) (string, int) {
	t.Helper()
	if kind == clusterenv.Go {
		p := clusterenv.StartNode(t, goBin, clusterenv.NodeConfig{
			Kind: kind, Name: name, Redis: redisURL, Adapter: adapter, Mode: "bench",
		})
		return p.URL, p.PID()
	}
	cmd := exec.Command("node", "bench-server.js")
	cmd.Dir = nodeenv.Dir()
	cmd.Env = append(os.Environ(), "PORT=0", "REDIS_URL="+redisURL, "ADAPTER="+adapter, "EXIT_ON_STDIN_END=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start bench-server.js: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if s := stderr.String(); s != "" {
			t.Logf("bench-server.js %s stderr: %s", name, s)
		}
	})
	// It prints {"port":N} once listening.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var line struct {
			Port int `json:"port"`
		}
		if first, _, ok := strings.Cut(stdout.String(), "\n"); ok {
			if err := json.Unmarshal([]byte(first), &line); err != nil || line.Port == 0 {
				t.Fatalf("bench-server.js printed %q first, want {\"port\":N}", first)
			}
			return fmt.Sprintf("http://127.0.0.1:%d", line.Port), cmd.Process.Pid
		}
		select {
		case <-exited:
			t.Fatalf("bench-server.js exited before listening: %s", stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("bench-server.js did not listen within 30s: %s", stderr.String())
		}
	}
}

// waitSubscribers waits until n nodes subscribe to the cluster's channel
// of namespace "/" (the request channel of the classic adapter, which each
// node subscribes to after its broadcast pattern, on the same connection;
// the main channel of the sharded one).
func waitSubscribers(t *testing.T, rs *redisenv.Server, adapter string, n int) {
	t.Helper()
	client := goredis.NewClient(&goredis.Options{Addr: rs.Addr()})
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var (
		got map[string]int64
		err error
	)
	for ctx.Err() == nil {
		if adapter == "sharded" {
			got, err = client.PubSubShardNumSub(ctx, "socket.io#/#").Result()
			if err == nil && got["socket.io#/#"] == int64(n) {
				return
			}
		} else {
			got, err = client.PubSubNumSub(ctx, "socket.io-request#/#").Result()
			if err == nil && got["socket.io-request#/#"] == int64(n) {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s adapter: subscribers %v (%v) after 20s, want %d", adapter, got, err, n)
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
