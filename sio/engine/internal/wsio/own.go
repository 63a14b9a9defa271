//go:build !js

package wsio

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gosio/socketio/internal/wsframe"
)

// OwnConn is a WebSocket the engine speaks itself (see proto.go): read by
// a poller (Linux, a connection with a descriptor) or by a goroutine of
// its own, written through a corkConn.
type OwnConn struct {
	cc *corkConn
	st *Stack

	// The parser, and what it was not fed yet (rest, in chunk from the
	// stack's pool). Connections without a descriptor (TLS) are read
	// through br.
	p     wsParser
	chunk *[wsReadChunk]byte
	rest  []byte
	br    *bufio.Reader
	// h gets what is read once the connection is served (see Serve).
	// With a poller, the poller reads the connection under the id pid;
	// closeTimer ends a close handshake the peer does not answer.
	h          Handler
	poll       atomic.Pointer[poller]
	pid        uint64 // under poll.mu
	closeTimer atomic.Pointer[time.Timer]
	closing    atomic.Bool // a close handshake is under way (see Close)
}

// AcceptOwn completes the opening handshake, hijacks the connection and
// returns the session's WebSocket.
func (st *Stack) AcceptOwn(w http.ResponseWriter, r *http.Request) (*OwnConn, error) {
	if code, err := checkUpgrade(w, r); err != nil {
		http.Error(w, err.Error(), code)
		return nil, err
	}
	h := w.Header()
	h.Set("Upgrade", "websocket")
	h.Set("Connection", "Upgrade")
	h.Set("Sec-WebSocket-Accept", wsframe.AcceptKey(r.Header.Get("Sec-WebSocket-Key")))
	w.WriteHeader(http.StatusSwitchingProtocols)
	nc, brw, err := http.NewResponseController(w).Hijack() // flushes the 101
	if err != nil {
		return nil, fmt.Errorf("engine: hijacking the websocket connection: %w", err)
	}
	clearDeadlines(nc)
	// One allocation for the three: every message touches them all.
	pair := &struct {
		ws OwnConn
		cc corkConn
		fd rawStore
	}{}
	cc := &pair.cc
	*cc = corkConn{Conn: nc, pool: &st.corkBufs, rpool: &st.readBufs, raw: initRawConn(&pair.fd, nc)}
	ws := &pair.ws
	*ws = OwnConn{cc: cc, st: st}
	ws.p.limit = st.cfg.MaxMessage
	if cc.raw == nil {
		ws.br = brw.Reader // holds what the client sent after the handshake
		return ws, nil
	}
	// What the client sent after the handshake is parsed first.
	buf, n, err := hijackedRest(brw.Reader, &st.readBufs)
	if err != nil {
		_ = cc.Close()
		return nil, err
	}
	if buf != nil {
		ws.chunk, ws.rest = buf, buf[:n]
	}
	return ws, nil
}

// Read reads the next data message and passes it to deliver; pings and
// close frames met on the way are answered. A deliver error is a
// violation of the protocol the connection was opened for, and closes it
// with status 1002 (see Violation). Cancelling ctx ends the read by
// closing the connection.
func (w *OwnConn) Read(ctx context.Context, deliver func(data []byte, binary bool) error) error {
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, w.CloseNow)
		defer stop()
	}
	op, b, err := w.readOwn()
	if err != nil {
		return err
	}
	if err := deliver(b, op == opBinary); err != nil {
		err = Violation(err)
		w.replyClose(err)
		return err
	}
	return nil
}

// Violation is the error of a message that is not an Engine.IO packet
// (err). The connection is closed with status 1002, protocol error: the
// client broke the protocol the connection was opened for (the Engine.IO
// subprotocol of the handshake's URL). 1003 means a kind of data the
// endpoint does not accept (binary to a text-only endpoint, RFC 6455,
// 7.4.1), and Engine.IO accepts both kinds. The error still matches err.
func Violation(err error) error { return &wsError{closeProtocolError, err} }

// Serve has the connection read by a poller (Linux), or else by a
// goroutine of its own, and delivers to h. It reports false when the
// owner is closing and no goroutine may start.
func (w *OwnConn) Serve(h Handler) bool {
	w.h = h
	if p := w.st.pollerFor(w); p != nil && p.start(w) {
		return true
	}
	return w.st.cfg.Go(w.readLoop)
}

// readLoop reads the connection until it fails. It reads without a
// deadline: the connection is closed when the session ends, which ends the
// read (cancelling a read context would cut a graceful close short).
func (w *OwnConn) readLoop() {
	defer w.CloseNow() // the close handshake ends here (see Close)
	deliver := w.h.Message
	for {
		if err := w.Read(context.Background(), deliver); err != nil {
			w.h.Failed(err)
			return
		}
	}
}

// readFailed ends w after a read error or a close frame met by a poller:
// a close frame answers the peer's or tells the violation, then the
// connection is closed.
func (w *OwnConn) readFailed(err error) {
	w.replyClose(err)
	w.h.Failed(err)
	w.CloseNow()
}

