// Package nodeenv runs the Node.js interop fixture of e2e/testdata/node from
// the Go tests of the library (sio/client) and of e2e: the official socket.io server (server.js) and the scenarios of the
// official socket.io-client (client.js), both implementing CONTRACT.md.
//
// The fixture needs `node` on PATH and `npm ci` run in e2e/testdata/node.
// When either is missing the tests using it are skipped, except under CI=true
// where they fail.
package nodeenv

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gosio/socketio/internal/nodefixture"
)

const (
	// portDeadline bounds how long server.js may take to print its port.
	portDeadline = 20 * time.Second
	// stopGrace is how long server.js gets to exit after SIGTERM before it is killed.
	stopGrace = 5 * time.Second
	// clientDeadline bounds a client.js run; each scenario has its own 10 s
	// timeout inside client.js, this only guards against a hung process.
	clientDeadline = 60 * time.Second
)

// clientSlots bounds how many client.js processes run at once across the
// whole test binary: the contract's ping timeout (200 ms) does not survive a
// CPU starved by dozens of node processes.
var clientSlots = make(chan struct{}, max(2, runtime.NumCPU()))

// namespaceWide guards the scenarios that broadcast to, and assert exact
// deliveries on, the whole "/" and "/custom" namespaces: they run alone,
// the others run together (they use events or namespaces of their own).
var namespaceWide sync.RWMutex

// exclusive lists the scenarios that must not overlap any other.
var exclusive = map[string]bool{"namespaces": true, "broadcast": true, "rooms": true}

var scenarios = []string{
	"polling",
	"websocket",
	"upgrade",
	"namespaces",
	"auth",
	"middleware-reject",
	"binary",
	"server-ack",
	"ack-timeout",
	"rooms",
	"broadcast",
	"server-disconnect",
	"client-disconnect",
	"ping-timeout",
	"dynamic-namespace",
	"packet-middleware",
	"catch-all",
	"broadcast-ack",
	"utilities",
	"volatile",
	"recovery",
}

// Scenarios returns the names of the client.js scenarios, in a stable order.
func Scenarios() []string {
	return append([]string(nil), scenarios...)
}

// Dir returns the absolute path of e2e/testdata/node.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("nodeenv: runtime.Caller failed")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "e2e", "testdata", "node")
}

// Require skips the test when node or the fixture's node_modules is missing.
// With CI=true it fails the test instead.
func Require(t testing.TB) {
	t.Helper()
	nodefixture.Require(t)
}

// Server is a running server.js.
type Server struct {
	// URL is the server's base URL, such as "http://127.0.0.1:40123".
	URL string
	// Port is the port it listens on.
	Port int

	cmd    *exec.Cmd
	exited chan struct{}
	// Stop ends the server (SIGTERM, then SIGKILL after a grace period) and
	// waits for it; it is idempotent and also registered with t.Cleanup.
	Stop func()
}

// Kill kills the server at once (SIGKILL: its connections drop without any
// close packet) and waits for it to exit.
func (s *Server) Kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// StartServer starts server.js with the extra environment variables env
// (e.g. "SIO_RECOVERY=1", "PORT=1234"; PORT defaults to 0, a free port) and
// returns its base URL, such as "http://127.0.0.1:40123". Its stderr is
// forwarded to t.Log. stop kills the server and waits for it; it is
// idempotent and also registered with t.Cleanup.
func StartServer(t testing.TB, env ...string) (url string, stop func()) {
	t.Helper()
	s := Start(t, env...)
	return s.URL, s.Stop
}

// Start is StartServer returning the Server.
func Start(t testing.TB, env ...string) *Server {
	t.Helper()
	Require(t)
	portCh := make(chan int, 1)
	stdout := &lineWriter{fn: func(line string) {
		var msg struct {
			Port *int `json:"port"`
		}
		if json.Unmarshal([]byte(line), &msg) == nil && msg.Port != nil {
			select {
			case portCh <- *msg.Port:
			default:
			}
			return
		}
		t.Logf("server.js stdout: %s", line)
	}}
	stderr := &lineWriter{fn: func(line string) { t.Log(line) }}

	cmd := exec.Command("node", "server.js")
	cmd.Dir = Dir()
	// Later entries win: the defaults override the inherited environment and
	// env overrides the defaults.
	cmd.Env = append(append(os.Environ(), "PORT=0", "SIO_RECOVERY=0"), env...)
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	// server.js exits when its stdin is closed: keep a pipe open until stop.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("nodeenv: stdin pipe: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("nodeenv: start server.js: %v", err)
	}

	exited := make(chan struct{})
	srv := &Server{cmd: cmd, exited: exited}
	var waitErr error
	go func() {
		waitErr = cmd.Wait()
		stdout.flush()
		stderr.flush()
		close(exited)
	}()

	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = stdin.Close()
			if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
				_ = cmd.Process.Kill()
			}
			timer := time.NewTimer(stopGrace)
			defer timer.Stop()
			select {
			case <-exited:
			case <-timer.C:
				t.Logf("nodeenv: server.js did not exit %v after SIGTERM, killing it", stopGrace)
				_ = cmd.Process.Kill()
				<-exited
			}
		})
	}
	srv.Stop = stop
	t.Cleanup(stop)

	timer := time.NewTimer(portDeadline)
	defer timer.Stop()
	select {
	case port := <-portCh:
		srv.Port = port
		srv.URL = fmt.Sprintf("http://127.0.0.1:%d", port)
		return srv
	case <-exited:
		t.Fatalf("nodeenv: server.js exited before printing its port: %v", waitErr)
	case <-timer.C:
		stop()
		t.Fatalf("nodeenv: server.js did not print its port within %v", portDeadline)
	}
	panic("unreachable")
}

