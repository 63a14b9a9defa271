//go:build !js

package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/internal/testutil"
	"github.com/gosio/socketio/transport/native"
)

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

func TestInteropEcho(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		url := startServer(t, kind, false).URL
		for _, mode := range transportModes {
			t.Run(mode.name, func(t *testing.T) {
				ctx := testCtx(t)
				s, err := client.Dial(ctx, url, &client.Options{Transport: native.New(nil), Transports: mode.transports})
				require.NoError(t, err)
				defer s.Disconnect()
				assert.True(t, s.Connected())
				assert.True(t, s.Active())
				assert.NotEmpty(t, s.ID())
				assert.False(t, s.Recovered())

				args, err := s.EmitWithAck(ctx, "echo", "hello", 42, map[string]any{"a": true}, nil)
				require.NoError(t, err)
				assert.Equal(t, []any{"hello", float64(42), map[string]any{"a": true}, nil}, values(t, args))

				require.Eventually(t, func() bool { return s.Manager().TransportName() == mode.want },
					waitFor, 5*time.Millisecond)
				args, err = s.EmitWithAck(ctx, "echo", "after settling")
				require.NoError(t, err)
				assert.Equal(t, []any{"after settling"}, values(t, args))
			})
		}
	})
}

// TestInteropUpgradeKeepsOrder emits and receives many events while the
// connection upgrades from polling to WebSocket: none may be lost, duplicated
// or reordered.
func TestInteropUpgradeKeepsOrder(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		url := startServer(t, kind, false).URL
		ctx := testCtx(t)
		s, err := client.New(url, &client.Options{Transport: native.New(nil)})
		require.NoError(t, err)
		back := record(s, "message-back")
		connected := make(chan struct{})
		s.OnConnect(func() { close(connected) })
		// Emits before the connection (buffered), during the handshake and
		// while the upgrade takes place.
		const n = 600
		s.Open()
		defer s.Disconnect()
		for i := range n {
			require.NoError(t, s.Emit("message", i))
			if i == n/2 {
				testutil.Recv(t, connected)
			}
		}
		for i := range n {
			var got int
			require.NoError(t, testutil.Recv(t, back).Args.Decode(&got))
			require.Equal(t, i, got)
		}
		// The messages may all have gone by polling before the upgrade
		// completes; it completes all the same.
		require.Eventually(t, func() bool { return s.Manager().TransportName() == client.TransportWebSocket },
			10*time.Second, 5*time.Millisecond, "the upgrade completes")
		args, err := s.EmitWithAck(ctx, "echo", "done")
		require.NoError(t, err)
		assert.Equal(t, []any{"done"}, values(t, args))
		select {
		case e := <-back:
			t.Fatalf("unexpected extra message-back %s", e.Args.Raw(0))
		default:
		}
	})
}

func TestInteropBinary(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		url := startServer(t, kind, false).URL
		for _, mode := range transportModes {
			t.Run(mode.name, func(t *testing.T) {
				ctx := testCtx(t)
				s, err := client.New(url, &client.Options{Transport: native.New(nil), Transports: mode.transports})
				require.NoError(t, err)
				bin := record(s, "binary")
				require.NoError(t, s.Connect(ctx))
				defer s.Disconnect()

				// Client to server and back through an acknowledgement.
				payload := []byte{0, 1, 2, 0xff}
				args, err := s.EmitWithAck(ctx, "echo", payload, map[string]any{"nested": []byte("x"), "n": 1})
				require.NoError(t, err)
				var b []byte
				var obj struct {
					Nested []byte `json:"nested"`
					N      int    `json:"n"`
				}
				require.NoError(t, args.Decode(&b, &obj))
				assert.Equal(t, payload, b)
				assert.Equal(t, []byte("x"), obj.Nested)
				assert.Equal(t, 1, obj.N)

				// Server to client as an event.
				_, err = s.EmitWithAck(ctx, "binary-me")
				require.NoError(t, err)
				ev := testutil.Recv(t, bin)
				assert.Equal(t, []any{[]byte{1, 2, 3}, map[string]any{"nested": []byte{4}}}, values(t, ev.Args))

				// A received binary argument sent back as is stays binary.
				args, err = s.EmitWithAck(ctx, "echo", ev.Args.AsAny()...)
				require.NoError(t, err)
				assert.Equal(t, []any{[]byte{1, 2, 3}, map[string]any{"nested": []byte{4}}}, values(t, args))
			})
		}
	})
}

