//go:build !js

package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/testutil"
)

// logSink collects the records of a JSON slog handler.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logSink) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// panics returns the records of recovered panics logged so far.
func (l *logSink) panics() []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == "sio: handler panicked" {
			out = append(out, rec)
		}
	}
	return out
}

// expectPanic waits for the log record of a panic of handler and checks it:
// Error level, the panic value, and a stack that shows where it panicked.
func (l *logSink) expectPanic(t *testing.T, handler string) map[string]any {
	t.Helper()
	var rec map[string]any
	testutil.Eventually(t, "the panic of the "+handler+" to be logged", func() bool {
		for _, r := range l.panics() {
			if r["handler"] == handler {
				rec = r
				return true
			}
		}
		return false
	})
	assert.Equal(t, "ERROR", rec["level"])
	assert.Equal(t, "boom", rec["panic"])
	stack, _ := rec["stack"].(string)
	assert.Contains(t, stack, "panic(", "the stack is the panicking goroutine's")
	assert.Contains(t, stack, "panic_test.go", "the stack shows where it panicked")
	return rec
}

// panicSetup has a server whose "/" and "/other" sockets all answer
// "sync", a client a that is connected to both and a client b connected
// to "/", the clients' sockets on the server, and the disconnect reasons of
// a's "/" socket.
type panicSetup struct {
	ts      *testServer
	log     *logSink
	a, b    *tclient
	sa      *Socket // a's socket of "/"
	reasons chan sio.Reason
}

func newPanicSetup(t *testing.T, tr string, opts *Options, onConn func(s *Socket)) *panicSetup {
	t.Helper()
	ps := &panicSetup{log: &logSink{}, reasons: make(chan sio.Reason, 4)}
	if opts == nil {
		opts = &Options{}
	}
	opts.Logger = ps.log.logger()
	ps.ts = newTestServer(t, opts)
	root := sockets(ps.ts.Of("/"))
	ps.ts.Of("/").OnConnection(onConn)
	sockets(ps.ts.Of("/other"))
	ps.a = dial(t, ps.ts, tr, nil)
	ps.a.connect("/", "")
	ps.sa = testutil.Recv(t, root)
	ps.sa.OnDisconnect(func(r sio.Reason) { ps.reasons <- r })
	ps.a.connect("/other", "")
	ps.b = dial(t, ps.ts, tr, nil)
	ps.b.connect("/", "")
	testutil.Recv(t, root)
	return ps
}

// expectOnlyItsSocket checks what follows a panic that disconnected a's
// "/" socket: a got the DISCONNECT packet, the socket's disconnect reason
// is "server namespace disconnect", a's other namespace (whose handlers run
// on the same queue) and the other client b still make round trips, and a
// may join "/" again.
func (ps *panicSetup) expectOnlyItsSocket(t *testing.T) {
	t.Helper()
	assert.Equal(t, "41", ps.a.nextText(), "a DISCONNECT for the panicking socket")
	assert.Equal(t, sio.ReasonServerNamespaceDisconnect, testutil.Recv(t, ps.reasons))
	assert.False(t, ps.sa.Connected())
	ps.a.syncNone("/other")
	ps.b.syncNone("/")
	ps.a.connect("/", "")
	ps.a.syncNone("/")
}

