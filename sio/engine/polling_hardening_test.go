//go:build !js

package engine

import (
	"bufio"
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/testutil"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The tests of this file hold the polling transport to the official
// server's behaviour where clients race it (a close, an upgrade), and to
// what a careless or hostile HTTP client must not be able to do.

// rawUpgrade opens a WebSocket asking to take over session sid, with a
// hand-made handshake, so that the test controls how frames are written.
func (h *harness) rawUpgrade(t testing.TB, sid string) (net.Conn, *bufio.Reader) {
	t.Helper()
	addr := strings.TrimPrefix(h.ts.URL, "http://")
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(waitTimeout))
	_, err = io.WriteString(c, "GET /engine.io/?EIO=4&transport=websocket&sid="+sid+" HTTP/1.1\r\nHost: "+addr+
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, res.StatusCode)
	return c, br
}

// clientTextFrame is a masked text frame of fewer than 126 bytes, as a
// client sends it.
func clientTextFrame(p string) []byte {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	b := []byte{0x81, 0x80 | byte(len(p))}
	b = append(b, key[:]...)
	for i := 0; i < len(p); i++ {
		b = append(b, p[i]^key[i%4])
	}
	return b
}

// readServerText reads one frame from the server, which must be a final
// text frame.
func readServerText(t testing.TB, br *bufio.Reader) string {
	t.Helper()
	var h [2]byte
	_, err := io.ReadFull(br, h[:])
	require.NoError(t, err)
	require.Equal(t, byte(0x81), h[0], "final text frame")
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		_, err = io.ReadFull(br, l[:])
		n = int(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		_, err = io.ReadFull(br, l[:])
		n = int(binary.BigEndian.Uint64(l[:]))
	}
	require.NoError(t, err)
	p := make([]byte, n)
	_, err = io.ReadFull(br, p)
	require.NoError(t, err)
	return string(p)
}

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
		assert.Equal(t, sio.ReasonTransportClose, h.nextClose().reason)
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
		testutil.Recv(t, entered)
		pending := h.pollPending(sid)
		unblock()
		assert.Equal(t, "ok", testutil.Recv(t, posted).body)
		res := testutil.Recv(t, pending)
		assert.Equal(t, http.StatusOK, res.status)
		assert.Equal(t, "6", res.body)
		assert.Equal(t, sio.ReasonTransportClose, h.nextClose().reason)
	})
	t.Run("protocol 3", func(t *testing.T) {
		h := newHarness(t, &Options{AllowEIO3: true})
		sid, _ := h.handshakeV3()
		assert.Equal(t, "ok", h.postV3(sid, "text/plain;charset=UTF-8", "1:1").body)
		assert.Equal(t, sio.ReasonTransportClose, h.nextClose().reason)
		assert.Equal(t, "1:6", h.pollV3(sid).body)
	})
	t.Run("server close still sends a close packet", func(t *testing.T) {
		h := newHarness(t, nil)
		sid, _ := h.handshake()
		sess := h.nextConn()
		pending := h.pollPending(sid)
		sess.closeWith(sio.ReasonTransportError, nil, false)
		assert.Equal(t, "1", testutil.Recv(t, pending).body)
		h.nextClose()
		// No noop for a session the server closed.
		assert.Equal(t, http.StatusBadRequest, h.poll(sid).status)
	})
}

