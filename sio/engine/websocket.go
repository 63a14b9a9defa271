//go:build !js

package engine

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/gosio/socketio/sio/eio"
)

func (s *Server) initWebSocket() {
	s.corkBufs.New = func() any { b := make([]byte, 0, 4096); return &b }
	s.readBufs.New = func() any { return new([wsReadChunk]byte) }
}

// wsConn is the session's WebSocket. The engine speaks the protocol itself
// (see wsproto.go), except with permessage-deflate, which coder/websocket
// speaks.
type wsConn struct {
	c     *websocket.Conn // nil: the engine's own protocol
	cc    *corkConn       // under c, or the connection itself
	rpool *sync.Pool      // of *[wsReadChunk]byte

	// The engine's own protocol: the parser, and what it was not fed yet
	// (rest, in chunk from rpool). Connections without a descriptor (TLS)
	// are read through br.
	p     wsParser
	chunk *[wsReadChunk]byte
	rest  []byte
	br    *bufio.Reader
	// sess is the session the connection serves, once it does (see
	// serveWebSocket): its writer answers pings. With a poller (see
	// poller_linux.go), the poller reads the connection under the id pid;
	// closeTimer ends a close handshake the peer does not answer.
	sess       *Socket
	poll       atomic.Pointer[poller]
	pid        uint64 // under poll.mu
	closeTimer atomic.Pointer[time.Timer]
	closing    atomic.Bool // a close handshake is under way (see close)
	// v3 is set for a protocol 3 client, b64 when it also asked for binary
	// as base64 text frames.
	v3, b64 bool
}

func (w *wsConn) write(ctx context.Context, f Frame) error {
	if f.ctl != 0 {
		return w.writeControl(f)
	}
	if w.c == nil {
		switch {
		case !f.Binary:
			return w.cc.writeFrame(opText, nil, f.Data)
		case !w.v3:
			return w.cc.writeFrame(opBinary, nil, f.Data)
		case w.b64:
			return w.cc.writeFrame(opText, nil, appendPacketTextV3(nil, f))
		default:
			pre := [1]byte{byte(eio.Message)}
			return w.cc.writeFrame(opBinary, pre[:], f.Data)
		}
	}
	switch {
	case !f.Binary:
		return w.c.Write(ctx, websocket.MessageText, f.Data)
	case !w.v3:
		return w.c.Write(ctx, websocket.MessageBinary, f.Data)
	case w.b64:
		return w.c.Write(ctx, websocket.MessageText, appendPacketTextV3(nil, f))
	default:
		b := make([]byte, 0, 1+len(f.Data))
		b = append(b, byte(eio.Message))
		return w.c.Write(ctx, websocket.MessageBinary, append(b, f.Data...))
	}
}

// Values of Frame.ctl.
const (
	ctlPong    = opPong
	ctlDropped = 0xff // a pong replaced by a later one (see queuePongLocked)
)

// writeControl writes a control frame queued by the engine: a pong. Only
// the engine's own protocol queues them (coder/websocket answers pings
// itself).
func (w *wsConn) writeControl(f Frame) error {
	if f.ctl != ctlPong || w.c != nil {
		return nil
	}
	return w.cc.writeFrame(opPong, nil, f.Data)
}

// answerPing answers a ping received on ws, the session's WebSocket, with
// a pong written by the session's writer after what was queued before the
// ping, never before. Pings are answered in order, and at most one pong
// waits in the queue: RFC 6455 (5.5.3) allows answering only the latest
// ping, so a client that pings without reading costs one frame, counted in
// Options.MaxQueuedBytes, and no goroutine or buffer per ping.
func (s *Socket) answerPing(ws *wsConn, data []byte) {
	s.mu.Lock()
	if s.state != stateOpen || s.ws != ws {
		s.mu.Unlock()
		return
	}
	if !s.writing && len(s.queue) == 0 && ws.cc.canTryUncork() {
		// The usual case: nothing waits, so the pong is written now, as
		// far as the connection takes it without waiting (see writeNow).
		s.writing = true
		s.mu.Unlock()
		s.writeNow(ws, []Frame{{Data: data, ctl: ctlPong}}, false)
		return
	}
	overflow := s.queuePongLocked(data)
	s.mu.Unlock()
	if overflow {
		s.closeWith(ReasonTransportError, ErrQueueFull, false)
	}
}

