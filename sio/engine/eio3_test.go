//go:build !js

package engine

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/testutil"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/sio/eio"
)

func TestUTF16Len(t *testing.T) {
	for s, want := range map[string]int{"": 0, "abc": 3, "é": 1, "€": 1, "😀": 2, "a😀b": 4, "\xff": 1, "\xe2\x82": 2} {
		assert.Equal(t, want, utf16Len([]byte(s)), "%q", s)
	}
}

func TestEncodePayloadV3(t *testing.T) {
	text := []Frame{{Data: []byte("4hello")}, {Data: []byte("2")}, {Data: []byte("4😀")}}
	body, bin := encodePayloadV3(text, true)
	assert.False(t, bin, "no binary frame: text payload")
	assert.Equal(t, "6:4hello1:23:4😀", string(body))

	mixed := []Frame{{Data: []byte("4hi")}, {Data: []byte{1, 2}, Binary: true}}
	body, bin = encodePayloadV3(mixed, false)
	assert.False(t, bin)
	assert.Equal(t, "3:4hi6:b4AQI=", string(body))

	body, bin = encodePayloadV3(mixed, true)
	assert.True(t, bin)
	assert.Equal(t, []byte{0, 3, 255, '4', 'h', 'i', 1, 3, 255, 4, 1, 2}, body)

	long := []Frame{{Data: []byte("4" + strings.Repeat("x", 11))}}
	body, bin = encodePayloadV3(append(long, Frame{Data: []byte{9}, Binary: true}), true)
	assert.True(t, bin)
	assert.Equal(t, append(append([]byte{0, 1, 2, 255}, long[0].Data...), 1, 2, 255, 4, 9), body)

	body, _ = encodePayloadV3(nil, true)
	assert.Equal(t, "1:6", string(body), "no frame makes a noop")
}

func TestDecodePayloadV3(t *testing.T) {
	pkts, err := decodePayloadV3([]byte("6:4hello1:20:3:4😀6:b4AQI="), false)
	require.NoError(t, err)
	assert.Equal(t, []eio.Packet{
		{Type: eio.Message, Data: []byte("hello")},
		{Type: eio.Ping},
		{Type: eio.Message, Data: []byte("😀")},
		{Type: eio.Message, Data: []byte{1, 2}, Binary: true},
	}, pkts)

	pkts, err = decodePayloadV3([]byte{0, 3, 255, '4', 'h', 'i', 1, 3, 255, 4, 1, 2, 0, 1, 255, '2'}, true)
	require.NoError(t, err)
	assert.Equal(t, []eio.Packet{
		{Type: eio.Message, Data: []byte("hi")},
		{Type: eio.Message, Data: []byte{1, 2}, Binary: true},
		{Type: eio.Ping},
	}, pkts)

	for _, bad := range []string{"", ":", "4hi", "x:4", "5:4hi", "2:4😀", "1:9", "3:b3A", "4:b4!!", "12345678901:4", "2:4h1"} {
		_, err := decodePayloadV3([]byte(bad), false)
		assert.ErrorIs(t, err, eio.ErrInvalidPacket, "%q", bad)
	}
	for _, bad := range [][]byte{{0}, {0, 255}, {0, 5, 255, '4'}, {0, 1, 10, 255, '4'}, {1, 2, 255, 2, 1}, {1, 1, 255, 4, 0}} {
		_, err := decodePayloadV3(bad, true)
		assert.ErrorIs(t, err, eio.ErrInvalidPacket, "%v", bad)
	}
}

// handshakeV3 opens a protocol 3 polling session; kv are extra query
// parameters.
func (h *harness) handshakeV3(kv ...string) (string, *Socket) {
	h.t.Helper()
	res := h.do(http.MethodGet, h.query(append([]string{"transport", "polling", "EIO", "3"}, kv...)...), "")
	require.Equal(h.t, http.StatusOK, res.status, res.body)
	n, open, ok := strings.Cut(res.body, ":")
	require.True(h.t, ok, res.body)
	assert.Equal(h.t, strconv.Itoa(len(open)), n, "length prefix")
	require.True(h.t, strings.HasPrefix(open, "0{"), res.body)
	var hs struct{ SID string }
	require.NoError(h.t, json.Unmarshal([]byte(open[1:]), &hs))
	sess := h.nextConn()
	require.Equal(h.t, hs.SID, sess.ID())
	assert.Equal(h.t, 3, sess.Protocol())
	return hs.SID, sess
}