func TestInteropServerAcks(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		url := startServer(t, kind, false).URL
		for _, mode := range transportModes {
			t.Run(mode.name, func(t *testing.T) {
				ctx := testCtx(t)
				s, err := client.Dial(ctx, url, &client.Options{Transport: native.New(nil), Transports: mode.transports})
				require.NoError(t, err)
				defer s.Disconnect()
				s.On("question", func(e *sio.Event) {
					var q string
					assert.NoError(t, e.Args.Decode(&q))
					assert.NoError(t, e.Ack("answer to "+q, []byte{9}))
					assert.ErrorIs(t, e.Ack("twice"), sio.ErrAckSent)
				})
				s.On("ignored", func(e *sio.Event) { assert.True(t, e.WantsAck()) })

				args, err := s.EmitWithAck(ctx, "request-ack", "question", []any{"life"}, 2000)
				require.NoError(t, err)
				var res struct {
					OK    bool  `json:"ok"`
					Reply []any `json:"reply"`
				}
				require.NoError(t, args.Decode(&res))
				assert.True(t, res.OK)
				require.Len(t, res.Reply, 2)
				assert.Equal(t, "answer to life", res.Reply[0])

				// The server times out when the client does not acknowledge.
				args, err = s.EmitWithAck(ctx, "request-ack", "ignored", []any{}, 100)
				require.NoError(t, err)
				assert.JSONEq(t, `{"ok":false,"error":"timeout"}`, string(args.Raw(0)))
			})
		}
	})
}

func TestInteropAckTimeout(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		url := startServer(t, kind, false).URL
		ctx := testCtx(t)
		s, err := client.Dial(ctx, url, &client.Options{Transport: native.New(nil)})
		require.NoError(t, err)
		defer s.Disconnect()

		// "message" never acknowledges.
		start := time.Now()
		_, err = s.Timeout(150*time.Millisecond).EmitWithAck(ctx, "message", 1)
		require.ErrorIs(t, err, sio.ErrAckTimeout)
		assert.GreaterOrEqual(t, time.Since(start), 150*time.Millisecond)

		// The callback form, on the handler goroutine.
		done := make(chan error, 1)
		require.NoError(t, s.Timeout(100*time.Millisecond).EmitWithAckFunc("message", func(_ sio.Args, err error) { done <- err }, 2))
		assert.ErrorIs(t, testutil.Recv(t, done), sio.ErrAckTimeout)

		// The context bounds the wait too.
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		_, err = s.EmitWithAck(cctx, "message", 3)
		assert.ErrorIs(t, err, context.DeadlineExceeded)

		// An acknowledged emit with a timeout succeeds.
		args, err := s.Timeout(5*time.Second).EmitWithAck(ctx, "message-with-ack", "ok")
		require.NoError(t, err)
		assert.Equal(t, []any{"ok"}, values(t, args))
	})
}

// TestInteropRetries checks the at-least-once delivery of
// SocketOptions.Retries: an emit the server never acknowledges is sent
// Retries+1 times, then fails; an acknowledged one is sent once.
func TestInteropRetries(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		url := startServer(t, kind, false).URL
		ctx := testCtx(t)
		opts := &client.Options{Transport: native.New(nil)}
		opts.AckTimeout = 100 * time.Millisecond
		opts.Retries = 2
		s, err := client.New(url, opts)
		require.NoError(t, err)
		back := record(s, "message-back")
		require.NoError(t, s.Connect(ctx))
		defer s.Disconnect()

		_, err = s.EmitWithAck(ctx, "message", "unacked")
		require.ErrorIs(t, err, sio.ErrAckTimeout)
		for range 3 {
			assert.Equal(t, []any{"unacked"}, values(t, testutil.Recv(t, back).Args))
		}
		args, err := s.EmitWithAck(ctx, "echo", "acked")
		require.NoError(t, err)
		assert.Equal(t, []any{"acked"}, values(t, args))
		// A plain emit is queued too, after the previous ones, and sent
		// until acknowledged; the echo afterwards proves it was sent 3 times
		// before (the queue is sequential).
		require.NoError(t, s.Emit("message", "plain"))
		args, err = s.EmitWithAck(ctx, "echo", "last")
		require.NoError(t, err)
		assert.Equal(t, []any{"last"}, values(t, args))
		for range 3 {
			assert.Equal(t, []any{"plain"}, values(t, testutil.Recv(t, back).Args))
		}
		select {
		case e := <-back:
			t.Fatalf("unexpected extra message-back %s", e.Args.Raw(0))
		default:
		}
	})
}

