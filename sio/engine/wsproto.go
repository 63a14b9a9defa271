//go:build !js

package engine

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// This file is the server side of the WebSocket protocol (RFC 6455) without
// extensions, which the engine speaks itself unless permessage-deflate is
// on (then coder/websocket does, see wsConn). Speaking it directly lets a
// message be read with no more than a copy from the read chunk into a
// buffer of its exact size, and a frame be written by appending its header
// and payload to the corkConn's gathering buffer: no per-connection
// reader or writer objects, no bufio layers, no channel-based locks.

// WebSocket opcodes.
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xa
)

// WebSocket close codes the engine sends.
const (
	closeNormal        = 1000
	closeProtocolError = 1002
	closeNoStatus      = 1005
	closeTooBig        = 1009
)

// wsCloseTimeout bounds how long a closing connection waits for the
// peer's close frame (or for its own to be written).
const wsCloseTimeout = 5 * time.Second

// wsCloseError is a close frame received from the peer.
type wsCloseError struct {
	Code   int
	Reason string
}

func (e *wsCloseError) Error() string {
	return "engine: websocket closed by the peer: status " + strconv.Itoa(e.Code) + " " + strconv.Quote(e.Reason)
}

// errWSProtocol is a frame that breaks RFC 6455; the connection is closed
// with status 1002.
var errWSProtocol = errors.New("engine: websocket protocol violation")

// errWSTooBig is a message over Options.MaxHTTPBufferSize; the connection
// is closed with status 1009.
var errWSTooBig = errors.New("engine: websocket message too big")

// wsGUID is the key suffix of the opening handshake (RFC 6455, 1.3).
const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

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