// RunClient runs one client.js scenario against the server at url. It
// forwards the client's stderr to t.Logf and returns nil when the scenario
// reported {"ok":true} and exited with status 0, else an error carrying the
// reported message and the output. At most max(2, runtime.NumCPU()) clients
// run at once in a test binary; callers may use t.Parallel freely.
func RunClient(t testing.TB, url, scenario string) error {
	t.Helper()
	return RunClientEnv(t, url, scenario)
}

// ExpectRecovery is the environment entry telling client.js that the server
// has connection state recovery: the recovery scenario then fails, instead
// of skipping, when the server sends no session pid.
const ExpectRecovery = "SIO_EXPECT_RECOVERY=1"

// RunClientEnv is RunClient with extra environment variables for client.js,
// such as ExpectRecovery.
func RunClientEnv(t testing.TB, url, scenario string, env ...string) error {
	t.Helper()
	Require(t)

	if exclusive[scenario] {
		namespaceWide.Lock()
		defer namespaceWide.Unlock()
	} else {
		namespaceWide.RLock()
		defer namespaceWide.RUnlock()
	}
	clientSlots <- struct{}{}
	defer func() { <-clientSlots }()

	ctx, cancel := context.WithTimeout(context.Background(), clientDeadline)
	defer cancel()

	var stdout bytes.Buffer
	tail := &tailBuffer{max: 30}
	stderr := &lineWriter{fn: func(line string) {
		t.Logf("%s", line)
		tail.add(line)
	}}
	cmd := exec.CommandContext(ctx, "node", "client.js", url, scenario)
	cmd.Dir = Dir()
	// The default overrides the inherited environment, env overrides the default.
	cmd.Env = append(append(os.Environ(), "SIO_EXPECT_RECOVERY=0"), env...)
	cmd.Stdout = &stdout
	cmd.Stderr = stderr
	cmd.WaitDelay = 5 * time.Second
	runErr := cmd.Run()
	stderr.flush()

	out := strings.TrimSpace(stdout.String())
	last := out
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		last = out[i+1:]
	}
	var res struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	parseErr := json.Unmarshal([]byte(last), &res)

	switch {
	case parseErr == nil && res.OK && runErr == nil:
		return nil
	case parseErr == nil && !res.OK:
		return fmt.Errorf("node client scenario %q failed: %s (exit: %v)\nstdout:\n%s\nstderr (tail):\n%s",
			scenario, res.Error, runErr, out, tail.String())
	case ctx.Err() != nil:
		return fmt.Errorf("node client scenario %q did not finish within %v (exit: %v)\nstdout:\n%s\nstderr (tail):\n%s",
			scenario, clientDeadline, runErr, out, tail.String())
	default:
		if runErr == nil {
			runErr = errors.New("no result line")
		}
		return fmt.Errorf("node client scenario %q: unexpected result (%v; exit: %v)\nstdout:\n%s\nstderr (tail):\n%s",
			scenario, parseErr, runErr, out, tail.String())
	}
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
			break
		}
		line := strings.TrimRight(string(w.buf[:i]), "\r")
		w.buf = w.buf[i+1:]
		w.fn(line)
	}
	return len(p), nil
}

// flush emits a trailing line without a newline, if any.
func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		line := string(w.buf)
		w.buf = nil
		w.fn(line)
	}
}

// tailBuffer keeps the last max lines added.
type tailBuffer struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (b *tailBuffer) add(line string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, line)
	if len(b.lines) > b.max {
		b.lines = b.lines[len(b.lines)-b.max:]
	}
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}
