//go:build !js

package engine

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/testutil"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var fastHeartbeat = &Options{PingInterval: 50 * time.Millisecond, PingTimeout: 50 * time.Millisecond}

func TestHeartbeatWebSocket(t *testing.T) {
	h := newHarness(t, fastHeartbeat)
	start := time.Now()
	c, sid := h.wsHandshake()
	h.nextConn()
	for range 3 {
		assert.Equal(t, "2", readWSText(t, c))
		writeWS(t, c, "3")
	}
	// Three pings, each a ping interval after the session opened or the
	// previous pong.
	assert.GreaterOrEqual(t, time.Since(start), 3*fastHeartbeat.PingInterval)
	assert.Equal(t, "2", readWSText(t, c))
	// No pong: the session ends.
	ev := h.nextClose()
	assert.Equal(t, sid, ev.sid)
	assert.Equal(t, sio.ReasonPingTimeout, ev.reason)
	readWSErr(t, c)
}

func TestHeartbeatPolling(t *testing.T) {
	h := newHarness(t, fastHeartbeat)
	start := time.Now()
	sid, hs := h.handshake()
	h.nextConn()
	assert.EqualValues(t, 50, hs["pingInterval"])
	assert.EqualValues(t, 50, hs["pingTimeout"])
	for range 2 {
		assert.Equal(t, "2", h.poll(sid).body)
		assert.Equal(t, "ok", h.post(sid, "3").body)
	}
	assert.GreaterOrEqual(t, time.Since(start), 2*fastHeartbeat.PingInterval)
	assert.Equal(t, "2", h.poll(sid).body)
	pending := h.pollAsync(sid)
	ev := h.nextClose()
	assert.Equal(t, sio.ReasonPingTimeout, ev.reason)
	// The GET sent after the last ping gets a close packet (or, if it
	// arrived after the close, an unknown-session error).
	res := testutil.Recv(t, pending)
	if res.status == http.StatusOK {
		assert.Equal(t, "1", res.body)
	} else {
		assert.Equal(t, errBody(1, "Session ID unknown"), res.body)
	}
}

func TestHeartbeatLatePongIgnored(t *testing.T) {
	// A pong that was not asked for changes nothing.
	h := newHarness(t, &Options{PingInterval: time.Hour, PingTimeout: time.Hour})
	sid, _ := h.handshake()
	h.nextConn()
	assert.Equal(t, "ok", h.post(sid, "3").body)
	assert.Equal(t, 1, h.srv.ClientsCount())
}

func TestTransportsRestriction(t *testing.T) {
	t.Run("polling only", func(t *testing.T) {
		h := newHarness(t, &Options{Transports: []string{"polling"}})
		_, hs := h.handshake()
		assert.Equal(t, []any{}, hs["upgrades"])
		h.nextConn()
		_, res, err := h.dialRaw()
		require.Error(t, err)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode)
		assertBody(t, res, errBody(0, "Transport unknown"))
	})
	t.Run("websocket only", func(t *testing.T) {
		h := newHarness(t, &Options{Transports: []string{"websocket"}})
		res := h.do(http.MethodGet, h.query("transport", "polling"), "")
		assert.Equal(t, http.StatusBadRequest, res.status)
		assert.Equal(t, errBody(0, "Transport unknown"), res.body)
		h.wsHandshake()
		h.nextConn()
	})
}

