//go:build !js

package client_test

import (
	"context"
	"errors"
	neturl "net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"encoding/json"
	"fmt"
	"sync/atomic"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/internal/testutil"
	"github.com/gosio/socketio/transport/native"
)

// privSeq numbers the /priv-N namespaces of the tests (CONTRACT.md: a
// namespace of one's own, which other scenarios' broadcasts do not reach).
var privSeq atomic.Int64

func privNsp() string { return fmt.Sprintf("/priv-%d", privSeq.Add(1)) }

// blackhole wraps a Transport so that a test can make the connections open
// at some moment silent, as a network path that stops delivering anything
// would (no error, no close): their incoming messages are dropped, their
// writes are swallowed, their requests hang until cancelled. New
// connections (handshakes) can be held until the test releases them.
type blackhole struct {
	inner client.Transport

	mu      sync.Mutex
	seen    map[string]bool // polling sessions used so far
	silent  map[string]bool // silenced polling sessions
	sockets []*bhSocket
	held    bool
	release chan struct{}
}

func newBlackhole(inner client.Transport) *blackhole {
	return &blackhole{inner: inner, seen: map[string]bool{}, silent: map[string]bool{}, release: make(chan struct{})}
}

// silence makes every connection open so far silent and holds the new ones.
func (b *blackhole) silence() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for sid := range b.seen {
		b.silent[sid] = true
	}
	for _, ws := range b.sockets {
		ws.silent.Store(true)
	}
	b.held = true
}

// resume lets new connections through again.
func (b *blackhole) resume() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.held {
		b.held = false
		close(b.release)
		b.release = make(chan struct{})
	}
}

