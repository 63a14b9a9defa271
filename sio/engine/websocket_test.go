//go:build !js

package engine

import (
	"context"
	"io"
	"net/http"
	"runtime"
	"strconv"
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

func TestWebSocketHandshake(t *testing.T) {
	h := newHarness(t, nil)
	c := h.dial()
	open := readWSText(t, c)
	sess := h.nextConn()
	want := `0{"sid":"` + sess.ID() + `","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`
	assert.Equal(t, want, open)
	assert.Equal(t, "websocket", sess.Transport())
	assert.Equal(t, 1, h.srv.ClientsCount())
}

func TestWebSocketMessages(t *testing.T) {
	h := newHarness(t, nil)
	c, sid := h.wsHandshake()
	sess := h.nextConn()

	writeWS(t, c, "4hello")
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	require.NoError(t, c.Write(ctx, websocket.MessageBinary, []byte{1, 2, 3}))
	writeWS(t, c, "bBAU=") // base64 binary in a text frame, as engine.io-parser accepts
	writeWS(t, c, "4")
	assert.Equal(t, msgEvent{sid, "hello", false}, h.nextMsg())
	assert.Equal(t, msgEvent{sid, "\x01\x02\x03", true}, h.nextMsg())
	assert.Equal(t, msgEvent{sid, "\x04\x05", true}, h.nextMsg())
	assert.Equal(t, msgEvent{sid, "", false}, h.nextMsg())

	require.NoError(t, sess.SendMessage([]byte("out"), false))
	require.NoError(t, sess.SendMessage([]byte{9, 8}, true))
	require.NoError(t, sess.Send(Frame{Data: []byte("4x")}, Frame{Data: []byte{7}, Binary: true}))
	for _, want := range []struct {
		data   string
		binary bool
	}{{"4out", false}, {"\x09\x08", true}, {"4x", false}, {"\x07", true}} {
		got, bin := readWS(t, c)
		assert.Equal(t, want.data, got)
		assert.Equal(t, want.binary, bin)
	}
}

func TestWebSocketClientCloses(t *testing.T) {
	for name, closeFn := range map[string]func(c *websocket.Conn){
		"close packet": func(c *websocket.Conn) { writeWS(t, c, "1") },
		"close frame":  func(c *websocket.Conn) { _ = c.Close(websocket.StatusNormalClosure, "") },
		"abrupt":       func(c *websocket.Conn) { _ = c.CloseNow() },
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, nil)
			c, sid := h.wsHandshake()
			sess := h.nextConn()
			closeFn(c)
			ev := h.nextClose()
			assert.Equal(t, sid, ev.sid)
			assert.Equal(t, sio.ReasonTransportClose, ev.reason)
			assert.ErrorIs(t, sess.SendMessage([]byte("x"), false), ErrClosed)
			assert.Zero(t, h.srv.ClientsCount())
		})
	}
}

func TestWebSocketMaxHTTPBufferSize(t *testing.T) {
	h := newHarness(t, &Options{MaxHTTPBufferSize: 100})
	c, sid := h.wsHandshake()
	h.nextConn()
	writeWS(t, c, "4"+strings.Repeat("a", 99)) // exactly the limit
	assert.Equal(t, strings.Repeat("a", 99), h.nextMsg().data)

	writeWS(t, c, "4"+strings.Repeat("b", 100))
	ev := h.nextClose()
	assert.Equal(t, sid, ev.sid)
	assert.Equal(t, sio.ReasonTransportError, ev.reason)
	err := readWSErr(t, c)
	assert.Equal(t, websocket.StatusMessageTooBig, websocket.CloseStatus(err), "%v", err)
}