// queuePongLocked queues a pong answering the latest ping. The pong
// waiting already, if any, is answered by this one: it takes the new
// payload where it stands when nothing was queued after it, else it is
// dropped and the new one goes last, after what was queued before the
// ping. Dropped pongs are never more than the frames queued after them.
// It reports whether the queue overflowed, as enqueueLocked. s.mu held.
func (s *Socket) queuePongLocked(data []byte) (overflow bool) {
	if i := s.pongAt - 1; i >= 0 && i < len(s.queue) && s.queue[i].ctl == ctlPong {
		old := len(s.queue[i].Data)
		if i == len(s.queue)-1 {
			s.queue[i].Data = data
			s.queuedBytes += len(data) - old
			return false
		}
		s.queue[i] = Frame{ctl: ctlDropped}
		s.queuedBytes -= old
	}
	if overflow = s.enqueueLocked(Frame{Data: data, ctl: ctlPong}); !overflow {
		s.pongAt = len(s.queue)
	}
	return overflow
}

// read reads the next message. Cancelling ctx ends a read under way by
// closing the connection.
func (w *wsConn) read(ctx context.Context) (eio.Packet, error) {
	var data []byte
	var binary bool
	if w.c == nil {
		if ctx.Done() != nil {
			stop := context.AfterFunc(ctx, w.closeNow)
			defer stop()
		}
		op, b, err := w.readOwn()
		if err != nil {
			return eio.Packet{}, err
		}
		data, binary = b, op == opBinary
	} else {
		typ, r, err := w.c.Reader(ctx)
		if err != nil {
			return eio.Packet{}, err
		}
		if data, err = readMessage(r, w.rpool); err != nil {
			return eio.Packet{}, err
		}
		binary = typ == websocket.MessageBinary
	}
	p, err := w.decode(data, binary)
	if err != nil && w.c == nil {
		// A valid WebSocket message that is no Engine.IO packet breaks the
		// protocol spoken over the WebSocket: see eioViolation.
		err = eioViolation(err)
		w.replyClose(err)
	}
	return p, err
}

// eioViolation is the error of a message that is not an Engine.IO packet
// (err). The connection is closed with status 1002, protocol error: the
// client broke the protocol the connection was opened for (the Engine.IO
// subprotocol of the handshake's URL). 1003 means a kind of data the
// endpoint does not accept (binary to a text-only endpoint, RFC 6455,
// 7.4.1), and Engine.IO accepts both kinds. The error still matches
// eio.ErrInvalidPacket (reason "parse error").
func eioViolation(err error) error { return &wsError{closeProtocolError, err} }

// replyClose writes the close frame a read failing with err calls for
// (see corkConn.replyClose), waiting at most wsCloseTimeout for the
// connection to take it.
func (w *wsConn) replyClose(err error) {
	_ = w.cc.SetWriteDeadline(time.Now().Add(wsCloseTimeout))
	w.cc.replyClose(err)
}

// decode decodes a message into a packet.
func (w *wsConn) decode(data []byte, binary bool) (eio.Packet, error) {
	if w.v3 {
		if binary {
			return decodeBinaryPacketV3(data)
		}
		return decodePacketV3(data)
	}
	return eio.DecodeFrame(data, binary)
}

