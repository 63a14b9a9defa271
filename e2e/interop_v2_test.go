package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gosio/socketio/internal/conformance"
	"github.com/gosio/socketio/internal/nodeenv"
	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/server"
)

// TestSocketIO2ClientAgainstGoServer runs the official socket.io 2.x client
// (socket.io-client 2.5.0, e2e/testdata/node/client-v2.js) against this
// project's server with AllowEIO3, over polling, WebSocket and polling then
// upgrade: the main namespace joined without a CONNECT of the client's, a
// namespace with its auth in the query, acks, binary both ways, middleware
// refusals as socket.io 2.x shows them, and a server-side disconnect.
func TestSocketIO2ClientAgainstGoServer(t *testing.T) {
	nodeenv.Require(t)
	opts := conformance.TestOptions(false)
	opts.AllowEIO3 = true
	srv := server.New(opts)
	welcome := func(s *server.Socket, extra map[string]any) {
		extra["nsp"] = s.Namespace().Name()
		_ = s.Emit("welcome", extra)
	}
	echo := func(s *server.Socket) {
		s.On("echo", func(e *sio.Event) { _ = e.Ack(e.Args.AsAny()...) })
	}
	srv.OnConnection(func(s *server.Socket) {
		echo(s)
		s.On("binary-me", func(*sio.Event) {
			_ = s.Emit("binary", []byte{9, 8, 7}, map[string]any{"n": []byte{6}})
		})
		s.On("ask", func(e *sio.Event) { _ = e.Ack("answer", 42) })
		s.On("disconnect-me", func(*sio.Event) { s.Disconnect() })
		welcome(s, map[string]any{"query": s.Handshake().Query.Get("q")})
	})
	admin := srv.Of("/admin")
	admin.Use(func(s *server.Socket) error {
		var auth struct{ Token string }
		if err := s.Handshake().DecodeAuth(&auth); err != nil || auth.Token != "abc" {
			return &server.ConnectError{Message: "unauthorized", Data: map[string]any{"code": 401}}
		}
		return nil
	})
	admin.OnConnection(func(s *server.Socket) {
		echo(s)
		var auth map[string]any
		_ = s.Handshake().DecodeAuth(&auth)
		welcome(s, auth)
	})
	srv.Of("/plain").Use(func(*server.Socket) error { return errors.New("not today") })

	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		_ = srv.Close()
		ts.Close()
	})

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "node", "client-v2.js", ts.URL)
	cmd.Dir = nodeenv.Dir()
	cmd.Env = os.Environ()
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	runErr := cmd.Run()
	for _, line := range strings.Split(strings.TrimSpace(stderr.String()), "\n") {
		t.Log(line)
	}
	out := strings.TrimSpace(stdout.String())
	if i := strings.LastIndexByte(out, '\n'); i >= 0 {
		out = out[i+1:]
	}
	var res struct {
		OK    bool   `json:"ok"`
		Error string `json:"error"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || !res.OK || runErr != nil {
		t.Fatalf("client-v2.js failed (exit: %v): %s%s", runErr, res.Error, map[bool]string{true: "", false: "\nstdout: " + stdout.String()}[err == nil])
	}
}