// gate waits while new connections are held.
func (b *blackhole) gate(ctx context.Context) error {
	b.mu.Lock()
	held, release := b.held, b.release
	b.mu.Unlock()
	if !held {
		return nil
	}
	select {
	case <-release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func sidOf(rawURL string) string {
	u, err := neturl.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Query().Get("sid")
}

func (b *blackhole) isSilent(sid string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.silent[sid]
}

func (b *blackhole) Do(ctx context.Context, req *client.Request) ([]byte, error) {
	sid := sidOf(req.URL)
	if sid == "" {
		if err := b.gate(ctx); err != nil {
			return nil, err
		}
	} else {
		b.mu.Lock()
		b.seen[sid] = true
		b.mu.Unlock()
	}
	if b.isSilent(sid) {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	body, err := b.inner.Do(ctx, req)
	if sid != "" && b.isSilent(sid) {
		// Silenced while in flight: the answer is lost.
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return body, err
}

func (b *blackhole) DialWebSocket(ctx context.Context, url string, h map[string][]string) (client.WebSocket, error) {
	if sidOf(url) == "" {
		if err := b.gate(ctx); err != nil {
			return nil, err
		}
	}
	ws, err := b.inner.DialWebSocket(ctx, url, h)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithCancel(context.Background())
	w := &bhSocket{inner: ws, ctx: pctx, cancel: cancel, msgs: make(chan bhMessage), closed: make(chan struct{})}
	go w.pump()
	b.mu.Lock()
	b.sockets = append(b.sockets, w)
	b.mu.Unlock()
	return w, nil
}

// bhSocket reads its WebSocket on a goroutine of its own, so that once
// silent it can keep the connection open (a silent path carries no close
// frame either) until the server gives up on it.
type bhSocket struct {
	inner     client.WebSocket
	silent    atomic.Bool
	ctx       context.Context
	cancel    context.CancelFunc
	msgs      chan bhMessage
	err       error // once msgs is closed
	closeOnce sync.Once
	closed    chan struct{}
}

type bhMessage struct {
	binary bool
	data   []byte
}

func (w *bhSocket) pump() {
	defer close(w.msgs)
	for {
		binary, data, err := w.inner.Read(w.ctx)
		if err != nil {
			w.err = err
			if w.silent.Load() {
				// The server dropped the silent connection: release it.
				_ = w.inner.Close()
			}
			return
		}
		if w.silent.Load() {
			continue
		}
		select {
		case w.msgs <- bhMessage{binary, data}:
		case <-w.ctx.Done():
			w.err = w.ctx.Err()
			return
		}
	}
}

var errBHClosed = errors.New("blackhole: closed")

func (w *bhSocket) Read(ctx context.Context) (bool, []byte, error) {
	select {
	case m, ok := <-w.msgs:
		if ok {
			return m.binary, m.data, nil
		}
		if w.silent.Load() {
			// The peer gave up: a silent path does not tell.
			select {
			case <-w.closed:
				return false, nil, errBHClosed
			case <-ctx.Done():
				return false, nil, ctx.Err()
			}
		}
		return false, nil, w.err
	case <-w.closed:
		return false, nil, errBHClosed
	case <-ctx.Done():
		return false, nil, ctx.Err()
	}
}

func (w *bhSocket) Write(ctx context.Context, binary bool, data []byte) error {
	if w.silent.Load() {
		return nil
	}
	return w.inner.Write(ctx, binary, data)
}

func (w *bhSocket) Close() error {
	w.closeOnce.Do(func() {
		close(w.closed)
		if w.silent.Load() {
			// Nothing reaches the server: it notices the missing pongs
			// and drops the connection, which ends the pump; bounded all
			// the same.
			time.AfterFunc(5*time.Second, func() {
				w.cancel()
				_ = w.inner.Close()
			})
			return
		}
		w.cancel()
		_ = w.inner.Close()
	})
	return nil
}

// lastDisconnect polls the server's last-disconnects (through observer)
// until it lists the socket id, and returns the reason the server saw.
func lastDisconnect(t *testing.T, ctx context.Context, observer *client.Socket, id string) sio.Reason {
	t.Helper()
	var reason sio.Reason
	require.Eventually(t, func() bool {
		args, err := observer.EmitWithAck(ctx, "last-disconnects")
		if err != nil {
			return false
		}
		var list []struct {
			ID     string     `json:"id"`
			Reason sio.Reason `json:"reason"`
		}
		if json.Unmarshal(args.Raw(0), &list) != nil {
			return false
		}
		for _, d := range list {
			if d.ID == id {
				reason = d.Reason
				return true
			}
		}
		return false
	}, waitFor, 20*time.Millisecond)
	return reason
}

// firstArg decodes the first argument of an event (recovery appends an
// offset after the event's own arguments).
func firstArg[T any](t *testing.T, e *sio.Event) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(e.Args.Raw(0), &v))
	return v
}

// TestInteropPingTimeout makes the connection silent (no close, no error):
// the client notices the missing pings after pingInterval + pingTimeout
// ("ping timeout"), the server notices the missing pongs ("ping timeout"
// in its last-disconnects), and once the network is back the client
// reconnects by itself and recovers its session (the server has recovery
// on), with the events sent to it meanwhile.
func TestInteropPingTimeout(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		srv := startServer(t, kind, true)
		for _, mode := range transportModes {
			t.Run(mode.name, func(t *testing.T) {
				t.Parallel() // each in a namespace of its own; 3 s each
				ctx := testCtx(t)
				nsp := privNsp()
				bh := newBlackhole(native.New(nil))
				a, err := client.New(srv.URL+nsp, fastReconnect(bh, mode.transports))
				require.NoError(t, err)
				defer a.Disconnect()
				connects := make(chan bool, 10)
				a.OnConnect(func() { connects <- a.Recovered() })
				disc := make(chan sio.Reason, 10)
				a.OnDisconnect(func(r sio.Reason) { disc <- r })
				closes := make(chan sio.Reason, 10)
				a.Manager().OnClose(func(r sio.Reason) { closes <- r })
				pings := make(chan struct{}, 100)
				a.Manager().OnPing(func() { pings <- struct{}{} })
				missed := record(a, "missed")
				require.NoError(t, a.Connect(ctx))
				assert.False(t, testutil.Recv(t, connects))
				id := a.ID()
				require.Eventually(t, func() bool { return a.Manager().TransportName() == mode.want }, waitFor, 5*time.Millisecond)
				_, err = a.EmitWithAck(ctx, "join", "r")
				require.NoError(t, err)
				// The server's heartbeat reaches the client.
				testutil.Recv(t, pings)

				b, err := client.Dial(ctx, srv.URL+nsp, &client.Options{Transport: native.New(nil)})
				require.NoError(t, err)
				defer b.Disconnect()

				// Silence right after a ping: the client's deadline is
				// pingInterval + pingTimeout (2 s) after it.
				for len(pings) > 0 {
					<-pings
				}
				testutil.Recv(t, pings)
				start := time.Now()
				bh.silence()
				assert.Equal(t, sio.ReasonPingTimeout, testutil.Recv(t, disc))
				elapsed := time.Since(start)
				assert.Equal(t, sio.ReasonPingTimeout, testutil.Recv(t, closes))
				assert.GreaterOrEqual(t, elapsed, 1500*time.Millisecond)
				assert.Less(t, elapsed, 5*time.Second)
				assert.False(t, a.Connected())
				assert.True(t, a.Active(), "a ping timeout reconnects")

				assert.Equal(t, sio.ReasonPingTimeout, lastDisconnect(t, ctx, b, id),
					"the server saw the missing pongs")
				_, err = b.EmitWithAck(ctx, "emit-to", map[string]any{"rooms": []string{"r"}, "event": "missed", "args": []any{1}})
				require.NoError(t, err)
				_, err = b.EmitWithAck(ctx, "emit-to", map[string]any{"rooms": []string{"r"}, "event": "missed", "args": []any{2}})
				require.NoError(t, err)

				bh.resume()
				assert.True(t, testutil.Recv(t, connects), "recovered after the ping timeout")
				assert.Equal(t, id, a.ID())
				assert.Equal(t, 1, firstArg[int](t, testutil.Recv(t, missed)))
				assert.Equal(t, 2, firstArg[int](t, testutil.Recv(t, missed)))
				args, err := a.EmitWithAck(ctx, "echo", "alive")
				require.NoError(t, err)
				assert.Equal(t, "alive", firstArg[string](t, &sio.Event{Args: args}))
				assert.Empty(t, missed)
			})
		}
	})
}

