//go:build !js

package wsio

import (
	"bufio"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gosio/socketio/internal/wsframe"
)

// This file is the server side of the WebSocket protocol (RFC 6455) without
// extensions, which OwnConn speaks (with permessage-deflate, coder/websocket
// does: LibConn). Speaking it directly lets a
// message be read with no more than a copy from the read chunk into a
// buffer of its exact size, and a frame be written by appending its header
// and payload to the corkConn's gathering buffer: no per-connection
// reader or writer objects, no bufio layers, no channel-based locks.

// WebSocket opcodes and the close codes the engine sends (see wsframe).
const (
	opContinuation = wsframe.OpContinuation
	opText         = wsframe.OpText
	opBinary       = wsframe.OpBinary
	opClose        = wsframe.OpClose
	opPing         = wsframe.OpPing
	opPong         = wsframe.OpPong

	closeNormal         = wsframe.CloseNormal
	closeProtocolError  = wsframe.CloseProtocolError
	closeNoStatus       = wsframe.CloseNoStatus
	closeInvalidPayload = wsframe.CloseInvalidPayload
	closeTooBig         = wsframe.CloseTooBig
)

// closeTimeout bounds how long a closing connection waits for the
// peer's close frame (or for its own to be written).
const closeTimeout = 5 * time.Second

// wsCloseError is a close frame received from the peer.
type wsCloseError struct {
	Code   int
	Reason string
}

func (e *wsCloseError) Error() string {
	return "engine: websocket closed by the peer: status " + strconv.Itoa(e.Code) + " " + strconv.Quote(e.Reason)
}

// ErrProtocol is a frame that breaks RFC 6455; the connection is closed
// with status 1002.
var ErrProtocol = errors.New("engine: websocket protocol violation")

// ErrTooBig is a message over Options.MaxHTTPBufferSize; the connection
// is closed with status 1009.
var ErrTooBig = errors.New("engine: websocket message too big")

// ErrInvalidUTF8 is a text message or a close reason that is not valid
// UTF-8 (RFC 6455, 8.1); the connection is closed with status 1007.
var ErrInvalidUTF8 = errors.New("engine: websocket text is not valid UTF-8")

// wsFirstAlloc bounds the buffer a data frame's payload gets before more
// of it arrives: a 14-byte header may announce up to MaxHTTPBufferSize,
// and memory must follow the bytes received, not those announced. Past
// it the buffer grows geometrically as data comes.
const wsFirstAlloc = 64 << 10

// headerHasToken reports whether one of h's values for key, a comma
// separated list, holds token (case-insensitively).
func headerHasToken(h http.Header, key, token string) bool {
	for _, v := range h.Values(key) {
		for part := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(part), token) {
				return true
			}
		}
	}
	return false
}

// checkUpgrade checks a WebSocket opening handshake, and returns the
// status and message to refuse it with, as coder/websocket does.
func checkUpgrade(w http.ResponseWriter, r *http.Request) (int, error) {
	if !r.ProtoAtLeast(1, 1) {
		return http.StatusUpgradeRequired, fmt.Errorf("WebSocket protocol violation: handshake request must be at least HTTP/1.1: %q", r.Proto)
	}
	if !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") {
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "websocket")
		return http.StatusUpgradeRequired, errors.New("WebSocket protocol violation: not an upgrade to websocket")
	}
	if r.Method != http.MethodGet {
		return http.StatusMethodNotAllowed, fmt.Errorf("WebSocket protocol violation: handshake request method is not GET but %q", r.Method)
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		w.Header().Set("Sec-WebSocket-Version", "13")
		return http.StatusBadRequest, fmt.Errorf("unsupported WebSocket protocol version (only 13 is supported): %q", r.Header.Get("Sec-WebSocket-Version"))
	}
	keys := r.Header.Values("Sec-WebSocket-Key")
	if len(keys) != 1 {
		return http.StatusBadRequest, errors.New("WebSocket protocol violation: one Sec-WebSocket-Key header is required")
	}
	if v, err := base64.StdEncoding.DecodeString(strings.TrimSpace(keys[0])); err != nil || len(v) != 16 {
		return http.StatusBadRequest, errors.New("WebSocket protocol violation: invalid Sec-WebSocket-Key, must be a 16 byte base64 encoded string")
	}
	return 0, nil
}

