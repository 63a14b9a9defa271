//go:build !js

package engine

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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

// acceptOwn completes the opening handshake and hijacks the connection.
func acceptOwn(w http.ResponseWriter, r *http.Request, pool, rpool *sync.Pool) (*corkConn, io.Reader, error) {
	if code, err := checkUpgrade(w, r); err != nil {
		http.Error(w, err.Error(), code)
		return nil, nil, err
	}
	h := w.Header()
	h.Set("Upgrade", "websocket")
	h.Set("Connection", "Upgrade")
	h.Set("Sec-WebSocket-Accept", acceptKey(r.Header.Get("Sec-WebSocket-Key")))
	w.WriteHeader(http.StatusSwitchingProtocols)
	nc, brw, err := http.NewResponseController(w).Hijack() // flushes the 101
	if err != nil {
		return nil, nil, fmt.Errorf("engine: hijacking the websocket connection: %w", err)
	}
	c, rd, err := newCorkConn(nc, brw.Reader, pool, rpool)
	if err != nil {
		_ = nc.Close()
		return nil, nil, err
	}
	return c, rd, nil
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

// wsReader reads the frames of a client, one goroutine at a time.
type wsReader struct {
	r     io.Reader // the corkConn, or a bufio.Reader above it
	cc    *corkConn // replies (pong, close) are written here
	limit int64     // largest message

	fragOp byte   // opcode of the fragmented message being read, 0 if none
	frag   []byte // what it holds so far
}

// readMessage returns the next data message: its opcode (text or binary)
// and its payload, in a buffer of its own. It answers pings, and a close
// frame with a close frame, then returns a *wsCloseError. A protocol
// violation or an oversized message gets a close frame with status 1002 or
// 1009 and returns errWSProtocol or errWSTooBig.
func (w *wsReader) readMessage() (byte, []byte, error) {
	for {
		op, data, err := w.readFrame()
		if err != nil {
			return 0, nil, err
		}
		if data != nil || op != 0 {
			return op, data, nil
		}
	}
}

// fail sends a close frame with code and returns err.
func (w *wsReader) fail(code int, err error, detail string) error {
	w.cc.writeClose(code)
	return fmt.Errorf("%w: %s", err, detail)
}

// readFrame reads one frame. For the last frame of a data message it
// returns the message; for anything else (a control frame, a fragment)
// op 0 and nil.
func (w *wsReader) readFrame() (byte, []byte, error) {
	var h [14]byte
	if _, err := io.ReadFull(w.r, h[:2]); err != nil {
		return 0, nil, err
	}
	fin, op := h[0]&0x80 != 0, h[0]&0x0f
	if h[0]&0x70 != 0 {
		return 0, nil, w.fail(closeProtocolError, errWSProtocol, "reserved bits set")
	}
	if h[1]&0x80 == 0 {
		return 0, nil, w.fail(closeProtocolError, errWSProtocol, "unmasked client frame")
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		if _, err := io.ReadFull(w.r, h[2:4]); err != nil {
			return 0, nil, unexpected(err)
		}
		n = uint64(binary.BigEndian.Uint16(h[2:4]))
	case 127:
		if _, err := io.ReadFull(w.r, h[2:10]); err != nil {
			return 0, nil, unexpected(err)
		}
		n = binary.BigEndian.Uint64(h[2:10])
		if n > 1<<63-1 {
			return 0, nil, w.fail(closeProtocolError, errWSProtocol, "payload length overflows")
		}
	}
	var key [4]byte
	if _, err := io.ReadFull(w.r, key[:]); err != nil {
		return 0, nil, unexpected(err)
	}

	if op >= opClose { // control frame
		if !fin || n > 125 {
			return 0, nil, w.fail(closeProtocolError, errWSProtocol, "fragmented or oversized control frame")
		}
		var pb [125]byte
		p := pb[:n]
		if _, err := io.ReadFull(w.r, p); err != nil {
			return 0, nil, unexpected(err)
		}
		maskBytes(key, p)
		switch op {
		case opPing:
			w.cc.writeFrame(opPong, nil, p)
			return 0, nil, nil
		case opPong:
			return 0, nil, nil
		case opClose:
			ce := &wsCloseError{Code: closeNoStatus}
			if len(p) == 1 {
				return 0, nil, w.fail(closeProtocolError, errWSProtocol, "close frame of one byte")
			}
			if len(p) >= 2 {
				ce.Code = int(binary.BigEndian.Uint16(p))
				ce.Reason = string(p[2:])
			}
			w.cc.writeClose(ce.Code) // no-op when ours went first
			return 0, nil, ce
		default:
			return 0, nil, w.fail(closeProtocolError, errWSProtocol, "unknown control opcode "+strconv.Itoa(int(op)))
		}
	}

	switch op {
	case opText, opBinary:
		if w.fragOp != 0 {
			return 0, nil, w.fail(closeProtocolError, errWSProtocol, "new message inside a fragmented one")
		}
	case opContinuation:
		if w.fragOp == 0 {
			return 0, nil, w.fail(closeProtocolError, errWSProtocol, "continuation frame without a message")
		}
	default:
		return 0, nil, w.fail(closeProtocolError, errWSProtocol, "unknown opcode "+strconv.Itoa(int(op)))
	}
	if n+uint64(len(w.frag)) > uint64(w.limit) {
		return 0, nil, w.fail(closeTooBig, errWSTooBig, "over "+strconv.FormatInt(w.limit, 10)+" bytes")
	}
	if fin && w.fragOp == 0 { // a whole message in one frame, the usual case
		data := make([]byte, n)
		if _, err := io.ReadFull(w.r, data); err != nil {
			return 0, nil, unexpected(err)
		}
		maskBytes(key, data)
		return op, data, nil
	}
	if w.fragOp == 0 {
		w.fragOp = op
	}
	start := len(w.frag)
	w.frag = append(w.frag, make([]byte, n)...)
	if _, err := io.ReadFull(w.r, w.frag[start:]); err != nil {
		return 0, nil, unexpected(err)
	}
	maskBytes(key, w.frag[start:])
	if !fin {
		return 0, nil, nil
	}
	op, data := w.fragOp, w.frag
	w.fragOp, w.frag = 0, nil
	return op, data, nil
}

// unexpected turns an EOF inside a frame into io.ErrUnexpectedEOF.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// newCorkConn puts a corkConn on a hijacked connection, and returns the
// reader to read frames from: the corkConn itself when it reads its
// descriptor, else a buffered reader (which also holds what the client sent
// after the handshake).
func newCorkConn(nc net.Conn, br *bufio.Reader, pool, rpool *sync.Pool) (*corkConn, io.Reader, error) {
	c := &corkConn{Conn: nc, pool: pool, rpool: rpool, raw: newRawConn(nc)}
	if c.raw == nil {
		return c, br, nil
	}
	// What the client sent after the handshake is read first.
	if n := br.Buffered(); n > 0 {
		if n > wsReadChunk { // cannot happen: net/http's buffer is 4 KiB
			return nil, nil, errors.New("engine: hijacked buffer too large")
		}
		b, _ := br.Peek(n)
		buf := rpool.Get().(*[wsReadChunk]byte)
		c.rbuf, c.roff, c.rn = buf, 0, copy(buf[:], b)
	}
	return c, c, nil
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
