package e2e

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/internal/conformance"
	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/server"
	"github.com/gosio/socketio/transport/native"
)

// TestGoClientAgainstGoServer runs this project's Go client against this
// project's server (the interop test app), over each transport.
func TestGoClientAgainstGoServer(t *testing.T) {
	c := conformance.New(nil, &server.Options{
		EngineOptions: server.EngineOptions{
			PingInterval: time.Second,
			PingTimeout:  time.Second,
			CORS:         &server.CORSOptions{Origin: []string{"*"}},
		},
		ConnectTimeout: time.Second,
	})
	ts := httptest.NewServer(c.Handler())
	t.Cleanup(func() {
		c.Close()
		ts.Close()
	})
	for _, tc := range []struct {
		name       string
		transports []string
	}{
		{"polling", []string{client.TransportPolling}},
		{"websocket", []string{client.TransportWebSocket}},
		{"upgrade", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			authCh := make(chan sio.Args, 1)
			backCh := make(chan sio.Args, 1)
			opts := &client.Options{
				Transport:  native.New(nil),
				Transports: tc.transports,
			}
			opts.Auth = map[string]any{"token": "abc"}
			s, err := client.New(ts.URL, opts)
			require.NoError(t, err)
			defer s.Disconnect()
			s.On("auth", func(e *sio.Event) { authCh <- e.Args })
			s.On("message-back", func(e *sio.Event) { backCh <- e.Args })
			require.NoError(t, s.Connect(ctx))

			select {
			case a := <-authCh:
				require.JSONEq(t, `{"token":"abc"}`, string(a.Raw(0)))
			case <-ctx.Done():
				t.Fatal("no auth event")
			}

			reply, err := s.EmitWithAck(ctx, "echo", "hi", 42, []byte{1, 2, 3}, map[string]any{"nested": []byte{4}})
			require.NoError(t, err)
			var (
				str    string
				n      int
				bin    []byte
				nested struct {
					Nested []byte `json:"nested"`
				}
			)
			require.NoError(t, reply.Decode(&str, &n, &bin, &nested))
			require.Equal(t, "hi", str)
			require.Equal(t, 42, n)
			require.Equal(t, []byte{1, 2, 3}, bin)
			require.Equal(t, []byte{4}, nested.Nested)

			require.NoError(t, s.Emit("message", "one", []byte{9}))
			select {
			case a := <-backCh:
				var b []byte
				require.NoError(t, a.Decode(nil, &b))
				require.Equal(t, `"one"`, string(a.Raw(0)))
				require.Equal(t, []byte{9}, b)
			case <-ctx.Done():
				t.Fatal("no message-back")
			}

			if tc.transports == nil {
				require.Eventually(t, func() bool { return s.Manager().TransportName() == client.TransportWebSocket },
					10*time.Second, 10*time.Millisecond, "upgrade to websocket")
				_, err := s.EmitWithAck(ctx, "echo", "after upgrade")
				require.NoError(t, err)
			}
		})
	}
}
