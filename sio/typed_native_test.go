//go:build !js

package sio_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/server"
	"github.com/gosio/socketio/transport/native"
)

// The declarations both sides would share.
var (
	typedChat = sio.NewEvent[msg]("chat")
	typedAdd  = sio.NewAckEvent[question, int]("add")
)

// TestTypedBothSides runs typed events between the real server and the Go
// client, in both directions, with a payload that does not decode.
func TestTypedBothSides(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv := server.New(nil)
	serverErrs := make(chan error, 4)
	srv.OnConnection(func(s *server.Socket) {
		s.OnError(func(err error) { serverErrs <- err })
		typedAdd.Handle(s, func(ctx context.Context, q question) (int, error) {
			if q.A < 0 {
				return 0, errors.New("negative")
			}
			return q.A + q.B, nil
		})
		typedChat.On(s, func(m msg) error {
			return typedChat.Emit(s, msg{Text: "echo " + m.Text}) // back to the client
		})
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Shutdown(context.Background()) //nolint:errcheck

	c, err := client.Dial(ctx, ts.URL, &client.Options{Transport: native.New(nil)})
	require.NoError(t, err)
	defer c.Disconnect()
	got := make(chan msg, 1)
	clientErrs := make(chan error, 1)
	c.OnError(func(err error) { clientErrs <- err })
	typedChat.On(c, func(m msg) error { got <- m; return nil })

	sum, err := typedAdd.Call(ctx, c, question{A: 2, B: 3})
	require.NoError(t, err)
	assert.Equal(t, 5, sum)
	_, err = typedAdd.Call(ctx, c, question{A: -1})
	var ae *sio.AckError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "negative", ae.Message)

	// A plain emit of the wrong type: the ack says why, the server lives on.
	_, err = sio.EmitWithAck[int](ctx, c, "add", "not a question")
	require.ErrorAs(t, err, &ae)
	assert.Contains(t, ae.Message, "invalid payload")
	// Without an ack: to the server's OnError.
	require.NoError(t, c.Emit("chat", 42))
	select {
	case err := <-serverErrs:
		assert.ErrorIs(t, err, sio.ErrInvalidPayload)
	case <-ctx.Done():
		t.Fatal("the server's OnError never got the bad payload")
	}

	require.NoError(t, typedChat.Emit(c, msg{Text: "hi"}))
	select {
	case m := <-got:
		assert.Equal(t, "echo hi", m.Text)
	case <-ctx.Done():
		t.Fatal("no echo")
	}
	// The client side reports to its OnError too.
	require.NoError(t, c.Emit("add", question{A: 1}))
	_, err = c.EmitWithAck(ctx, "add", question{A: 1}) // an ordinary ack still works
	require.NoError(t, err)
	srv.Sockets().Emit("chat", "not a msg") //nolint:errcheck
	select {
	case err := <-clientErrs:
		assert.True(t, strings.Contains(err.Error(), "invalid payload"), err)
	case <-ctx.Done():
		t.Fatal("the client's OnError never got the bad payload")
	}
}

// TestDefaults covers what a user expects without reading the docs: a
// one-line native dial, Auth in a composite literal, a room's size, and a
// hint when the URL's path is the Engine.IO path.
func TestDefaults(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	srv := server.New(nil)
	joined := make(chan string, 2)
	srv.OnConnection(func(s *server.Socket) {
		var auth struct{ Name string }
		_ = s.Handshake().DecodeAuth(&auth)
		s.Join("lobby")
		joined <- auth.Name
	})
	ts := httptest.NewServer(srv)
	defer ts.Close()
	defer srv.Shutdown(context.Background()) //nolint:errcheck

	a, err := native.Dial(ctx, ts.URL, &client.Options{Auth: map[string]string{"name": "ann"}})
	require.NoError(t, err)
	defer a.Disconnect()
	b, err := native.Dial(ctx, ts.URL, nil)
	require.NoError(t, err)
	defer b.Disconnect()
	got := []string{<-joined, <-joined}
	assert.ElementsMatch(t, []string{"ann", ""}, got)
	assert.Equal(t, 2, srv.Sockets().RoomSize("lobby"))
	assert.Equal(t, 1, srv.Sockets().RoomSize(a.ID()))
	assert.Equal(t, 0, srv.Sockets().RoomSize("nowhere"))

	for _, u := range []string{ts.URL + "/socket.io/", ts.URL + "/socket.io", ts.URL + "/app/socket.io/"} {
		_, err = native.Dial(ctx, u, nil)
		require.ErrorIs(t, err, client.ErrNamespacePath, u)
		assert.Contains(t, err.Error(), "did you mean Options.Path?")
	}
}
