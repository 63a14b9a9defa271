//go:build !js

package engine

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/testutil"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// goroutineReaders, while set, has every WebSocket of a new harness read
// by a goroutine of its own instead of a poller (see TestGoroutineReaders).
var goroutineReaders atomic.Bool

// waitTimeout bounds every wait of the tests; it is only reached when a
// test fails.
const waitTimeout = 5 * time.Second

// msgEvent is a message received by a session.
type msgEvent struct {
	sid    string
	data   string
	binary bool
}

// closeEvent is a session's OnClose call.
type closeEvent struct {
	sid    string
	reason sio.Reason
	err    error
}

// harness is an engine server behind an httptest server, recording what
// its sessions do.
type harness struct {
	t    testing.TB
	srv  *Server
	ts   *httptest.Server
	url  string // http://host/engine.io/
	conn chan *Socket
	msgs chan msgEvent
	ups  chan string
	// closes receives every OnClose call.
	closes chan closeEvent

	mu        sync.Mutex
	closeSeen map[string]int
	opened    []string
	// onMessage, when set before the sessions open, replaces the recording
	// of messages.
	onMessage func(s *Socket, data []byte, binary bool)
	// httpServer, when set by a setup function, configures the HTTP server
	// (its timeouts) before it starts.
	httpServer func(*http.Server)
}

// newHarness starts a server with opts; setup may adjust the harness
// before the server serves.
func newHarness(t testing.TB, opts *Options, setup ...func(*harness)) *harness {
	t.Helper()
	h := &harness{
		t:         t,
		srv:       NewServer(opts),
		conn:      make(chan *Socket, 100),
		msgs:      make(chan msgEvent, 10000),
		ups:       make(chan string, 100),
		closes:    make(chan closeEvent, 100),
		closeSeen: make(map[string]int),
	}
	h.srv.ws.NoPoller = goroutineReaders.Load()
	for _, f := range setup {
		f(h)
	}
	h.srv.OnConnection(func(s *Socket) {
		h.mu.Lock()
		h.opened = append(h.opened, s.ID())
		onMsg := h.onMessage
		h.mu.Unlock()
		s.OnMessage(func(data []byte, binary bool) {
			if onMsg != nil {
				onMsg(s, data, binary)
				return
			}
			h.msgs <- msgEvent{s.ID(), string(data), binary}
		})
		s.OnClose(func(reason sio.Reason, err error) {
			h.mu.Lock()
			h.closeSeen[s.ID()]++
			h.mu.Unlock()
			h.closes <- closeEvent{s.ID(), reason, err}
		})
		s.OnUpgrade(func(transport string) { h.ups <- transport })
		h.conn <- s
	})
	mux := http.NewServeMux()
	mux.Handle("/engine.io/", h.srv)
	h.ts = httptest.NewUnstartedServer(mux)
	if h.httpServer != nil {
		h.httpServer(h.ts.Config)
	}
	h.ts.Start()
	h.url = h.ts.URL + "/engine.io/"
	t.Cleanup(h.ts.Close)
	t.Cleanup(func() {
		require.NoError(t, h.srv.Close())
		assert.Zero(t, h.srv.ClientsCount())
		h.mu.Lock()
		defer h.mu.Unlock()
		for _, sid := range h.opened {
			assert.Equal(t, 1, h.closeSeen[sid], "OnClose calls of session %s", sid)
		}
	})
	return h
}

// query builds the URL of a request with the given query parameters
// (EIO=4 unless given).
func (h *harness) query(kv ...string) string {
	q := url.Values{"EIO": {"4"}}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			q.Del(kv[i])
			continue
		}
		q.Set(kv[i], kv[i+1])
	}
	return h.url + "?" + q.Encode()
}

// response is a finished HTTP exchange.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request and reads the whole answer.
func (h *harness) do(method, u, body string, header ...string) response {
	h.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, r)
	require.NoError(h.t, err)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return h.send(req)
}