// TestUpgradeProbeAndUpgradeInOneWrite: a client sends "2probe" and "5"
// back to back; a GET on the old transport, pending or not, is answered
// 400 as the session is upgraded, never with a noop, whatever the order in
// which the server's goroutines see the WebSocket and the GET.
func TestUpgradeProbeAndUpgradeInOneWrite(t *testing.T) {
	both := append(clientTextFrame("2probe"), clientTextFrame("5")...)
	mismatch := errBody(3, "Bad request")
	t.Run("GET pending", func(t *testing.T) {
		h := newHarness(t, nil)
		sid, _ := h.handshake()
		sess := h.nextConn()
		pending := h.pollPending(sid)
		c, br := h.rawUpgrade(t, sid)
		_, err := c.Write(both)
		require.NoError(t, err)
		assert.Equal(t, "3probe", readServerText(t, br))
		assert.Equal(t, "websocket", testutil.Recv(t, h.ups))
		res := testutil.Recv(t, pending)
		assert.Equal(t, http.StatusBadRequest, res.status)
		assert.Equal(t, mismatch, res.body)
		// The session goes on over the WebSocket.
		require.NoError(t, sess.SendMessage([]byte("after"), false))
		assert.Equal(t, "4after", readServerText(t, br))
		assert.Same(t, sess, h.srv.Socket(sid))
	})
	t.Run("upgrade packet while a GET waits", func(t *testing.T) {
		// Like upstream, the noop waits upgradeCheck (100 ms), time for
		// an upgrade packet sent right after the probe answer.
		h := newHarness(t, nil)
		sid, _ := h.handshake()
		h.nextConn()
		c, br := h.rawUpgrade(t, sid)
		_, err := c.Write(clientTextFrame("2probe"))
		require.NoError(t, err)
		assert.Equal(t, "3probe", readServerText(t, br))
		pending := h.pollPending(sid)
		_, err = c.Write(clientTextFrame("5"))
		require.NoError(t, err)
		assert.Equal(t, "websocket", testutil.Recv(t, h.ups))
		res := testutil.Recv(t, pending)
		assert.Equal(t, http.StatusBadRequest, res.status)
		assert.Equal(t, mismatch, res.body)
	})
	t.Run("GET after the probe answer", func(t *testing.T) {
		h := newHarness(t, nil)
		for range 20 {
			sid, _ := h.handshake()
			h.nextConn()
			c, br := h.rawUpgrade(t, sid)
			_, err := c.Write(both)
			require.NoError(t, err)
			assert.Equal(t, "3probe", readServerText(t, br))
			res := h.poll(sid)
			assert.Equal(t, http.StatusBadRequest, res.status)
			assert.Equal(t, mismatch, res.body)
			assert.Equal(t, "websocket", testutil.Recv(t, h.ups))
		}
	})
	t.Run("GET right after the write", func(t *testing.T) {
		h := newHarness(t, nil)
		for range 20 {
			sid, _ := h.handshake()
			h.nextConn()
			c, br := h.rawUpgrade(t, sid)
			_, err := c.Write(both)
			require.NoError(t, err)
			res := h.poll(sid)
			assert.Equal(t, http.StatusBadRequest, res.status)
			assert.Equal(t, mismatch, res.body)
			assert.Equal(t, "3probe", readServerText(t, br))
			assert.Equal(t, "websocket", testutil.Recv(t, h.ups))
		}
	})
}

// stalledPOST sends the headers of a POST announcing n bytes and the first
// part of its body, and no more.
func (h *harness) stalledPOST(t testing.TB, sid string, n int, part string) *bufio.Reader {
	t.Helper()
	addr := strings.TrimPrefix(h.ts.URL, "http://")
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(waitTimeout))
	_, err = io.WriteString(c, "POST /engine.io/?EIO=4&transport=polling&sid="+sid+" HTTP/1.1\r\nHost: "+addr+
		"\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: "+strconv.Itoa(n)+"\r\n\r\n"+part)
	require.NoError(t, err)
	return bufio.NewReader(c)
}

func postActive(s *Socket) func() bool {
	return func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.postActive
	}
}

// TestPollingStalledPOSTEndsWithSession: the read of a POST body that
// stalls ends when its session does, with a 400. Here the session ends as
// the client, stuck in that POST, sends another.
func TestPollingStalledPOSTEndsWithSession(t *testing.T) {
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	sess := h.nextConn()
	br := h.stalledPOST(t, sid, 100, "4abc")
	h.eventually("the POST being read", postActive(sess))
	assert.Equal(t, http.StatusBadRequest, h.post(sid, "4second").status)
	ev := h.nextClose()
	assert.Equal(t, sio.ReasonTransportError, ev.reason)
	assert.ErrorIs(t, ev.err, errPostOverlap)
	res, err := http.ReadResponse(br, nil)
	require.NoError(t, err, "the stalled POST is not answered")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
}

// TestPollingStalledPOSTHitsReadDeadline: a POST body that stalls on a
// session that lives on (upgraded meanwhile, answering pings) is given up
// after PingInterval+PingTimeout, without ending the session.
func TestPollingStalledPOSTHitsReadDeadline(t *testing.T) {
	h := newHarness(t, &Options{PingInterval: 100 * time.Millisecond, PingTimeout: 300 * time.Millisecond})
	sid, _ := h.handshake()
	sess := h.nextConn()
	br := h.stalledPOST(t, sid, 100, "4abc")
	h.eventually("the POST being read", postActive(sess))
	c := h.upgrade(sid)
	ctx, cancel := context.WithCancel(context.Background())
	pongs := make(chan struct{})
	var pinged atomic.Int32
	go func() {
		defer close(pongs)
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				return
			}
			if string(b) == "2" {
				pinged.Add(1)
				_ = c.Write(ctx, websocket.MessageText, []byte("3"))
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-pongs })
	res, err := http.ReadResponse(br, nil)
	require.NoError(t, err, "the stalled POST is not answered")
	assert.Equal(t, http.StatusBadRequest, res.StatusCode)
	assert.NotZero(t, pinged.Load(), "answered before the deadline")
	select {
	case ev := <-h.closes:
		t.Fatalf("the session closed: %+v", ev)
	default:
	}
	assert.Same(t, sess, h.srv.Socket(sid))
	assert.Equal(t, "websocket", sess.Transport())
}

