//go:build !js

package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/testutil"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/internal/wsframe"
)

// rawWS is a client speaking raw WebSocket frames, to send what a proper
// client never does.
type rawWS struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

// dialRawWS opens a WebSocket session with a hand-made handshake.
func (h *harness) dialRawWS(t testing.TB, header string) (*rawWS, string) {
	t.Helper()
	return dialRawWSAt(t, strings.TrimPrefix(h.ts.URL, "http://"), "/engine.io/", header)
}

// dialRawWSAt is dialRawWS to the engine at path on addr. A path with a
// query with a sid asks to upgrade that session: no open packet comes.
func dialRawWSAt(t testing.TB, addr, path, header string) (*rawWS, string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	_ = c.SetDeadline(time.Now().Add(waitTimeout))
	if header == "" {
		header = "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
	}
	query := "?EIO=4&transport=websocket"
	if strings.Contains(path, "?") {
		query = "&EIO=4&transport=websocket"
	}
	_, err = io.WriteString(c, "GET "+path+query+" HTTP/1.1\r\nHost: "+addr+
		"\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"+header+"\r\n")
	require.NoError(t, err)
	br := bufio.NewReader(c)
	res, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	if res.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(res.Body)
		return nil, res.Status + "\n" + res.Header.Get("Sec-WebSocket-Version") + "\n" + string(body)
	}
	// The RFC 6455 example key and its accept value.
	require.Equal(t, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", res.Header.Get("Sec-WebSocket-Accept"))
	w := &rawWS{t: t, c: c, br: br}
	if strings.Contains(path, "sid=") {
		return w, ""
	}
	op, open := w.read()
	require.Equal(t, byte(opText), op)
	require.True(t, strings.HasPrefix(string(open), "0{"), string(open))
	return w, ""
}

// frame writes a frame; masked unless unmasked is set.
func (w *rawWS) frame(b0 byte, payload []byte, unmasked bool) {
	w.t.Helper()
	hdr := wsframe.AppendHeader(nil, b0&0x0f, len(payload))
	hdr[0] = b0
	p := bytes.Clone(payload)
	if !unmasked {
		hdr[1] |= 0x80
		key := [4]byte{1, 2, 3, 250}
		hdr = append(hdr, key[:]...)
		wsframe.MaskCopy(p, p, wsframe.Key4(key), 0)
	}
	_, err := w.c.Write(append(hdr, p...))
	require.NoError(w.t, err)
}

// read reads a server frame, which must be final and unmasked.
func (w *rawWS) read() (byte, []byte) {
	w.t.Helper()
	var h [2]byte
	_, err := io.ReadFull(w.br, h[:])
	require.NoError(w.t, err)
	require.Equal(w.t, byte(0x80), h[0]&0xf0, "FIN and no reserved bits")
	require.Zero(w.t, h[1]&0x80, "server frames are not masked")
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		_, err = io.ReadFull(w.br, l[:])
		n = int(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		_, err = io.ReadFull(w.br, l[:])
		n = int(binary.BigEndian.Uint64(l[:]))
	}
	require.NoError(w.t, err)
	p := make([]byte, n)
	_, err = io.ReadFull(w.br, p)
	require.NoError(w.t, err)
	return h[0] & 0x0f, p
}

// closed reads the close frame and checks its status, then the end of the
// connection.
func (w *rawWS) closed(code int) {
	w.t.Helper()
	for {
		op, p := w.read()
		if op != opClose {
			continue // a queued packet may come first
		}
		require.Len(w.t, p, 2)
		assert.Equal(w.t, code, int(binary.BigEndian.Uint16(p)))
		break
	}
	_, err := w.br.ReadByte()
	assert.ErrorIs(w.t, err, io.EOF, "the server closes the connection after its close frame")
}