func TestPanicInEventPathDisconnectsOnlyItsSocket(t *testing.T) {
	cases := []struct {
		name    string
		handler string // as logged
		setup   func(s *Socket, emitErr chan<- error)
		// ackAsk: the client acknowledges the server's "ask" event first.
		ackAsk bool
	}{
		{name: "event handler", handler: "event handler", setup: func(s *Socket, _ chan<- error) {
			s.On("boom", func(e *sio.Event) { panic("boom") })
		}},
		{name: "catch-all handler", handler: "event handler", setup: func(s *Socket, _ chan<- error) {
			s.OnAny(func(e *sio.Event) {
				if e.Name == "boom" {
					panic("boom")
				}
			})
		}},
		{name: "packet middleware", handler: "event handler", setup: func(s *Socket, _ chan<- error) {
			s.Use(func(e *sio.Event) error {
				if e.Name == "boom" {
					panic("boom")
				}
				return nil
			})
		}},
		{name: "error handler", handler: "event handler", setup: func(s *Socket, _ chan<- error) {
			s.Use(func(e *sio.Event) error {
				if e.Name == "boom" {
					return errTest
				}
				return nil
			})
			s.OnError(func(error) { panic("boom") })
		}},
		{name: "acknowledgement callback", handler: "acknowledgement callback", ackAsk: true, setup: func(s *Socket, emitErr chan<- error) {
			s.On("boom", func(e *sio.Event) {
				emitErr <- s.EmitWithAckFunc("ask", func(sio.Args, error) { panic("boom") })
			})
		}},
		{name: "outgoing catch-all handler", handler: "outgoing catch-all handler", setup: func(s *Socket, emitErr chan<- error) {
			s.OnAnyOutgoing(func(e *sio.Event) {
				if e.Name == "out" {
					panic("boom")
				}
			})
			s.On("boom", func(e *sio.Event) { emitErr <- s.Emit("out") })
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forTransports(t, func(t *testing.T, tr string) {
				emitErr := make(chan error, 1)
				ps := newPanicSetup(t, tr, nil, func(s *Socket) { tc.setup(s, emitErr) })
				ps.a.emit("/", -1, "boom")
				switch tc.handler {
				case "acknowledgement callback":
					require.NoError(t, testutil.Recv(t, emitErr))
				case "outgoing catch-all handler":
					assert.ErrorIs(t, testutil.Recv(t, emitErr), sio.ErrDisconnected, "the emit whose outgoing handler panicked fails")
				}
				if tc.ackAsk {
					p, _ := ps.a.expectEvent("/", "ask")
					require.True(t, p.HasID)
					ps.a.ack("/", p.ID, "reply")
				}
				ps.log.expectPanic(t, tc.handler)
				ps.expectOnlyItsSocket(t)
			})
		})
	}
}

func TestPanicInConnectionHandler(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		ps := newPanicSetup(t, tr, nil, func(*Socket) {})
		reasons := make(chan sio.Reason, 1)
		ps.ts.Of("/boom").OnConnection(func(s *Socket) {
			s.OnDisconnect(func(r sio.Reason) { reasons <- r })
			panic("boom")
		})
		ps.a.connect("/boom", "")
		assert.Equal(t, "41/boom,", ps.a.nextText())
		assert.Equal(t, sio.ReasonServerNamespaceDisconnect, testutil.Recv(t, reasons))
		ps.log.expectPanic(t, "connection handler")
		ps.a.syncNone("/")
		ps.b.syncNone("/")
	})
}

func TestPanicInNamespaceMiddlewareRefusesTheConnection(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		ps := newPanicSetup(t, tr, nil, func(*Socket) {})
		ps.ts.Of("/mw").Use(func(*Socket) error { panic("boom") })
		ps.a.sendConnect("/mw", "")
		assert.Equal(t, `44/mw,{"message":"server error"}`, ps.a.nextText())
		ps.log.expectPanic(t, "namespace middleware")
		assert.Zero(t, ps.ts.Of("/mw").SocketsCount())
		ps.a.syncNone("/")
		ps.b.syncNone("/")
		// Refused, not stuck: the client may try again.
		ps.a.sendConnect("/mw", "")
		assert.Equal(t, `44/mw,{"message":"server error"}`, ps.a.nextText())
	})
}

func TestPanicInDynamicNamespaceMatch(t *testing.T) {
	ps := newPanicSetup(t, "websocket", nil, func(*Socket) {})
	ps.ts.OfFunc(func(name string, _ json.RawMessage) bool {
		if name == "/dyn-boom" {
			panic("boom")
		}
		return false
	})
	ps.a.sendConnect("/dyn-boom", "")
	assert.Equal(t, `44/dyn-boom,{"message":"Invalid namespace"}`, ps.a.nextText())
	ps.log.expectPanic(t, "dynamic namespace match")
	ps.a.syncNone("/")
	ps.b.syncNone("/")
}