// httpTimeouts has the harness's HTTP server use short read and write
// timeouts, shorter than its sessions' ping interval.
func httpTimeouts(d time.Duration) func(*harness) {
	return func(h *harness) {
		h.httpServer = func(s *http.Server) {
			s.ReadTimeout = d
			s.WriteTimeout = d
			s.IdleTimeout = time.Minute
		}
	}
}

// TestPollingUnderHTTPServerTimeouts: an http.Server's ReadTimeout and
// WriteTimeout, counted from a request's start, do not cut a long-poll
// held longer (until the ping).
func TestPollingUnderHTTPServerTimeouts(t *testing.T) {
	h := newHarness(t, &Options{PingInterval: 400 * time.Millisecond, PingTimeout: time.Second}, httpTimeouts(100*time.Millisecond))
	sid, _ := h.handshake()
	h.nextConn()
	for range 2 {
		res := h.poll(sid) // held until the ping, past both timeouts
		assert.Equal(t, http.StatusOK, res.status)
		assert.Equal(t, "2", res.body)
		assert.Equal(t, "ok", h.post(sid, "3").body)
	}
	select {
	case ev := <-h.closes:
		t.Fatalf("the session closed: %+v", ev)
	default:
	}
}

// TestWebSocketUnderHTTPServerTimeouts: the deadlines net/http leaves on a
// hijacked connection are cleared, on both accept paths (the engine's own
// protocol and coder/websocket's), for direct sessions and upgrades.
func TestWebSocketUnderHTTPServerTimeouts(t *testing.T) {
	for name, deflate := range map[string]bool{"own protocol": false, "permessage-deflate": true} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, &Options{
				PingInterval:      300 * time.Millisecond,
				PingTimeout:       time.Second,
				PerMessageDeflate: deflate,
			}, httpTimeouts(50*time.Millisecond))
			c, sid := h.wsHandshake()
			h.nextConn()
			sid2, _ := h.handshake()
			h.nextConn()
			up := h.upgrade(sid2)
			for range 2 {
				for _, tc := range []struct {
					c   *websocket.Conn
					sid string
				}{{c, sid}, {up, sid2}} {
					assert.Equal(t, "2", readWSText(t, tc.c)) // written past WriteTimeout
					writeWS(t, tc.c, "3")
					writeWS(t, tc.c, "4alive") // read past ReadTimeout
					assert.Equal(t, msgEvent{tc.sid, "alive", false}, h.nextMsg())
				}
			}
		})
	}
}

// TestPollingInvalidUTF8BecomesReplacement: what a polling client sends
// with invalid UTF-8 reaches a WebSocket client as valid UTF-8: the body is
// decoded as Node.js decodes it, one U+FFFD per maximal ill-formed
// subsequence; binary data (protocol 3 binary payloads) is untouched.
func TestPollingInvalidUTF8BecomesReplacement(t *testing.T) {
	var relay atomic.Pointer[Socket]
	h := newHarness(t, &Options{AllowEIO3: true}, func(h *harness) {
		h.onMessage = func(s *Socket, data []byte, binary bool) {
			if r := relay.Load(); r != nil && r != s {
				_ = r.SendMessage(data, binary)
			}
		}
	})
	c, _ := h.wsHandshake()
	relay.Store(h.nextConn())
	const want = "4[\"chat\",\"a\uFFFDb\uFFFD\uFFFD\uFFFDc\uFFFD\"]"

	sid, _ := h.handshake()
	h.nextConn()
	assert.Equal(t, "ok", h.post(sid, "4[\"chat\",\"a\xffb\xed\xa0\x80c\xe2\x82\"]").body)
	got := readWSText(t, c)
	assert.True(t, utf8.ValidString(got), "%q", got)
	assert.Equal(t, want, got)

	// Protocol 3, text payload: the length counts the decoded characters, as upstream.
	sid3, _ := h.handshakeV3()
	assert.Equal(t, "ok", h.postV3(sid3, "text/plain;charset=UTF-8", "20:4[\"chat\",\"a\xffb\xed\xa0\x80c\xe2\x82\"]").body)
	assert.Equal(t, want, readWSText(t, c))

	// Protocol 3, binary payload: the text packet is decoded, the binary one is not.
	text := "4[\"chat\",\"a\xffb\xed\xa0\x80c\xe2\x82\"]"
	body := []byte{0}
	for _, d := range strconv.Itoa(len(text)) {
		body = append(body, byte(d-'0'))
	}
	body = append(body, 255)
	body = append(body, text...)
	body = append(body, 1, 4, 255, 4, 0xff, 0xfe, 0xed)
	assert.Equal(t, "ok", h.postV3(sid3, "application/octet-stream", string(body)).body)
	assert.Equal(t, want, readWSText(t, c))
	b, bin := readWS(t, c)
	assert.True(t, bin)
	assert.Equal(t, "\xff\xfe\xed", b)
}