func (h *harness) pollV3(sid string) response {
	h.t.Helper()
	return h.do(http.MethodGet, h.query("transport", "polling", "EIO", "3", "sid", sid), "")
}

func (h *harness) postV3(sid, contentType, body string) response {
	h.t.Helper()
	return h.do(http.MethodPost, h.query("transport", "polling", "EIO", "3", "sid", sid), body, "Content-Type", contentType)
}

func TestEIO3Refused(t *testing.T) {
	h := newHarness(t, nil)
	res := h.do(http.MethodGet, h.query("transport", "polling", "EIO", "3"), "")
	assert.Equal(t, errBody(5, "Unsupported protocol version"), res.body)
	assert.Zero(t, h.srv.ClientsCount())
}

func TestEIO3Polling(t *testing.T) {
	h := newHarness(t, &Options{AllowEIO3: true})
	sid, sess := h.handshakeV3()

	// Text and binary messages from the server: a binary payload, as the
	// client supports binary (no b64).
	require.NoError(t, sess.SendMessage([]byte("héllo"), false))
	require.NoError(t, sess.SendMessage([]byte{1, 2, 3}, true))
	res := h.pollV3(sid)
	assert.Equal(t, "application/octet-stream", res.header.Get("Content-Type"))
	assert.Equal(t, string([]byte{0, 7, 255})+"4héllo"+string([]byte{1, 4, 255, 4, 1, 2, 3}), res.body)
	require.NoError(t, sess.SendMessage([]byte("😀"), false))
	res = h.pollV3(sid)
	assert.Equal(t, "text/plain; charset=UTF-8", res.header.Get("Content-Type"))
	assert.Equal(t, "3:4😀", res.body)

	// Text and binary payloads from the client.
	assert.Equal(t, "ok", h.postV3(sid, "text/plain;charset=UTF-8", "3:4😀6:b4AQI=").body)
	assert.Equal(t, msgEvent{sid, "😀", false}, h.nextMsg())
	assert.Equal(t, msgEvent{sid, "\x01\x02", true}, h.nextMsg())
	assert.Equal(t, "ok", h.postV3(sid, "application/octet-stream", string([]byte{1, 3, 255, 4, 7, 8, 0, 3, 255, '4', 'h', 'i'})).body)
	assert.Equal(t, msgEvent{sid, "\x07\x08", true}, h.nextMsg())
	assert.Equal(t, msgEvent{sid, "hi", false}, h.nextMsg())

	// A close packet ends the session.
	assert.Equal(t, "ok", h.postV3(sid, "text/plain", "1:1").body)
	assert.Equal(t, sio.ReasonTransportClose, h.nextClose().reason)
}

func TestEIO3PollingBase64AndMissingEIO(t *testing.T) {
	h := newHarness(t, &Options{AllowEIO3: true})
	// Upstream takes a request without EIO for protocol 3.
	res := h.do(http.MethodGet, h.query("transport", "polling", "EIO", "", "b64", "1"), "")
	require.Equal(t, http.StatusOK, res.status)
	sess := h.nextConn()
	assert.Equal(t, 3, sess.Protocol())
	require.NoError(t, sess.SendMessage([]byte{1, 2}, true))
	res = h.pollV3(sess.ID())
	assert.Equal(t, "text/plain; charset=UTF-8", res.header.Get("Content-Type"))
	assert.Equal(t, "6:b4AQI=", res.body)
}

func TestEIO3PollingBadPayload(t *testing.T) {
	h := newHarness(t, &Options{AllowEIO3: true})
	sid, _ := h.handshakeV3()
	res := h.postV3(sid, "text/plain", "5:4hi")
	assert.Equal(t, http.StatusBadRequest, res.status)
	ev := h.nextClose()
	assert.Equal(t, sio.ReasonParseError, ev.reason)
	assert.ErrorIs(t, ev.err, ErrInvalidPacket)
}