func TestBadRequests(t *testing.T) {
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	_, wsSID := h.wsHandshake()
	h.nextConn()
	h.nextConn()
	for _, tc := range []struct {
		name   string
		method string
		url    string
		status int
		body   string
	}{
		{"missing transport", "GET", h.query(), 400, errBody(0, "Transport unknown")},
		{"unknown transport", "GET", h.query("transport", "flash"), 400, errBody(0, "Transport unknown")},
		{"webtransport", "GET", h.query("transport", "webtransport"), 400, errBody(0, "Transport unknown")},
		{"unknown sid", "GET", h.query("transport", "polling", "sid", "nope"), 400, errBody(1, "Session ID unknown")},
		{"unknown sid POST", "POST", h.query("transport", "polling", "sid", "nope"), 400, errBody(1, "Session ID unknown")},
		{"POST handshake", "POST", h.query("transport", "polling"), 400, errBody(2, "Bad handshake method")},
		{"PUT handshake", "PUT", h.query("transport", "polling"), 400, errBody(2, "Bad handshake method")},
		{"websocket without upgrade", "GET", h.query("transport", "websocket"), 400, errBody(3, "Bad request")},
		{"websocket sid without upgrade", "GET", h.query("transport", "websocket", "sid", sid), 400, errBody(3, "Bad request")},
		{"polling on websocket session", "GET", h.query("transport", "polling", "sid", wsSID), 400, errBody(3, "Bad request")},
		{"EIO=3", "GET", h.query("transport", "polling", "EIO", "3"), 400, errBody(5, "Unsupported protocol version")},
		{"EIO=5", "GET", h.query("transport", "polling", "EIO", "5"), 400, errBody(5, "Unsupported protocol version")},
		{"missing EIO", "GET", h.query("transport", "polling", "EIO", ""), 400, errBody(5, "Unsupported protocol version")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := h.do(tc.method, tc.url, "")
			assert.Equal(t, tc.status, res.status)
			assert.Equal(t, tc.body, res.body)
			assert.Equal(t, "application/json", res.header.Get("Content-Type"))
		})
	}
	assert.Equal(t, 2, h.srv.ClientsCount(), "no session opened or closed by bad requests")
	t.Run("EIO=3 websocket", func(t *testing.T) {
		_, res, err := h.dialRaw("EIO", "3")
		require.Error(t, err)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode)
		assertBody(t, res, errBody(5, "Unsupported protocol version"))
	})
}

func TestInvalidOriginHeader(t *testing.T) {
	srv := NewServer(nil)
	defer srv.Close()
	req := httptest.NewRequest(http.MethodGet, "/engine.io/?EIO=4&transport=polling", nil)
	req.Header.Set("Origin", "http://a\x01b")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusBadRequest, rec.Code)
	assert.Equal(t, errBody(3, "Bad request"), rec.Body.String())
	assert.Zero(t, srv.ClientsCount())
}

func TestAllowRequest(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	h := newHarness(t, &Options{AllowRequest: func(r *http.Request) error {
		mu.Lock()
		seen = append(seen, r.URL.Query().Get("transport"))
		mu.Unlock()
		if r.Header.Get("X-Token") != "ok" && r.URL.Query().Get("token") != "ok" {
			return errors.New(`not "you"`)
		}
		return nil
	}})
	res := h.do(http.MethodGet, h.query("transport", "polling"), "")
	assert.Equal(t, http.StatusForbidden, res.status)
	assert.Equal(t, `{"code":4,"message":"not \"you\""}`, res.body)
	assert.Equal(t, "application/json", res.header.Get("Content-Type"))

	_, wres, err := h.dialRaw()
	require.Error(t, err)
	assert.Equal(t, http.StatusForbidden, wres.StatusCode)
	assertBody(t, wres, `{"code":4,"message":"not \"you\""}`)
	assert.Zero(t, h.srv.ClientsCount())
	select {
	case s := <-h.conn:
		t.Fatalf("refused handshake opened session %s", s.ID())
	default:
	}

	res = h.do(http.MethodGet, h.query("transport", "polling"), "", "X-Token", "ok")
	require.Equal(t, http.StatusOK, res.status)
	sid := h.nextConn().ID()
	// Only handshakes are asked about.
	assert.Equal(t, "ok", h.post(sid, "4x").body)
	h.dial("token", "ok")
	h.nextConn()
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"polling", "websocket", "polling", "websocket"}, seen)
}

func TestAllowRequestEmptyMessage(t *testing.T) {
	h := newHarness(t, &Options{AllowRequest: func(*http.Request) error { return errors.New("") }})
	res := h.do(http.MethodGet, h.query("transport", "polling"), "")
	assert.Equal(t, http.StatusForbidden, res.status)
	assert.Equal(t, errBody(4, "Forbidden"), res.body)
}

