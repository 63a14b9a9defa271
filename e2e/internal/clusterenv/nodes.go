// Package clusterenv runs the parts of a cluster test: server nodes as
// processes (cmd/server -mode cluster, or the Node.js reference
// e2e/testdata/node/cluster-server.js), and clients of both kinds (the
// official JS client driven through cluster-clients.js, and the Go client
// in the test process) whose received events are logged for the checks.
//
// Both node kinds implement the cluster contract of
// e2e/testdata/node/CONTRACT.md, so a test drives them the same way.
package clusterenv

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gosio/socketio/internal/nodeenv"
)

// Node kinds.
const (
	// Go is a node running cmd/server -mode cluster.
	Go = "go"
	// Node is a node running the Node.js reference, cluster-server.js.
	Node = "node"
)

const (
	// listenDeadline bounds how long a node may take to print its address.
	listenDeadline = 30 * time.Second
	// stopGrace is how long a node gets to exit after SIGTERM before it is killed.
	stopGrace = 5 * time.Second
)

// NodeConfig describes a node to start.
type NodeConfig struct {
	// Kind is Go or Node.
	Kind string
	// Name is the node's name (what it says in hello and ping replies).
	Name string
	// Redis is the Redis URL; empty runs the node alone, on the in-memory adapter.
	Redis string
	// Adapter is "redis" (classic, the default), "sharded" or "streams".
	Adapter string
	// Recovery turns connection state recovery on (-recovery).
	Recovery bool
	// Addr is the listen address; empty means 127.0.0.1:0.
	Addr string
	// Mode is the -mode of a Go node: "cluster" when empty; other modes
	// (demo, …) take Args too.
	Mode string
	// Args are more arguments of a Go node (e.g. "-web", dir).
	Args []string
}

// Proc is a running node.
type Proc struct {
	NodeConfig
	// URL is the node's base URL, http://127.0.0.1:PORT.
	URL string

	t      testing.TB
	cmd    *exec.Cmd
	stdin  interface{ Close() error }
	exited chan struct{}
	once   sync.Once
}

var listening = regexp.MustCompile(`^listening on (http://[^/\s]+)/?`)

// StartNode starts a node and waits until it listens. It is stopped when
// the test ends. A Go node needs the binary of cmd/server (BuildServer).
func StartNode(t testing.TB, goBinary string, cfg NodeConfig) *Proc {
	t.Helper()
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Adapter == "" {
		cfg.Adapter = "redis"
	}
	args := []string{"-node", cfg.Name, "-addr", cfg.Addr, "-adapter", cfg.Adapter}
	if cfg.Redis != "" {
		args = append(args, "-redis", cfg.Redis)
	}
	if cfg.Recovery {
		args = append(args, "-recovery")
	}
	var cmd *exec.Cmd
	switch cfg.Kind {
	case Go:
		if goBinary == "" {
			t.Fatal("clusterenv: a Go node needs the cmd/server binary")
		}
		mode := cfg.Mode
		if mode == "" {
			mode = "cluster"
		}
		cmd = exec.Command(goBinary, append(append([]string{"-mode", mode}, args...), cfg.Args...)...)
	case Node:
		nodeenv.Require(t)
		cmd = exec.Command("node", append([]string{"cluster-server.js"}, args...)...)
		cmd.Dir = nodeenv.Dir()
	default:
		t.Fatalf("clusterenv: unknown node kind %q", cfg.Kind)
	}
	urlc := make(chan string, 1)
	prefix := fmt.Sprintf("%s node %s: ", cfg.Kind, cfg.Name)
	stdout := &lineWriter{fn: func(line string) {
		if m := listening.FindStringSubmatch(line); m != nil {
			select {
			case urlc <- m[1]:
			default:
			}
		}
		t.Log(prefix + line)
	}}
	stderr := &lineWriter{fn: func(line string) { t.Log(prefix + line) }}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// cluster-server.js exits when its stdin closes, so that it does not
	// outlive a test binary that was killed.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("clusterenv: starting %s: %v", prefix, err)
	}
	p := &Proc{NodeConfig: cfg, t: t, cmd: cmd, stdin: stdin, exited: make(chan struct{})}
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		stdout.flush()
		stderr.flush()
		close(p.exited)
	}()
	t.Cleanup(p.Stop)
	timer := time.NewTimer(listenDeadline)
	defer timer.Stop()
	select {
	case p.URL = <-urlc:
		return p
	case <-p.exited:
		t.Fatalf("clusterenv: %sexited before listening: %v", prefix, waitErr)
	case <-timer.C:
		p.Kill()
		t.Fatalf("clusterenv: %sdid not listen within %v", prefix, listenDeadline)
	}
	return nil
}

// Stop stops the node gracefully (SIGTERM, SIGKILL after a grace period)
// and waits for it. It is idempotent, and a no-op after Kill.
func (p *Proc) Stop() {
	p.once.Do(func() {
		_ = p.stdin.Close()
		// A frozen process does not handle SIGTERM.
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
		if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			_ = p.cmd.Process.Kill()
		}
		timer := time.NewTimer(stopGrace)
		defer timer.Stop()
		select {
		case <-p.exited:
		case <-timer.C:
			p.t.Logf("clusterenv: node %s did not exit %v after SIGTERM, killing it", p.Name, stopGrace)
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
	})
}

// Kill kills the node at once (SIGKILL), as a crash would, and waits for it.
func (p *Proc) Kill() {
	p.once.Do(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		_ = p.stdin.Close()
	})
}

// Freeze stops the node's process (SIGSTOP) without closing its
// connections: a node that hangs. Its Redis subscriptions stay, so the
// others still count it and wait for its replies.
func (p *Proc) Freeze() {
	if err := p.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		p.t.Fatalf("clusterenv: freezing node %s: %v", p.Name, err)
	}
}

// PID returns the node's process id.
func (p *Proc) PID() int { return p.cmd.Process.Pid }

// Exited reports whether the node's process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.exited:
		return true
	default:
		return false
	}
}

// BuildServer builds cmd/server into a temporary folder of the test and
// returns the binary's path. The binary has the race detector when the
// test binary has it.
func BuildServer(t testing.TB) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Fatalf("clusterenv: the go command is needed to build cmd/server: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "server")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "github.com/gosio/socketio/cmd/server")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = nodeenv.Dir() // inside the module
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("clusterenv: go %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	return bin
}

// lineWriter calls fn with each complete line written to it.
type lineWriter struct {
	mu  sync.Mutex
	buf []byte
	fn  func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := strings.TrimRight(string(w.buf[:i]), "\r")
		w.buf = w.buf[i+1:]
		w.fn(line)
	}
}

// flush passes on a last line without a newline, if any.
func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.fn(string(w.buf))
		w.buf = nil
	}
}
