package client

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/testutil"
)

// lockedBuffer is a bytes.Buffer safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestPanicInHandler: a handler that panics is logged with its stack; the
// handlers of the next event run and the socket stays connected.
func TestPanicInHandler(t *testing.T) {
	ft := newFakeTransport()
	opts := wsOptions(ft)
	var logs lockedBuffer
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	s, err := New("http://fake", opts)
	require.NoError(t, err)
	got := make(chan string, 4)
	s.On("boom", func(*sio.Event) { panic("boom") })
	s.On("next", func(e *sio.Event) { got <- "next" })
	s.Open()
	defer s.Disconnect()
	ws := ft.acceptSocketIO(t, slowPings, "a")
	ws.send(`42["boom"]`)
	ws.send(`42["next"]`)
	assert.Equal(t, "next", testutil.Recv(t, got))
	assert.True(t, s.Connected())
	out := logs.String()
	assert.Contains(t, out, "socket.io client: handler panicked")
	assert.Contains(t, out, "panic=boom")
	assert.Contains(t, out, "panic_test.go", "the stack shows where it panicked")

	require.NoError(t, s.Emit("still", 1))
	assert.Equal(t, `42["still",1]`, ws.expect(t))
}
