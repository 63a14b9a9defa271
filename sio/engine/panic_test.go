//go:build !js

package engine

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/testutil"

	"github.com/coder/websocket"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logSink collects the records of a JSON slog handler.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logSink) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logSink) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, nil))
}

// panicRecord returns the logged record of a panic of handler, if any.
func (l *logSink) panicRecord(handler string) map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	sc := bufio.NewScanner(bytes.NewReader(l.buf.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var rec map[string]any
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec["msg"] == "engine: handler panicked" && rec["handler"] == handler {
			return rec
		}
	}
	return nil
}

// expectPanic waits for the record of a panic of handler in session sid
// and checks it: Error level, the value, a stack showing where it panicked.
func (l *logSink) expectPanic(t *testing.T, handler, sid string) {
	t.Helper()
	var rec map[string]any
	testutil.Eventually(t, "the panic of "+handler+" to be logged", func() bool {
		rec = l.panicRecord(handler)
		return rec != nil
	})
	assert.Equal(t, "ERROR", rec["level"])
	assert.Equal(t, sid, rec["sid"])
	assert.Equal(t, "boom", rec["panic"])
	stack, _ := rec["stack"].(string)
	assert.Contains(t, stack, "panic(", "the stack is the panicking goroutine's")
	assert.Contains(t, stack, "panic_test.go", "the stack shows where it panicked")
}

// expectPanicClose checks the OnClose call of a session closed by a panic
// of handler.
func expectPanicClose(t *testing.T, ev closeEvent, sid, handler string) {
	t.Helper()
	assert.Equal(t, sid, ev.sid)
	assert.Equal(t, sio.ReasonTransportError, ev.reason)
	var pe *PanicError
	require.True(t, errors.As(ev.err, &pe), "OnClose gets a *PanicError, got %v", ev.err)
	assert.Equal(t, handler, pe.Handler)
	assert.Equal(t, "boom", pe.Value)
	assert.Contains(t, string(pe.Stack), "panic_test.go")
}

// echoOrPanic is an OnMessage handler that panics on "boom" and echoes
// anything else.
func echoOrPanic(s *Socket, data []byte, binary bool) {
	if string(data) == "boom" {
		panic("boom")
	}
	_ = s.SendMessage(data, binary)
}

// TestPanicInOnMessage has a session's OnMessage panic on each WebSocket
// read path: the process goes on, the panic is logged with its stack, only
// that session is closed, and the other sessions (some read by the same
// poller) still make round trips.
func TestPanicInOnMessage(t *testing.T) {
	paths := []struct {
		name string
		opts Options
		// goroutines: every WebSocket is read by a goroutine of its own.
		goroutines bool
	}{
		{name: "poller"},
		{name: "goroutine reader", goroutines: true},
		{name: "coder websocket reader", opts: Options{PerMessageDeflate: true}},
	}
	for _, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			sink := &logSink{}
			opts := p.opts
			opts.Logger = sink.logger()
			h := newHarness(t, &opts, func(h *harness) {
				h.onMessage = echoOrPanic
				if p.goroutines {
					h.srv.ws.NoPoller = true
				}
			})
			victim, victimSID := h.wsHandshake()
			h.nextConn()
			// As many other sessions as there are pollers, and one more:
			// one shares the victim's poller.
			others := map[string]*websocket.Conn{}
			for range runtime.GOMAXPROCS(0) + 1 {
				c, sid := h.wsHandshake()
				h.nextConn()
				others[sid] = c
			}
			if p.name == "poller" {
				// A session is handed to its poller just after OnConnection.
				testutil.Eventually(t, "every session to be read by a poller", func() bool {
					if pollerOf(h.srv.Socket(victimSID)) == nil {
						return false
					}
					for sid := range others {
						if pollerOf(h.srv.Socket(sid)) == nil {
							return false
						}
					}
					return true
				})
				vp := pollerOf(h.srv.Socket(victimSID))
				require.NotNil(t, vp, "the victim is read by a poller")
				shared := false
				for sid := range others {
					shared = shared || pollerOf(h.srv.Socket(sid)) == vp
				}
				require.True(t, shared, "another session is read by the victim's poller")
			} else {
				require.Nil(t, pollerOf(h.srv.Socket(victimSID)), "the victim is read by a goroutine")
			}

			writeWS(t, victim, "4boom")
			expectPanicClose(t, h.nextClose(), victimSID, "OnMessage")
			sink.expectPanic(t, "OnMessage", victimSID)
			readWSErr(t, victim)
			assert.Nil(t, h.srv.Socket(victimSID))

			for sid, c := range others {
				writeWS(t, c, "4hello "+sid)
				assert.Equal(t, "4hello "+sid, readWSText(t, c))
			}
			c, _ := h.wsHandshake()
			h.nextConn()
			writeWS(t, c, "4new")
			assert.Equal(t, "4new", readWSText(t, c), "a new session works")
		})
	}
}

// TestPanicInOnMessageOverPolling is TestPanicInOnMessage for a message
// that comes in a POST.
func TestPanicInOnMessageOverPolling(t *testing.T) {
	sink := &logSink{}
	h := newHarness(t, &Options{Logger: sink.logger()}, func(h *harness) { h.onMessage = echoOrPanic })
	victim, _ := h.handshake()
	h.nextConn()
	other, _ := h.handshake()
	h.nextConn()

	res := h.post(victim, "4boom")
	assert.Equal(t, http.StatusOK, res.status, "the POST is answered: %s", res.body)
	expectPanicClose(t, h.nextClose(), victim, "OnMessage")
	sink.expectPanic(t, "OnMessage", victim)
	assert.Nil(t, h.srv.Socket(victim))
	assert.Equal(t, http.StatusBadRequest, h.poll(victim).status, "the session is gone")

	require.Equal(t, http.StatusOK, h.post(other, "4hello").status)
	assert.Equal(t, "4hello", h.poll(other).body)
}

