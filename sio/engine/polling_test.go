//go:build !js

package engine

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/testutil"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var sidPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{20}$`)

func TestPollingHandshake(t *testing.T) {
	h := newHarness(t, nil)
	res := h.do(http.MethodGet, h.query("transport", "polling"), "", "User-Agent", "test-agent")
	require.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "text/plain; charset=UTF-8", res.header.Get("Content-Type"))
	assert.Equal(t, "no-store", res.header.Get("Cache-Control"))
	assert.Empty(t, res.header.Get("Access-Control-Allow-Origin"), "no CORS by default")

	sess := h.nextConn()
	assert.Regexp(t, sidPattern, sess.ID())
	want := `0{"sid":"` + sess.ID() + `","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`
	assert.Equal(t, want, res.body)
	assert.Equal(t, "polling", sess.Transport())
	assert.Same(t, sess, h.srv.Socket(sess.ID()))
	assert.Equal(t, 1, h.srv.ClientsCount())
	assert.Equal(t, "test-agent", sess.Request().Header.Get("User-Agent"))
	assert.Equal(t, "polling", sess.Request().Query.Get("transport"))
	assert.Equal(t, "127.0.0.1", sess.Request().RemoteAddr)
	assert.NoError(t, sess.Context().Err())

	// The next GET waits: nothing is queued.
	assert.False(t, sess.writable())
}

// TestPollingTrySend checks a volatile send is dropped while no GET is
// pending, and goes out on the GET that is.
func TestPollingTrySend(t *testing.T) {
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	sess := h.nextConn()
	assert.False(t, sess.TrySend(Frame{Data: []byte("4dropped")}), "no GET pending")
	ch := h.pollPending(sid)
	assert.True(t, sess.TrySend(Frame{Data: []byte("4sent")}))
	assert.Equal(t, "4sent", testutil.Recv(t, ch).body)
}

func TestPollingHandshakeOptions(t *testing.T) {
	h := newHarness(t, &Options{
		PingInterval:      300 * time.Millisecond,
		PingTimeout:       200 * time.Millisecond,
		MaxHTTPBufferSize: 5000,
		GenerateID:        func(*http.Request) string { return "fixed-id" },
	})
	res := h.do(http.MethodGet, h.query("transport", "polling"), "")
	assert.Equal(t, `0{"sid":"fixed-id","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":5000}`, res.body)
	// A second handshake with the same id is refused.
	res = h.do(http.MethodGet, h.query("transport", "polling"), "")
	assert.Equal(t, http.StatusBadRequest, res.status)
	assert.Equal(t, 1, h.srv.ClientsCount())
}

func TestPollingGETWaitsAndReturnsEverythingQueued(t *testing.T) {
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	sess := h.nextConn()

	// A pending GET is released by the first send.
	pending := h.pollPending(sid)
	select {
	case res := <-pending:
		t.Fatalf("GET answered with nothing queued: %+v", res)
	default:
	}
	require.NoError(t, sess.SendMessage([]byte("first"), false))
	res := testutil.Recv(t, pending)
	assert.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "4first", res.body)

	// What is queued while no GET waits comes as one payload, in order.
	require.NoError(t, sess.SendMessage([]byte("hello"), false))
	require.NoError(t, sess.SendMessage([]byte{1, 2, 3}, true))
	require.NoError(t, sess.Send(Frame{Data: []byte("4a")}, Frame{Data: []byte{0xff}, Binary: true}))
	require.NoError(t, sess.SendMessage([]byte("€ world"), false))
	res = h.poll(sid)
	assert.Equal(t, "4hello\x1ebAQID\x1e4a\x1eb/w==\x1e4€ world", res.body)
	assert.Equal(t, "text/plain; charset=UTF-8", res.header.Get("Content-Type"))
	assert.Equal(t, fmt.Sprint(len(res.body)), res.header.Get("Content-Length"))
}

func TestPollingPOSTDeliversInOrderBeforeAnswering(t *testing.T) {
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	h.nextConn()

	res := h.post(sid, "4a\x1ebAQI=\x1e4\x1e4b€")
	assert.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "ok", res.body)
	assert.Equal(t, "text/html", res.header.Get("Content-Type"))
	assert.Equal(t, "no-store", res.header.Get("Cache-Control"))
	// Delivered before the answer: no wait needed.
	for _, want := range []msgEvent{{sid, "a", false}, {sid, "\x01\x02", true}, {sid, "", false}, {sid, "b€", false}} {
		select {
		case got := <-h.msgs:
			assert.Equal(t, want, got)
		default:
			t.Fatalf("message %q not delivered before the POST was answered", want.data)
		}
	}
	res = h.post(sid, "4c")
	assert.Equal(t, "ok", res.body)
	assert.Equal(t, msgEvent{sid, "c", false}, h.nextMsg())
}

