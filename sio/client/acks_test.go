//go:build !js

package client_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/internal/testutil"
	"github.com/gosio/socketio/transport/native"
)

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