// TestInteropGoServerDrops has this project's server end the connections
// while it keeps running, either by closing the Engine.IO sessions
// (engine.Socket.Close) or by resetting the TCP connections as a network
// failure would, and refusing new connections (503) for a while. The client
// reconnects by itself, recovers its session (recovery is on), and the
// emits made while it was offline arrive once, all, in order (the volatile
// ones are dropped). The Node server cannot drop a connection without
// exiting: TestInteropReconnect covers it with a restart.
func TestInteropGoServerDrops(t *testing.T) {
	for _, how := range []string{"close-sessions", "reset-connections"} {
		t.Run(how, func(t *testing.T) {
			srv := startServer(t, kindGo, true)
			for _, mode := range transportModes {
				t.Run(mode.name, func(t *testing.T) {
					ctx := testCtx(t)
					nsp := privNsp()
					opts := fastReconnect(native.New(nil), mode.transports)
					m, err := client.NewManager(srv.URL, opts)
					require.NoError(t, err)
					defer m.Close()
					a := m.Socket(nsp, nil)
					connects := make(chan bool, 10)
					a.OnConnect(func() { connects <- a.Recovered() })
					disc := make(chan sio.Reason, 10)
					a.OnDisconnect(func(r sio.Reason) { disc <- r })
					back := record(a, "message-back")
					missed := record(a, "missed")
					require.NoError(t, a.Connect(ctx))
					assert.False(t, testutil.Recv(t, connects))
					id := a.ID()
					_, err = a.EmitWithAck(ctx, "join", "r")
					require.NoError(t, err)
					require.Eventually(t, func() bool { return m.TransportName() == mode.want }, waitFor, 5*time.Millisecond)

					srv.gos.SetDown(true)
					switch how {
					case "close-sessions":
						assert.Equal(t, 1, srv.gos.CloseSessions(nsp))
					case "reset-connections":
						assert.Positive(t, srv.gos.ResetConnections())
					}
					assert.Contains(t, []sio.Reason{sio.ReasonTransportClose, sio.ReasonTransportError}, testutil.Recv(t, disc))
					assert.True(t, a.Active())

					const n = 30
					for i := range n {
						require.NoError(t, a.Emit("message", i))
						require.NoError(t, a.Volatile().Emit("message", "volatile"))
					}
					acked := make(chan sio.Args, 1)
					require.NoError(t, a.EmitWithAckFunc("echo", func(args sio.Args, err error) {
						assert.NoError(t, err)
						acked <- args
					}, "buffered ack"))

					// The server saw the loss (the socket left the namespace)
					// before it comes back, so that the session can be
					// recovered; a broadcast meanwhile is kept for it.
					io := srv.gos.App.IO
					require.Eventually(t, func() bool { return io.Of(nsp).Socket(id) == nil }, waitFor, 5*time.Millisecond)
					require.NoError(t, io.Of(nsp).To("r").Emit("missed", "while away"))
					srv.gos.SetDown(false)

					assert.True(t, testutil.Recv(t, connects), "recovered")
					assert.Equal(t, id, a.ID())
					assert.Equal(t, "while away", firstArg[string](t, testutil.Recv(t, missed)))
					assert.Equal(t, []any{"buffered ack"}, values(t, testutil.Recv(t, acked)))
					for i := range n {
						require.Equal(t, i, firstArg[int](t, testutil.Recv(t, back)))
					}
					require.NoError(t, a.Emit("message", "end"))
					assert.Equal(t, "end", firstArg[string](t, testutil.Recv(t, back)), "no volatile emit, no duplicate")
					require.Eventually(t, func() bool { return m.TransportName() == mode.want }, waitFor, 5*time.Millisecond)
					assert.Empty(t, missed)
				})
			}
		})
	}
}
