//go:build !js

package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gosio/socketio/internal/conformance"
	"github.com/gosio/socketio/internal/nodeenv"
	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/stretchr/testify/require"
)

// The interop scenarios run against both implementations of the test app
// contract (e2e/testdata/node/CONTRACT.md): the official socket.io server
// (server.js, see node_test.go) and this project's server
// (conformance.New), so that the client is checked against the reference
// and the two servers are checked against each other.

const (
	kindNode = "node"
	kindGo   = "go"
)

var serverKinds = []string{kindNode, kindGo}

// forEachServer runs fn as a subtest per server kind.
func forEachServer(t *testing.T, fn func(t *testing.T, kind string)) {
	t.Helper()
	for _, kind := range serverKinds {
		t.Run(kind, func(t *testing.T) { fn(t, kind) })
	}
}

// testServer is a running test app of either kind; it is stopped at the end
// of the test.
type testServer struct {
	Kind     string
	URL      string
	Port     int
	recovery bool

	node *nodeenv.Server // Kind == kindNode
	gos  *goServer       // Kind == kindGo
}

// startServer starts a test app of kind on a free loopback port, with
// connection state recovery when recovery is true.
func startServer(t *testing.T, kind string, recovery bool) *testServer {
	t.Helper()
	s := &testServer{Kind: kind, recovery: recovery}
	s.start(t, 0)
	return s
}

func (s *testServer) start(t *testing.T, port int) {
	t.Helper()
	switch s.Kind {
	case kindNode:
		env := []string{fmt.Sprintf("PORT=%d", port)}
		if s.recovery {
			env = append(env, "SIO_RECOVERY=1")
		}
		s.node = nodeenv.Start(t, env...)
		s.Port = s.node.Port
	case kindGo:
		s.gos = startGoServer(t, fmt.Sprintf("127.0.0.1:%d", port), s.recovery)
		s.Port = s.gos.ln.Addr().(*net.TCPAddr).Port
	default:
		t.Fatalf("unknown server kind %q", s.Kind)
	}
	s.URL = fmt.Sprintf("http://127.0.0.1:%d", s.Port)
}

// Kill stops the server at once: the connections drop without any close
// or disconnect packet and nothing listens on the port any more.
func (s *testServer) Kill() {
	switch s.Kind {
	case kindNode:
		s.node.Kill()
	case kindGo:
		s.gos.Kill()
	}
}

// Restart starts a fresh server (no state kept) on the same port, after Kill.
func (s *testServer) Restart(t *testing.T) {
	t.Helper()
	s.start(t, s.Port)
}

// goServer serves conformance.New with the contract's interop options on
// a plain http.Server, so that it can be killed and restarted on the same
// port, and its connections can be dropped while it keeps running.
type goServer struct {
	App *conformance.App
	ln  net.Listener
	hs  *http.Server

	served   chan struct{}
	killOnce sync.Once

	mu    sync.Mutex
	down  bool // refuse every request with 503
	conns map[net.Conn]struct{}
}

func startGoServer(t *testing.T, addr string, recovery bool) *goServer {
	t.Helper()
	var ln net.Listener
	var err error
	// The port of a server just killed is free at once (SO_REUSEADDR);
	// retry briefly all the same.
	deadline := time.Now().Add(5 * time.Second)
	for {
		ln, err = net.Listen("tcp", addr)
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	g := &goServer{
		App:    conformance.New(testLogger(), conformance.TestOptions(recovery)),
		ln:     ln,
		served: make(chan struct{}),
		conns:  map[net.Conn]struct{}{},
	}
	g.hs = &http.Server{
		Handler:   g,
		ConnState: g.track,
		ErrorLog:  log.New(io.Discard, "", 0),
	}
	go func() {
		defer close(g.served)
		if err := g.hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("go server: %v", err)
		}
	}()
	t.Cleanup(g.Kill)
	return g
}

func (g *goServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	down := g.down
	g.mu.Unlock()
	if down {
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	g.App.Handler().ServeHTTP(w, r)
}

// track remembers every connection, hijacked ones (WebSockets) included.
func (g *goServer) track(c net.Conn, st http.ConnState) {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch st {
	case http.StateNew:
		g.conns[c] = struct{}{}
	case http.StateClosed:
		delete(g.conns, c)
	}
}

// SetDown makes the server answer 503 to every request (true) or serve
// again (false).
func (g *goServer) SetDown(down bool) {
	g.mu.Lock()
	g.down = down
	g.mu.Unlock()
}

// ResetConnections closes every TCP connection abruptly (no close packet,
// no WebSocket close frame), as a network failure would; the server keeps
// listening.
func (g *goServer) ResetConnections() int {
	g.mu.Lock()
	list := make([]net.Conn, 0, len(g.conns))
	for c := range g.conns {
		list = append(list, c)
	}
	clear(g.conns)
	g.mu.Unlock()
	for _, c := range list {
		_ = c.Close()
	}
	return len(list)
}

// CloseSessions closes the Engine.IO session of every socket of the
// namespaces given (engine.Socket.Close: the server ends the connection).
func (g *goServer) CloseSessions(nsps ...string) int {
	eng := g.App.IO.Engine()
	seen := map[string]bool{}
	for _, name := range nsps {
		nsp := g.App.IO.Of(name)
		for _, id := range nsp.Adapter().Sockets(nil) {
			s := nsp.Socket(id)
			if s == nil || seen[s.ConnID()] {
				continue
			}
			seen[s.ConnID()] = true
			if es := eng.Socket(s.ConnID()); es != nil {
				es.Close()
			}
		}
	}
	return len(seen)
}

// Kill stops listening, drops every connection and closes the app (its
// goroutines end), once.
func (g *goServer) Kill() {
	g.killOnce.Do(func() {
		_ = g.hs.Close()
		g.ResetConnections()
		g.App.Close()
		<-g.served
	})
}

// testLogger logs the Go server's debug messages to stderr when
// SIO_TEST_DEBUG=1 (nil otherwise: the server's default).
func testLogger() *slog.Logger {
	if os.Getenv("SIO_TEST_DEBUG") != "1" {
		return nil
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// transportModes are the transport configurations the scenarios run with.
var transportModes = []struct {
	name       string
	transports []string
	want       string // transport in use once settled
}{
	{"polling", []string{client.TransportPolling}, client.TransportPolling},
	{"websocket", []string{client.TransportWebSocket}, client.TransportWebSocket},
	{"upgrade", nil, client.TransportWebSocket},
}

const waitFor = 10 * time.Second

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fastReconnect are options reconnecting within tens of milliseconds.
func fastReconnect(tr client.Transport, transports []string) *client.Options {
	return &client.Options{
		Transport:            tr,
		Transports:           transports,
		ReconnectionDelay:    20 * time.Millisecond,
		ReconnectionDelayMax: 50 * time.Millisecond,
	}
}

// record returns a channel receiving the socket's events called name.
func record(s *client.Socket, name string) <-chan *sio.Event {
	ch := make(chan *sio.Event, 1000)
	s.On(name, func(e *sio.Event) { ch <- e })
	return ch
}

// values decodes args into untyped values.
func values(t *testing.T, args sio.Args) []any {
	t.Helper()
	vals, err := args.Values()
	require.NoError(t, err)
	return vals
}