func TestWebSocketInvalidPacketClosesOnlyThatSession(t *testing.T) {
	h := newHarness(t, nil)
	bad, badSID := h.wsHandshake()
	good, goodSID := h.wsHandshake()
	h.nextConn()
	h.nextConn()
	writeWS(t, bad, "x")
	ev := h.nextClose()
	assert.Equal(t, badSID, ev.sid)
	assert.Equal(t, sio.ReasonParseError, ev.reason)
	assert.ErrorIs(t, ev.err, ErrInvalidPacket)
	readWSErr(t, bad)

	writeWS(t, good, "4fine")
	assert.Equal(t, msgEvent{goodSID, "fine", false}, h.nextMsg())
	require.NoError(t, h.srv.Socket(goodSID).SendMessage([]byte("back"), false))
	assert.Equal(t, "4back", readWSText(t, good))
}

// writerRunning reports whether some session's WebSocket writer goroutine,
// or a flusher, is running.
func writerRunning() bool {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	stacks := string(buf[:n])
	return strings.Contains(stacks, "engine.(*Socket).writeLoop") || strings.Contains(stacks, "engine.(*Server).flushLoop")
}

func TestWebSocketIdleSessionHasNoWriter(t *testing.T) {
	h := newHarness(t, nil)
	c, _ := h.wsHandshake()
	sess := h.nextConn()
	testutil.Eventually(t, "writer gone after the open packet", func() bool { return !writerRunning() })
	// The writer role is given up just after the last write.
	testutil.Eventually(t, "the session writable", sess.writable)
	for i := range 3 {
		require.NoError(t, sess.SendMessage([]byte(strconv.Itoa(i)), false))
		assert.Equal(t, "4"+strconv.Itoa(i), readWSText(t, c))
		testutil.Eventually(t, "writer gone after a message", func() bool { return !writerRunning() })
	}
}

func TestUpgrade(t *testing.T) {
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	sess := h.nextConn()

	pending := h.pollPending(sid)
	c := h.dial("sid", sid)
	writeWS(t, c, "2probe")
	assert.Equal(t, "3probe", readWSText(t, c))
	res := testutil.Recv(t, pending)
	assert.Equal(t, http.StatusOK, res.status)
	assert.Equal(t, "6", res.body, "the pending GET is released with a noop")
	assert.Equal(t, "polling", sess.Transport(), "not upgraded before the upgrade packet")

	writeWS(t, c, "5")
	assert.Equal(t, "websocket", testutil.Recv(t, h.ups))
	assert.Equal(t, "websocket", sess.Transport())

	// The WebSocket now carries everything.
	writeWS(t, c, "4up")
	assert.Equal(t, msgEvent{sid, "up", false}, h.nextMsg())
	require.NoError(t, sess.SendMessage([]byte("down"), false))
	assert.Equal(t, "4down", readWSText(t, c))

	// Polling with the session id is refused, and the session stays.
	bad := errBody(3, "Bad request")
	res = h.poll(sid)
	assert.Equal(t, http.StatusBadRequest, res.status)
	assert.Equal(t, bad, res.body)
	res = h.post(sid, "4x")
	assert.Equal(t, http.StatusBadRequest, res.status)
	assert.Equal(t, bad, res.body)

	// A second WebSocket for the session is closed.
	second := h.dial("sid", sid)
	writeWS(t, second, "2probe")
	readWSErr(t, second)

	writeWS(t, c, "4still")
	assert.Equal(t, msgEvent{sid, "still", false}, h.nextMsg())
	assert.Same(t, sess, h.srv.Socket(sid))
}

func TestUpgradeGETBeforeProbeWaits(t *testing.T) {
	// Until the probe is answered, polling goes on as usual: a GET waits
	// (no busy loop of noops while the WebSocket opens).
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	sess := h.nextConn()
	c := h.dial("sid", sid)
	pending := h.pollPending(sid)
	select {
	case res := <-pending:
		t.Fatalf("GET answered before the probe: %+v", res)
	default:
	}
	require.NoError(t, sess.SendMessage([]byte("m"), false))
	assert.Equal(t, "4m", testutil.Recv(t, pending).body)
	writeWS(t, c, "2probe")
	assert.Equal(t, "3probe", readWSText(t, c))
	assert.Equal(t, "6", h.poll(sid).body)
}