// acceptKey is the Sec-WebSocket-Accept value for a Sec-WebSocket-Key.
func acceptKey(key string) string {
	h := sha1.Sum([]byte(strings.TrimSpace(key) + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// acceptOwn completes the opening handshake, hijacks the connection and
// returns the session's WebSocket.
func (s *Server) acceptOwn(w http.ResponseWriter, r *http.Request, v3, b64 bool) (*wsConn, error) {
	if code, err := checkUpgrade(w, r); err != nil {
		http.Error(w, err.Error(), code)
		return nil, err
	}
	h := w.Header()
	h.Set("Upgrade", "websocket")
	h.Set("Connection", "Upgrade")
	h.Set("Sec-WebSocket-Accept", acceptKey(r.Header.Get("Sec-WebSocket-Key")))
	w.WriteHeader(http.StatusSwitchingProtocols)
	nc, brw, err := http.NewResponseController(w).Hijack() // flushes the 101
	if err != nil {
		return nil, fmt.Errorf("engine: hijacking the websocket connection: %w", err)
	}
	// One allocation for the three: every message touches them all.
	pair := &struct {
		ws wsConn
		cc corkConn
		fd rawStore
	}{}
	cc := &pair.cc
	*cc = corkConn{Conn: nc, pool: &s.corkBufs, rpool: &s.readBufs, raw: initRawConn(&pair.fd, nc)}
	ws := &pair.ws
	*ws = wsConn{cc: cc, rpool: &s.readBufs, v3: v3, b64: b64}
	ws.p.limit = s.opts.MaxHTTPBufferSize
	if cc.raw == nil {
		ws.br = brw.Reader // holds what the client sent after the handshake
		return ws, nil
	}
	// What the client sent after the handshake is parsed first.
	buf, n, err := hijackedRest(brw.Reader, &s.readBufs)
	if err != nil {
		_ = cc.Close()
		return nil, err
	}
	if buf != nil {
		ws.chunk, ws.rest = buf, buf[:n]
	}
	return ws, nil
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

// appendFrameHeader appends the header of a final, unmasked frame (the
// server's) with a payload of n bytes.
func appendFrameHeader(b []byte, op byte, n int) []byte {
	b = append(b, 0x80|op)
	switch {
	case n <= 125:
		return append(b, byte(n))
	case n <= 0xffff:
		return append(b, 126, byte(n>>8), byte(n))
	default:
		return binary.BigEndian.AppendUint64(append(b, 127), uint64(n))
	}
}

// maskBytes applies the masking key to b (RFC 6455, 5.3), a word at a time.
func maskBytes(key [4]byte, b []byte) {
	k32 := binary.LittleEndian.Uint32(key[:])
	k64 := uint64(k32) | uint64(k32)<<32
	for len(b) >= 8 {
		binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k64)
		b = b[8:]
	}
	for i := range b {
		b[i] ^= key[i&3]
	}
}

// wsParser parses the frames of a client from its bytes as they come, so
// that a reader can feed it whatever a read returned: a read goroutine
// (see wsConn.readOwn) or a poller (see poller_linux.go). What it holds
// between frames is a few bytes of header; a message is copied once, from
// the read buffer into a buffer of its size.
type wsParser struct {
	limit int64 // largest message

	hdr   [14]byte
	hn    int    // header bytes held
	frame bool   // the header is complete and the payload being read
	op    byte   // the frame's
	fin   bool   // the frame's
	dst   []byte // where the frame's payload goes
	dn    int    // how much of dst is filled

	fragOp byte   // opcode of the fragmented message being read, 0 if none
	frag   []byte // what it holds so far
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
	return &wsError{closeProtocolError, fmt.Errorf("%w: %s", errWSProtocol, detail)}
}

// next parses b, the bytes that follow what it was fed before, up to the
// end of a frame at most. It returns how much of b it used, and the frame
// when one is complete (ok). A *wsError is final.
func (p *wsParser) next(b []byte) (used int, f wsFrame, ok bool, err error) {
	if !p.frame {
		for {
			need := 2
			if p.hn >= 2 {
				need = headerLen(p.hdr[1])
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
	c := copy(p.dst[p.dn:], b[used:])
	p.dn += c
	used += c
	if p.dn < len(p.dst) {
		return used, wsFrame{}, false, nil
	}
	f, ok = p.end()
	return used, f, ok, nil
}

// headerLen is the length of a client frame's header, from its second byte.
func headerLen(b1 byte) int {
	switch b1 & 0x7f {
	case 126:
		return 2 + 2 + 4
	case 127:
		return 2 + 8 + 4
	}
	return 2 + 4
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

// start sets the payload's destination up, once the header is complete.
func (p *wsParser) start() error {
	h := p.hdr[:p.hn]
	p.op, p.fin = h[0]&0x0f, h[0]&0x80 != 0
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		n = uint64(binary.BigEndian.Uint16(h[2:4]))
	case 127:
		n = binary.BigEndian.Uint64(h[2:10])
	}
	switch {
	case p.op >= opClose:
		p.dst = make([]byte, n)
	case n > uint64(p.limit)-uint64(len(p.frag)):
		return &wsError{closeTooBig, fmt.Errorf("%w: over %d bytes", errWSTooBig, p.limit)}
	case p.fin && p.fragOp == 0: // a whole message in one frame, the usual case
		p.dst = make([]byte, n)
	default:
		if p.fragOp == 0 {
			p.fragOp = p.op
		}
		start := len(p.frag)
		p.frag = slices.Grow(p.frag, int(n))[:start+int(n)]
		p.dst = p.frag[start:]
	}
	p.frame, p.dn = true, 0
	return nil
}

// end unmasks a complete frame's payload and returns what it completes.
func (p *wsParser) end() (wsFrame, bool) {
	var key [4]byte
	copy(key[:], p.hdr[p.hn-4:p.hn])
	maskBytes(key, p.dst)
	f := wsFrame{op: p.op, data: p.dst}
	p.frame, p.hn, p.dst = false, 0, nil
	switch {
	case f.op >= opClose:
		return f, true
	case !p.fin:
		return wsFrame{}, false
	case p.fragOp != 0:
		f = wsFrame{op: p.fragOp, data: p.frag}
		p.fragOp, p.frag = 0, nil
	}
	return f, true
}

// pending reports whether a frame is partly parsed.
func (p *wsParser) pending() bool { return p.hn > 0 || p.fragOp != 0 }

// closeFrameError is the error a close frame ends the read with: the
// peer's *wsCloseError, or a *wsError when its payload is invalid.
func closeFrameError(data []byte) error {
	ce := &wsCloseError{Code: closeNoStatus}
	switch {
	case len(data) == 1:
		return wsViolation("close frame of one byte")
	case len(data) >= 2:
		ce.Code = int(binary.BigEndian.Uint16(data))
		ce.Reason = string(data[2:])
	}
	return ce
}

// replyClose writes the close frame that ends a read failing with err: the
// violation's status for a *wsError, the peer's status echoed for a
// *wsCloseError (a no-op when ours went first), nothing for anything else.
func (c *corkConn) replyClose(err error) {
	var we *wsError
	var ce *wsCloseError
	switch {
	case errors.As(err, &we):
		c.writeClose(we.code)
	case errors.As(err, &ce):
		c.writeClose(ce.Code)
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
// Nothing is written after a close frame.
func (c *corkConn) writeFrame(op byte, pre, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closeSent {
		return net.ErrClosed
	}
	if op == opClose {
		c.closeSent = true
	}
	if !c.corked {
		// What tryUncork left goes first.
		if err := c.flushLocked(); err != nil {
			return err
		}
	}
	if c.buf == nil {
		c.buf = c.pool.Get().(*[]byte)
	}
	b := appendFrameHeader(*c.buf, op, len(pre)+len(data))
	b = append(b, pre...)
	*c.buf = append(b, data...)
	if !c.corked {
		err := c.flushLocked()
		c.releaseLocked()
		return err
	}
	if len(*c.buf) >= corkLimit && !c.gather {
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
