//go:build !js

package client_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosio/socketio/internal/nodefixture"
)

// The interop tests run the official socket.io server of
// e2e/testdata/node/server.js (see CONTRACT.md there). e2e/internal/nodeenv
// cannot be imported from here (internal to e2e), hence this small runner.

const nodeDir = "../../e2e/testdata/node"

// requireNode skips the test when node or the fixture's node_modules is
// missing (fails it under CI=true).
func requireNode(t *testing.T) {
	t.Helper()
	nodefixture.Require(t, "socket.io")
}

// nodeServer is a running server.js.
type nodeServer struct {
	URL  string
	Port int
	cmd  *exec.Cmd
	done chan struct{}
}

// startNode starts server.js with the extra environment env ("PORT=N",
// "SIO_RECOVERY=1") and returns it; it is killed at the end of the test.
func startNode(t *testing.T, env ...string) *nodeServer {
	t.Helper()
	requireNode(t)
	cmd := exec.Command("node", "server.js")
	cmd.Dir = nodeDir
	cmd.Env = append(append(os.Environ(), "PORT=0", "SIO_RECOVERY=0"), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	// server.js exits when its stdin closes: keep a pipe open.
	if _, err := cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	srv := &nodeServer{cmd: cmd, done: make(chan struct{})}
	var logMu sync.Mutex
	var logBuf strings.Builder
	logsDone := make(chan struct{})
	go func() {
		defer close(logsDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logMu.Lock()
			logBuf.WriteString(sc.Text() + "\n")
			logMu.Unlock()
		}
	}()
	portCh := make(chan int, 1)
	go func() {
		defer close(srv.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			var msg struct {
				Port int `json:"port"`
			}
			if json.Unmarshal(sc.Bytes(), &msg) == nil && msg.Port != 0 {
				portCh <- msg.Port
			}
		}
		<-logsDone
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		srv.Kill()
		if t.Failed() {
			t.Logf("server.js (port %d) stderr:\n%s", srv.Port, logBuf.String())
		}
	})
	deadline := time.After(15 * time.Second)
	for {
		select {
		case srv.Port = <-portCh:
			srv.URL = fmt.Sprintf("http://127.0.0.1:%d", srv.Port)
			return srv
		case <-srv.done:
			t.Fatal("server.js exited before listening")
		case <-deadline:
			t.Fatal("server.js did not start in time")
		}
	}
}

// Kill kills the server at once (SIGKILL: connections drop without any
// close packet) and waits for it to exit.
func (s *nodeServer) Kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}
