//go:build !js

package engine

import (
	"net/http"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// The tests of this file hold the polling transport to the official
// server's behaviour where clients race it (a close, an upgrade), and to
// what a careless or hostile HTTP client must not be able to do.

// TestPollingClientCloseAnswersNoop: a close packet POSTed by the client
// ends the session, and the GET of that client, pending or racing the
// POST, gets a noop, as upstream answers it (a close packet only comes
// with a close the server starts).
func TestPollingClientCloseAnswersNoop(t *testing.T) {
	t.Run("GET after the close", func(t *testing.T) {
		h := newHarness(t, nil)
		sid, _ := h.handshake()
		h.nextConn()
		assert.Equal(t, "ok", h.post(sid, "1").body)
		assert.Equal(t, ReasonTransportClose, h.nextClose().reason)
		assert.Nil(t, h.srv.Socket(sid))
		res := h.poll(sid)
		assert.Equal(t, http.StatusOK, res.status)
		assert.Equal(t, "6", res.body)
		assert.Equal(t, "text/plain; charset=UTF-8", res.header.Get("Content-Type"))
		// One GET is answered so: the next is refused as for any unknown session.
		res = h.poll(sid)
		assert.Equal(t, http.StatusBadRequest, res.status)
		assert.Equal(t, errBody(1, "Session ID unknown"), res.body)
	})
	t.Run("GET arriving while the POST is handled", func(t *testing.T) {
		release := make(chan struct{})
		entered := make(chan struct{}, 1)
		h := newHarness(t, nil, func(h *harness) {
			h.onMessage = func(_ *Socket, data []byte, _ bool) {
				entered <- struct{}{}
				<-release
			}
		})
		sid, _ := h.handshake()
		h.nextConn()
		var once sync.Once
		unblock := func() { once.Do(func() { close(release) }) }
		t.Cleanup(unblock) // before the server closes
		posted := make(chan response, 1)
		go func() { posted <- h.post(sid, "4last\x1e1") }()
		recv(t, entered)
		pending := h.pollPending(sid)
		unblock()
		assert.Equal(t, "ok", recv(t, posted).body)
		res := recv(t, pending)
		assert.Equal(t, http.StatusOK, res.status)
		assert.Equal(t, "6", res.body)
		assert.Equal(t, ReasonTransportClose, h.nextClose().reason)
	})
	t.Run("protocol 3", func(t *testing.T) {
		h := newHarness(t, &Options{AllowEIO3: true})
		sid, _ := h.handshakeV3()
		assert.Equal(t, "ok", h.postV3(sid, "text/plain;charset=UTF-8", "1:1").body)
		assert.Equal(t, ReasonTransportClose, h.nextClose().reason)
		assert.Equal(t, "1:6", h.pollV3(sid).body)
	})
	t.Run("server close still sends a close packet", func(t *testing.T) {
		h := newHarness(t, nil)
		sid, _ := h.handshake()
		sess := h.nextConn()
		pending := h.pollPending(sid)
		sess.closeWith(ReasonTransportError, nil, false)
		assert.Equal(t, "1", recv(t, pending).body)
		h.nextClose()
		// No noop for a session the server closed.
		assert.Equal(t, http.StatusBadRequest, h.poll(sid).status)
	})
}