func TestUpgradeWithoutPendingGET(t *testing.T) {
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	sess := h.nextConn()
	c := h.dial("sid", sid)
	writeWS(t, c, "2probe")
	assert.Equal(t, "3probe", readWSText(t, c))
	// Once probed, a GET is answered at once (noop) so the client can pause.
	assert.Equal(t, "6", h.poll(sid).body)
	require.NoError(t, sess.SendMessage([]byte("queued"), false))
	writeWS(t, c, "5")
	assert.Equal(t, "websocket", testutil.Recv(t, h.ups))
	assert.Equal(t, "4queued", readWSText(t, c))
}

func TestUpgradeKeepsOrder(t *testing.T) {
	const total = 3000
	h := newHarness(t, &Options{MaxQueuedBytes: -1})
	sid, _ := h.handshake()
	sess := h.nextConn()

	var got []string
	add := func(payload string) {
		for p := range strings.SplitSeq(payload, "\x1e") {
			if p != "6" {
				got = append(got, p)
			}
		}
	}
	send := func(from, to int) {
		for i := from; i < to; i++ {
			require.NoError(t, sess.SendMessage([]byte(strconv.Itoa(i)), false))
		}
	}
	// Phase 1: polling only.
	send(0, 100)
	add(h.poll(sid).body)
	send(100, 200)

	// Phase 2: a sender runs through the rest of the upgrade.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 200; i < total; i++ {
			if err := sess.SendMessage([]byte(strconv.Itoa(i)), false); err != nil {
				t.Errorf("send %d: %v", i, err)
				return
			}
			if i%50 == 0 {
				runtime.Gosched()
			}
		}
	}()
	add(h.poll(sid).body)
	c := h.dial("sid", sid)
	writeWS(t, c, "2probe")
	require.Equal(t, "3probe", readWSText(t, c))
	// The client pauses polling: one last GET, answered at once.
	add(h.poll(sid).body)
	writeWS(t, c, "5")
	assert.Equal(t, "websocket", testutil.Recv(t, h.ups))
	for len(got) < total {
		got = append(got, readWSText(t, c))
	}
	wg.Wait()
	want := make([]string, total)
	for i := range want {
		want[i] = "4" + strconv.Itoa(i)
	}
	require.Equal(t, want, got)
}

func TestUpgradeTimeoutKeepsPolling(t *testing.T) {
	h := newHarness(t, &Options{UpgradeTimeout: 50 * time.Millisecond})
	sid, _ := h.handshake()
	sess := h.nextConn()
	c := h.dial("sid", sid)
	readWSErr(t, c) // never probed: closed after the timeout
	assert.Equal(t, "polling", sess.Transport())
	require.NoError(t, sess.SendMessage([]byte("poll"), false))
	assert.Equal(t, "4poll", h.poll(sid).body)

	// A new upgrade may follow.
	h.upgrade(sid)
	assert.Equal(t, "websocket", sess.Transport())
}

func TestUpgradeBadProbe(t *testing.T) {
	for name, first := range map[string]string{
		"upgrade first":  "5",
		"message first":  "4hi",
		"ping not probe": "2",
		"invalid":        "z",
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, nil)
			sid, _ := h.handshake()
			sess := h.nextConn()
			c := h.dial("sid", sid)
			writeWS(t, c, first)
			readWSErr(t, c)
			assert.Equal(t, "polling", sess.Transport())
			assert.Equal(t, "ok", h.post(sid, "4poll").body)
			assert.Equal(t, "poll", h.nextMsg().data)
		})
	}
}

func TestUpgradeSecondProbeWhileUpgrading(t *testing.T) {
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	h.nextConn()
	first := h.dial("sid", sid)
	writeWS(t, first, "2probe")
	require.Equal(t, "3probe", readWSText(t, first))
	second := h.dial("sid", sid)
	readWSErr(t, second)
	writeWS(t, first, "5")
	assert.Equal(t, "websocket", testutil.Recv(t, h.ups))
}