func TestInteropNamespaces(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		url := startServer(t, kind, false).URL
		ctx := testCtx(t)
		m, err := client.NewManager(url, &client.Options{Transport: native.New(nil)})
		require.NoError(t, err)
		defer m.Close()
		opened := make(chan struct{}, 10)
		m.OnOpen(func() { opened <- struct{}{} })

		root := m.Socket("/", nil)
		custom := m.Socket("/custom", &client.SocketOptions{Auth: map[string]any{"who": "custom"}})
		assert.Same(t, root, m.Socket("", nil))
		rootAuth, customAuth := record(root, "auth"), record(custom, "auth")
		require.NoError(t, root.Connect(ctx))
		require.NoError(t, custom.Connect(ctx))
		assert.NotEqual(t, root.ID(), custom.ID())
		assert.Equal(t, "/custom", custom.Namespace())
		assert.JSONEq(t, `{}`, string(testutil.Recv(t, rootAuth).Args.Raw(0)))
		assert.JSONEq(t, `{"who":"custom"}`, string(testutil.Recv(t, customAuth).Args.Raw(0)))

		// Broadcasts stay in their namespace.
		rootB, customB := record(root, "broadcast"), record(custom, "broadcast")
		require.NoError(t, custom.Emit("broadcast", "to custom"))
		require.NoError(t, root.Emit("broadcast", "to root"))
		assert.Equal(t, []any{"to custom"}, values(t, testutil.Recv(t, customB).Args))
		assert.Equal(t, []any{"to root"}, values(t, testutil.Recv(t, rootB).Args))

		// Disconnecting one namespace keeps the other (and the connection).
		custom.Disconnect()
		assert.False(t, custom.Connected())
		args, err := root.EmitWithAck(ctx, "echo", "still here")
		require.NoError(t, err)
		assert.Equal(t, []any{"still here"}, values(t, args))
		lastDisc, err := root.EmitWithAck(ctx, "last-disconnects")
		require.NoError(t, err)
		assert.Contains(t, string(lastDisc.Raw(0)), `"reason":"client namespace disconnect"`)

		// A single Engine.IO connection served both.
		assert.Len(t, opened, 1)

		// An unknown namespace is refused.
		nope := m.Socket("/nope", nil)
		err = nope.Connect(ctx)
		var ce *client.ConnectError
		require.ErrorAs(t, err, &ce)
		assert.Equal(t, "Invalid namespace", ce.Message)
		assert.False(t, nope.Active())
		assert.True(t, root.Connected())
	})
}

func TestInteropRegistry(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		url := startServer(t, kind, false).URL
		ctx := testCtx(t)
		var reg client.Registry
		defer reg.Close()
		opts := &client.Options{Transport: native.New(nil)}
		a, err := reg.Socket(url, opts)
		require.NoError(t, err)
		b, err := reg.Socket(url+"/custom", opts)
		require.NoError(t, err)
		assert.Same(t, a.Manager(), b.Manager(), "namespaces of one server share a manager")
		c, err := reg.Socket(url, opts)
		require.NoError(t, err)
		assert.NotSame(t, a.Manager(), c.Manager(), "the same namespace twice gets a new manager")
		forced := *opts
		forced.ForceNew = true
		d, err := reg.Socket(url+"/custom", &forced)
		require.NoError(t, err)
		assert.NotSame(t, b.Manager(), d.Manager())
		for _, s := range []*client.Socket{a, b, c, d} {
			require.NoError(t, s.Connect(ctx))
		}
		var other client.Registry
		e, err := other.Socket(url+"/custom", opts)
		require.NoError(t, err)
		assert.NotSame(t, b.Manager(), e.Manager(), "registries do not share managers")
	})
}

