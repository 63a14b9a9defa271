//go:build !js

package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gosio/socketio/sio/internal/testutil"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	hdr := appendFrameHeader(nil, b0&0x0f, len(payload))
	hdr[0] = b0
	p := bytes.Clone(payload)
	if !unmasked {
		hdr[1] |= 0x80
		key := [4]byte{1, 2, 3, 250}
		hdr = append(hdr, key[:]...)
		maskBytes(key, p)
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
		f := appendFrameHeader(nil, opText, 5)
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
		assert.Equal(t, ReasonTransportClose, ce.reason)
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
			assert.Equal(t, ReasonTransportError, ce.reason)
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
		assert.Equal(t, ReasonTransportError, ce.reason)
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
		assert.Equal(t, ReasonForcedClose, h.nextClose().reason)
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

// TestGoroutineReaders runs the WebSocket tests again with a reader
// goroutine per connection (as on systems without epoll, and for
// connections without a descriptor) instead of the pollers.
func TestGoroutineReaders(t *testing.T) {
	if os.Getenv(goroutineReadersEnv) != "" || runtime.GOOS != "linux" {
		t.Skip("this run has goroutine readers already")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^(TestWebSocket|TestUpgrade|TestWS|TestSocketClose|TestServerShutdown|TestHeartbeatWebSocket|TestEIO3)", "-test.count=1")
	cmd.Env = append(os.Environ(), goroutineReadersEnv+"=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "PASS")
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
	assert.Equal(t, ReasonTransportClose, h.nextClose().reason)
}

func TestMaskBytes(t *testing.T) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	for n := range 40 {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i * 7)
		}
		got := bytes.Clone(b)
		maskBytes(key, got)
		for i := range b {
			require.Equal(t, b[i]^key[i%4], got[i], "n=%d i=%d", n, i)
		}
	}
}

func TestAppendFrameHeader(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want []byte
	}{
		{0, []byte{0x81, 0}},
		{125, []byte{0x81, 125}},
		{126, []byte{0x81, 126, 0, 126}},
		{65535, []byte{0x81, 126, 0xff, 0xff}},
		{65536, []byte{0x81, 127, 0, 0, 0, 0, 0, 1, 0, 0}},
	} {
		assert.Equal(t, tc.want, appendFrameHeader(nil, opText, tc.n), "n=%d", tc.n)
	}
}

// maskedFrame is a client frame: first byte b0, payload p.
func maskedFrame(b0 byte, p string) []byte {
	h := appendFrameHeader(nil, b0&0x0f, len(p))
	h[0] = b0
	h[1] |= 0x80
	key := [4]byte{9, 8, 7, 6}
	b := []byte(p)
	maskBytes(key, b)
	return append(append(h, key[:]...), b...)
}

// parseAll feeds data to a parser in pieces of size step and returns the
// frames it yields, and its error.
func parseAll(data []byte, step int, limit int64) ([]wsFrame, error) {
	p := wsParser{limit: limit}
	var out []wsFrame
	for len(data) > 0 {
		piece := data[:min(step, len(data))]
		data = data[len(piece):]
		for len(piece) > 0 {
			n, f, ok, err := p.next(piece)
			piece = piece[n:]
			if err != nil {
				return out, err
			}
			if n == 0 && !ok {
				return out, errors.New("no progress")
			}
			if ok {
				out = append(out, wsFrame{f.op, bytes.Clone(f.data)})
			}
		}
	}
	return out, nil
}

func TestWSParserPieces(t *testing.T) {
	var in []byte
	in = append(in, maskedFrame(0x81, "4hello")...)
	in = append(in, maskedFrame(0x02, "ab")...)
	in = append(in, maskedFrame(0x89, "")...)
	in = append(in, maskedFrame(0x80, strings.Repeat("c", 300))...)
	in = append(in, maskedFrame(0x81, "")...)
	want := []wsFrame{{opText, []byte("4hello")}, {opPing, []byte{}}, {opBinary, []byte("ab" + strings.Repeat("c", 300))}, {opText, []byte{}}}
	for step := 1; step <= len(in); step++ {
		got, err := parseAll(in, step, 1000)
		require.NoError(t, err, "step %d", step)
		require.Equal(t, want, got, "step %d", step)
	}
}