// hijackedRest moves what the client sent after the handshake, buffered
// in br, into a chunk from pool; nil when there is nothing.
func hijackedRest(br *bufio.Reader, pool *sync.Pool) (*[wsReadChunk]byte, int, error) {
	n := br.Buffered()
	if n == 0 {
		return nil, 0, nil
	}
	if n > wsReadChunk { // cannot happen: net/http's buffer is 4 KiB
		return nil, 0, errors.New("engine: hijacked buffer too large")
	}
	b, _ := br.Peek(n)
	buf := pool.Get().(*[wsReadChunk]byte)
	return buf, copy(buf[:], b), nil
}

// wsParser parses the frames of a client from its bytes as they come, so
// that a reader can feed it whatever a read returned: a read goroutine
// (see OwnConn.readOwn) or a poller (see poller_linux.go). What it holds
// between frames is a few bytes of header; a message is copied once, from
// the read buffer into its buffer, unmasked on the way, and a text
// message is checked as UTF-8 as its bytes arrive, so that invalid text
// fails at once (RFC 6455, 8.1) however it is split into frames and reads.
type wsParser struct {
	limit int64 // largest message

	hdr   [wsframe.MaxHeaderLen]byte
	hn    int    // header bytes held
	frame bool   // the header is complete and the payload being read
	op    byte   // the frame's
	fin   bool   // the frame's
	key   uint32 // the frame's masking key, little endian
	n     int    // the frame's payload length
	pos   int    // how much of the payload is read

	ctl []byte // a control frame's payload

	fragOp byte   // opcode of the fragmented message being read, 0 if none
	msg    []byte // the data message being read, all its frames so far
	text   bool   // msg is text
	utf8   utf8Check
}

// wsFrame is what the parser yields: a whole data message (text or
// binary) or a control frame (ping, pong, close) with its payload.
type wsFrame struct {
	op   byte
	data []byte
}

// wsError is a violation of the protocol by the client, and the status of
// the close frame it gets.
type wsError struct {
	code int
	err  error
}

func (e *wsError) Error() string { return e.err.Error() }
func (e *wsError) Unwrap() error { return e.err }

func wsViolation(detail string) error {
	return &wsError{closeProtocolError, fmt.Errorf("%w: %s", ErrProtocol, detail)}
}

// next parses b, the bytes that follow what it was fed before, up to the
// end of a frame at most. It returns how much of b it used, and the frame
// when one is complete (ok). A *wsError is final.
func (p *wsParser) next(b []byte) (used int, f wsFrame, ok bool, err error) {
	if !p.frame && p.hn == 0 && p.fragOp == 0 {
		if used, f, err := p.whole(b); used > 0 || err != nil {
			return used, f, err == nil, err
		}
	}
	if !p.frame {
		for {
			need := 2
			if p.hn >= 2 {
				need = wsframe.HeaderLen(p.hdr[1])
			}
			if p.hn == need {
				break
			}
			if used == len(b) {
				return used, wsFrame{}, false, nil
			}
			c := copy(p.hdr[p.hn:need], b[used:])
			was := p.hn
			p.hn += c
			used += c
			if was < 2 && p.hn >= 2 {
				if err := p.check(); err != nil {
					return used, wsFrame{}, false, err
				}
			}
		}
		if err := p.start(); err != nil {
			return used, wsFrame{}, false, err
		}
	}
	if k := min(len(b)-used, p.n-p.pos); k > 0 {
		if err := p.payload(b[used : used+k]); err != nil {
			return used + k, wsFrame{}, false, err
		}
		used += k
	}
	if p.pos < p.n {
		return used, wsFrame{}, false, nil
	}
	f, ok, err = p.end()
	return used, f, ok, err
}

// whole parses a data message in one frame of at most 64 KiB at the start
// of b, when b holds all of it: the usual case, read in one go, gets its
// buffer and is unmasked and checked without going through the parser's
// state. It returns 0 and no error for anything else, which next parses
// step by step.
func (p *wsParser) whole(b []byte) (int, wsFrame, error) {
	if len(b) < 6 {
		return 0, wsFrame{}, nil
	}
	b0, b1 := b[0], b[1]
	op := b0 & 0x0f
	if b0&0xf0 != 0x80 || b1&0x80 == 0 || (op != opText && op != opBinary) {
		return 0, wsFrame{}, nil // not final, reserved bits, unmasked, another opcode
	}
	n, hl := int(b1&0x7f), 6
	switch n {
	case 127:
		return 0, wsFrame{}, nil
	case 126:
		if len(b) < 8 {
			return 0, wsFrame{}, nil
		}
		n, hl = int(binary.BigEndian.Uint16(b[2:4])), 8
	}
	if len(b)-hl < n || int64(n) > p.limit {
		return 0, wsFrame{}, nil
	}
	data := make([]byte, n)
	nonASCII := wsframe.MaskCopy(data, b[hl:hl+n], binary.LittleEndian.Uint32(b[hl-4:hl]), 0)
	if op == opText && nonASCII && !utf8.Valid(data) {
		return 0, wsFrame{}, &wsError{closeInvalidPayload, ErrInvalidUTF8}
	}
	return hl + n, wsFrame{op, data}, nil
}

