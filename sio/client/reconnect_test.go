//go:build !js

package client_test

import (
	"context"
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