func (h *harness) send(req *http.Request) response {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	res, err := h.ts.Client().Do(req.WithContext(ctx))
	require.NoError(h.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(h.t, err)
	return response{res.StatusCode, res.Header, string(b)}
}

// handshake opens a polling session and returns its id and handshake.
func (h *harness) handshake() (string, map[string]any) {
	h.t.Helper()
	res := h.do(http.MethodGet, h.query("transport", "polling"), "")
	require.Equal(h.t, http.StatusOK, res.status, res.body)
	require.True(h.t, strings.HasPrefix(res.body, "0{"), res.body)
	var hs map[string]any
	require.NoError(h.t, json.Unmarshal([]byte(res.body[1:]), &hs))
	sid, _ := hs["sid"].(string)
	require.NotEmpty(h.t, sid)
	return sid, hs
}

// poll sends a GET and returns its answer.
func (h *harness) poll(sid string) response {
	h.t.Helper()
	return h.do(http.MethodGet, h.query("transport", "polling", "sid", sid), "")
}

// pollAsync sends a GET from another goroutine.
func (h *harness) pollAsync(sid string) <-chan response {
	ch := make(chan response, 1)
	req, err := http.NewRequest(http.MethodGet, h.query("transport", "polling", "sid", sid), nil)
	require.NoError(h.t, err)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		res, err := h.ts.Client().Do(req.WithContext(ctx))
		if err != nil {
			ch <- response{status: -1, body: err.Error()}
			return
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		ch <- response{res.StatusCode, res.Header, string(b)}
	}()
	return ch
}

// post sends a POST with a payload.
func (h *harness) post(sid, body string) response {
	h.t.Helper()
	return h.do(http.MethodPost, h.query("transport", "polling", "sid", sid), body, "Content-Type", "text/plain;charset=UTF-8")
}

// pollPending starts a GET and waits until the server holds it.
func (h *harness) pollPending(sid string) <-chan response {
	h.t.Helper()
	sess := h.srv.Socket(sid)
	require.NotNil(h.t, sess)
	ch := h.pollAsync(sid)
	h.eventually("GET pending", func() bool { return sess.writable() })
	return ch
}

// eventually polls cond until it holds, failing the test after waitTimeout.
func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	testutil.Eventually(h.t, what, cond)
}

// nextConn returns the next session opened.
func (h *harness) nextConn() *Socket { h.t.Helper(); return testutil.Recv(h.t, h.conn) }

// nextMsg returns the next message received by any session.
func (h *harness) nextMsg() msgEvent { h.t.Helper(); return testutil.Recv(h.t, h.msgs) }

// nextClose returns the next OnClose call.
func (h *harness) nextClose() closeEvent { h.t.Helper(); return testutil.Recv(h.t, h.closes) }

// wsURL returns the WebSocket URL with the given query parameters.
func (h *harness) wsURL(kv ...string) string {
	return "ws" + strings.TrimPrefix(h.query(append([]string{"transport", "websocket"}, kv...)...), "http")
}

// dial opens a WebSocket; the connection is closed at the end of the test.
func (h *harness) dial(kv ...string) *websocket.Conn {
	h.t.Helper()
	c, res, err := h.dialRaw(kv...)
	require.NoError(h.t, err)
	require.Equal(h.t, http.StatusSwitchingProtocols, res.StatusCode)
	return c
}

func (h *harness) dialRaw(kv ...string) (*websocket.Conn, *http.Response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, res, err := websocket.Dial(ctx, h.wsURL(kv...), &websocket.DialOptions{HTTPClient: h.ts.Client()})
	if c != nil {
		c.SetReadLimit(-1)
		h.t.Cleanup(func() { _ = c.CloseNow() })
	}
	return c, res, err
}

// readWS reads one frame.
func readWS(t testing.TB, c *websocket.Conn) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	typ, b, err := c.Read(ctx)
	require.NoError(t, err)
	return string(b), typ == websocket.MessageBinary
}

// readWSText reads one frame, which must be text.
func readWSText(t testing.TB, c *websocket.Conn) string {
	t.Helper()
	s, bin := readWS(t, c)
	require.False(t, bin, "binary frame %q", s)
	return s
}

// readWSErr reads until the connection fails and returns the error.
func readWSErr(t testing.TB, c *websocket.Conn) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	for {
		if _, _, err := c.Read(ctx); err != nil {
			require.NoError(t, ctx.Err(), "the connection was not closed")
			return err
		}
	}
}

func writeWS(t testing.TB, c *websocket.Conn, s string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	require.NoError(t, c.Write(ctx, websocket.MessageText, []byte(s)))
}

// upgrade runs the client side of the upgrade of session sid.
func (h *harness) upgrade(sid string) *websocket.Conn {
	h.t.Helper()
	c := h.dial("sid", sid)
	writeWS(h.t, c, "2probe")
	require.Equal(h.t, "3probe", readWSText(h.t, c))
	writeWS(h.t, c, "5")
	require.Equal(h.t, "websocket", testutil.Recv(h.t, h.ups))
	return c
}

// wsHandshake opens a session directly over WebSocket.
func (h *harness) wsHandshake() (*websocket.Conn, string) {
	h.t.Helper()
	c := h.dial()
	open := readWSText(h.t, c)
	require.True(h.t, strings.HasPrefix(open, "0{"), open)
	var hs struct{ SID string }
	require.NoError(h.t, json.Unmarshal([]byte(open[1:]), &hs))
	return c, hs.SID
}

// errBody is the JSON body of an error answer.
func errBody(code int, msg string) string {
	b, _ := json.Marshal(map[string]any{"code": code, "message": msg})
	// encoding/json sorts keys: code, message, as the official server.
	return string(b)
}