// FuzzWSParser feeds arbitrary bytes to the frame parser, whole and one
// byte at a time: it never panics, yields messages within the limit or a
// typed error, and yields the same however the bytes are split.
func FuzzWSParser(f *testing.F) {
	f.Add(maskedFrame(0x81, "4hello"))
	f.Add(append(maskedFrame(0x01, "4he"), append(maskedFrame(0x89, "x"), maskedFrame(0x80, "llo")...)...))
	f.Add(maskedFrame(0x82, strings.Repeat("z", 300)))
	f.Add(maskedFrame(0x88, "\x03\xe8"))
	f.Add([]byte{0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0})
	// Invalid UTF-8, in one frame and across fragments, and text split
	// inside a character.
	f.Add(maskedFrame(0x81, "4\xed\xa0\x80"))
	f.Add(append(maskedFrame(0x01, "4caf\xc3"), maskedFrame(0x80, "\xa9")...))
	f.Add(append(maskedFrame(0x01, "4\xce\xba\xf4"), maskedFrame(0x80, "\x90\x80\x80")...))
	f.Add(maskedFrame(0x81, "4\xc3"))
	// Close frames: one byte, invalid statuses, an invalid reason.
	f.Add(maskedFrame(0x88, "\x03"))
	f.Add(maskedFrame(0x88, "\x03\xed"))
	f.Add(maskedFrame(0x88, "\x13\x88"))
	f.Add(maskedFrame(0x88, "\x03\xe8\xff\xfe"))
	// A header announcing far more than comes.
	f.Add([]byte{0x82, 0xff, 0, 0, 0, 0, 0, 0x0f, 0x3e, 0x58, 1, 2, 3, 4, 5, 6})
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 1000
		whole, err1 := parseAll(data, len(data), limit)
		bytewise, err2 := parseAll(data, 1, limit)
		for _, err := range []error{err1, err2} {
			var we *wsError
			if err != nil && !errors.As(err, &we) {
				t.Fatalf("untyped error %v", err)
			}
		}
		if (err1 == nil) != (err2 == nil) {
			t.Fatalf("whole: %v, byte by byte: %v", err1, err2)
		}
		if len(whole) != len(bytewise) {
			t.Fatalf("%d frames whole, %d byte by byte", len(whole), len(bytewise))
		}
		for i := range whole {
			if whole[i].op != bytewise[i].op || !bytes.Equal(whole[i].data, bytewise[i].data) {
				t.Fatalf("frame %d differs", i)
			}
			if len(whole[i].data) > limit {
				t.Fatalf("frame of %d bytes", len(whole[i].data))
			}
			switch whole[i].op {
			case opText:
				if !utf8.Valid(whole[i].data) {
					t.Fatalf("text frame %d is not UTF-8", i)
				}
			case opClose:
				var we *wsError
				var ce *wsCloseError
				if err := closeFrameError(whole[i].data); !errors.As(err, &we) && !errors.As(err, &ce) {
					t.Fatalf("close frame: untyped error %v", err)
				}
			}
		}
	})
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
			assert.Equal(t, ReasonParseError, ce.reason)
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
	assert.Equal(t, ReasonTransportError, ce.reason)
	assert.ErrorIs(t, ce.err, errWSInvalidUTF8)
}

