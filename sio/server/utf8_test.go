//go:build !js

package server

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/testutil"
)

// TestPollingInvalidUTF8ReachesWebSocketValid: a polling client sends an
// event with invalid UTF-8 inside a JSON string; a WebSocket client in the
// same room gets valid UTF-8 (RFC 6455 §5.6: a text frame is valid UTF-8),
// the invalid bytes decoded to U+FFFD as Node.js decodes them, even when
// the server relays the argument's raw JSON.
func TestPollingInvalidUTF8ReachesWebSocketValid(t *testing.T) {
	ts := newTestServer(t, nil)
	got := make(chan *Socket, 2)
	ts.Of("/").OnConnection(func(s *Socket) {
		withSync(s)
		s.Join("room")
		s.On("chat", func(e *sio.Event) {
			_ = s.To("room").Emit("chat", e.Args.Raw(0))
		})
		got <- s
	})
	ws := dial(t, ts, "websocket", nil)
	ws.connect("/", "")
	testutil.Recv(t, got)
	poll := dial(t, ts, "polling", nil)
	poll.connect("/", "")
	testutil.Recv(t, got)

	poll.sendRaw("42[\"chat\",\"a\xffb\xed\xa0\x80c\xe2\x82\"]")
	text := ws.nextText()
	assert.True(t, utf8.ValidString(text), "%q", text)
	assert.Equal(t, "42[\"chat\",\"a\uFFFDb\uFFFD\uFFFD\uFFFDc\uFFFD\"]", text)
}