func TestWSOwnProtocol(t *testing.T) {
	echo := func(h *harness) {
		h.onMessage = func(s *Socket, data []byte, binary bool) {
			if !binary {
				data = append([]byte{'4'}, data...)
			}
			_ = s.Send(Frame{Data: data, Binary: binary})
		}
	}

	t.Run("fragments and control frames", func(t *testing.T) {
		h := newHarness(t, nil, echo)
		w, _ := h.dialRawWS(t, "")
		// "4hello" in three frames with a ping between them.
		w.frame(opText, []byte("4he"), false)
		w.frame(0x80|opPing, []byte("are you there"), false)
		op, p := w.read()
		assert.Equal(t, byte(opPong), op)
		assert.Equal(t, "are you there", string(p))
		w.frame(opContinuation, []byte("ll"), false)
		w.frame(0x80|opPong, nil, false) // unsolicited pongs are ignored
		w.frame(0x80|opContinuation, []byte("o"), false)
		op, p = w.read()
		assert.Equal(t, byte(opText), op)
		assert.Equal(t, "4hello", string(p))
		// A frame written a byte at a time.
		f := wsframe.AppendHeader(nil, opText, 5)
		f[1] |= 0x80
		f = append(f, 0, 0, 0, 0)
		f = append(f, "4slow"...)
		for i := range f {
			_, err := w.c.Write(f[i : i+1])
			require.NoError(t, err)
		}
		op, p = w.read()
		assert.Equal(t, "4slow", string(p))
		// A binary message of 70,000 bytes: a 64-bit length both ways.
		big := bytes.Repeat([]byte{7, 8, 9}, 70000/3)
		w.frame(0x80|opBinary, big, false)
		op, p = w.read()
		assert.Equal(t, byte(opBinary), op)
		assert.True(t, bytes.Equal(big, p), "the 70,000 bytes come back")
		// A close frame is answered with the same status, then the end.
		w.frame(0x80|opClose, []byte{0x0f, 0xa0, 'b', 'y', 'e'}, false) // 4000
		w.closed(4000)
		ce := h.nextClose()
		assert.Equal(t, sio.ReasonTransportClose, ce.reason)
	})

	violations := map[string]func(w *rawWS){
		"unmasked frame":           func(w *rawWS) { w.frame(0x80|opText, []byte("4x"), true) },
		"reserved bit":             func(w *rawWS) { w.frame(0xc0|opText, []byte("4x"), false) },
		"unknown opcode":           func(w *rawWS) { w.frame(0x80|0x3, []byte("4x"), false) },
		"unknown control opcode":   func(w *rawWS) { w.frame(0x80|0xb, nil, false) },
		"continuation first":       func(w *rawWS) { w.frame(0x80|opContinuation, []byte("4x"), false) },
		"message inside a message": func(w *rawWS) { w.frame(opText, []byte("4x"), false); w.frame(0x80|opText, []byte("4y"), false) },
		"fragmented control frame": func(w *rawWS) { w.frame(opPing, nil, false) },
		"long control frame":       func(w *rawWS) { w.frame(0x80|opPing, make([]byte, 126), false) },
		"close frame of one byte":  func(w *rawWS) { w.frame(0x80|opClose, []byte{3}, false) },
	}
	for name, send := range violations {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, nil)
			w, _ := h.dialRawWS(t, "")
			send(w)
			w.closed(closeProtocolError)
			ce := h.nextClose()
			assert.Equal(t, sio.ReasonTransportError, ce.reason)
			assert.ErrorIs(t, ce.err, errWSProtocol)
		})
	}

	t.Run("too big across fragments", func(t *testing.T) {
		h := newHarness(t, &Options{MaxHTTPBufferSize: 100})
		w, _ := h.dialRawWS(t, "")
		w.frame(opText, bytes.Repeat([]byte("4"), 60), false)
		w.frame(0x80|opContinuation, bytes.Repeat([]byte("x"), 41), false)
		w.closed(closeTooBig)
		ce := h.nextClose()
		assert.Equal(t, sio.ReasonTransportError, ce.reason)
		assert.ErrorIs(t, ce.err, errWSTooBig)
	})

	t.Run("server close handshake", func(t *testing.T) {
		h := newHarness(t, nil)
		w, _ := h.dialRawWS(t, "")
		s := testutil.Recv(t, h.conn)
		s.Close()
		for { // the close packet, then the close frame
			op, p := w.read()
			if op == opClose {
				assert.Equal(t, []byte{0x03, 0xe8}, p) // 1000
				break
			}
			assert.Equal(t, "1", string(p))
		}
		w.frame(0x80|opClose, []byte{0x03, 0xe8}, false)
		_, err := w.br.ReadByte()
		assert.ErrorIs(t, err, io.EOF, "closed once the close frame is answered")
		assert.Equal(t, sio.ReasonForcedClose, h.nextClose().reason)
	})

	for name, tc := range map[string]struct{ header, want string }{
		"version":     {"Sec-WebSocket-Version: 12\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "400 Bad Request\n13\n"},
		"missing key": {"Sec-WebSocket-Version: 13\r\n", "400 Bad Request\n\n"},
		"short key":   {"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: c2hvcnQ=\r\n", "400 Bad Request\n\n"},
	} {
		t.Run("handshake "+name, func(t *testing.T) {
			h := newHarness(t, nil)
			w, got := h.dialRawWS(t, tc.header)
			require.Nil(t, w)
			assert.True(t, strings.HasPrefix(got, tc.want), got)
			assert.Zero(t, h.srv.ClientsCount())
		})
	}
}