// TestWSCloseFrames checks the answers to the client's close frames: a
// valid status is echoed (1000 for none), an invalid one gets 1002, an
// invalid reason 1007.
func TestWSCloseFrames(t *testing.T) {
	for _, tc := range []struct {
		payload string
		want    int
		reason  string
	}{
		{"", closeNormal, ReasonTransportClose},
		{"\x03\xe9going", 1001, ReasonTransportClose},
		{"\x0b\xb8", 3000, ReasonTransportClose},
		{"\x03\xed", closeProtocolError, ReasonTransportError}, // 1005
		{"\x03\xf7", closeProtocolError, ReasonTransportError}, // 1015
		{"\x13\x88", closeProtocolError, ReasonTransportError}, // 5000
		{"\x03\xe8\xff", closeInvalidPayload, ReasonTransportError},
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

func TestCloseFrameError(t *testing.T) {
	for code := range 0x10000 {
		p := binary.BigEndian.AppendUint16(nil, uint16(code))
		err := closeFrameError(append(p, "bye"...))
		var ce *wsCloseError
		var we *wsError
		valid := code >= 1000 && code <= 1003 || code >= 1007 && code <= 1014 || code >= 3000 && code <= 4999
		if valid {
			require.ErrorAs(t, err, &ce, "code %d", code)
			require.Equal(t, code, ce.Code)
			require.Equal(t, "bye", ce.Reason)
		} else {
			require.ErrorAs(t, err, &we, "code %d", code)
			require.Equal(t, closeProtocolError, we.code)
		}
	}
	var we *wsError
	require.ErrorAs(t, closeFrameError([]byte{3}), &we)
	assert.Equal(t, closeProtocolError, we.code)
	require.ErrorAs(t, closeFrameError([]byte("\x03\xe8\xc3")), &we)
	assert.Equal(t, closeInvalidPayload, we.code)
	var ce *wsCloseError
	require.ErrorAs(t, closeFrameError(nil), &ce)
	assert.Equal(t, closeNoStatus, ce.Code)
}

func TestUnmaskCopy(t *testing.T) {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	k := binary.LittleEndian.Uint32(key[:])
	for pos := range 4 {
		for n := range 40 {
			src := make([]byte, n)
			for i := range src {
				src[i] = byte(i * 7)
			}
			dst := make([]byte, n)
			nonASCII := unmaskCopy(dst, src, k, pos)
			high := false
			for i := range src {
				require.Equal(t, src[i]^key[(pos+i)%4], dst[i], "pos=%d n=%d i=%d", pos, n, i)
				high = high || dst[i] >= 0x80
			}
			require.Equal(t, high, nonASCII)
		}
	}
}

// utf8Completable reports whether some valid UTF-8 text begins with b:
// b is valid, or valid once up to three continuation bytes follow.
func utf8Completable(b []byte) bool {
	if utf8.Valid(b) {
		return true
	}
	conts := []byte{0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf}
	var try func(b []byte, depth int) bool
	try = func(b []byte, depth int) bool {
		if utf8.Valid(b) {
			return true
		}
		if depth == 0 {
			return false
		}
		for _, c := range conts {
			if try(append(b[:len(b):len(b)], c), depth-1) {
				return true
			}
		}
		return false
	}
	return try(b, 3)
}

// checkUTF8Pieces feeds b to a utf8Check cut at the given points and
// checks it against the standard library: it accepts exactly valid text,
// and fails at the first byte after which no valid text is possible.
func checkUTF8Pieces(t testing.TB, b []byte, cuts ...int) {
	var u utf8Check
	ok, at := true, 0
	for _, c := range append(cuts, len(b)) {
		c = min(max(c, at), len(b))
		if ok = u.check(b[at:c]); !ok {
			break
		}
		at = c
	}
	if ok {
		if u.complete() != utf8.Valid(b) {
			t.Fatalf("%x cut at %v: complete %v, valid %v", b, cuts, u.complete(), utf8.Valid(b))
		}
		if !utf8Completable(b) {
			t.Fatalf("%x cut at %v: accepted, but no valid text begins so", b, cuts)
		}
		return
	}
	if utf8.Valid(b) {
		t.Fatalf("%x cut at %v: refused, but valid", b, cuts)
	}
	// Fail fast: the shortest prefix that no valid text begins with is
	// where a byte-by-byte check fails.
	var v utf8Check
	for i := range b {
		if !v.check(b[i : i+1]) {
			if !utf8Completable(b[:i]) || utf8Completable(b[:i+1]) {
				t.Fatalf("%x: failed at byte %d, which is not the first that no valid text has", b, i)
			}
			return
		}
	}
	t.Fatalf("%x: refused whole, accepted byte by byte", b)
}

func TestUTF8Check(t *testing.T) {
	for _, s := range []string{
		"", "hello", "caf\u00e9", "\u20ac", "\U0001f600", "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5",
		"\xed\x9f\xbf", "\xee\x80\x80", "\xf4\x8f\xbf\xbf", "01234567\xc3\xa90123456789abcdef\xf0\x9f\x98\x80",
		"\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xc3", "\xc3(", "\x80",
		"\xfe", "\xf8\x88\x80\x80\x80", "01234567\xc3", "0123456789abcdef\xed\xa0",
	} {
		for cut := range len(s) + 1 {
			checkUTF8Pieces(t, []byte(s), cut)
		}
	}
	// Every sequence of two bytes, and of three from a leading byte.
	for b0 := range 256 {
		for b1 := range 256 {
			checkUTF8Pieces(t, []byte{byte(b0), byte(b1)})
			if b0 >= 0xe0 && b0 <= 0xf4 {
				for _, b2 := range []byte{0x7f, 0x80, 0xbf, 0xc0} {
					checkUTF8Pieces(t, []byte{byte(b0), byte(b1), b2}, 1)
				}
			}
		}
	}
}

func FuzzUTF8Check(f *testing.F) {
	f.Add([]byte("caf\u00e9 \U0001f600"), 4, 6)
	f.Add([]byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"), 12, 13)
	f.Add([]byte("\xf4\x90\x80\x80"), 1, 2)
	f.Add([]byte("abcdefgh\xc3\xa9abcdefgh"), 9, 9)
	f.Fuzz(func(t *testing.T, b []byte, c1, c2 int) {
		checkUTF8Pieces(t, b, c1, c2)
	})
}

// TestWSParserMemory checks the parser allocates as a frame's bytes
// arrive, not as its header announces.
func TestWSParserMemory(t *testing.T) {
	const n = 999000
	p := wsParser{limit: 1e6}
	hdr := []byte{0x82, 0x80 | 127, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}
	binary.BigEndian.PutUint64(hdr[2:10], n)
	used, _, ok, err := p.next(hdr)
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, len(hdr), used)
	require.Zero(t, cap(p.msg), "nothing allocated before data")

	data := make([]byte, 4096)
	got := 0
	for got < n {
		chunk := data[:min(len(data), n-got)]
		used, f, ok, err := p.next(chunk)
		require.NoError(t, err)
		require.Equal(t, len(chunk), used)
		got += used
		if ok {
			require.Equal(t, n, got)
			require.Len(t, f.data, n)
			require.Equal(t, n, cap(f.data), "a whole message's buffer is never larger than it")
			break
		}
		require.LessOrEqual(t, cap(p.msg), max(wsFirstAlloc, 2*got), "after %d bytes", got)
	}

	// A message in 10,000 fragments of 10 bytes: the buffer doubles.
	p = wsParser{limit: 1e6}
	allocs := 0
	for i := range 10000 {
		b0 := byte(opContinuation)
		if i == 0 {
			b0 = opBinary
		}
		if i == 9999 {
			b0 |= 0x80
		}
		was := cap(p.msg)
		f := maskedFrame(b0, "0123456789")
		used, fr, ok, err := p.next(f)
		require.NoError(t, err)
		require.Equal(t, len(f), used)
		if cap(p.msg) != was {
			allocs++
		}
		if ok {
			require.Len(t, fr.data, 100000)
		} else {
			require.LessOrEqual(t, cap(p.msg), max(wsFirstAlloc, 2*len(p.msg)))
		}
	}
	assert.LessOrEqual(t, allocs, 18, "buffer growths: geometric, about log2(100,000/10)")
}