func TestPanicInDisconnectHandlersLeavesCleanUpDone(t *testing.T) {
	forTransports(t, func(t *testing.T, tr string) {
		after := make(chan sio.Reason, 1)
		ps := newPanicSetup(t, tr, nil, func(s *Socket) {
			s.OnDisconnecting(func(sio.Reason) { panic("boom") })
			s.OnDisconnect(func(sio.Reason) { panic("boom") })
			s.OnDisconnect(func(r sio.Reason) { after <- r })
		})
		id := ps.sa.ID()
		ps.a.sendRaw("41")
		assert.Equal(t, sio.ReasonClientNamespaceDisconnect, testutil.Recv(t, after), "the next disconnect handler runs")
		ps.log.expectPanic(t, "disconnecting handler")
		ps.log.expectPanic(t, "disconnect handler")
		assert.NotContains(t, ps.ts.Of("/").Adapter().Rooms(), id, "the socket left its rooms")
		assert.Nil(t, ps.ts.Of("/").Socket(id), "the socket left the namespace")
		ps.a.syncNone("/other")
		ps.b.syncNone("/")
	})
}

func TestPanicInAdapterOnEvent(t *testing.T) {
	opts := &Options{Adapter: func(n *Namespace) Adapter {
		a := NewMemoryAdapter(n)
		a.OnEvent = func(e AdapterEvent) {
			if e.Room == "boom-room" && e.Kind == "join-room" {
				panic("boom")
			}
		}
		return a
	}}
	ps := newPanicSetup(t, "websocket", opts, func(s *Socket) {
		s.On("join", func(e *sio.Event) {
			s.Join("boom-room")
			_ = e.Ack(s.Rooms())
		})
	})
	ps.a.emit("/", 7, "join")
	args := ps.a.expectAck("/", 7)
	assert.Contains(t, string(args.Raw(0)), "boom-room", "the join is done, the handler goes on")
	ps.log.expectPanic(t, "adapter OnEvent")
	assert.True(t, ps.sa.Connected())
	ps.b.syncNone("/")
}

func TestPanicInServerSideEmitHandler(t *testing.T) {
	sink := &logSink{}
	ts := newTestServer(t, &Options{EngineOptions: EngineOptions{Logger: sink.logger()}})
	got := make(chan string, 1)
	n := ts.Of("/")
	n.OnServerSideEmit(func(*sio.Event) { panic("boom") })
	n.OnServerSideEmit(func(e *sio.Event) { got <- e.Name })
	n.DeliverServerSideEmit(&sio.Event{Name: "hello"})
	assert.Equal(t, "hello", testutil.Recv(t, got), "the next handler runs")
	sink.expectPanic(t, "server-side emit handler")
}

// TestPanicsDoNotStickTheQueueOrLeakWorkers has many events of one
// connection panic in a row, with other events between them: every event
// after a panic is still handled, in order, and the server's goroutines are
// back to their count before.
func TestPanicsDoNotStickTheQueueOrLeakWorkers(t *testing.T) {
	sink := &logSink{}
	ts := newTestServer(t, &Options{EngineOptions: EngineOptions{Logger: sink.logger()}})
	var (
		mu  sync.Mutex
		got []int
	)
	ts.Of("/").OnConnection(func(s *Socket) {
		s.On("boom", func(*sio.Event) { panic("boom") })
	})
	ts.Of("/other").OnConnection(func(s *Socket) {
		withSync(s)
		s.On("n", func(e *sio.Event) {
			var i int
			_ = e.Args.Decode(&i)
			mu.Lock()
			got = append(got, i)
			mu.Unlock()
		})
	})
	c := dial(t, ts, "websocket", nil)
	c.connect("/other", "")
	const rounds = 60
	var base int
	for i := range rounds {
		if i == 10 {
			c.syncNone("/other")
			base = runtime.NumGoroutine()
		}
		c.connect("/", "")
		c.emit("/", -1, "boom")
		c.emit("/other", -1, "n", i)
		require.Equal(t, "41", c.nextText())
	}
	c.syncNone("/other")
	mu.Lock()
	want := make([]int, rounds)
	for i := range want {
		want[i] = i
	}
	assert.Equal(t, want, got, "every event after a panic is handled, in order")
	mu.Unlock()
	assert.Len(t, sink.panics(), rounds)
	// A worker that ran a panicking handler goes back to the pool: 50 more
	// panics start no goroutine that stays (a few may still be ending).
	testutil.Eventually(t, "the goroutines to settle", func() bool { return runtime.NumGoroutine() <= base+5 })
}