// check checks the first two bytes of a frame's header.
func (p *wsParser) check() error {
	b0, b1 := p.hdr[0], p.hdr[1]
	op := b0 & 0x0f
	switch {
	case b0&0x70 != 0:
		return wsViolation("reserved bits set")
	case b1&0x80 == 0:
		return wsViolation("unmasked client frame")
	case op >= opClose:
		if op > opPong {
			return wsViolation("unknown control opcode " + strconv.Itoa(int(op)))
		}
		if b0&0x80 == 0 || b1&0x7f > 125 {
			return wsViolation("fragmented or oversized control frame")
		}
	case op == opText || op == opBinary:
		if p.fragOp != 0 {
			return wsViolation("new message inside a fragmented one")
		}
	case op == opContinuation:
		if p.fragOp == 0 {
			return wsViolation("continuation frame without a message")
		}
	default:
		return wsViolation("unknown opcode " + strconv.Itoa(int(op)))
	}
	return nil
}

// start sets the frame's payload up, once its header is complete. No
// buffer is allocated before the payload arrives (see payload).
func (p *wsParser) start() error {
	h := wsframe.ParseHeader(p.hdr[:p.hn])
	p.op, p.fin, p.key = h.Op, h.Fin, h.Key
	n := h.Len
	switch {
	case p.op >= opClose:
		p.ctl = make([]byte, 0, n) // 125 bytes at most (see check)
	case n > uint64(p.limit)-uint64(len(p.msg)) || n > math.MaxInt32:
		return &wsError{closeTooBig, fmt.Errorf("%w: over %d bytes", ErrTooBig, p.limit)}
	case p.op != opContinuation: // a new message
		p.text = p.op == opText
	}
	p.n, p.pos, p.frame = int(n), 0, true
	return nil
}

// payload takes the next bytes of the frame's payload, seg: it unmasks
// them into the frame's buffer, and checks a text message's.
func (p *wsParser) payload(seg []byte) error {
	if p.op >= opClose {
		start := len(p.ctl)
		p.ctl = p.ctl[:start+len(seg)]
		wsframe.MaskCopy(p.ctl[start:], seg, p.key, p.pos)
		p.pos += len(seg)
		return nil
	}
	p.grow(len(seg))
	start := len(p.msg)
	p.msg = p.msg[:start+len(seg)]
	nonASCII := wsframe.MaskCopy(p.msg[start:], seg, p.key, p.pos)
	p.pos += len(seg)
	if p.text && (nonASCII || !p.utf8.complete()) && !p.utf8.check(p.msg[start:]) {
		return &wsError{closeInvalidPayload, ErrInvalidUTF8}
	}
	return nil
}

// grow makes room for k more bytes of the message, k at most what is left
// of the frame. A message in one frame, the usual case, gets a buffer of
// its size when that is at most wsFirstAlloc; a larger one, or a
// fragmented one, whose size is unknown, gets a buffer that doubles as
// data comes, so that what a header announces is never allocated before
// the bytes arrive, and many small fragments cost few copies.
func (p *wsParser) grow(k int) {
	if cap(p.msg)-len(p.msg) >= k {
		return
	}
	end := len(p.msg) + p.n - p.pos // the message's length at the end of the frame
	c := max(2*cap(p.msg), min(end, len(p.msg)+wsFirstAlloc))
	if p.fin && p.fragOp == 0 {
		c = min(c, end) // the whole message
	} else if int64(c) > p.limit {
		c = int(p.limit) // at least end, which start checked
	}
	c = max(c, len(p.msg)+k)
	b := make([]byte, len(p.msg), c)
	copy(b, p.msg)
	p.msg = b
}