func TestPollingSlowHandlerAndSequentialPOSTs(t *testing.T) {
	// A client that waits for each answer never overlaps, however slow
	// the handler is.
	release := make(chan struct{})
	entered := make(chan string, 10)
	h := newHarness(t, nil, func(h *harness) {
		h.onMessage = func(_ *Socket, data []byte, _ bool) {
			entered <- string(data)
			<-release
		}
	})
	sid, _ := h.handshake()
	h.nextConn()
	t.Cleanup(func() { close(release) }) // before the server closes
	for i := range 3 {
		done := make(chan response, 1)
		go func() { done <- h.post(sid, fmt.Sprintf("4m%d", i)) }()
		assert.Equal(t, fmt.Sprintf("m%d", i), testutil.Recv(t, entered))
		select {
		case res := <-done:
			t.Fatalf("POST answered before delivery finished: %+v", res)
		default:
		}
		release <- struct{}{}
		assert.Equal(t, "ok", testutil.Recv(t, done).body)
	}
	assert.Equal(t, 1, h.srv.ClientsCount())
}

func TestPollingOverlappingGETEndsSession(t *testing.T) {
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	other, _ := h.handshake()
	h.nextConn()
	h.nextConn()

	first := h.pollPending(sid)
	second := h.poll(sid)
	assert.Equal(t, http.StatusBadRequest, second.status)
	res := testutil.Recv(t, first)
	assert.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "1", res.body)
	ev := h.nextClose()
	assert.Equal(t, sid, ev.sid)
	assert.Equal(t, sio.ReasonTransportError, ev.reason)
	assert.Nil(t, h.srv.Socket(sid))
	assert.Equal(t, errBody(1, "Session ID unknown"), h.poll(sid).body)

	// The other session is unaffected.
	assert.Equal(t, "ok", h.post(other, "4x").body)
	assert.Equal(t, msgEvent{other, "x", false}, h.nextMsg())
}

func TestPollingConcurrentPOSTEndsSession(t *testing.T) {
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
	first := make(chan response, 1)
	go func() { first <- h.post(sid, "4block") }()
	testutil.Recv(t, entered)
	res := h.post(sid, "4second")
	assert.Equal(t, http.StatusBadRequest, res.status)
	ev := h.nextClose()
	assert.Equal(t, sio.ReasonTransportError, ev.reason)
	assert.ErrorIs(t, ev.err, errPostOverlap)
	unblock()
	assert.Equal(t, http.StatusOK, testutil.Recv(t, first).status)
	assert.Nil(t, h.srv.Socket(sid))
}

func TestPollingClientClosePacket(t *testing.T) {
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	sess := h.nextConn()
	pending := h.pollPending(sid)
	assert.Equal(t, "ok", h.post(sid, "1").body)
	ev := h.nextClose()
	assert.Equal(t, sio.ReasonTransportClose, ev.reason)
	// A noop, as upstream: a close packet only comes with a close the server starts.
	res := testutil.Recv(t, pending)
	assert.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "6", res.body)
	assert.ErrorIs(t, sess.SendMessage([]byte("late"), false), ErrClosed)
	assert.Error(t, sess.Context().Err())
}

func TestPollingClientGoneEndsSession(t *testing.T) {
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	h.nextConn()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.query("transport", "polling", "sid", sid), nil)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() {
		res, err := h.ts.Client().Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		done <- err
	}()
	h.eventually("GET pending", h.srv.Socket(sid).writable)
	cancel()
	assert.Error(t, testutil.Recv(t, done))
	ev := h.nextClose()
	assert.Equal(t, sio.ReasonTransportError, ev.reason)
	assert.ErrorIs(t, ev.err, errPollClosed)
}

func TestPollingMaxHTTPBufferSize(t *testing.T) {
	h := newHarness(t, &Options{MaxHTTPBufferSize: 100})
	sid, hs := h.handshake()
	h.nextConn()
	assert.EqualValues(t, 100, hs["maxPayload"])

	res := h.post(sid, "4"+strings.Repeat("x", 100))
	assert.Equal(t, http.StatusRequestEntityTooLarge, res.status)

	// Without a Content-Length (chunked), the limit holds too.
	req, err := http.NewRequest(http.MethodPost, h.query("transport", "polling", "sid", sid),
		io.MultiReader(strings.NewReader("4"), strings.NewReader(strings.Repeat("y", 200))))
	require.NoError(t, err)
	require.Zero(t, req.ContentLength) // unknown length: sent chunked
	assert.Equal(t, http.StatusRequestEntityTooLarge, h.send(req).status)

	res = h.post(sid, "4"+strings.Repeat("z", 99))
	assert.Equal(t, "ok", res.body)
	assert.Equal(t, strings.Repeat("z", 99), h.nextMsg().data)
}