// goroutineReaderTests are the WebSocket tests that TestGoroutineReaders
// runs again with goroutine readers; TestGoroutineReaderTestsComplete keeps
// the list in step with the test files.
var goroutineReaderTests = []struct {
	name string
	fn   func(*testing.T)
}{
	{"TestEIO3Heartbeat", TestEIO3Heartbeat},
	{"TestEIO3JSONPRefused", TestEIO3JSONPRefused},
	{"TestEIO3Polling", TestEIO3Polling},
	{"TestEIO3PollingBadPayload", TestEIO3PollingBadPayload},
	{"TestEIO3PollingBase64AndMissingEIO", TestEIO3PollingBase64AndMissingEIO},
	{"TestEIO3PongIsAnError", TestEIO3PongIsAnError},
	{"TestEIO3Refused", TestEIO3Refused},
	{"TestEIO3Upgrade", TestEIO3Upgrade},
	{"TestEIO3WebSocket", TestEIO3WebSocket},
	{"TestEIO3WebSocketBase64", TestEIO3WebSocketBase64},
	{"TestHeartbeatWebSocket", TestHeartbeatWebSocket},
	{"TestServerShutdown", TestServerShutdown},
	{"TestServerShutdownDeadline", TestServerShutdownDeadline},
	{"TestServerShutdownEmpty", TestServerShutdownEmpty},
	{"TestSocketCloseGracefulPolling", TestSocketCloseGracefulPolling},
	{"TestSocketCloseGracefulWebSocket", TestSocketCloseGracefulWebSocket},
	{"TestSocketCloseInOnConnection", TestSocketCloseInOnConnection},
	{"TestUpgrade", TestUpgrade},
	{"TestUpgradeBadProbe", TestUpgradeBadProbe},
	{"TestUpgradeGETBeforeProbeWaits", TestUpgradeGETBeforeProbeWaits},
	{"TestUpgradeKeepsOrder", TestUpgradeKeepsOrder},
	{"TestUpgradeProbeAndUpgradeInOneWrite", TestUpgradeProbeAndUpgradeInOneWrite},
	{"TestUpgradeRefusals", TestUpgradeRefusals},
	{"TestUpgradeSecondProbeWhileUpgrading", TestUpgradeSecondProbeWhileUpgrading},
	{"TestUpgradeTimeoutKeepsPolling", TestUpgradeTimeoutKeepsPolling},
	{"TestUpgradeWithoutPendingGET", TestUpgradeWithoutPendingGET},
	{"TestWSCloseFrames", TestWSCloseFrames},
	{"TestWSInvalidText", TestWSInvalidText},
	{"TestWSOverTLS", TestWSOverTLS},
	{"TestWSOwnProtocol", TestWSOwnProtocol},
	{"TestWSParseErrorClosesWithFrame", TestWSParseErrorClosesWithFrame},
	{"TestWSPingFromCoder", TestWSPingFromCoder},
	{"TestWSUpgradePings", TestWSUpgradePings},
	{"TestWebSocketClientCloses", TestWebSocketClientCloses},
	{"TestWebSocketHandshake", TestWebSocketHandshake},
	{"TestWebSocketIdleSessionHasNoWriter", TestWebSocketIdleSessionHasNoWriter},
	{"TestWebSocketInvalidPacketClosesOnlyThatSession", TestWebSocketInvalidPacketClosesOnlyThatSession},
	{"TestWebSocketMaxHTTPBufferSize", TestWebSocketMaxHTTPBufferSize},
	{"TestWebSocketMessages", TestWebSocketMessages},
	{"TestWebSocketSendNeverBlocks", TestWebSocketSendNeverBlocks},
	{"TestWebSocketSlowClientDoesNotHoldBroadcasts", TestWebSocketSlowClientDoesNotHoldBroadcasts},
	{"TestWebSocketUnderHTTPServerTimeouts", TestWebSocketUnderHTTPServerTimeouts},
}

