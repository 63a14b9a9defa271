//go:build !js

package client_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/internal/testutil"
	"github.com/gosio/socketio/transport/native"
)

func TestInteropAnyHandlers(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		url := startServer(t, kind, false).URL
		ctx := testCtx(t)
		s, err := client.New(url, &client.Options{Transport: native.New(nil)})
		require.NoError(t, err)
		incoming := make(chan string, 100)
		s.OnAny(func(e *sio.Event) { incoming <- "any:" + e.Name })
		s.On("message-back", func(e *sio.Event) { incoming <- "on:" + e.Name })
		outgoing := make(chan string, 100)
		s.OnAnyOutgoing(func(e *sio.Event) { v, _ := sio.Arg[string](e.Args, 0); outgoing <- e.Name + ":" + v })
		require.NoError(t, s.Connect(ctx))
		defer s.Disconnect()
		assert.Equal(t, "any:auth", testutil.Recv(t, incoming))

		require.NoError(t, s.Emit("message", "one"))
		assert.Equal(t, "message:one", testutil.Recv(t, outgoing))
		assert.Equal(t, "any:message-back", testutil.Recv(t, incoming))
		assert.Equal(t, "on:message-back", testutil.Recv(t, incoming))

		s.OffAny()
		s.OffAnyOutgoing()
		require.NoError(t, s.Emit("message", "two"))
		assert.Equal(t, "on:message-back", testutil.Recv(t, incoming))
		s.Off("message-back")
		_, err = s.EmitWithAck(ctx, "echo", "sync")
		require.NoError(t, err)
		require.NoError(t, s.Emit("message", "three"))
		_, err = s.EmitWithAck(ctx, "echo", "sync")
		require.NoError(t, err)
		assert.Empty(t, incoming)
		assert.Empty(t, outgoing)

		assert.ErrorIs(t, s.Emit("disconnect"), sio.ErrReservedEvent)
	})
}

// TestInteropHandlerWaitsForAck checks that a handler may block on
// EmitWithAck: acknowledgements do not go through the handler goroutine.
func TestInteropHandlerWaitsForAck(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		url := startServer(t, kind, false).URL
		ctx := testCtx(t)
		s, err := client.New(url, &client.Options{Transport: native.New(nil)})
		require.NoError(t, err)
		results := make(chan string, 1)
		s.On("auth", func(*sio.Event) {
			args, err := s.EmitWithAck(ctx, "echo", "from handler")
			if err != nil {
				results <- err.Error()
				return
			}
			var got string
			_ = args.Decode(&got)
			results <- got
		})
		require.NoError(t, s.Connect(ctx))
		defer s.Disconnect()
		assert.Equal(t, "from handler", testutil.Recv(t, results))
	})
}