func TestPollingInvalidPacketClosesOnlyThatSession(t *testing.T) {
	for name, body := range map[string]string{
		"unknown type":   "9x",
		"empty packet":   "4a\x1e\x1e4b",
		"bad base64":     "b!!!",
		"empty payload":  "",
		"trailing sep":   "4a\x1e",
		"binary content": "\x01\x02",
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, nil)
			bad, _ := h.handshake()
			good, _ := h.handshake()
			h.nextConn()
			h.nextConn()
			pending := h.pollPending(bad)
			var res response
			if name == "binary content" {
				res = h.do(http.MethodPost, h.query("transport", "polling", "sid", bad), body, "Content-Type", "application/octet-stream")
			} else {
				res = h.post(bad, body)
			}
			assert.Equal(t, http.StatusBadRequest, res.status)
			assert.Equal(t, errBody(3, "Bad request"), res.body)
			ev := h.nextClose()
			assert.Equal(t, bad, ev.sid)
			assert.ErrorIs(t, ev.err, ErrInvalidPacket)
			if name == "binary content" {
				assert.Equal(t, sio.ReasonTransportError, ev.reason)
			} else {
				assert.Equal(t, sio.ReasonParseError, ev.reason)
			}
			assert.Equal(t, "1", testutil.Recv(t, pending).body)
			select {
			case m := <-h.msgs:
				t.Fatalf("message delivered from an invalid payload: %+v", m)
			default:
			}

			assert.Equal(t, "ok", h.post(good, "4still").body)
			assert.Equal(t, msgEvent{good, "still", false}, h.nextMsg())
			require.NoError(t, h.srv.Socket(good).SendMessage([]byte("alive"), false))
			assert.Equal(t, "4alive", h.poll(good).body)
		})
	}
}

func TestPollingClientPingIsAnError(t *testing.T) {
	// In protocol v4 only the server pings, as upstream enforces.
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	h.nextConn()
	assert.Equal(t, "ok", h.post(sid, "2").body)
	ev := h.nextClose()
	assert.Equal(t, sio.ReasonTransportError, ev.reason)
	assert.ErrorIs(t, ev.err, errHeartbeatDirection)
}

func TestPollingUnsupportedMethod(t *testing.T) {
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	h.nextConn()
	res := h.do(http.MethodPut, h.query("transport", "polling", "sid", sid), "4x")
	assert.Equal(t, http.StatusInternalServerError, res.status)
	assert.Equal(t, 1, h.srv.ClientsCount())
}

func TestPollingNoopsAreIgnored(t *testing.T) {
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	h.nextConn()
	assert.Equal(t, "ok", h.post(sid, "6\x1e5\x1e4after").body)
	assert.Equal(t, "after", h.nextMsg().data)
}

func TestOnMessageIsSerialisedAcrossUpgrade(t *testing.T) {
	// A POST still delivering when the WebSocket takes over must not
	// overlap with the WebSocket's messages.
	var active, maxActive atomic.Int32
	release := make(chan struct{})
	entered := make(chan string, 100)
	h := newHarness(t, nil, func(h *harness) {
		h.onMessage = func(_ *Socket, data []byte, _ bool) {
			n := active.Add(1)
			if n > maxActive.Load() {
				maxActive.Store(n)
			}
			entered <- string(data)
			if string(data) == "block" {
				<-release
			}
			active.Add(-1)
		}
	})
	sid, _ := h.handshake()
	h.nextConn()
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock) // before the server closes
	posted := make(chan response, 1)
	go func() { posted <- h.post(sid, "4block") }()
	assert.Equal(t, "block", testutil.Recv(t, entered))
	c := h.upgrade(sid)
	writeWS(t, c, "4ws")
	// Without serialisation the WebSocket message is delivered at once,
	// while "block" is still in its handler.
	select {
	case got := <-entered:
		t.Fatalf("message %q delivered while another was in its handler", got)
	case <-time.After(50 * time.Millisecond): // bounded wait for a negative result
	}
	unblock()
	assert.Equal(t, "ws", testutil.Recv(t, entered))
	assert.Equal(t, "ok", testutil.Recv(t, posted).body)
	assert.EqualValues(t, 1, maxActive.Load())
}