// goroutineReaderPrefixes name the tests that speak WebSocket.
var goroutineReaderPrefixes = regexp.MustCompile(`^Test(WebSocket|Upgrade|WS|SocketClose|ServerShutdown|HeartbeatWebSocket|EIO3)`)

// TestGoroutineReaders runs the WebSocket tests again with a reader
// goroutine per connection (as on systems without epoll, and for
// connections without a descriptor) instead of the pollers, in this
// process: newHarness reads goroutineReaders.
func TestGoroutineReaders(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("goroutine readers are the only readers here")
	}
	goroutineReaders.Store(true)
	defer goroutineReaders.Store(false)
	for _, tc := range goroutineReaderTests {
		t.Run(tc.name, tc.fn)
	}
}

// TestGoroutineReaderTestsComplete checks that every WebSocket test of the
// package is in goroutineReaderTests, so that a new one runs on both read
// paths.
func TestGoroutineReaderTestsComplete(t *testing.T) {
	listed := map[string]bool{}
	for _, tc := range goroutineReaderTests {
		listed[tc.name] = true
	}
	files, err := filepath.Glob("*_test.go")
	require.NoError(t, err)
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		require.NoError(t, err)
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv == nil && goroutineReaderPrefixes.MatchString(fd.Name.Name) {
				assert.True(t, listed[fd.Name.Name], "%s (%s) is not in goroutineReaderTests", fd.Name.Name, name)
			}
		}
	}
}

// TestWSPingFromCoder checks pings of a library client (coder/websocket)
// are answered while messages flow.
func TestWSPingFromCoder(t *testing.T) {
	h := newHarness(t, nil)
	c, _ := h.wsHandshake()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	go func() { // reads, so that the pong is seen
		for {
			if _, _, err := c.Read(ctx); err != nil {
				return
			}
		}
	}()
	require.NoError(t, c.Ping(ctx))
	writeWS(t, c, "4after the ping")
	assert.Equal(t, "after the ping", h.nextMsg().data)
	require.NoError(t, c.Close(websocket.StatusNormalClosure, ""))
	assert.Equal(t, sio.ReasonTransportClose, h.nextClose().reason)
}

// TestWSOverTLS checks the engine's own protocol on a connection without
// a descriptor (TLS), read by a goroutine through a buffered reader.
func TestWSOverTLS(t *testing.T) {
	srv := NewServer(nil)
	srv.OnConnection(func(s *Socket) {
		s.OnMessage(func(data []byte, binary bool) {
			if !binary {
				data = append([]byte{'4'}, data...)
			}
			_ = s.Send(Frame{Data: data, Binary: binary})
		})
	})
	ts := httptest.NewTLSServer(srv)
	defer ts.Close()
	defer func() { require.NoError(t, srv.Close()) }()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "wss"+strings.TrimPrefix(ts.URL, "https")+"/?EIO=4&transport=websocket",
		&websocket.DialOptions{HTTPClient: ts.Client()})
	require.NoError(t, err)
	defer c.CloseNow()
	open := readWSText(t, c)
	require.True(t, strings.HasPrefix(open, "0{"), open)
	for _, m := range []string{"hello", strings.Repeat("x", 10000)} {
		writeWS(t, c, "4"+m)
		assert.Equal(t, "4"+m, readWSText(t, c))
	}
	require.NoError(t, c.Write(ctx, websocket.MessageBinary, []byte{1, 2, 3}))
	got, bin := readWS(t, c)
	assert.True(t, bin)
	assert.Equal(t, "\x01\x02\x03", got)
	require.NoError(t, c.Close(websocket.StatusNormalClosure, ""))
}

