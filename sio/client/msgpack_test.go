//go:build !js

package client_test

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/internal/conformance"
	"github.com/gosio/socketio/internal/nodeenv"
	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/internal/testutil"
	"github.com/gosio/socketio/sio/parser/msgpack"
	"github.com/gosio/socketio/transport/native"
)

// startMsgpackServer starts the test app of kind speaking
// socket.io-msgpack-parser: server.js with SIO_PARSER=msgpack, or
// conformance.New with the msgpack parser.
func startMsgpackServer(t *testing.T, kind string) string {
	t.Helper()
	if kind == kindNode {
		return nodeenv.Start(t, "SIO_PARSER=msgpack").URL
	}
	opts := conformance.TestOptions(false)
	opts.Parser = msgpack.New()
	a := conformance.New(testLogger(), opts)
	hs := httptest.NewServer(a.Handler())
	t.Cleanup(func() {
		hs.CloseClientConnections()
		hs.Close()
		a.Close()
	})
	return hs.URL
}

// TestInteropMsgpack runs acks both ways, binary data both ways and a
// broadcast with the msgpack parser, against the official server with
// socket.io-msgpack-parser and against the Go server with the msgpack
// parser, over each transport.
func TestInteropMsgpack(t *testing.T) {
	forEachServer(t, func(t *testing.T, kind string) {
		url := startMsgpackServer(t, kind)
		for _, mode := range transportModes {
			t.Run(mode.name, func(t *testing.T) {
				ctx := testCtx(t)
				opts := func() *client.Options {
					return &client.Options{Transport: native.New(nil), Transports: mode.transports, Parser: msgpack.New()}
				}
				s, err := client.Dial(ctx, url, opts())
				require.NoError(t, err)
				defer s.Disconnect()
				other, err := client.Dial(ctx, url, opts())
				require.NoError(t, err)
				defer other.Disconnect()

				// An ack of the server, with binary data (a bin on the wire)
				// at the top level and nested.
				args, err := s.EmitWithAck(ctx, "echo", "hello", 42, 1.5, map[string]any{"a": true, "b": []byte{9}}, nil, []byte{1, 2, 3})
				require.NoError(t, err)
				assert.Equal(t, []any{"hello", float64(42), 1.5, map[string]any{"a": true, "b": []byte{9}}, nil, []byte{1, 2, 3}}, values(t, args))

				// Binary data from the server.
				bin := record(s, "binary")
				args, err = s.EmitWithAck(ctx, "binary-me")
				require.NoError(t, err)
				assert.Equal(t, []any{nil}, values(t, args))
				assert.Equal(t, []any{[]byte{1, 2, 3}, map[string]any{"nested": []byte{4}}}, values(t, testutil.Recv(t, bin).Args))

				// An ack of the client: the server emits "question" with an
				// ack and reports the reply.
				s.On("question", func(e *sio.Event) { _ = e.Ack("answer", []byte{5}) })
				args, err = s.EmitWithAck(ctx, "request-ack", "question", []any{1}, 5000)
				require.NoError(t, err)
				assert.Equal(t, []any{map[string]any{"ok": true, "reply": []any{"answer", []byte{5}}}}, values(t, args))

				// A broadcast reaches both sockets.
				b1, b2 := record(s, "broadcast"), record(other, "broadcast")
				require.NoError(t, s.Emit("broadcast", "to all", []byte{6}))
				assert.Equal(t, []any{"to all", []byte{6}}, values(t, testutil.Recv(t, b1).Args))
				assert.Equal(t, []any{"to all", []byte{6}}, values(t, testutil.Recv(t, b2).Args))
			})
		}
	})
}
