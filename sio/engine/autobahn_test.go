//go:build !js

package engine

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/gosio/socketio/internal/wsframe"
)

// This file holds a conformance test of the engine's own WebSocket
// protocol, after the cases of Autobahn|Testsuite (fuzzingclient): the
// categories 1 (framing), 2 (ping/pong), 3 (reserved bits), 4 (opcodes),
// 5 (fragmentation), 6 (UTF-8), 7 (close handling) and, lightly, 9
// (limits). Each case bears Autobahn's number and expects its outcome:
// an echo, a pong, or the connection failed with a given status.
//
// An Engine.IO session sits on the WebSocket, so a text message must be
// an Engine.IO message packet: text payloads are prefixed with "4" (the
// first fragment's, when fragmented), and the server echoes every message
// back (text as "4" and the data). Where Autobahn waits a second to see
// that the server did not fail a connection, the client sends a ping and
// waits for its pong instead.

// abEvent is a frame the client expects from the server.
type abEvent struct {
	op      byte
	payload string
}

func abText(s string) abEvent   { return abEvent{opText, "4" + s} }
func abBinary(s string) abEvent { return abEvent{opBinary, s} }
func abPong(s string) abEvent   { return abEvent{opPong, s} }

// abCase is one case: what the client sends, and what it expects.
type abCase struct {
	id   string
	send func(c *abConn)
	// want are the frames the server sends, in order. When the server
	// fails the connection, optional lets them be missing (Autobahn's
	// NON-STRICT: the connection failed before the echo was written), or
	// any prefix of them.
	want     []abEvent
	optional bool
	// fail is the status of the close frame the server fails the
	// connection with; 0 when it does not: the client then closes with
	// 1000 once it has what it wants, and expects 1000 back.
	fail int
	// closed lists the statuses the server may answer the client's own
	// close frame with (sent by send), when it sends one.
	closed []int
	// pongs: the server answers pings, but when a pong waits already only
	// the latest (RFC 6455, 5.5.3): want's pongs may come as any ordered
	// subset that ends with the last.
	pongs bool
}

// abConn is the client side of a case.
type abConn struct {
	t       *testing.T
	c       net.Conn
	br      *bufio.Reader
	pending []byte // frames written together by flush
	failing bool   // the server may have failed the connection: write errors are ignored
}

// frame queues a frame: opcode op (with the FIN bit when fin), reserved
// bits rsv, payload; masked, as a client's.
func (c *abConn) frame(op byte, fin bool, rsv byte, payload string) {
	c.pending = append(c.pending, abFrame(op, fin, rsv, payload)...)
}

func abFrame(op byte, fin bool, rsv byte, payload string) []byte {
	hdr := wsframe.AppendHeader(nil, op&0x0f, len(payload))
	hdr[0] = op&0x0f | rsv<<4
	if fin {
		hdr[0] |= 0x80
	}
	hdr[1] |= 0x80
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	p := []byte(payload)
	wsframe.MaskCopy(p, p, wsframe.Key4(key), 0)
	return append(append(hdr, key[:]...), p...)
}

// flush writes the queued frames in one write, or in writes of chop bytes.
func (c *abConn) flush(chop int) {
	c.t.Helper()
	b := c.pending
	c.pending = nil
	if chop <= 0 {
		chop = len(b)
	}
	for len(b) > 0 {
		n := min(chop, len(b))
		if _, err := c.c.Write(b[:n]); err != nil {
			require.True(c.t, c.failing, "write: %v", err)
			return
		}
		b = b[n:]
	}
}

// send is frame then flush: one frame, in writes of chop bytes.
func (c *abConn) send(op byte, fin bool, payload string, chop int) {
	c.t.Helper()
	c.frame(op, fin, 0, payload)
	c.flush(chop)
}

// closeFrame sends a close frame with status code (none when negative)
// and reason.
func (c *abConn) closeFrame(code int, reason string) {
	c.t.Helper()
	var p []byte
	if code >= 0 {
		p = binary.BigEndian.AppendUint16(nil, uint16(code))
	}
	c.send(opClose, true, string(p)+reason, 0)
}

// read reads a frame of the server, which must be final, unmasked, with
// no reserved bit.
func (c *abConn) read() (abEvent, error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return abEvent{}, err
	}
	require.Equal(c.t, byte(0x80), h[0]&0xf0, "FIN and no reserved bits")
	require.Zero(c.t, h[1]&0x80, "server frames are not masked")
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var l [2]byte
		if _, err := io.ReadFull(c.br, l[:]); err != nil {
			return abEvent{}, err
		}
		n = int(binary.BigEndian.Uint16(l[:]))
	case 127:
		var l [8]byte
		if _, err := io.ReadFull(c.br, l[:]); err != nil {
			return abEvent{}, err
		}
		n = int(binary.BigEndian.Uint64(l[:]))
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(c.br, p); err != nil {
		return abEvent{}, err
	}
	return abEvent{h[0] & 0x0f, string(p)}, nil
}