// end ends a frame whose payload is complete and returns what it
// completes: a control frame, or the last frame of a data message.
func (p *wsParser) end() (wsFrame, bool, error) {
	p.frame, p.hn = false, 0
	if p.op >= opClose {
		f := wsFrame{op: p.op, data: p.ctl}
		p.ctl = nil
		return f, true, nil
	}
	if !p.fin {
		if p.fragOp == 0 {
			p.fragOp = p.op
		}
		return wsFrame{}, false, nil
	}
	if p.text && !p.utf8.complete() {
		return wsFrame{}, false, &wsError{closeInvalidPayload, fmt.Errorf("%w: the message ends inside a character", ErrInvalidUTF8)}
	}
	f := wsFrame{op: p.op, data: p.msg}
	if p.fragOp != 0 {
		f.op = p.fragOp
	}
	if f.data == nil {
		f.data = []byte{}
	}
	p.msg, p.fragOp, p.text = nil, 0, false
	return f, true, nil
}

// pending reports whether a frame is partly parsed.
func (p *wsParser) pending() bool { return p.hn > 0 || p.fragOp != 0 }

// closeFrameError is the error a close frame ends the read with: the
// peer's *wsCloseError, or a *wsError when its payload is invalid (RFC
// 6455, 5.5.1 and 7.4): one byte, a status that is not to be sent, a
// reason that is not UTF-8. An invalid close frame is answered with the
// error's status, never echoed.
func closeFrameError(data []byte) error {
	switch len(data) {
	case 0:
		return &wsCloseError{Code: closeNoStatus}
	case 1:
		return wsViolation("close frame of one byte")
	}
	code := int(binary.BigEndian.Uint16(data))
	if !validCloseCode(code) {
		return wsViolation("invalid close status " + strconv.Itoa(code))
	}
	if !utf8.Valid(data[2:]) {
		return &wsError{closeInvalidPayload, fmt.Errorf("%w: close reason", ErrInvalidUTF8)}
	}
	return &wsCloseError{Code: code, Reason: string(data[2:])}
}

// validCloseCode reports whether a peer may send status code in a close
// frame: the codes RFC 6455 (7.4.1) and its registry define for use in
// close frames, and those for libraries and applications (3000-4999).
func validCloseCode(code int) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1014, code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// replyClose writes the close frame that ends a read failing with err: the
// violation's status for a *wsError, the peer's status echoed for a
// *wsCloseError (1000 for a close frame without one; a no-op when ours
// went first), nothing for anything else.
func (c *corkConn) replyClose(err error) {
	var we *wsError
	var ce *wsCloseError
	switch {
	case errors.As(err, &we):
		c.writeClose(we.code)
	case errors.As(err, &ce):
		code := ce.Code
		if code == closeNoStatus {
			code = closeNormal
		}
		c.writeClose(code)
	}
}

// newCorkConn puts a corkConn on a hijacked connection for
// coder/websocket. When the corkConn reads the descriptor itself, what the
// client sent after the handshake, in br, is moved into it.
func newCorkConn(nc net.Conn, br *bufio.Reader, pool, rpool *sync.Pool) (*corkConn, error) {
	c := &corkConn{Conn: nc, pool: pool, rpool: rpool, raw: newRawConn(nc)}
	if c.raw == nil {
		return c, nil
	}
	buf, n, err := hijackedRest(br, rpool)
	if err != nil {
		return nil, err
	}
	c.rbuf, c.roff, c.rn = buf, 0, n
	return c, nil
}

// writeFrame writes a final frame of payload pre then data: appended to
// the gathering buffer while corked (see corkConn), else written at once.
// A close frame is written at once, after what was gathered (once a
// gathering by corkAll, which must not wait, is over): the connection is
// closed soon after it. Nothing is written after a close frame.
func (c *corkConn) writeFrame(op byte, pre, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if op == opClose {
		for c.gather && !c.closeSent {
			c.ungathered.L = &c.mu
			c.ungathered.Wait()
		}
	}
	if c.closeSent {
		return net.ErrClosed
	}
	if op == opClose {
		c.closeSent = true
	}
	if c.buf == nil {
		c.buf = c.pool.Get().(*[]byte)
	}
	// What tryUncork left, if anything, goes first.
	b := wsframe.AppendHeader(*c.buf, op, len(pre)+len(data))
	b = append(b, pre...)
	*c.buf = append(b, data...)
	switch {
	case !c.corked:
		err := c.flushLocked()
		c.releaseLocked()
		return err
	case op == opClose, len(*c.buf) >= corkLimit && !c.gather:
		return c.flushLocked()
	}
	return nil
}

// writeClose writes a close frame with code, unless one was written.
// closeNoStatus sends a close frame without a status.
func (c *corkConn) writeClose(code int) {
	var p [2]byte
	n := 0
	if code != closeNoStatus {
		binary.BigEndian.PutUint16(p[:], uint16(code))
		n = 2
	}
	_ = c.writeFrame(opClose, nil, p[:n])
}
