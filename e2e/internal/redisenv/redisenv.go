// Package redisenv runs a real redis-server for a test: on a free port of
// 127.0.0.1, without persistence, in a temporary folder, stopped when the
// test ends. A test can stop and start it again on the same port to check
// what survives a Redis restart.
//
// When redis-server is not installed the tests using it are skipped,
// except under CI=true where they fail.
package redisenv

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// readyDeadline bounds how long redis-server may take to answer PING.
	readyDeadline = 10 * time.Second
	// stopGrace is how long it gets to exit after SIGTERM before it is killed.
	stopGrace = 5 * time.Second
)

// Server is a redis-server process of a test.
type Server struct {
	t    testing.TB
	dir  string
	port int

	mu   sync.Mutex
	proc *process // nil while stopped
}

// process is one run of redis-server.
type process struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // of Wait, once exited is closed
}

// Require skips the test when redis-server is not on PATH, or fails it
// under CI=true.
func Require(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("redis-server not found on PATH (.ci/run installs it): %v", err)
		}
		t.Skipf("redis-server not found on PATH: %v (apt-get install redis-server)", err)
	}
	return path
}

// Start starts redis-server on a free port and stops it when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	Require(t)
	s := &Server{t: t, dir: t.TempDir()}
	t.Cleanup(s.Stop)
	var err error
	// The port is free when chosen, but another process may take it before
	// redis-server binds it: try a few.
	for range 5 {
		s.port, err = freePort()
		if err != nil {
			t.Fatalf("redisenv: %v", err)
		}
		if err = s.start(); err == nil {
			return s
		}
		t.Logf("redisenv: %v; trying another port", err)
	}
	t.Fatalf("redisenv: %v", err)
	return nil
}

// URL returns the server's URL, redis://127.0.0.1:PORT.
func (s *Server) URL() string { return "redis://" + s.Addr() }

// Addr returns the server's address, 127.0.0.1:PORT.
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Stop stops the server (SIGTERM, then SIGKILL after a grace period) and
// waits for it. It does nothing when the server is stopped.
func (s *Server) Stop() {
	s.mu.Lock()
	p := s.proc
	s.proc = nil
	s.mu.Unlock()
	if p == nil {
		return
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		_ = p.cmd.Process.Kill()
	}
	timer := time.NewTimer(stopGrace)
	defer timer.Stop()
	select {
	case <-p.exited:
	case <-timer.C:
		s.t.Logf("redisenv: redis-server did not exit %v after SIGTERM, killing it", stopGrace)
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// Restart stops the server and starts it again on the same port, empty.
// It fails the test when the port cannot be bound again in time.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	deadline := time.Now().Add(readyDeadline)
	for {
		err := s.start()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redisenv: restarting on port %d: %v", s.port, err)
		}
		time.Sleep(100 * time.Millisecond) // the port is being released
	}
}

// Do sends one command (its arguments as strings) and returns the raw
// RESP reply, e.g. "+PONG\r\n" or ":2\r\n", for checks of the server state.
func (s *Server) Do(args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", s.Addr(), time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write(b.Bytes()); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	return line, nil
}

// start runs redis-server on s.port and waits until it answers PING.
func (s *Server) start() error {
	cmd := exec.Command("redis-server",
		"--port", strconv.Itoa(s.port),
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", s.dir,
		"--loglevel", "warning",
	)
	out := &lineLog{t: s.t}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting redis-server: %w", err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()
	deadline := time.Now().Add(readyDeadline)
	for {
		reply, err := s.Do("PING")
		if err == nil && strings.HasPrefix(reply, "+PONG") {
			s.mu.Lock()
			s.proc = p
			s.mu.Unlock()
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("redis-server on port %d exited: %v (%s)", s.port, p.err, out.tail())
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-p.exited
			return fmt.Errorf("redis-server on port %d did not answer PING within %v", s.port, readyDeadline)
		}
		time.Sleep(20 * time.Millisecond) // polling for readiness
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		return 0, errors.New("not a TCP address")
	}
	return addr.Port, nil
}

// lineLog forwards redis-server's output to the test log, line by line,
// and keeps the last lines for error messages.
type lineLog struct {
	t     testing.TB
	mu    sync.Mutex
	buf   []byte
	lines []string
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		line := strings.TrimRight(string(l.buf[:i]), "\r")
		l.buf = l.buf[i+1:]
		l.t.Logf("redis-server: %s", line)
		l.lines = append(l.lines, line)
		if len(l.lines) > 10 {
			l.lines = l.lines[1:]
		}
	}
}

func (l *lineLog) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, " | ")
}