// expect reads the next frame, which must be e.
func (c *abConn) expect(e abEvent) {
	c.t.Helper()
	got, err := c.read()
	require.NoError(c.t, err)
	require.Equal(c.t, abShort(e), abShort(got))
}

// sync sends a ping and waits for its pong: what was sent before is
// processed, and the connection still open.
func (c *abConn) sync() {
	c.t.Helper()
	c.send(opPing, true, "sync", 0)
	c.expect(abPong("sync"))
}

// abShort is an event as printed: long payloads are cut.
func abShort(e abEvent) string {
	p := e.payload
	if len(p) > 80 {
		p = p[:40] + "..." + p[len(p)-20:] + " (" + strconv.Itoa(len(p)) + " bytes)"
	}
	return fmt.Sprintf("op %d %q", e.op, p)
}

// closed reads the server's close frame and checks its status is among
// codes, then the end of the connection (a reset counts: a server that
// fails a connection may leave unread what the client sent after).
func (c *abConn) closed(got abEvent, codes []int) {
	c.t.Helper()
	require.Len(c.t, got.payload, 2, "a close frame with a status")
	code := int(binary.BigEndian.Uint16([]byte(got.payload)))
	require.Contains(c.t, codes, code, "close status")
	_, err := c.br.ReadByte()
	if !errors.Is(err, io.EOF) && !errors.Is(err, syscall.ECONNRESET) {
		c.t.Fatalf("after the close frame: %v, not the end of the connection", err)
	}
}

// run runs the case on a new session of the server at addr.
func (tc *abCase) run(t *testing.T, addr string) {
	w, _ := dialRawWSAt(t, addr, "/", "")
	_ = w.c.SetDeadline(time.Now().Add(4 * waitTimeout))
	c := &abConn{t: t, c: w.c, br: w.br, failing: tc.fail != 0 || tc.closed != nil}
	tc.send(c)
	c.flush(0)

	if tc.fail == 0 && tc.closed == nil {
		// The server echoes (or pongs) and the client closes.
		c.events(tc.want, tc.pongs)
		c.closeFrame(closeNormal, "")
		got, err := c.read()
		require.NoError(t, err)
		require.Equal(t, byte(opClose), got.op, "the close frame answers the client's: %s", abShort(got))
		c.closed(got, []int{closeNormal})
		return
	}
	codes := tc.closed
	if tc.fail != 0 {
		codes = []int{tc.fail}
	}
	i := 0
	for {
		got, err := c.read()
		require.NoError(t, err, "the server sends a close frame before it ends the connection")
		if got.op == opClose {
			if !tc.optional {
				require.Equal(t, len(tc.want), i, "frames before the close frame")
			}
			c.closed(got, codes)
			return
		}
		require.Less(t, i, len(tc.want), "unexpected frame %s", abShort(got))
		require.Equal(t, abShort(tc.want[i]), abShort(got))
		i++
	}
}

// events reads the frames want. With pongs, pongs of want may be missing,
// but those that come are in order, and the last pong comes.
func (c *abConn) events(want []abEvent, pongs bool) {
	c.t.Helper()
	for i := 0; i < len(want); {
		got, err := c.read()
		require.NoError(c.t, err)
		if pongs && got.op == opPong {
			for want[i].op == opPong && want[i] != got && i+1 < len(want) && want[i+1].op == opPong {
				i++ // a pong answered by a later one
			}
		}
		require.Equal(c.t, abShort(want[i]), abShort(got), "frame %d", i)
		i++
	}
}

func TestAutobahn(t *testing.T) {
	cases := autobahnCases()
	for _, rp := range readPaths {
		t.Run(rp.name, func(t *testing.T) {
			srv := NewServer(&Options{MaxHTTPBufferSize: 2 << 20, PingInterval: time.Hour})
			srv.ws.NoPoller = rp.noPoller
			srv.OnConnection(func(s *Socket) {
				s.OnMessage(func(data []byte, binary bool) { _ = s.SendMessage(data, binary) })
			})
			ts := httptest.NewServer(srv)
			t.Cleanup(ts.Close)
			t.Cleanup(func() { require.NoError(t, srv.Close()) })
			addr := strings.TrimPrefix(ts.URL, "http://")
			for _, tc := range cases {
				t.Run(tc.id, func(t *testing.T) { tc.run(t, addr) })
			}
		})
	}
}

