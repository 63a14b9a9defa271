//go:build !js

// Package redistest starts a real redis-server for tests: on a free port of
// the loopback interface, in a temporary directory, without persistence.
// Tests skip when redis-server is not installed, except under CI=true,
// where they fail.
package redistest

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// startDeadline bounds how long redis-server may take to answer PING.
const startDeadline = 10 * time.Second

// Server is a running redis-server.
type Server struct {
	// Addr is host:port, for go-redis' Options.Addr.
	Addr string
	// Port is the TCP port.
	Port int

	bin string
	dir string

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

// binary returns the path of redis-server, skipping (or, under CI=true,
// failing) the test when there is none.
func binary(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis-server is required under CI: %v", err)
		}
		t.Skipf("redis-server not found: %v", err)
	}
	return bin
}

// Version returns the major version of the installed redis-server (the
// test is skipped, or fails under CI, when there is none).
func Version(t testing.TB) int {
	t.Helper()
	out, err := exec.Command(binary(t), "--version").Output()
	if err != nil {
		t.Fatalf("redis-server --version: %v", err)
	}
	m := regexp.MustCompile(`v=(\d+)\.`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("redis-server --version: unexpected output %q", out)
	}
	v, _ := strconv.Atoi(string(m[1]))
	return v
}

// Start starts a redis-server on a free port and stops it when the test
// ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{bin: binary(t), dir: t.TempDir()}
	var err error
	for range 5 { // a free port may be taken between probing and binding
		s.Port, err = freePort()
		if err != nil {
			continue
		}
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(s.Port))
		if err = s.start(); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("redistest: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// URL returns the redis:// URL of the server.
func (s *Server) URL() string { return "redis://" + s.Addr }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) start() error {
	var logs bytes.Buffer
	cmd := exec.Command(s.bin, "--port", strconv.Itoa(s.Port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", s.dir)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	deadline := time.Now().Add(startDeadline)
	for {
		if ping(s.Addr) {
			s.mu.Lock()
			s.cmd, s.done = cmd, done
			s.mu.Unlock()
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("redis-server exited: %s", strings.TrimSpace(logs.String()))
		case <-time.After(20 * time.Millisecond): // polling for readiness
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-done
			return fmt.Errorf("redis-server did not answer PING within %v: %s", startDeadline, logs.String())
		}
	}
}

// ping reports whether a Redis server at addr answers PING.
func ping(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// Stop kills the server and waits for it to exit. It is idempotent.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	<-done
}

// Restart stops the server and starts a new one on the same port (with
// an empty dataset: nothing is persisted).
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.Stop()
	var err error
	for range 50 { // the port may linger a little after the kill
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(50 * time.Millisecond) // waiting for the port to be free again
	}
	t.Fatalf("redistest: restart: %v", err)
}