// TestPanicInOnConnection has the connection handler panic for some
// sessions: their handshake fails (a 400 for polling, a closed WebSocket),
// OnClose reports the panic, the server serves the next sessions and
// closes without waiting for the failed ones.
func TestPanicInOnConnection(t *testing.T) {
	sink := &logSink{}
	srv := NewServer(&Options{Logger: sink.logger()})
	closes := make(chan closeEvent, 4)
	srv.OnConnection(func(s *Socket) {
		s.OnClose(func(reason sio.Reason, err error) { closes <- closeEvent{s.ID(), reason, err} })
		s.OnMessage(func(data []byte, binary bool) { _ = s.SendMessage(data, binary) })
		if s.Request().Query.Get("boom") != "" {
			panic("boom")
		}
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	h := &harness{t: t, srv: srv, ts: hs, url: hs.URL + "/engine.io/"}

	res := h.do(http.MethodGet, h.query("transport", "polling", "boom", "1"), "")
	assert.Equal(t, http.StatusBadRequest, res.status)
	ev := testutil.Recv(t, closes)
	expectPanicClose(t, ev, ev.sid, "OnConnection")
	sink.expectPanic(t, "OnConnection", ev.sid)

	ws, _, err := h.dialRaw("boom", "1")
	require.NoError(t, err)
	readWSErr(t, ws)
	ev = testutil.Recv(t, closes)
	expectPanicClose(t, ev, ev.sid, "OnConnection")

	c, _ := h.wsHandshake()
	writeWS(t, c, "4hello")
	assert.Equal(t, "4hello", readWSText(t, c))
	sid, _ := h.handshake()
	require.Equal(t, http.StatusOK, h.post(sid, "4hi").status)
	assert.Equal(t, "4hi", h.poll(sid).body)

	require.NoError(t, srv.Close(), "Close does not wait for the failed sessions")
	assert.Zero(t, srv.ClientsCount())
}

// TestPanicInOnUpgrade has OnUpgrade panic: the session closes, the others
// go on.
func TestPanicInOnUpgrade(t *testing.T) {
	sink := &logSink{}
	srv := NewServer(&Options{Logger: sink.logger()})
	closes := make(chan closeEvent, 4)
	srv.OnConnection(func(s *Socket) {
		s.OnClose(func(reason sio.Reason, err error) { closes <- closeEvent{s.ID(), reason, err} })
		s.OnMessage(func(data []byte, binary bool) { _ = s.SendMessage(data, binary) })
		s.OnUpgrade(func(string) { panic("boom") })
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	defer func() { require.NoError(t, srv.Close()) }()
	h := &harness{t: t, srv: srv, ts: hs, url: hs.URL + "/engine.io/"}

	other, _ := h.wsHandshake()
	sid, _ := h.handshake()
	c := h.dial("sid", sid)
	writeWS(t, c, "2probe")
	require.Equal(t, "3probe", readWSText(t, c))
	writeWS(t, c, "5")
	expectPanicClose(t, testutil.Recv(t, closes), sid, "OnUpgrade")
	sink.expectPanic(t, "OnUpgrade", sid)
	readWSErr(t, c)

	writeWS(t, other, "4hello")
	assert.Equal(t, "4hello", readWSText(t, other))
}

// TestPanicInOnClose has OnClose panic on the poller (a client closing its
// WebSocket) and on a timer (a polling session timing out): the poller
// reads its other sessions on, and Close returns once every session is
// released.
func TestPanicInOnClose(t *testing.T) {
	sink := &logSink{}
	srv := NewServer(&Options{Logger: sink.logger(), PingInterval: 50 * time.Millisecond, PingTimeout: 50 * time.Millisecond})
	var mu sync.Mutex
	closed := map[string]bool{}
	srv.OnConnection(func(s *Socket) {
		s.OnMessage(func(data []byte, binary bool) { _ = s.SendMessage(data, binary) })
		s.OnClose(func(sio.Reason, error) {
			mu.Lock()
			closed[s.ID()] = true
			mu.Unlock()
			panic("boom")
		})
	})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	h := &harness{t: t, srv: srv, ts: hs, url: hs.URL + "/engine.io/"}
	isClosed := func(sid string) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			return closed[sid]
		}
	}

	var others []*websocket.Conn
	for range runtime.GOMAXPROCS(0) {
		c, _ := h.wsHandshake()
		others = append(others, c)
	}
	c, sid := h.wsHandshake()
	require.NoError(t, c.CloseNow())
	testutil.Eventually(t, "OnClose", isClosed(sid))
	sink.expectPanic(t, "OnClose", sid)
	for _, o := range others {
		writeWS(t, o, "4hello")
		assert.Equal(t, "4hello", readWSText(t, o))
	}

	psid, _ := h.handshake() // never polls again: the ping timeout ends it
	testutil.Eventually(t, "OnClose of the polling session", isClosed(psid))

	require.NoError(t, srv.Close())
	assert.Zero(t, srv.ClientsCount())
}