// autobahnCases returns the cases, in Autobahn's order.
func autobahnCases() []*abCase {
	var cs []*abCase
	add := func(c *abCase) { cs = append(cs, c) }
	const hello = "Hello, world!"

	// 1: framing. Text and binary messages of 0 to 65536 bytes, echoed;
	// the last in writes of 997 bytes.
	for i, n := range []int{0, 125, 126, 127, 128, 65535, 65536, 65536} {
		chop := 0
		if i == 7 {
			chop = 997
		}
		text := strings.Repeat("*", n)
		add(&abCase{id: fmt.Sprintf("1.1.%d", i+1), want: []abEvent{abText(text)},
			send: func(c *abConn) { c.send(opText, true, "4"+text, chop) }})
		bin := strings.Repeat("\xfe", n)
		add(&abCase{id: fmt.Sprintf("1.2.%d", i+1), want: []abEvent{abBinary(bin)},
			send: func(c *abConn) { c.send(opBinary, true, bin, chop) }})
	}

	// 2: pings and pongs.
	for i, p := range []string{"", hello, "\x00\xff\xfe\xfd\xfc\xfb\x00\xff", strings.Repeat("\xfe", 125)} {
		add(&abCase{id: fmt.Sprintf("2.%d", i+1), want: []abEvent{abPong(p)},
			send: func(c *abConn) { c.send(opPing, true, p, 0) }})
	}
	add(&abCase{id: "2.5", fail: closeProtocolError, // a control frame over 125 bytes
		send: func(c *abConn) { c.send(opPing, true, strings.Repeat("\xfe", 126), 0) }})
	add(&abCase{id: "2.6", want: []abEvent{abPong(strings.Repeat("\xfe", 125))},
		send: func(c *abConn) { c.send(opPing, true, strings.Repeat("\xfe", 125), 1) }})
	add(&abCase{id: "2.7", closed: []int{closeNormal}, // an unsolicited pong is ignored
		send: func(c *abConn) { c.send(opPong, true, "", 0); c.closeFrame(closeNormal, "") }})
	add(&abCase{id: "2.8", closed: []int{closeNormal},
		send: func(c *abConn) { c.send(opPong, true, "unsolicited pong payload", 0); c.closeFrame(closeNormal, "") }})
	add(&abCase{id: "2.9", want: []abEvent{abPong("ping payload")}, send: func(c *abConn) {
		c.frame(opPong, true, 0, "unsolicited pong payload")
		c.frame(opPing, true, 0, "ping payload")
	}})
	// 2.10 and 2.11: ten pings. Autobahn expects ten pongs, which the spec
	// does not require: a ping that comes while a pong waits replaces it.
	for i, chop := range []int{0, 1} {
		var want []abEvent
		for j := range 10 {
			want = append(want, abPong(fmt.Sprintf("payload-%d", j)))
		}
		add(&abCase{id: fmt.Sprintf("2.%d", 10+i), want: want, pongs: true, send: func(c *abConn) {
			for j := range 10 {
				c.frame(opPing, true, 0, fmt.Sprintf("payload-%d", j))
			}
			c.flush(chop)
		}})
	}

	// 3: reserved bits, which no extension gives a meaning: the connection
	// fails, after the echo of the valid message before (or not: the
	// echo may be lost with the connection). The ping after is not
	// answered.
	add(&abCase{id: "3.1", fail: closeProtocolError, send: func(c *abConn) { c.frame(opText, true, 1, "4"+hello) }})
	for i, rsv := range []byte{2, 3, 4} {
		sync, chop := i == 1, 0
		if i == 2 {
			chop = 1
		}
		add(&abCase{id: fmt.Sprintf("3.%d", i+2), fail: closeProtocolError, want: []abEvent{abText(hello)}, optional: true,
			send: func(c *abConn) {
				c.frame(opText, true, 0, "4"+hello)
				if sync {
					c.flush(0)
				}
				c.frame(opText, true, rsv, "4"+hello)
				if sync {
					c.flush(0)
				}
				c.frame(opPing, true, 0, "")
				c.flush(chop)
			}})
	}
	add(&abCase{id: "3.5", fail: closeProtocolError,
		send: func(c *abConn) { c.frame(opBinary, true, 5, "\x00\xff\xfe\xfd\xfc\xfb\x00\xff") }})
	add(&abCase{id: "3.6", fail: closeProtocolError, send: func(c *abConn) { c.frame(opPing, true, 6, hello) }})
	add(&abCase{id: "3.7", fail: closeProtocolError, send: func(c *abConn) { c.frame(opClose, true, 7, "") }})

	// 4: reserved opcodes, data (3-7) and control (11-15).
	for g, ops := range [][]byte{{3, 4, 5, 6, 7}, {11, 12, 13, 14, 15}} {
		for i, op := range ops {
			id := fmt.Sprintf("4.%d.%d", g+1, i+1)
			payload := ""
			if i == 1 {
				payload = "reserved opcode payload"
			} else if i >= 3 {
				payload = "4" + hello
			}
			if i < 2 {
				add(&abCase{id: id, fail: closeProtocolError, send: func(c *abConn) { c.frame(op, true, 0, payload) }})
				continue
			}
			chop := 0
			if i == 4 {
				chop = 1
			}
			add(&abCase{id: id, fail: closeProtocolError, want: []abEvent{abText(hello)}, optional: true,
				send: func(c *abConn) {
					c.frame(opText, true, 0, "4"+hello)
					c.frame(op, true, 0, payload)
					c.frame(opPing, true, 0, "")
					c.flush(chop)
				}})
		}
	}

	// 5: fragmentation.
	add(&abCase{id: "5.1", fail: closeProtocolError, send: func(c *abConn) { // a fragmented ping
		c.frame(opPing, false, 0, "fragment1")
		c.frame(opContinuation, true, 0, "fragment2")
	}})
	add(&abCase{id: "5.2", fail: closeProtocolError, send: func(c *abConn) {
		c.frame(opPong, false, 0, "fragment1")
		c.frame(opContinuation, true, 0, "fragment2")
	}})
	for i, mode := range []struct {
		sync bool
		chop int
	}{{false, 0}, {true, 0}, {false, 1}} {
		add(&abCase{id: fmt.Sprintf("5.%d", 3+i), want: []abEvent{abText("fragment1fragment2")}, send: func(c *abConn) {
			c.frame(opText, false, 0, "4fragment1")
			if mode.sync {
				c.flush(0)
			}
			c.frame(opContinuation, true, 0, "fragment2")
			c.flush(mode.chop)
		}})
		add(&abCase{id: fmt.Sprintf("5.%d", 6+i), want: []abEvent{abPong("ping payload"), abText("fragment1fragment2")}, send: func(c *abConn) {
			c.frame(opText, false, 0, "4fragment1")
			if mode.sync {
				c.flush(0)
			}
			c.frame(opPing, true, 0, "ping payload")
			if mode.sync {
				c.flush(0)
			}
			c.frame(opContinuation, true, 0, "fragment2")
			c.flush(mode.chop)
		}})
		// A continuation with nothing to continue, FIN set (5.9-5.11) or
		// not (5.12-5.14).
		for j, fin := range []bool{true, false} {
			add(&abCase{id: fmt.Sprintf("5.%d", 9+3*j+i), fail: closeProtocolError, send: func(c *abConn) {
				c.frame(opContinuation, fin, 0, "non-continuation payload")
				if mode.sync {
					c.flush(0)
				}
				c.frame(opText, true, 0, "4"+hello)
				c.flush(mode.chop)
			}})
		}
	}
	add(&abCase{id: "5.15", fail: closeProtocolError, want: []abEvent{abText("fragment1fragment2")}, optional: true, send: func(c *abConn) {
		c.frame(opText, false, 0, "4fragment1")
		c.frame(opContinuation, true, 0, "fragment2")
		c.frame(opContinuation, false, 0, "fragment3")
		c.frame(opText, true, 0, "4fragment4")
	}})
	for i, fin := range []bool{false, true} {
		add(&abCase{id: fmt.Sprintf("5.%d", 16+i), fail: closeProtocolError, send: func(c *abConn) {
			for range 2 {
				c.frame(opContinuation, fin, 0, "fragment1")
				c.frame(opText, false, 0, "4fragment2")
				c.frame(opContinuation, true, 0, "fragment3")
			}
		}})
	}
	add(&abCase{id: "5.18", fail: closeProtocolError, send: func(c *abConn) { // both frames text
		c.frame(opText, false, 0, "4fragment1")
		c.frame(opText, true, 0, "4fragment2")
	}})
	for i, sync := range []bool{false, true} {
		add(&abCase{id: fmt.Sprintf("5.%d", 19+i), want: []abEvent{abPong("pongme 2!"), abText("fragment1fragment2fragment3fragment4fragment5")},
			send: func(c *abConn) {
				flush := func() {
					if sync {
						c.flush(0)
					}
				}
				c.frame(opText, false, 0, "4fragment1")
				flush()
				c.frame(opContinuation, false, 0, "fragment2")
				flush()
				c.frame(opPing, true, 0, "pongme 1!")
				c.flush(0)
				// The first ping is answered before the message ends.
				c.expect(abPong("pongme 1!"))
				c.frame(opContinuation, false, 0, "fragment3")
				flush()
				c.frame(opContinuation, false, 0, "fragment4")
				flush()
				c.frame(opPing, true, 0, "pongme 2!")
				flush()
				c.frame(opContinuation, true, 0, "fragment5")
			}})
	}

	// 6: UTF-8.
	add(&abCase{id: "6.1.1", want: []abEvent{abText("")}, send: func(c *abConn) { c.send(opText, true, "4", 0) }})
	add(&abCase{id: "6.1.2", want: []abEvent{abText("")}, send: func(c *abConn) {
		c.frame(opText, false, 0, "4")
		c.frame(opContinuation, false, 0, "")
		c.frame(opContinuation, true, 0, "")
	}})
	add(&abCase{id: "6.1.3", want: []abEvent{abText("middle frame payload")}, send: func(c *abConn) {
		c.frame(opText, false, 0, "4")
		c.frame(opContinuation, false, 0, "middle frame payload")
		c.frame(opContinuation, true, 0, "")
	}})
	const valid = "Hello-\u00b5@\u00df\u00f6\u00e4\u00fc\u00e0\u00e1-UTF-8!!"
	add(&abCase{id: "6.2.1", want: []abEvent{abText(valid)}, send: func(c *abConn) { c.send(opText, true, "4"+valid, 0) }})
	add(&abCase{id: "6.2.2", want: []abEvent{abText(valid)}, send: func(c *abConn) { // split between characters
		c.frame(opText, false, 0, "4Hello-\u00b5@\u00df\u00f6\u00e4")
		c.frame(opContinuation, true, 0, "\u00fc\u00e0\u00e1-UTF-8!!")
	}})
	const kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
	for i, s := range []string{valid, kosme} { // in frames of one byte, split inside characters
		add(&abCase{id: fmt.Sprintf("6.2.%d", 3+i), want: []abEvent{abText(s)}, send: func(c *abConn) { abFragments(c, "4"+s) }})
	}
	const invalid = kosme + "\xed\xa0\x80" + "edited" // a surrogate
	add(&abCase{id: "6.3.1", fail: closeInvalidPayload, send: func(c *abConn) { c.send(opText, true, "4"+invalid, 0) }})
	add(&abCase{id: "6.3.2", fail: closeInvalidPayload, send: func(c *abConn) { abFragments(c, "4"+invalid) }})
	// 6.4: fail fast. The text is invalid at its 13th byte (a character
	// past U+10FFFF); the connection fails once that byte comes, before
	// the message ends. The parts are split after 11 and 15 bytes (6.4.1,
	// 6.4.3), or after 12 and 13 (6.4.2, 6.4.4).
	const fast = kosme + "\xf4\x90\x80\x80" + "edited"
	for i, cut := range [][2]int{{len(kosme), len(kosme) + 4}, {len(kosme) + 1, len(kosme) + 2}} {
		// 6.4.1 and 6.4.2: in frames; 6.4.3 and 6.4.4: in parts of one frame.
		add(&abCase{id: fmt.Sprintf("6.4.%d", 1+i), fail: closeInvalidPayload, send: func(c *abConn) {
			c.send(opText, false, "4"+fast[:cut[0]], 0)
			c.sync() // the first part is accepted
			c.send(opContinuation, false, fast[cut[0]:cut[1]], 0)
		}})
		add(&abCase{id: fmt.Sprintf("6.4.%d", 3+i), fail: closeInvalidPayload, send: func(c *abConn) {
			f := abFrame(opText, true, 0, "4"+fast)
			at := len(f) - len(fast) // where fast starts
			c.pending = f[:at+cut[0]]
			c.flush(0)
			c.pending = f[at+cut[0] : at+cut[1]]
			c.flush(0)
			// The rest of the frame is never sent: only failing fast
			// ends the connection.
		}})
	}
	// 6.5-6.23: the sequences of Markus Kuhn's UTF-8 decoder test that
	// Autobahn sends, each as a text message in one frame, written at
	// once and then a byte at a time.
	for i, table := range utf8Tables() {
		for j, seq := range table {
			for _, chop := range []int{0, 1} {
				id := fmt.Sprintf("6.%d.%d", 5+i, j+1)
				if chop == 1 {
					id += "/bytewise"
				}
				c := &abCase{id: id, send: func(c *abConn) { c.send(opText, true, "4"+seq.s, chop) }}
				if seq.valid {
					c.want = []abEvent{abText(seq.s)}
				} else {
					c.fail = closeInvalidPayload
				}
				add(c)
			}
		}
	}

	// 7: close handling.
	add(&abCase{id: "7.1.1", want: []abEvent{abText("Hello World!")}, send: func(c *abConn) { c.send(opText, true, "4Hello World!", 0) }})
	add(&abCase{id: "7.1.2", closed: []int{closeNormal}, send: func(c *abConn) { // a second close frame is ignored
		c.closeFrame(closeNormal, "")
		c.closeFrame(-1, "")
	}})
	add(&abCase{id: "7.1.3", closed: []int{closeNormal}, send: func(c *abConn) { // no pong after the close
		c.closeFrame(closeNormal, "")
		c.send(opPing, true, "", 0)
	}})
	add(&abCase{id: "7.1.4", closed: []int{closeNormal}, send: func(c *abConn) { // no echo after the close
		c.closeFrame(closeNormal, "")
		c.send(opText, true, "4Hello World!", 0)
	}})
	add(&abCase{id: "7.1.5", closed: []int{closeNormal}, send: func(c *abConn) {
		c.send(opText, false, "4fragment1", 0)
		c.closeFrame(closeNormal, "")
		c.send(opContinuation, true, "fragment2", 0)
	}})
	// 7.1.6 is informational: a large message, a small one, the close
	// frame and a ping written together; the echoes may be cut short by
	// the close, which always comes, with nothing after it.
	big := strings.Repeat("BAsd7&jh23", 256<<10/10)
	add(&abCase{id: "7.1.6", closed: []int{closeNormal}, want: []abEvent{abText(big), abText("Hello World!")}, optional: true,
		send: func(c *abConn) {
			c.frame(opText, true, 0, "4"+big)
			c.frame(opText, true, 0, "4Hello World!")
			c.frame(opClose, true, 0, "\x03\xe8")
			c.frame(opPing, true, 0, "")
		}})
	add(&abCase{id: "7.3.1", closed: []int{closeNormal}, send: func(c *abConn) { c.closeFrame(-1, "") }})
	add(&abCase{id: "7.3.2", fail: closeProtocolError, send: func(c *abConn) { c.send(opClose, true, "a", 0) }})
	add(&abCase{id: "7.3.3", closed: []int{closeNormal}, send: func(c *abConn) { c.closeFrame(closeNormal, "") }})
	add(&abCase{id: "7.3.4", closed: []int{closeNormal}, send: func(c *abConn) { c.closeFrame(closeNormal, "Hello World!") }})
	add(&abCase{id: "7.3.5", closed: []int{closeNormal}, send: func(c *abConn) { c.closeFrame(closeNormal, strings.Repeat("*", 123)) }})
	add(&abCase{id: "7.3.6", fail: closeProtocolError, send: func(c *abConn) { c.closeFrame(closeNormal, strings.Repeat("*", 124)) }})
	add(&abCase{id: "7.5.1", fail: closeInvalidPayload, send: func(c *abConn) { c.closeFrame(closeNormal, invalid) }})
	for i, code := range []int{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		add(&abCase{id: fmt.Sprintf("7.7.%d", i+1), closed: []int{code}, send: func(c *abConn) { c.closeFrame(code, "") }})
	}
	for i, code := range []int{0, 999, 1004, 1005, 1006, 1016, 1100, 2000, 2999} {
		add(&abCase{id: fmt.Sprintf("7.9.%d", i+1), fail: closeProtocolError, send: func(c *abConn) { c.closeFrame(code, "") }})
	}
	// Beyond Autobahn's lists: the other codes RFC 6455's registry
	// defines for close frames are echoed, 1015 (never sent) is not.
	for _, code := range []int{1012, 1013, 1014} {
		add(&abCase{id: fmt.Sprintf("7.7.x/%d", code), closed: []int{code}, send: func(c *abConn) { c.closeFrame(code, "") }})
	}
	add(&abCase{id: "7.9.x/1015", fail: closeProtocolError, send: func(c *abConn) { c.closeFrame(1015, "") }})
	// 7.13 is informational; the engine fails the connection.
	for i, code := range []int{5000, 65535} {
		add(&abCase{id: fmt.Sprintf("7.13.%d", i+1), fail: closeProtocolError, send: func(c *abConn) { c.closeFrame(code, "") }})
	}

	// 9: limits, light: messages of 64 KiB to 1 MiB (Autobahn goes to
	// 16 MiB) within MaxHTTPBufferSize, in one frame, in fragments, and in
	// small writes; then a thousand round trips of small messages.
	text := func(n int) string { return strings.Repeat("BAsd7&jh23", n/10+1)[:n] }
	bin := func(n int) string { return strings.Repeat("\x00\xfe\x23\xfa\xf0", n/5+1)[:n] }
	for i, n := range []int{64 << 10, 256 << 10, 1 << 20} {
		add(&abCase{id: fmt.Sprintf("9.1.%d", i+1), want: []abEvent{abText(text(n))}, send: func(c *abConn) { c.send(opText, true, "4"+text(n), 0) }})
		add(&abCase{id: fmt.Sprintf("9.2.%d", i+1), want: []abEvent{abBinary(bin(n))}, send: func(c *abConn) { c.send(opBinary, true, bin(n), 0) }})
	}
	for i, frag := range []int{64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10, 1 << 20, 4 << 20} {
		const n = 1 << 20 // Autobahn: 4 MiB
		add(&abCase{id: fmt.Sprintf("9.3.%d", i+1), want: []abEvent{abText(text(n))}, send: func(c *abConn) { abSplit(c, opText, "4"+text(n), frag) }})
		add(&abCase{id: fmt.Sprintf("9.4.%d", i+1), want: []abEvent{abBinary(bin(n))}, send: func(c *abConn) { abSplit(c, opBinary, bin(n), frag) }})
	}
	for i, chop := range []int{64, 128, 256, 512, 1024, 2048} {
		const n = 1 << 20
		add(&abCase{id: fmt.Sprintf("9.5.%d", i+1), want: []abEvent{abText(text(n))}, send: func(c *abConn) { c.send(opText, true, "4"+text(n), chop) }})
		add(&abCase{id: fmt.Sprintf("9.6.%d", i+1), want: []abEvent{abBinary(bin(n))}, send: func(c *abConn) { c.send(opBinary, true, bin(n), chop) }})
	}
	for i, n := range []int{0, 16, 64, 256, 1024, 4096} {
		for j, binary := range []bool{false, true} {
			add(&abCase{id: fmt.Sprintf("9.%d.%d", 7+j, i+1), send: func(c *abConn) {
				for range 1000 {
					if binary {
						c.send(opBinary, true, bin(n), 0)
						c.expect(abBinary(bin(n)))
					} else {
						c.send(opText, true, "4"+text(n), 0)
						c.expect(abText(text(n)))
					}
				}
			}})
		}
	}
	// Past MaxHTTPBufferSize (2 MiB here), in one frame or in fragments,
	// the connection fails with 1009.
	add(&abCase{id: "9.x/too-big", fail: closeTooBig, send: func(c *abConn) { c.send(opBinary, true, bin(2<<20+1), 0) }})
	add(&abCase{id: "9.x/too-big-fragmented", fail: closeTooBig, send: func(c *abConn) { abSplit(c, opBinary, bin(2<<20+1), 1<<20) }})
	return cs
}