func TestUpgradeRefusals(t *testing.T) {
	t.Run("unknown sid", func(t *testing.T) {
		h := newHarness(t, nil)
		_, res, err := h.dialRaw("sid", "nope")
		require.Error(t, err)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode)
		assertBody(t, res, errBody(1, "Session ID unknown"))
	})
	t.Run("disallowed", func(t *testing.T) {
		h := newHarness(t, &Options{DisallowUpgrades: true})
		sid, hs := h.handshake()
		h.nextConn()
		assert.Equal(t, []any{}, hs["upgrades"])
		_, res, err := h.dialRaw("sid", sid)
		require.Error(t, err)
		assert.Equal(t, http.StatusBadRequest, res.StatusCode)
		assertBody(t, res, errBody(3, "Bad request"))
		assert.Equal(t, 1, h.srv.ClientsCount())
		// Direct WebSocket sessions stay possible.
		h.wsHandshake()
	})
	t.Run("websocket session", func(t *testing.T) {
		h := newHarness(t, nil)
		_, sid := h.wsHandshake()
		h.nextConn()
		c := h.dial("sid", sid)
		readWSErr(t, c)
		res := h.poll(sid)
		assert.Equal(t, http.StatusBadRequest, res.status)
		assert.Equal(t, errBody(3, "Bad request"), res.body)
	})
}

func assertBody(t *testing.T, res *http.Response, want string) {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	assert.Equal(t, want, string(b))
}

// TestWebSocketSendNeverBlocks fills the connection of a client that
// does not read: Send returns every time (what the socket does not take
// goes to the writer goroutine), and once the client reads, every message
// arrives, in order.
func TestWebSocketSendNeverBlocks(t *testing.T) {
	h := newHarness(t, &Options{MaxQueuedBytes: 64 << 20})
	c, _ := h.wsHandshake()
	c.SetReadLimit(1 << 20)
	sess := h.nextConn()

	const n = 200
	payload := strings.Repeat("x", 64<<10) // 200 × 64 KiB: more than socket buffers hold
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range n {
			if err := sess.Send(Frame{Data: []byte("4" + strconv.Itoa(i) + payload)}); err != nil {
				t.Errorf("Send %d: %v", i, err)
				return
			}
		}
	}()
	testutil.Recv(t, done) // fails after waitTimeout if a Send blocked

	for i := range n {
		got := readWSText(t, c)
		require.Equal(t, "4"+strconv.Itoa(i)+payload, got, "message %d", i)
	}
	testutil.Eventually(t, "writer idle", func() bool {
		sess.mu.Lock()
		defer sess.mu.Unlock()
		return !sess.writing && len(sess.queue) == 0
	})
}

// TestWebSocketSlowClientDoesNotHoldBroadcasts sends to two sessions, one
// of which does not read: the other gets everything while the slow one is
// still not reading (the flushers never wait on a connection), and the slow
// one gets everything, in order, once it reads.
func TestWebSocketSlowClientDoesNotHoldBroadcasts(t *testing.T) {
	h := newHarness(t, &Options{MaxQueuedBytes: 64 << 20})
	slow, _ := h.wsHandshake()
	slowSess := h.nextConn()
	fast, _ := h.wsHandshake()
	fastSess := h.nextConn()
	slow.SetReadLimit(1 << 20)
	fast.SetReadLimit(1 << 20)

	const n = 200
	payload := strings.Repeat("y", 64<<10)
	for i := range n {
		f := Frame{Data: []byte("4" + strconv.Itoa(i) + payload)}
		require.NoError(t, slowSess.Send(f))
		require.NoError(t, fastSess.Send(f))
	}
	for i := range n {
		require.Equal(t, "4"+strconv.Itoa(i)+payload, readWSText(t, fast), "fast client, message %d", i)
	}
	for i := range n {
		require.Equal(t, "4"+strconv.Itoa(i)+payload, readWSText(t, slow), "slow client, message %d", i)
	}
}
