//go:build !js

package client_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/internal/testutil"
	"github.com/gosio/socketio/transport/native"
)

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