// TestWSUpgradePings checks pings are answered during an upgrade's probe,
// before the WebSocket serves the session (by the probe's reader), and
// after (by the session's writer).
func TestWSUpgradePings(t *testing.T) {
	h := newHarness(t, nil)
	sid, _ := h.handshake()
	h.nextConn()
	w, _ := dialRawWSAt(t, strings.TrimPrefix(h.ts.URL, "http://"), "/engine.io/?sid="+sid, "")
	ping := func(p string) {
		t.Helper()
		w.frame(0x80|opPing, []byte(p), false)
		op, got := w.read()
		require.Equal(t, byte(opPong), op)
		require.Equal(t, p, string(got))
	}
	ping("before the probe")
	w.frame(0x80|opText, []byte("2probe"), false)
	op, p := w.read()
	require.Equal(t, byte(opText), op)
	require.Equal(t, "3probe", string(p))
	ping("during the probe")
	w.frame(0x80|opText, []byte("5"), false)
	require.Equal(t, "websocket", testutil.Recv(t, h.ups))
	ping("upgraded")
	w.frame(0x80|opText, []byte("4hi"), false)
	require.Equal(t, "hi", h.nextMsg().data)
}

// TestWSParseErrorClosesWithFrame checks that a valid WebSocket message
// that is no Engine.IO packet closes the connection with a close frame
// (1002), not a bare TCP close, and the session with "parse error".
func TestWSParseErrorClosesWithFrame(t *testing.T) {
	for name, payload := range map[string]string{"empty text": "", "unknown packet type": "x", "bad digit": "9hello"} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, nil)
			w, _ := h.dialRawWS(t, "")
			w.frame(0x80|opText, []byte(payload), false)
			w.closed(closeProtocolError)
			ce := h.nextClose()
			assert.Equal(t, sio.ReasonParseError, ce.reason)
			assert.ErrorIs(t, ce.err, ErrInvalidPacket)
		})
	}
}

// TestWSInvalidText checks text that is not UTF-8 fails the connection
// with 1007 as soon as the offending byte arrives, in the middle of a
// fragmented message.
func TestWSInvalidText(t *testing.T) {
	h := newHarness(t, nil)
	w, _ := h.dialRawWS(t, "")
	w.frame(opText, []byte("4caf\xc3"), false)        // "café" begun
	w.frame(opContinuation, []byte("\xa9 ok"), false) // and completed across frames
	w.frame(0x80|opPing, []byte("sync"), false)
	op, p := w.read()
	require.Equal(t, byte(opPong), op)
	require.Equal(t, "sync", string(p))
	w.frame(opContinuation, []byte("\xed\xa0\x80"), false) // a surrogate, the message not over
	w.closed(closeInvalidPayload)
	ce := h.nextClose()
	assert.Equal(t, sio.ReasonTransportError, ce.reason)
	assert.ErrorIs(t, ce.err, errWSInvalidUTF8)
}

// TestWSCloseFrames checks the answers to the client's close frames: a
// valid status is echoed (1000 for none), an invalid one gets 1002, an
// invalid reason 1007.
func TestWSCloseFrames(t *testing.T) {
	for _, tc := range []struct {
		payload string
		want    int
		reason  sio.Reason
	}{
		{"", closeNormal, sio.ReasonTransportClose},
		{"\x03\xe9going", 1001, sio.ReasonTransportClose},
		{"\x0b\xb8", 3000, sio.ReasonTransportClose},
		{"\x03\xed", closeProtocolError, sio.ReasonTransportError}, // 1005
		{"\x03\xf7", closeProtocolError, sio.ReasonTransportError}, // 1015
		{"\x13\x88", closeProtocolError, sio.ReasonTransportError}, // 5000
		{"\x03\xe8\xff", closeInvalidPayload, sio.ReasonTransportError},
	} {
		t.Run(fmt.Sprintf("%x", tc.payload), func(t *testing.T) {
			h := newHarness(t, nil)
			w, _ := h.dialRawWS(t, "")
			w.frame(0x80|opClose, []byte(tc.payload), false)
			w.closed(tc.want)
			assert.Equal(t, tc.reason, h.nextClose().reason)
		})
	}
}
