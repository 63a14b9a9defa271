//go:build !js

package sio_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/server"
	"github.com/gosio/socketio/transport/native"
)

// socketAPI is the API the server's and the client's Socket share, with
// the same names, argument order and meaning; E is the socket's emitter
// (Timeout, Volatile). The assertions below fail to compile when the two
// drift apart.
type socketAPI[E emitterAPI[E]] interface {
	emitterAPI[E]
	sio.Socket

	ID() string
	Connected() bool
	Recovered() bool
	Context() context.Context

	On(event string, fn func(e *sio.Event))
	Off(event string)
	OnAny(fn func(e *sio.Event)) (remove func())
	OffAny()
	OnAnyOutgoing(fn func(e *sio.Event)) (remove func())
	OffAnyOutgoing()
	OnDisconnect(fn func(reason sio.Reason))
	OnError(fn func(error))
	ReportError(err error)

	Disconnect()
}

// emitterAPI is what a socket and its emitters share.
type emitterAPI[E any] interface {
	Emit(event string, args ...any) error
	EmitWithAck(ctx context.Context, event string, args ...any) (sio.Args, error)
	EmitWithAckFunc(event string, fn func(sio.Args, error), args ...any) error
	Timeout(d time.Duration) E
	Volatile() E
}

var (
	_ socketAPI[*server.SocketEmitter]  = (*server.Socket)(nil)
	_ socketAPI[*client.Emitter]        = (*client.Socket)(nil)
	_ emitterAPI[*server.SocketEmitter] = (*server.SocketEmitter)(nil)
	_ emitterAPI[*client.Emitter]       = (*client.Emitter)(nil)
)

// TestSameMeaning checks at run time what the types cannot: On replaces the
// handler on both sides, and the removers of OnAny remove.
func TestSameMeaning(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv := server.New(nil)
	serverGot := make(chan string, 8)
	srv.OnConnection(func(s *server.Socket) {
		exercise(s, serverGot)
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Shutdown(context.Background()) //nolint:errcheck

	c, err := native.NewSocket(ts.URL, nil)
	require.NoError(t, err)
	clientGot := make(chan string, 8)
	exercise(c, clientGot)
	require.NoError(t, c.Connect(ctx))
	defer c.Disconnect()

	// Each side sends "e" to the other and acknowledges "done" once its
	// handlers ran: only the second On handler, and no removed catch-all.
	for _, tc := range []struct {
		name string
		from sio.Socket
		got  chan string
	}{
		{"server", c, serverGot},
	} {
		require.NoError(t, tc.from.Emit("e"))
		_, err := tc.from.EmitWithAck(ctx, "done")
		require.NoError(t, err, tc.name)
		assert.Equal(t, []string{"kept any e", "second e", "kept any done"}, drain(tc.got), tc.name)
	}
	require.NoError(t, srv.Sockets().Emit("e"))
	replies, err := srv.Sockets().Timeout(10*time.Second).EmitWithAck(ctx, "done")
	require.NoError(t, err)
	require.Len(t, replies, 1)
	assert.Equal(t, []string{"kept any e", "second e", "kept any done"}, drain(clientGot), "client")
}

// exercise registers the same handlers on a socket of either side.
func exercise[E emitterAPI[E]](s socketAPI[E], got chan<- string) {
	s.On("e", func(*sio.Event) { got <- "first e" })
	s.On("e", func(*sio.Event) { got <- "second e" })
	s.On("done", func(e *sio.Event) { _ = e.Ack() })
	remove := s.OnAny(func(e *sio.Event) { got <- "removed any " + e.Name })
	s.OnAny(func(e *sio.Event) { got <- "kept any " + e.Name })
	remove()
}

func drain(ch chan string) []string {
	var out []string
	for {
		select {
		case s := <-ch:
			out = append(out, s)
		default:
			return out
		}
	}
}