// readOwn returns the next data message, its opcode and payload, reading
// as needed. It answers pings (through the session's writer once the
// connection serves one, see answerPing), and a close frame with a close
// frame (then returns a *wsCloseError); a violation of the protocol gets a
// close frame with its status, and its *wsError.
func (w *wsConn) readOwn() (byte, []byte, error) {
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
				if w.sess != nil {
					w.sess.answerPing(w, f.data)
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
func (w *wsConn) fill() error {
	if w.cc.raw != nil {
		r, err := w.cc.raw.readPooled(w.rpool)
		if err != nil {
			return err
		}
		w.chunk, w.rest = r.buf, r.buf[:r.n]
		return nil
	}
	buf := w.rpool.Get().(*[wsReadChunk]byte)
	n, err := w.br.Read(buf[:])
	if n == 0 {
		w.rpool.Put(buf)
		if err == nil {
			err = io.ErrNoProgress
		}
		return err
	}
	w.chunk, w.rest = buf, buf[:n]
	return nil
}

func (w *wsConn) releaseChunk() {
	if w.chunk != nil {
		w.rpool.Put(w.chunk)
		w.chunk, w.rest = nil, nil
	}
}

// readMessage reads the message r to its end, into a pooled chunk, and
// returns a copy of exactly its size: a small message costs one small
// allocation, where io.ReadAll starts at 512 bytes. A message larger than
// a chunk is read on with io.ReadAll.
func readMessage(r io.Reader, pool *sync.Pool) ([]byte, error) {
	buf := pool.Get().(*[wsReadChunk]byte)
	defer pool.Put(buf)
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err == io.EOF {
			return bytes.Clone(buf[:n:n]), nil
		}
		if err != nil {
			return nil, err
		}
	}
	rest, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	out := make([]byte, n+len(rest))
	copy(out, buf[:n])
	copy(out[n:], rest)
	return out, nil
}

// close closes the connection with a normal close frame, in the background
// (the close handshake may take a while). With the engine's own protocol,
// the reader closes the connection when the peer's close frame comes, or
// after wsCloseTimeout.
func (w *wsConn) close(srv *Server) {
	w.closing.Store(true)
	srv.wg.Add(1)
	go func() {
		defer srv.wg.Done()
		if w.c != nil {
			_ = w.c.Close(websocket.StatusNormalClosure, "")
			return
		}
		deadline := time.Now().Add(wsCloseTimeout)
		_ = w.cc.SetWriteDeadline(deadline)
		w.cc.writeClose(closeNormal)
		if w.poll.Load() != nil {
			// The poller reads the answer, which ends the connection.
			w.closeTimer.Store(time.AfterFunc(wsCloseTimeout, w.closeNow))
			return
		}
		_ = w.cc.SetReadDeadline(deadline)
	}()
}

func (w *wsConn) closeNow() {
	if w.c != nil {
		_ = w.c.CloseNow()
		return
	}
	if p := w.poll.Load(); p != nil {
		p.remove(w)
		if t := w.closeTimer.Load(); t != nil {
			t.Stop()
		}
	}
	_ = w.cc.Close()
}

// accept completes the WebSocket handshake of r, a request of session
// sid, after the header hooks have run on the response headers. v3 tells
// whether the client speaks protocol 3.
func (s *Server) accept(w http.ResponseWriter, r *http.Request, sid string, v3 bool) (*wsConn, error) {
	s.applyHeaders(w.Header(), r, sid)
	v3b64 := v3 && r.URL.Query().Has("b64")
	if !s.opts.PerMessageDeflate {
		ws, err := s.acceptOwn(w, r, v3, v3b64)
		if err == nil {
			clearDeadlines(ws)
		}
		return ws, err
	}
	opts := &websocket.AcceptOptions{
		// Origins are checked by CORS and AllowRequest, as upstream does.
		InsecureSkipVerify: true,
	}
	opts.CompressionMode = websocket.CompressionNoContextTakeover
	opts.CompressionThreshold = s.opts.PerMessageDeflateThreshold
	cw := &corkWriter{ResponseWriter: w, pool: &s.corkBufs, rpool: &s.readBufs}
	c, err := websocket.Accept(cw, r, opts)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(s.opts.MaxHTTPBufferSize)
	ws := &wsConn{c: c, cc: cw.conn, rpool: &s.readBufs, v3: v3, b64: v3b64}
	clearDeadlines(ws)
	return ws, nil
}

// clearDeadlines clears the deadlines of a hijacked connection. net/http
// clears those of its ReadTimeout and WriteTimeout when it hands the
// connection over, but documents that it "may have read or write deadlines
// already set": left, they would end a WebSocket that lives longer.
func clearDeadlines(ws *wsConn) {
	_ = ws.cc.SetDeadline(time.Time{})
}

// handshakeWebSocket opens a session directly over WebSocket.
func (s *Server) handshakeWebSocket(w http.ResponseWriter, r *http.Request, id string) {
	ws, err := s.accept(w, r, id, requestProtocol(r.URL.Query()) == protocol3)
	if err != nil {
		s.log.Debug("engine: websocket accept failed", "err", err)
		return
	}
	sess, err := s.newSession(id, r, "websocket", ws)
	if err != nil {
		s.log.Debug("engine: handshake failed", "err", err)
		if errors.Is(err, errDuplicateID) {
			s.connectionError(r, eio.CodeBadRequest, map[string]any{"name": "ID_GENERATION_ERROR", "error": err})
		}
		ws.closeNow()
		return
	}
	sess.serveWebSocket(ws)
}

// serveWebSocket has ws read by a poller (Linux), or else by a goroutine
// of the server's, and returns, so that the HTTP handler's goroutine, its
// deep stack and the request are released: an idle WebSocket session holds
// no goroutine (with a poller) or one small reader goroutine.
func (s *Socket) serveWebSocket(ws *wsConn) {
	ws.sess = s
	if p := s.srv.pollerFor(ws); p != nil && p.start(s, ws) {
		return
	}
	if !s.srv.goOwned(func() { s.readLoop(ws) }) {
		s.closeWith(ReasonForcedServerClose, ErrServerClosed, false)
		ws.closeNow()
	}
}

// serveUpgrade handles a WebSocket that asks to take over a polling session.
func (s *Socket) serveUpgrade(w http.ResponseWriter, r *http.Request) {
	if s.srv.opts.DisallowUpgrades {
		s.srv.refuse(w, r, http.StatusBadRequest, eio.CodeBadRequest, map[string]any{
			"name": "TRANSPORT_MISMATCH", "transport": "websocket", "previousTransport": "polling",
		})
		return
	}
	ws, err := s.srv.accept(w, r, s.id, s.protocol == protocol3)
	if err != nil {
		return
	}
	s.mu.Lock()
	ok := s.state == stateOpen && s.transport == "polling" && s.probing == nil && !s.upgraded
	if ok {
		s.probing = ws
	}
	s.mu.Unlock()
	if !ok {
		// Like upstream: an upgrade under way or done, or a session that
		// is closing, gets its extra WebSocket closed.
		ws.closeNow()
		return
	}
	if err := s.probe(ws); err != nil {
		s.srv.log.Debug("engine: upgrade failed", "sid", s.id, "err", err)
		s.abandonUpgrade(ws)
		ws.closeNow()
		return
	}
	s.serveWebSocket(ws)
}

// abandonUpgrade forgets the upgrade by ws, if it is still the one under
// way. It runs before ws is closed, so that a client seeing the close may
// retry at once.
func (s *Socket) abandonUpgrade(ws *wsConn) {
	s.mu.Lock()
	if s.probing == ws {
		s.probing = nil
		s.probed = false
	}
	s.mu.Unlock()
}

var errUpgrade = errors.New("engine: invalid upgrade")

// buffered reports whether ws holds bytes it received and did not parse
// yet. coder/websocket (permessage-deflate) keeps its buffer to itself.
func (w *wsConn) buffered() bool {
	if w.c != nil {
		return false
	}
	return len(w.rest) > 0 || w.p.pending() || (w.br != nil && w.br.Buffered() > 0)
}

// probe runs the upgrade: 2probe is answered 3probe, a pending GET is
// released with a noop, and 5 switches the session to the WebSocket, where
// what is queued is flushed. It fails after Options.UpgradeTimeout.
func (s *Socket) probe(ws *wsConn) error {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	timer := time.AfterFunc(s.srv.opts.UpgradeTimeout, func() {
		s.abandonUpgrade(ws)
		cancel() // ends the read under way, and closes ws
	})
	defer timer.Stop()
	p, err := ws.read(ctx)
	if err != nil {
		return fmt.Errorf("engine: reading the probe: %w", err)
	}
	if p.Type != eio.Ping || string(p.Data) != "probe" {
		return fmt.Errorf("%w: %s packet instead of the probe", errUpgrade, p.Type)
	}
	if err := ws.write(ctx, Frame{Data: []byte("3probe")}); err != nil {
		return fmt.Errorf("engine: answering the probe: %w", err)
	}
	s.mu.Lock()
	if s.probing == ws && !ws.buffered() {
		// A GET now gets a noop (after upgradeCheck). Not when the client
		// sent more right after the probe (the upgrade packet, back to
		// back): that is handled first, and a GET is then refused, as
		// upstream refuses it, having read both in one go.
		s.probed = true
		s.probedAt = time.Now()
		s.wakeLocked()
	}
	s.mu.Unlock()
	p, err = ws.read(ctx)
	if err != nil {
		return fmt.Errorf("engine: reading the upgrade packet: %w", err)
	}
	if p.Type != eio.Upgrade {
		return fmt.Errorf("%w: %s packet instead of upgrade", errUpgrade, p.Type)
	}
	s.mu.Lock()
	// A session closing gracefully still completes the upgrade, as upstream
	// does: what is queued (a DISCONNECT, the close packet) then goes out on
	// the WebSocket, which the writer closes afterwards.
	if s.state == stateClosed || s.probing != ws || !timer.Stop() {
		s.mu.Unlock()
		return fmt.Errorf("%w: session closed or upgrade timed out", ErrClosed)
	}
	s.transport = "websocket"
	s.ws = ws
	s.probing = nil
	s.probed = false
	s.upgraded = true
	if s.state == stateClosing && !s.writing {
		s.startWriterLocked() // flushes, then closes the WebSocket
	} else {
		s.wakeLocked() // flush what is queued on the WebSocket
	}
	select { // release a GET that might still be pending
	case s.pollWake <- struct{}{}:
	default:
	}
	onUpgrade := s.onUpgrade
	s.mu.Unlock()
	s.srv.log.Debug("engine: upgraded", "sid", s.id)
	if onUpgrade != nil {
		s.callOnUpgrade(onUpgrade, "websocket")
	}
	return nil
}

// readLoop reads the session's WebSocket until it fails. It reads without
// a deadline: the connection is closed when the session ends, which ends
// the read (cancelling a read context would cut a graceful close short).
func (s *Socket) readLoop(ws *wsConn) {
	if ws.c == nil {
		defer ws.closeNow() // the close handshake ends here (see close)
	}
	for {
		p, err := ws.read(context.Background())
		if err != nil {
			s.readError(err)
			return
		}
		s.onPacket(p)
	}
}

// readError closes the session after its WebSocket failed to read.
func (s *Socket) readError(err error) {
	if errors.Is(err, eio.ErrInvalidPacket) {
		s.closeWith(ReasonParseError, errors.Join(ErrInvalidPacket, err), false)
	} else {
		s.closeWith(readErrorReason(err), err, false)
	}
}

// readFailed ends w and the session after a read error or a close frame
// met by a poller: a close frame answers the peer's or tells the violation,
// then the connection is closed.
func (s *Socket) readFailed(w *wsConn, err error) {
	_ = w.cc.SetWriteDeadline(time.Now().Add(wsCloseTimeout))
	w.cc.replyClose(err)
	s.readError(err)
	w.closeNow()
}

// readErrorReason maps a read error to the reason upstream gives: the peer
// closing (with a close frame or not) is "transport close", anything else
// (a message over the size limit, a protocol violation) "transport error".
func readErrorReason(err error) string {
	var ce websocket.CloseError
	var oe *wsCloseError
	switch {
	case errors.As(err, &ce), errors.As(err, &oe), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return ReasonTransportClose
	default:
		return ReasonTransportError
	}
}

// SendNow is Send for a packet meant for this session alone (an emit to
// one socket, an acknowledgement). When the session is on WebSocket and its
// writer is idle, the calling goroutine writes the frames itself, as far as
// the connection takes them without waiting, which saves a hand-off to
// another goroutine; what is left goes to a writer goroutine. It never
// blocks on the network. Otherwise it is Send.
func (s *Socket) SendNow(frames ...Frame) error { return s.sendNow(frames, false) }

// SendNowCopy is SendNow for frames whose data the caller reuses once it
// returns: the frames written at once are copied by the write, and those
// sent otherwise are copied first.
func (s *Socket) SendNowCopy(frames ...Frame) error { return s.sendNow(frames, true) }

func (s *Socket) sendNow(frames []Frame, copyQueued bool) error {
	s.mu.Lock()
	ws := s.ws
	if s.state != stateOpen || s.transport != "websocket" || ws == nil || s.writing || len(s.queue) > 0 || !ws.cc.canTryUncork() {
		s.mu.Unlock()
		if copyQueued {
			frames = cloneFrames(frames)
		}
		return s.Send(frames...)
	}
	s.writing = true // this goroutine is the writer for now
	s.mu.Unlock()
	s.writeNow(ws, frames, false)
	return nil
}

// wakeWriterLocked gets what is queued written: by the server's flushers
// when the connection can be written without waiting, else by a writer
// goroutine of the session's. s.mu held, s.writing false.
func (s *Socket) wakeWriterLocked() {
	if !s.ws.cc.canTryUncork() {
		s.startWriterLocked()
		return
	}
	s.writing = true // the flusher that takes s is its writer
	s.srv.scheduleFlush(s)
}

// scheduleFlush queues s for the flushers, and starts one if fewer than
// GOMAXPROCS run. A broadcast to many sessions is then written by a few
// goroutines in turn, with no goroutine per session: the writes of a
// fan-out cost system calls, not goroutine starts and switches.
func (srv *Server) scheduleFlush(s *Socket) {
	srv.flushMu.Lock()
	srv.flushQueue.Push(s)
	start := srv.flushWorkers < runtime.GOMAXPROCS(0)
	if start {
		srv.flushWorkers++
		srv.wg.Add(1)
	}
	srv.flushMu.Unlock()
	if start {
		go srv.flushLoop()
	}
}

// flushLoop writes the queued sessions' frames until none is queued.
func (srv *Server) flushLoop() {
	defer srv.wg.Done()
	for {
		srv.flushMu.Lock()
		s, ok := srv.flushQueue.Pop(1024)
		if !ok {
			srv.flushWorkers--
			srv.flushMu.Unlock()
			return
		}
		srv.flushMu.Unlock()
		s.flushNow()
	}
}

// flushNow writes the session's queue on a flusher, which holds the
// writer role. Anything but an open WebSocket session with frames queued
// (a closing one, an empty queue) is left to a writer goroutine, which
// knows how to finish.
func (s *Socket) flushNow() {
	s.mu.Lock()
	ws := s.ws
	if ws == nil || s.state != stateOpen || s.transport != "websocket" || len(s.queue) == 0 {
		s.startWriterLocked()
		s.mu.Unlock()
		return
	}
	frames := s.takeQueueLocked()
	s.mu.Unlock()
	s.writeNow(ws, frames, true)
}

// writeNow writes frames on the calling goroutine, which holds the writer
// role, as far as the connection takes them without waiting; then it hands
// the role on: to a writer goroutine when something is left or the session
// is closing, back to the flushers when more was queued meanwhile, or
// gives it up. With reuse, frames' backing array may become the queue's.
func (s *Socket) writeNow(ws *wsConn, frames []Frame, reuse bool) {
	ws.cc.corkAll()
	var err error
	for _, f := range frames {
		// No cancellable context: the write only gathers in memory.
		if err = ws.write(context.Background(), f); err != nil {
			break
		}
	}
	pending, uerr := ws.cc.tryUncork()
	if err == nil {
		err = uerr
	}
	s.mu.Lock()
	switch {
	case err != nil:
		s.writing = false
		s.mu.Unlock()
		s.closeWith(ReasonTransportError, fmt.Errorf("engine: websocket write: %w", err), false)
		return
	case pending || s.state == stateClosing:
		s.startWriterLocked() // writes what is left, then finishes a close
	case len(s.queue) > 0:
		s.srv.scheduleFlush(s)
	default:
		s.writing = false
		if reuse && s.queue == nil && cap(frames) <= 64 {
			clear(frames)
			s.queue = frames[:0]
		}
	}
	s.mu.Unlock()
}

// writeLoop writes what is queued on the WebSocket and exits when the
// queue is empty: an idle session has no writer goroutine. When the session
// is closing gracefully, it closes the connection once all is written.
func (s *Socket) writeLoop() {
	defer s.srv.wg.Done()
	s.mu.Lock()
	ws := s.ws
	s.mu.Unlock()
	if ws != nil {
		// What SendNow could not write goes first.
		if err := ws.cc.uncork(); err != nil {
			s.mu.Lock()
			s.writing = false
			s.mu.Unlock()
			s.closeWith(ReasonTransportError, fmt.Errorf("engine: websocket write: %w", err), false)
			return
		}
	}
	var spare []Frame // the backing array of the batch written last, reused for the queue
	for {
		s.mu.Lock()
		frames := s.queue
		s.queue = spare
		s.queuedBytes = 0
		s.pongAt = 0
		ws := s.ws
		if len(frames) == 0 || ws == nil || s.state == stateClosed {
			s.writing = false
			closing := s.state == stateClosing
			s.mu.Unlock()
			if closing {
				s.finish(true)
			}
			return
		}
		s.mu.Unlock()
		// The batch goes out in one write (see corkConn).
		ws.cc.cork()
		var err error
		for _, f := range frames {
			// No cancellable context: closing the connection unblocks a
			// write, and a cancellable one costs allocations per write.
			if err = ws.write(context.Background(), f); err != nil {
				break
			}
		}
		if uerr := ws.cc.uncork(); err == nil {
			err = uerr
		}
		if err != nil {
			s.mu.Lock()
			s.writing = false
			s.mu.Unlock()
			s.closeWith(ReasonTransportError, fmt.Errorf("engine: websocket write: %w", err), false)
			return
		}
		clear(frames)
		spare = nil
		if cap(frames) <= 64 {
			spare = frames[:0]
		}
	}
}