func TestInteropAuth(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		url := startServer(t, kind, false).URL
		ctx := testCtx(t)

		t.Run("value", func(t *testing.T) {
			opts := &client.Options{Transport: native.New(nil)}
			opts.Auth = map[string]any{"token": "abc", "n": 1}
			s, err := client.New(url+"/custom", opts)
			require.NoError(t, err)
			auth := record(s, "auth")
			require.NoError(t, s.Connect(ctx))
			defer s.Disconnect()
			assert.JSONEq(t, `{"token":"abc","n":1}`, string(testutil.Recv(t, auth).Args.Raw(0)))
		})

		t.Run("func called at every connection", func(t *testing.T) {
			var calls atomic.Int32
			opts := fastReconnect(native.New(nil), nil)
			opts.AuthFunc = func(ctx context.Context) (any, error) {
				return map[string]any{"call": calls.Add(1)}, nil
			}
			s, err := client.New(url, opts)
			require.NoError(t, err)
			auth := record(s, "auth")
			require.NoError(t, s.Connect(ctx))
			defer s.Disconnect()
			assert.JSONEq(t, `{"call":1}`, string(testutil.Recv(t, auth).Args.Raw(0)))
			// server-disconnect-all is an io server disconnect: no automatic
			// reconnection, but connecting again calls AuthFunc again (automatic
			// reconnections do too: see TestInteropReconnect). Once upgraded
			// (during the upgrade: TestInteropQueuedDuringUpgrade).
			require.Eventually(t, func() bool { return s.Manager().TransportName() == client.TransportWebSocket },
				waitFor, 5*time.Millisecond)
			disc := make(chan sio.Reason, 1)
			s.OnDisconnect(func(r sio.Reason) { disc <- r })
			require.NoError(t, s.Emit("server-disconnect-all"))
			assert.Equal(t, sio.ReasonServerDisconnect, testutil.Recv(t, disc))
			s.Open()
			assert.JSONEq(t, `{"call":2}`, string(testutil.Recv(t, auth).Args.Raw(0)))
		})

		t.Run("func in a composite literal", func(t *testing.T) {
			literal := func(context.Context) (any, error) { return map[string]string{"via": "Options"}, nil }
			s, err := client.New(url, &client.Options{Transport: native.New(nil), AuthFunc: literal})
			require.NoError(t, err)
			auth := record(s, "auth")
			require.NoError(t, s.Connect(ctx))
			assert.JSONEq(t, `{"via":"Options"}`, string(testutil.Recv(t, auth).Args.Raw(0)))
			s.Disconnect()

			// As with Auth, SocketOptions.AuthFunc wins when both are set.
			s, err = client.New(url, &client.Options{
				Transport:     native.New(nil),
				AuthFunc:      literal,
				SocketOptions: client.SocketOptions{AuthFunc: func(context.Context) (any, error) { return map[string]string{"via": "SocketOptions"}, nil }},
			})
			require.NoError(t, err)
			auth = record(s, "auth")
			require.NoError(t, s.Connect(ctx))
			defer s.Disconnect()
			assert.JSONEq(t, `{"via":"SocketOptions"}`, string(testutil.Recv(t, auth).Args.Raw(0)))
		})

		t.Run("func error", func(t *testing.T) {
			opts := &client.Options{Transport: native.New(nil)}
			boom := errors.New("no token")
			opts.AuthFunc = func(context.Context) (any, error) { return nil, boom }
			_, err := client.Dial(ctx, url, opts)
			assert.ErrorIs(t, err, boom)
		})

		t.Run("rejected by middleware", func(t *testing.T) {
			for _, nsp := range []string{"", "/custom"} {
				opts := &client.Options{Transport: native.New(nil)}
				opts.Auth = map[string]string{"token": "reject"}
				s, err := client.New(url+nsp, opts)
				require.NoError(t, err)
				errs := make(chan error, 1)
				s.OnConnectError(func(err error) { errs <- err })
				err = s.Connect(ctx)
				var ce *client.ConnectError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, "unauthorized", ce.Message)
				assert.JSONEq(t, `{"reason":"bad token"}`, string(ce.Data))
				require.ErrorAs(t, testutil.Recv(t, errs), &ce)
				assert.Equal(t, "unauthorized", ce.Message)
				assert.False(t, s.Active())
				assert.False(t, s.Connected())
			}
		})
	})
}

func TestInteropServerDisconnect(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		url := startServer(t, kind, false).URL
		for _, event := range []string{"server-disconnect", "server-disconnect-all"} {
			for _, mode := range transportModes {
				t.Run(event+"/"+mode.name, func(t *testing.T) {
					ctx := testCtx(t)
					s, err := client.New(url, fastReconnect(native.New(nil), mode.transports))
					require.NoError(t, err)
					disc := make(chan sio.Reason, 1)
					s.OnDisconnect(func(r sio.Reason) { disc <- r })
					connects := make(chan struct{}, 10)
					s.OnConnect(func() { connects <- struct{}{} })
					require.NoError(t, s.Connect(ctx))
					testutil.Recv(t, connects)
					// Once settled (during an upgrade: TestInteropQueuedDuringUpgrade).
					require.Eventually(t, func() bool { return s.Manager().TransportName() == mode.want }, waitFor, 5*time.Millisecond)
					pending := make(chan error, 1)
					require.NoError(t, s.EmitWithAckFunc("message", func(_ sio.Args, err error) { pending <- err }, "never acked"))
					require.NoError(t, s.Emit(event))
					assert.Equal(t, sio.ReasonServerDisconnect, testutil.Recv(t, disc))
					assert.ErrorIs(t, testutil.Recv(t, pending), sio.ErrDisconnected)
					assert.False(t, s.Active())
					// No reconnection: the manager closed its connection.
					require.Eventually(t, func() bool { return s.Manager().TransportName() == "" }, waitFor, 5*time.Millisecond)
					assert.Empty(t, connects)
				})
			}
		}
	})
}