// abFragments sends text as a message in frames of one byte.
func abFragments(c *abConn, text string) {
	abSplit(c, opText, text, 1)
}

// abSplit sends a message of opcode op in frames of frag bytes.
func abSplit(c *abConn, op byte, payload string, frag int) {
	for first := true; first || len(payload) > 0; first = false {
		n := min(frag, len(payload))
		fop := byte(opContinuation)
		if first {
			fop = op
		}
		c.frame(fop, n == len(payload), 0, payload[:n])
		payload = payload[n:]
	}
}

// utf8Seq is a byte sequence, valid UTF-8 or not.
type utf8Seq struct {
	valid bool
	s     string
}

// utf8Tables returns the sequences of Autobahn's cases 6.5 to 6.23, taken
// from Markus Kuhn's UTF-8 decoder capability and stress test.
func utf8Tables() [][]utf8Seq {
	all := func(valid bool, ss ...string) []utf8Seq {
		out := make([]utf8Seq, len(ss))
		for i, s := range ss {
			out[i] = utf8Seq{valid, s}
		}
		return out
	}
	const kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"
	var prefixes []utf8Seq // 6.6: valid when ending between characters
	for i := 1; i <= len(kosme); i++ {
		prefixes = append(prefixes, utf8Seq{utf8.ValidString(kosme[:i]), kosme[:i]})
	}
	var continuations []byte // 6.12.8
	for c := 0x80; c < 0xbf; c++ {
		continuations = append(continuations, byte(c))
	}
	var lonely []string // 6.13: each start byte followed by a space
	for _, r := range [][2]int{{0xc0, 0xdf}, {0xe0, 0xef}, {0xf0, 0xf7}, {0xf8, 0xfb}, {0xfc, 0xfd}} {
		var b []byte
		for c := r[0]; c < r[1]; c++ {
			b = append(b, byte(c), ' ')
		}
		lonely = append(lonely, string(b))
	}
	missing := []string{"\xc0", "\xe0\x80", "\xf0\x80\x80", "\xf8\x80\x80\x80", "\xfc\x80\x80\x80\x80",
		"\xdf", "\xef\xbf", "\xf7\xbf\xbf", "\xfb\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf"}
	nonChars := []string{"\xef\xbf\xbe", "\xef\xbf\xbf"} // 6.22
	for _, z1 := range []string{"\xf0", "\xf1", "\xf2", "\xf3", "\xf4"} {
		for _, z2 := range []string{"\x8f", "\x9f", "\xaf", "\xbf"} {
			if z1 == "\xf4" && z2 != "\x8f" {
				continue // past U+10FFFF
			}
			for _, z3 := range []string{"\xbe", "\xbf"} {
				if s := z1 + z2 + "\xbf" + z3; s != "\xf0\x8f\xbf\xbe" && s != "\xf0\x8f\xbf\xbf" { // not overlong
					nonChars = append(nonChars, s)
				}
			}
		}
	}
	return [][]utf8Seq{
		// 6.5 some valid text
		all(true, "hello\x24world", "hello\xc2\xa2world", "hello\xe2\x82\xacworld", "hello\xf0\xa4\xad\xa2world", kosme),
		prefixes, // 6.6
		// 6.7 first possible sequence of each length; 6.8 of lengths 5 and 6
		all(true, "\x00", "\xc2\x80", "\xe0\xa0\x80", "\xf0\x90\x80\x80"),
		all(false, "\xf8\x88\x80\x80\x80", "\xfc\x84\x80\x80\x80\x80"),
		// 6.9 last possible sequence of each length; 6.10 past U+10FFFF
		all(true, "\x7f", "\xdf\xbf", "\xef\xbf\xbf", "\xf4\x8f\xbf\xbf"),
		all(false, "\xf7\xbf\xbf\xbf", "\xfb\xbf\xbf\xbf\xbf", "\xfd\xbf\xbf\xbf\xbf\xbf"),
		// 6.11 other boundary conditions
		append(all(true, "\xed\x9f\xbf", "\xee\x80\x80", "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf"), utf8Seq{false, "\xf4\x90\x80\x80"}),
		// 6.12 unexpected continuation bytes
		all(false, "\x80", "\xbf", "\x80\xbf", "\x80\xbf\x80", "\x80\xbf\x80\xbf", "\x80\xbf\x80\xbf\x80", "\x80\xbf\x80\xbf\x80\xbf", string(continuations)),
		all(false, lonely...),                          // 6.13 lonely start bytes
		all(false, missing...),                         // 6.14 last continuation byte missing
		all(false, strings.Join(missing, "")),          // 6.15 their concatenation
		all(false, "\xfe", "\xff", "\xfe\xfe\xff\xff"), // 6.16 impossible bytes
		// 6.17 overlong ASCII; 6.18 maximum overlong sequences; 6.19 overlong NUL
		all(false, "\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf", "\xf8\x80\x80\x80\xaf", "\xfc\x80\x80\x80\x80\xaf"),
		all(false, "\xc1\xbf", "\xe0\x9f\xbf", "\xf0\x8f\xbf\xbf", "\xf8\x87\xbf\xbf\xbf", "\xfc\x83\xbf\xbf\xbf\xbf"),
		all(false, "\xc0\x80", "\xe0\x80\x80", "\xf0\x80\x80\x80", "\xf8\x80\x80\x80\x80", "\xfc\x80\x80\x80\x80\x80"),
		// 6.20 single UTF-16 surrogates; 6.21 paired ones
		all(false, "\xed\xa0\x80", "\xed\xad\xbf", "\xed\xae\x80", "\xed\xaf\xbf", "\xed\xb0\x80", "\xed\xbe\x80", "\xed\xbf\xbf"),
		all(false, "\xed\xa0\x80\xed\xb0\x80", "\xed\xa0\x80\xed\xbf\xbf", "\xed\xad\xbf\xed\xb0\x80", "\xed\xad\xbf\xed\xbf\xbf",
			"\xed\xae\x80\xed\xb0\x80", "\xed\xae\x80\xed\xbf\xbf", "\xed\xaf\xbf\xed\xb0\x80", "\xed\xaf\xbf\xed\xbf\xbf"),
		all(true, nonChars...), // 6.22 non-characters, valid UTF-8
		// 6.23 Unicode specials
		all(true, "\xef\xbf\xb9", "\xef\xbf\xba", "\xef\xbf\xbb", "\xef\xbf\xbc", "\xef\xbf\xbd", "\xef\xbf\xbe", "\xef\xbf\xbf"),
	}
}

// TestAutobahnUTF8Tables checks the tables against the standard library,
// which implements the same definition of valid UTF-8.
func TestAutobahnUTF8Tables(t *testing.T) {
	tables := utf8Tables()
	require.Len(t, tables, 19, "6.5 to 6.23")
	require.Len(t, tables[17], 34, "6.22 has 34 sequences")
	for i, table := range tables {
		for j, seq := range table {
			require.Equal(t, seq.valid, utf8.ValidString(seq.s), "6.%d.%d %x", 5+i, j+1, seq.s)
		}
	}
}