func TestCORS(t *testing.T) {
	corsHeaders := []string{
		"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
		"Access-Control-Allow-Headers", "Access-Control-Expose-Headers", "Access-Control-Max-Age",
	}
	preflight := func(h *harness, origin string) response {
		return h.do(http.MethodOptions, h.query("transport", "polling"), "",
			"Origin", origin, "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "content-type,x-a")
	}
	t.Run("off by default", func(t *testing.T) {
		h := newHarness(t, nil)
		res := h.do(http.MethodGet, h.query("transport", "polling"), "", "Origin", "http://a.example")
		require.Equal(t, http.StatusOK, res.status)
		h.nextConn()
		for _, k := range corsHeaders {
			assert.Empty(t, res.header.Get(k), k)
		}
		res = preflight(h, "http://a.example")
		assert.NotEqual(t, http.StatusNoContent, res.status)
		assert.Empty(t, res.header.Get("Access-Control-Allow-Origin"))
	})
	t.Run("defaults", func(t *testing.T) {
		h := newHarness(t, &Options{CORS: &CORSOptions{}})
		res := preflight(h, "http://a.example")
		assert.Equal(t, http.StatusNoContent, res.status)
		assert.Equal(t, "*", res.header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "GET,HEAD,PUT,PATCH,POST,DELETE", res.header.Get("Access-Control-Allow-Methods"))
		assert.Equal(t, "content-type,x-a", res.header.Get("Access-Control-Allow-Headers"))
		assert.Contains(t, res.header.Values("Vary"), "Access-Control-Request-Headers")
		assert.Empty(t, res.body)
		assert.Empty(t, res.header.Get("Access-Control-Allow-Credentials"))
		assert.Zero(t, h.srv.ClientsCount(), "a preflight opens no session")

		res = h.do(http.MethodGet, h.query("transport", "polling"), "", "Origin", "http://a.example")
		require.Equal(t, http.StatusOK, res.status)
		assert.Equal(t, "*", res.header.Get("Access-Control-Allow-Origin"))
		h.nextConn()
		// Error answers carry the headers too, so the browser can read them.
		res = h.do(http.MethodGet, h.query("transport", "nope"), "", "Origin", "http://a.example")
		assert.Equal(t, http.StatusBadRequest, res.status)
		assert.Equal(t, "*", res.header.Get("Access-Control-Allow-Origin"))
	})
	t.Run("full options", func(t *testing.T) {
		h := newHarness(t, &Options{CORS: &CORSOptions{
			Origin:         []string{"http://a.example", "http://b.example"},
			Methods:        []string{"GET", "POST"},
			AllowedHeaders: []string{"X-Custom"},
			ExposedHeaders: []string{"X-Out", "X-Two"},
			Credentials:    true,
			MaxAge:         600,
		}})
		res := preflight(h, "http://b.example")
		assert.Equal(t, http.StatusNoContent, res.status)
		assert.Equal(t, "http://b.example", res.header.Get("Access-Control-Allow-Origin"))
		assert.Contains(t, res.header.Values("Vary"), "Origin")
		assert.Equal(t, "GET,POST", res.header.Get("Access-Control-Allow-Methods"))
		assert.Equal(t, "X-Custom", res.header.Get("Access-Control-Allow-Headers"))
		assert.Equal(t, "true", res.header.Get("Access-Control-Allow-Credentials"))
		assert.Equal(t, "600", res.header.Get("Access-Control-Max-Age"))
		assert.Equal(t, "X-Out,X-Two", res.header.Get("Access-Control-Expose-Headers"))

		res = preflight(h, "http://evil.example")
		assert.Empty(t, res.header.Get("Access-Control-Allow-Origin"))

		res = h.do(http.MethodGet, h.query("transport", "polling"), "", "Origin", "http://a.example")
		require.Equal(t, http.StatusOK, res.status)
		h.nextConn()
		assert.Equal(t, "http://a.example", res.header.Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "true", res.header.Get("Access-Control-Allow-Credentials"))
		assert.Equal(t, "X-Out,X-Two", res.header.Get("Access-Control-Expose-Headers"))
		assert.Empty(t, res.header.Get("Access-Control-Allow-Methods"), "only preflights list methods")
	})
	t.Run("credentials with any origin sends a wildcard", func(t *testing.T) {
		// As upstream's cors package: "*", which browsers refuse for
		// credentialed requests, never the reflected origin, which would
		// let any site make them.
		for _, origins := range [][]string{{"*"}, nil} {
			var logs bytes.Buffer
			h := newHarness(t, &Options{
				CORS:   &CORSOptions{Origin: origins, Credentials: true},
				Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			})
			assert.Contains(t, logs.String(), "level=WARN", "the combination is warned about")
			res := preflight(h, "http://c.example")
			assert.Equal(t, "*", res.header.Get("Access-Control-Allow-Origin"))
			assert.Equal(t, "true", res.header.Get("Access-Control-Allow-Credentials"))
			res = h.do(http.MethodGet, h.query("transport", "polling"), "", "Origin", "http://c.example")
			require.Equal(t, http.StatusOK, res.status)
			h.nextConn()
			assert.Equal(t, "*", res.header.Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("credentials with a list holding a wildcard", func(t *testing.T) {
		h := newHarness(t, &Options{CORS: &CORSOptions{Origin: []string{"http://a.example", "*"}, Credentials: true}})
		res := preflight(h, "http://a.example")
		assert.Equal(t, "http://a.example", res.header.Get("Access-Control-Allow-Origin"), "a listed origin is reflected")
		assert.Contains(t, res.header.Values("Vary"), "Origin")
		res = preflight(h, "http://c.example")
		assert.Equal(t, "*", res.header.Get("Access-Control-Allow-Origin"), "any other gets the wildcard")
	})
	t.Run("no warning for an explicit list", func(t *testing.T) {
		var logs bytes.Buffer
		newHarness(t, &Options{
			CORS:   &CORSOptions{Origin: []string{"http://a.example"}, Credentials: true},
			Logger: slog.New(slog.NewTextHandler(&logs, nil)),
		})
		assert.NotContains(t, logs.String(), "level=WARN")
	})
	t.Run("origin function", func(t *testing.T) {
		var mu sync.Mutex
		var asked []string
		h := newHarness(t, &Options{CORS: &CORSOptions{OriginFunc: func(origin string, r *http.Request) bool {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, origin)
			return strings.HasSuffix(origin, ".good.example")
		}}})
		res := preflight(h, "http://x.good.example")
		assert.Equal(t, "http://x.good.example", res.header.Get("Access-Control-Allow-Origin"))
		res = preflight(h, "http://x.bad.example")
		assert.Equal(t, http.StatusNoContent, res.status)
		assert.Empty(t, res.header.Get("Access-Control-Allow-Origin"))
		mu.Lock()
		defer mu.Unlock()
		assert.Equal(t, []string{"http://x.good.example", "http://x.bad.example"}, asked)
	})
}

func TestSocketCloseGracefulPolling(t *testing.T) {
	t.Run("pending GET", func(t *testing.T) {
		h := newHarness(t, nil)
		sid, _ := h.handshake()
		sess := h.nextConn()
		pending := h.pollPending(sid)
		// Send and Close under the GET: whatever it returns first, the
		// queued messages come before the close packet.
		require.NoError(t, sess.SendMessage([]byte("a"), false))
		require.NoError(t, sess.SendMessage([]byte("b"), false))
		sess.Close()
		assert.ErrorIs(t, sess.SendMessage([]byte("late"), false), ErrClosed)
		// The GET may have been woken by "a" alone: poll until the close.
		body := testutil.Recv(t, pending).body
		for !strings.HasSuffix(body, "\x1e1") {
			body += "\x1e" + h.poll(sid).body
		}
		assert.Equal(t, "4a\x1e4b\x1e1", body)
		ev := h.nextClose()
		assert.Equal(t, sio.ReasonForcedClose, ev.reason)
		assert.Nil(t, h.srv.Socket(sid))
		assert.Equal(t, errBody(1, "Session ID unknown"), h.poll(sid).body)
	})
	t.Run("next GET", func(t *testing.T) {
		h := newHarness(t, nil)
		sid, _ := h.handshake()
		sess := h.nextConn()
		require.NoError(t, sess.SendMessage([]byte("a"), false))
		require.NoError(t, sess.SendMessage([]byte{1}, true))
		sess.Close()
		sess.Close() // idempotent
		assert.False(t, sess.writable())
		select {
		case ev := <-h.closes:
			t.Fatalf("closed before the queue was delivered: %+v", ev)
		default:
		}
		assert.Equal(t, "4a\x1ebAQ==\x1e1", h.poll(sid).body)
		assert.Equal(t, sio.ReasonForcedClose, h.nextClose().reason)
		assert.Error(t, sess.Context().Err())
	})
	t.Run("no GET comes", func(t *testing.T) {
		h := newHarness(t, &Options{PingTimeout: 30 * time.Millisecond})
		h.handshake()
		sess := h.nextConn()
		sess.Close()
		assert.Equal(t, sio.ReasonForcedClose, h.nextClose().reason)
		assert.Zero(t, h.srv.ClientsCount())
	})
}

func TestSocketCloseGracefulWebSocket(t *testing.T) {
	h := newHarness(t, nil)
	c, _ := h.wsHandshake()
	sess := h.nextConn()
	const n = 500
	for i := range n {
		require.NoError(t, sess.SendMessage([]byte(strings.Repeat("x", i)), false))
	}
	sess.Close()
	assert.ErrorIs(t, sess.Send(Frame{Data: []byte("4late")}), ErrClosed)
	for i := range n {
		require.Equal(t, "4"+strings.Repeat("x", i), readWSText(t, c))
	}
	err := readWSErr(t, c)
	assert.Equal(t, websocket.StatusNormalClosure, websocket.CloseStatus(err), "%v", err)
	assert.Equal(t, sio.ReasonForcedClose, h.nextClose().reason)
}

func TestSocketCloseInOnConnection(t *testing.T) {
	h := newHarness(t, nil)
	h.srv.OnConnection(func(s *Socket) {
		s.OnClose(func(reason sio.Reason, err error) { h.closes <- closeEvent{s.ID(), reason, err} })
		_ = s.SendMessage([]byte("bye"), false)
		s.Close()
	})
	res := h.do(http.MethodGet, h.query("transport", "polling"), "")
	require.Equal(t, http.StatusOK, res.status)
	parts := strings.Split(res.body, "\x1e")
	require.Len(t, parts, 3, res.body)
	assert.True(t, strings.HasPrefix(parts[0], "0{"))
	assert.Equal(t, []string{"4bye", "1"}, parts[1:])
	assert.Equal(t, sio.ReasonForcedClose, h.nextClose().reason)

	c := h.dial()
	assert.True(t, strings.HasPrefix(readWSText(t, c), "0{"))
	assert.Equal(t, "4bye", readWSText(t, c))
	readWSErr(t, c)
	assert.Equal(t, sio.ReasonForcedClose, h.nextClose().reason)
}

func TestServerClose(t *testing.T) {
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	closingSID, _ := h.handshake()
	c, _ := h.wsHandshake()
	var socks []*Socket
	for range 3 {
		socks = append(socks, h.nextConn())
	}
	pending := h.pollPending(sid)
	// A graceful close under way that nobody collects ends too.
	h.srv.Socket(closingSID).Close()

	closed := make(chan error, 1)
	go func() { closed <- h.srv.Close() }()
	require.NoError(t, testutil.Recv(t, closed), "Close must not wait for the graceful close's grace period")
	assert.Zero(t, h.srv.ClientsCount())
	assert.Equal(t, "1", testutil.Recv(t, pending).body)
	readWSErr(t, c)
	reasons := map[sio.Reason]int{}
	for range 3 {
		reasons[h.nextClose().reason]++
	}
	assert.Equal(t, map[sio.Reason]int{sio.ReasonForcedServerClose: 2, sio.ReasonForcedClose: 1}, reasons)
	for _, s := range socks {
		assert.ErrorIs(t, s.SendMessage([]byte("x"), false), ErrClosed)
		assert.Error(t, s.Context().Err())
	}
	require.NoError(t, h.srv.Close(), "idempotent")

	res := h.do(http.MethodGet, h.query("transport", "polling"), "")
	assert.Equal(t, http.StatusServiceUnavailable, res.status)
	_, wres, err := h.dialRaw()
	require.Error(t, err)
	assert.Equal(t, http.StatusServiceUnavailable, wres.StatusCode)
}

func TestServerShutdown(t *testing.T) {
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	c, _ := h.wsHandshake()
	polling, ws := h.nextConn(), h.nextConn()
	pending := h.pollPending(sid)
	for i := range 100 {
		require.NoError(t, ws.SendMessage([]byte{byte('a' + i%26)}, false))
	}

	done := make(chan error, 1)
	go func() { done <- h.srv.Shutdown(context.Background()) }()
	// The pending GET gets the close packet; the WebSocket gets what was
	// queued, then a normal close.
	assert.Equal(t, "1", testutil.Recv(t, pending).body)
	for i := range 100 {
		require.Equal(t, "4"+string(rune('a'+i%26)), readWSText(t, c))
	}
	err := readWSErr(t, c)
	assert.Equal(t, websocket.StatusNormalClosure, websocket.CloseStatus(err), "%v", err)
	require.NoError(t, testutil.Recv(t, done))
	assert.Zero(t, h.srv.ClientsCount())
	assert.ErrorIs(t, polling.SendMessage([]byte("x"), false), ErrClosed)
	for range 2 {
		assert.Equal(t, sio.ReasonForcedClose, h.nextClose().reason)
	}
}

func TestServerShutdownDeadline(t *testing.T) {
	h := newHarness(t, nil)
	h.handshake()
	sess := h.nextConn()
	require.NoError(t, sess.SendMessage([]byte("never collected"), false))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	err := h.srv.Shutdown(ctx)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Zero(t, h.srv.ClientsCount())
	assert.Equal(t, sio.ReasonForcedClose, h.nextClose().reason)
}

func TestServerShutdownEmpty(t *testing.T) {
	srv := NewServer(nil)
	require.NoError(t, srv.Shutdown(context.Background()))
	require.NoError(t, srv.Close())
}

func TestQueueLimit(t *testing.T) {
	h := newHarness(t, &Options{MaxQueuedBytes: 1000})
	h.handshake()
	sess := h.nextConn()
	require.NoError(t, sess.SendMessage(make([]byte, 900), false))
	assert.ErrorIs(t, sess.SendMessage(make([]byte, 200), false), ErrQueueFull)
	ev := h.nextClose()
	assert.Equal(t, sio.ReasonTransportError, ev.reason)
	assert.ErrorIs(t, ev.err, ErrQueueFull)
	assert.ErrorIs(t, sess.SendMessage([]byte("x"), false), ErrClosed)
}

func TestOptionsDefaults(t *testing.T) {
	srv := NewServer(nil)
	defer srv.Close()
	o := srv.Options()
	assert.Equal(t, 25*time.Second, o.PingInterval)
	assert.Equal(t, 20*time.Second, o.PingTimeout)
	assert.Equal(t, 10*time.Second, o.UpgradeTimeout)
	assert.EqualValues(t, 1e6, o.MaxHTTPBufferSize)
	assert.Equal(t, []string{"polling", "websocket"}, o.Transports)
	assert.Equal(t, 64<<20, o.MaxQueuedBytes)
	assert.NotNil(t, o.Logger)
}

func TestServerCloseDuringOnConnection(t *testing.T) {
	h := newHarness(t, nil)
	entered := make(chan *Socket, 1)
	release := make(chan struct{})
	var order []string
	var mu sync.Mutex
	note := func(s string) { mu.Lock(); order = append(order, s); mu.Unlock() }
	h.srv.OnConnection(func(s *Socket) {
		s.OnClose(func(reason sio.Reason, err error) {
			note("OnClose " + string(reason))
			h.closes <- closeEvent{s.ID(), reason, err}
		})
		entered <- s
		<-release
		note("OnConnection returns")
	})
	var once sync.Once
	unblock := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unblock)
	res := h.pollAsync("")
	sess := testutil.Recv(t, entered)
	closed := make(chan error, 1)
	go func() { closed <- h.srv.Close() }()
	testutil.Eventually(t, "session closed", func() bool { return sess.Context().Err() != nil })
	select {
	case ev := <-h.closes:
		t.Fatalf("OnClose called while OnConnection runs: %+v", ev)
	case err := <-closed:
		t.Fatalf("Close returned before OnClose: %v", err)
	default:
	}
	unblock()
	assert.Equal(t, sio.ReasonForcedServerClose, h.nextClose().reason)
	require.NoError(t, testutil.Recv(t, closed))
	assert.Equal(t, http.StatusBadRequest, testutil.Recv(t, res).status)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"OnConnection returns", "OnClose forced server close"}, order)
}