func TestEIO3Heartbeat(t *testing.T) {
	h := newHarness(t, &Options{AllowEIO3: true, PingInterval: 150 * time.Millisecond, PingTimeout: 150 * time.Millisecond})
	sid, sess := h.handshakeV3()
	// The client pings; the server answers, and never pings itself.
	for range 3 {
		assert.Equal(t, "ok", h.postV3(sid, "text/plain", "1:2").body)
		assert.Equal(t, "1:3", h.pollV3(sid).body)
	}
	assert.NoError(t, sess.Context().Err())
	// Without pings, the session ends after PingInterval+PingTimeout.
	start := time.Now()
	ev := h.nextClose()
	assert.Equal(t, sio.ReasonPingTimeout, ev.reason)
	assert.GreaterOrEqual(t, time.Since(start), 100*time.Millisecond)
}

func TestEIO3PongIsAnError(t *testing.T) {
	h := newHarness(t, &Options{AllowEIO3: true})
	sid, _ := h.handshakeV3()
	h.postV3(sid, "text/plain", "1:3")
	ev := h.nextClose()
	assert.Equal(t, sio.ReasonTransportError, ev.reason)
	assert.ErrorIs(t, ev.err, errHeartbeatDirection)
}

func TestEIO3JSONPRefused(t *testing.T) {
	h := newHarness(t, &Options{AllowEIO3: true})
	res := h.do(http.MethodGet, h.query("transport", "polling", "EIO", "3", "j", "0"), "")
	assert.Equal(t, http.StatusBadRequest, res.status)
	assert.Equal(t, errBody(3, "Bad request"), res.body)
}

func writeWSBinary(t testing.TB, c *websocket.Conn, b []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	require.NoError(t, c.Write(ctx, websocket.MessageBinary, b))
}

func TestEIO3WebSocket(t *testing.T) {
	h := newHarness(t, &Options{AllowEIO3: true})
	c := h.dial("EIO", "3")
	open := readWSText(t, c)
	require.True(t, strings.HasPrefix(open, "0{"), open)
	sess := h.nextConn()
	assert.Equal(t, 3, sess.Protocol())
	sid := sess.ID()

	require.NoError(t, sess.SendMessage([]byte("hi"), false))
	assert.Equal(t, "4hi", readWSText(t, c))
	require.NoError(t, sess.SendMessage([]byte{1, 2}, true))
	b, bin := readWS(t, c)
	assert.True(t, bin)
	assert.Equal(t, "\x04\x01\x02", b, "binary frames start with the type byte")

	writeWS(t, c, "4text")
	assert.Equal(t, msgEvent{sid, "text", false}, h.nextMsg())
	writeWSBinary(t, c, []byte{4, 9, 8})
	assert.Equal(t, msgEvent{sid, "\x09\x08", true}, h.nextMsg())
	writeWS(t, c, "b4AQI=")
	assert.Equal(t, msgEvent{sid, "\x01\x02", true}, h.nextMsg())
	writeWS(t, c, "2")
	assert.Equal(t, "3", readWSText(t, c))

	// A binary frame of another type is a parse error.
	writeWSBinary(t, c, []byte{2, 1})
	assert.Equal(t, sio.ReasonParseError, h.nextClose().reason)
}

func TestEIO3WebSocketBase64(t *testing.T) {
	h := newHarness(t, &Options{AllowEIO3: true})
	c := h.dial("EIO", "3", "b64", "1")
	readWSText(t, c)
	sess := h.nextConn()
	require.NoError(t, sess.SendMessage([]byte{1, 2}, true))
	assert.Equal(t, "b4AQI=", readWSText(t, c))
}

func TestEIO3Upgrade(t *testing.T) {
	h := newHarness(t, &Options{AllowEIO3: true})
	sid, sess := h.handshakeV3()
	pending := h.pollPending(sid)
	c := h.dial("EIO", "3", "sid", sid)
	writeWS(t, c, "2probe")
	assert.Equal(t, "3probe", readWSText(t, c))
	assert.Equal(t, "1:6", testutil.Recv(t, pending).body, "the pending GET gets a noop")
	writeWS(t, c, "5")
	assert.Equal(t, "websocket", testutil.Recv(t, h.ups))
	require.NoError(t, sess.SendMessage([]byte{7}, true))
	b, bin := readWS(t, c)
	assert.True(t, bin)
	assert.Equal(t, "\x04\x07", b)
	writeWS(t, c, "2")
	assert.Equal(t, "3", readWSText(t, c))
}