// replyClose writes the close frame a read failing with err calls for
// (see corkConn.replyClose), waiting at most closeTimeout for the
// connection to take it.
func (w *OwnConn) replyClose(err error) {
	_ = w.cc.SetWriteDeadline(time.Now().Add(closeTimeout))
	w.cc.replyClose(err)
}

// readOwn returns the next data message, its opcode and payload, reading
// as needed. It answers pings (through the handler once the connection is
// served), and a close frame with a close frame (then returns a
// *wsCloseError); a violation of the protocol gets a close frame with its
// status, and its *wsError.
func (w *OwnConn) readOwn() (byte, []byte, error) {
	for {
		for len(w.rest) > 0 {
			n, f, ok, err := w.p.next(w.rest)
			w.rest = w.rest[n:]
			if len(w.rest) == 0 {
				w.releaseChunk()
			}
			if err != nil {
				w.replyClose(err)
				return 0, nil, err
			}
			if !ok {
				continue
			}
			switch f.op {
			case opText, opBinary:
				return f.op, f.data, nil
			case opPing:
				if w.h != nil {
					w.h.Ping(f.data)
				} else {
					// An upgrade's probe: nothing is queued on the
					// connection yet. The write blocks this reader, which
					// then reads no more pings, until the upgrade times out.
					_ = w.cc.writeFrame(opPong, nil, f.data)
				}
			case opClose:
				err := closeFrameError(f.data)
				w.replyClose(err)
				return 0, nil, err
			}
		}
		if err := w.fill(); err != nil {
			if err == io.EOF && w.p.pending() {
				err = io.ErrUnexpectedEOF
			}
			return 0, nil, err
		}
	}
}

// fill reads what comes next into a pooled chunk.
func (w *OwnConn) fill() error {
	if w.cc.raw != nil {
		r, err := w.cc.raw.readPooled(&w.st.readBufs)
		if err != nil {
			return err
		}
		w.chunk, w.rest = r.buf, r.buf[:r.n]
		return nil
	}
	buf := w.st.readBufs.Get().(*[wsReadChunk]byte)
	n, err := w.br.Read(buf[:])
	if n == 0 {
		w.st.readBufs.Put(buf)
		if err == nil {
			err = io.ErrNoProgress
		}
		return err
	}
	w.chunk, w.rest = buf, buf[:n]
	return nil
}

func (w *OwnConn) releaseChunk() {
	if w.chunk != nil {
		w.st.readBufs.Put(w.chunk)
		w.chunk, w.rest = nil, nil
	}
}

// Buffered reports whether the connection holds bytes it received and did
// not parse yet.
func (w *OwnConn) Buffered() bool {
	return len(w.rest) > 0 || w.p.pending() || (w.br != nil && w.br.Buffered() > 0)
}

// BeginBatch starts a batch: the messages written until EndBatch are gathered and
// go out together. With now, nothing is written before EndBatch(true),
// whatever the batch's size: the caller must not wait on the network.
func (w *OwnConn) BeginBatch(now bool) { w.cc.startCork(now) }

// EndBatch ends a batch and writes it. With now, it writes only as far as
// the connection takes it without waiting (nothing, on a connection
// without a descriptor): pending reports what is left, which the next
// EndBatch(false) writes first, before anything else. An error is the
// connection's: what was gathered is lost with it.
func (w *OwnConn) EndBatch(now bool) (pending bool, err error) { return w.cc.endCork(now) }

// WriteMessage writes a final data frame of payload pre then data.
func (w *OwnConn) WriteMessage(binary bool, pre, data []byte) error {
	op := byte(opText)
	if binary {
		op = opBinary
	}
	return w.cc.writeFrame(op, pre, data)
}

// WritePong writes a pong carrying data.
func (w *OwnConn) WritePong(data []byte) error { return w.cc.writeFrame(opPong, nil, data) }

// Close closes the connection with a normal close frame, in the
// background (the close handshake may take a while): the reader closes the
// connection when the peer's close frame comes, or after closeTimeout.
func (w *OwnConn) Close() {
	w.closing.Store(true)
	w.st.cfg.WG.Add(1)
	go func() {
		defer w.st.cfg.WG.Done()
		deadline := time.Now().Add(closeTimeout)
		_ = w.cc.SetWriteDeadline(deadline)
		w.cc.writeClose(closeNormal)
		if w.poll.Load() != nil {
			// The poller reads the answer, which ends the connection.
			w.closeTimer.Store(time.AfterFunc(closeTimeout, w.CloseNow))
			return
		}
		_ = w.cc.SetReadDeadline(deadline)
	}()
}

// CloseNow closes the connection at once.
func (w *OwnConn) CloseNow() {
	if p := w.poll.Load(); p != nil {
		p.remove(w)
		if t := w.closeTimer.Load(); t != nil {
			t.Stop()
		}
	}
	_ = w.cc.Close()
}

// Poller returns the poller reading the connection, nil when none does
// (for tests: whether connections share one).
func (w *OwnConn) Poller() any {
	if p := w.poll.Load(); p != nil {
		return p
	}
	return nil
}