// TestInteropReconnect kills the server process (connections drop without a
// close packet) and restarts it on the same port: the client reconnects by
// itself, and the emits made meanwhile arrive once, all, in order, except
// the volatile ones.
func TestInteropReconnect(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		for _, mode := range transportModes {
			t.Run(mode.name, func(t *testing.T) {
				srv := startServer(t, kind, false)
				ctx := testCtx(t)
				opts := fastReconnect(native.New(nil), mode.transports)
				var authCalls atomic.Int32
				// m.Socket takes SocketOptions: the direct Options.AuthFunc is for New and Dial.
				opts.SocketOptions.AuthFunc = func(context.Context) (any, error) { return map[string]any{"n": authCalls.Add(1)}, nil }
				m, err := client.NewManager(srv.URL, opts)
				require.NoError(t, err)
				reconnected := make(chan int, 1)
				m.OnReconnect(func(attempt int) { reconnected <- attempt })
				attempts := make(chan int, 100)
				m.OnReconnectAttempt(func(attempt int) { attempts <- attempt })
				root, custom := m.Socket("/", &opts.SocketOptions), m.Socket("/custom", &opts.SocketOptions)
				type connEvent struct {
					nsp, kind, detail string
				}
				events := make(chan connEvent, 100)
				for _, s := range []*client.Socket{root, custom} {
					s.OnConnect(func() { events <- connEvent{s.Namespace(), "connect", ""} })
					s.OnDisconnect(func(r sio.Reason) { events <- connEvent{s.Namespace(), "disconnect", string(r)} })
				}
				back := record(root, "message-back")
				require.NoError(t, root.Connect(ctx))
				require.NoError(t, custom.Connect(ctx))
				defer m.Close()
				require.Eventually(t, func() bool { return m.TransportName() == mode.want }, waitFor, 5*time.Millisecond)
				firstID := root.ID()
				for range 2 {
					assert.Equal(t, "connect", testutil.Recv(t, events).kind)
				}

				srv.Kill()
				for range 2 {
					ev := testutil.Recv(t, events)
					assert.Equal(t, "disconnect", ev.kind)
					assert.Contains(t, []sio.Reason{sio.ReasonTransportClose, sio.ReasonTransportError}, sio.Reason(ev.detail))
				}
				assert.False(t, root.Connected())
				assert.True(t, root.Active())
				testutil.Recv(t, attempts) // failing attempts while the server is down
				testutil.Recv(t, attempts)

				const n = 50
				for i := range n {
					require.NoError(t, root.Emit("message", i))
					require.NoError(t, root.Volatile().Emit("message", "volatile"))
				}
				pending := make(chan sio.Args, 1)
				require.NoError(t, root.EmitWithAckFunc("echo", func(a sio.Args, err error) {
					assert.NoError(t, err)
					pending <- a
				}, "buffered ack"))

				srv.Restart(t)
				assert.Positive(t, testutil.Recv(t, reconnected))
				for range 2 {
					assert.Equal(t, "connect", testutil.Recv(t, events).kind)
				}
				assert.True(t, root.Connected())
				assert.True(t, custom.Connected())
				assert.NotEqual(t, firstID, root.ID())
				assert.Equal(t, []any{"buffered ack"}, values(t, testutil.Recv(t, pending)))
				for i := range n {
					var got int
					require.NoError(t, testutil.Recv(t, back).Args.Decode(&got))
					require.Equal(t, i, got)
				}
				require.NoError(t, root.Emit("message", "end"))
				assert.Equal(t, []any{"end"}, values(t, testutil.Recv(t, back).Args))
				assert.GreaterOrEqual(t, authCalls.Load(), int32(4), "AuthFunc runs at every connection of each socket")
				require.Eventually(t, func() bool { return m.TransportName() == mode.want }, waitFor, 5*time.Millisecond)
				args, err := custom.EmitWithAck(ctx, "echo", "custom back")
				require.NoError(t, err)
				assert.Equal(t, []any{"custom back"}, values(t, args))
			})
		}
	})
}

var _ = json.RawMessage{}
var _ = strings.Contains
var _ sync.Mutex
