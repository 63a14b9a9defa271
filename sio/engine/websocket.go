//go:build !js

package engine

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/eio"
	"github.com/gosio/socketio/sio/engine/internal/wsio"
)

// wsStack is what the server's WebSockets share (buffer pools, pollers).
type wsStack = wsio.Stack

func (s *Server) initWebSocket() {
	s.ws = wsio.NewStack(wsio.Config{
		MaxMessage:       s.opts.MaxHTTPBufferSize,
		DeflateThreshold: s.opts.PerMessageDeflateThreshold,
		Log:              s.log,
		Ctx:              s.ctx,
		Go:               s.goOwned,
		WG:               &s.wg,
	})
}

// writeFrame writes f on ws, in the framing of the session's protocol.
func (s *Socket) writeFrame(ws wsConn, f Frame) error {
	switch f.ctl {
	case 0:
		binary, pre, data := s.codec.wsMessage(f)
		return ws.WriteMessage(binary, pre, data)
	case ctlPong:
		return ws.WritePong(f.Data)
	}
	return nil // a dropped pong
}

// Values of Frame.ctl.
const (
	ctlPong    = 1
	ctlDropped = 2 // a pong replaced by a later one (see queuePongLocked)
)

// answerPing answers a ping received on ws, the session's WebSocket, with
// a pong written by the session's writer after what was queued before the
// ping, never before. Pings are answered in order, and at most one pong
// waits in the queue: RFC 6455 (5.5.3) allows answering only the latest
// ping, so a client that pings without reading costs one frame, counted in
// Options.MaxQueuedBytes, and no goroutine or buffer per ping.
func (s *Socket) answerPing(data []byte) {
	s.mu.Lock()
	ws := s.ws
	if s.state != stateOpen || ws == nil {
		s.mu.Unlock()
		return
	}
	if !s.writing && len(s.queue) == 0 {
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
		s.closeWith(sio.ReasonTransportError, ErrQueueFull, false)
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

// wsHandler is a session as its served WebSocket's wsio.Handler: what the
// connection reads goes to the session.
type wsHandler Socket

// Message decodes a message in the session's protocol and handles it.
func (h *wsHandler) Message(data []byte, binary bool) error {
	s := (*Socket)(h)
	p, err := s.codec.decodeMessage(data, binary)
	if err != nil {
		return err
	}
	s.onPacket(p)
	return nil
}

// Ping has the session's writer answer a ping (see answerPing).
func (h *wsHandler) Ping(data []byte) { (*Socket)(h).answerPing(data) }

// Failed closes the session after its WebSocket failed to read.
func (h *wsHandler) Failed(err error) { (*Socket)(h).readError(err) }

// accept completes the WebSocket handshake of r, a request of session
// sid, after the header hooks have run on the response headers. The
// connection speaks the protocol through the engine's own stack, or
// through coder/websocket when permessage-deflate is on.
func (s *Server) accept(w http.ResponseWriter, r *http.Request, sid string) (wsConn, error) {
	s.applyHeaders(w.Header(), r, sid)
	if s.opts.PerMessageDeflate {
		return s.ws.AcceptLibrary(w, r)
	}
	return s.ws.AcceptOwn(w, r)
}

// handshakeWebSocket opens a session directly over WebSocket.
func (s *Server) handshakeWebSocket(w http.ResponseWriter, r *http.Request, id string) {
	ws, err := s.accept(w, r, id)
	if err != nil {
		s.log.Debug("engine: websocket accept failed", "err", err)
		return
	}
	sess, err := s.newSession(id, r, eio.TransportWebSocket, ws)
	if err != nil {
		s.log.Debug("engine: handshake failed", "err", err)
		if errors.Is(err, errDuplicateID) {
			s.connectionError(r, eio.CodeBadRequest, map[string]any{"name": "ID_GENERATION_ERROR", "error": err})
		}
		ws.CloseNow()
		return
	}
	sess.serveWebSocket(ws)
}

// serveWebSocket has ws, the session's WebSocket, read for the session,
// and returns, so that the HTTP handler's goroutine, its deep stack and
// the request are released.
func (s *Socket) serveWebSocket(ws wsConn) {
	if !ws.Serve((*wsHandler)(s)) {
		s.closeWith(sio.ReasonForcedServerClose, ErrServerClosed, false)
		ws.CloseNow()
	}
}

// serveUpgrade handles a WebSocket that asks to take over a polling session.
func (s *Socket) serveUpgrade(w http.ResponseWriter, r *http.Request) {
	if s.srv.opts.DisallowUpgrades {
		s.srv.refuse(w, r, http.StatusBadRequest, eio.CodeBadRequest, map[string]any{
			"name": "TRANSPORT_MISMATCH", "transport": eio.TransportWebSocket, "previousTransport": eio.TransportPolling,
		})
		return
	}
	ws, err := s.srv.accept(w, r, s.id)
	if err != nil {
		return
	}
	s.mu.Lock()
	ok := s.state == stateOpen && s.transport == eio.TransportPolling && s.probing == nil && !s.upgraded
	if ok {
		s.probing = ws
	}
	s.mu.Unlock()
	if !ok {
		// Like upstream: an upgrade under way or done, or a session that
		// is closing, gets its extra WebSocket closed.
		ws.CloseNow()
		return
	}
	if err := s.probe(ws); err != nil {
		s.srv.log.Debug("engine: upgrade failed", "sid", s.id, "err", err)
		s.abandonUpgrade(ws)
		ws.CloseNow()
		return
	}
	s.serveWebSocket(ws)
}

// abandonUpgrade forgets the upgrade by ws, if it is still the one under
// way. It runs before ws is closed, so that a client seeing the close may
// retry at once.
func (s *Socket) abandonUpgrade(ws wsConn) {
	s.mu.Lock()
	if s.probing == ws {
		s.probing = nil
		s.probed = false
	}
	s.mu.Unlock()
}

var errUpgrade = errors.New("engine: invalid upgrade")

// probe runs the upgrade: 2probe is answered 3probe, a pending GET is
// released with a noop, and 5 switches the session to the WebSocket, where
// what is queued is flushed. It fails after Options.UpgradeTimeout.
func (s *Socket) probe(ws wsConn) error {
	ctx, cancel := context.WithCancel(s.ctx)
	defer cancel()
	timer := time.AfterFunc(s.srv.opts.UpgradeTimeout, func() {
		s.abandonUpgrade(ws)
		cancel() // ends the read under way, and closes ws
	})
	defer timer.Stop()
	var p eio.Packet
	read := func(data []byte, binary bool) (err error) {
		p, err = s.codec.decodeMessage(data, binary)
		return err
	}
	if err := ws.Read(ctx, read); err != nil {
		return fmt.Errorf("engine: reading the probe: %w", err)
	}
	if p.Type != eio.Ping || string(p.Data) != "probe" {
		return fmt.Errorf("%w: %s packet instead of the probe", errUpgrade, p.Type)
	}
	if err := s.writeFrame(ws, Frame{Data: []byte("3probe")}); err != nil {
		return fmt.Errorf("engine: answering the probe: %w", err)
	}
	s.mu.Lock()
	if s.probing == ws && !ws.Buffered() {
		// A GET now gets a noop (after upgradeCheck). Not when the client
		// sent more right after the probe (the upgrade packet, back to
		// back): that is handled first, and a GET is then refused, as
		// upstream refuses it, having read both in one go.
		s.probed = true
		s.probedAt = time.Now()
		s.wakeLocked()
	}
	s.mu.Unlock()
	if err := ws.Read(ctx, read); err != nil {
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
	s.transport = eio.TransportWebSocket
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
		s.callOnUpgrade(onUpgrade, eio.TransportWebSocket)
	}
	return nil
}

// readError closes the session after its WebSocket failed to read.
func (s *Socket) readError(err error) {
	if errors.Is(err, eio.ErrInvalidPacket) {
		s.closeWith(sio.ReasonParseError, errors.Join(ErrInvalidPacket, err), false)
	} else {
		s.closeWith(readErrorReason(err), err, false)
	}
}

// readErrorReason maps a read error to the reason upstream gives: the peer
// closing (with a close frame or not) is "transport close", anything else
// (a message over the size limit, a protocol violation) "transport error".
func readErrorReason(err error) sio.Reason {
	if wsio.PeerClosed(err) {
		return sio.ReasonTransportClose
	}
	return sio.ReasonTransportError
}

// wakeWriterLocked gets what is queued written by the server's flushers,
// which write what the connection takes without waiting and leave the
// rest to a writer goroutine of the session's. s.mu held, s.writing false.
func (s *Socket) wakeWriterLocked() {
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
	if ws == nil || s.state != stateOpen || s.transport != eio.TransportWebSocket || len(s.queue) == 0 {
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
func (s *Socket) writeNow(ws wsConn, frames []Frame, reuse bool) {
	ws.BeginBatch(true)
	var err error
	for _, f := range frames {
		if err = s.writeFrame(ws, f); err != nil {
			break
		}
	}
	pending, uerr := ws.EndBatch(true)
	if err == nil {
		err = uerr
	}
	s.mu.Lock()
	switch {
	case err != nil:
		s.writing = false
		s.mu.Unlock()
		s.closeWith(sio.ReasonTransportError, fmt.Errorf("engine: websocket write: %w", err), false)
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
		// What a write without waiting left goes first.
		if _, err := ws.EndBatch(false); err != nil {
			s.mu.Lock()
			s.writing = false
			s.mu.Unlock()
			s.closeWith(sio.ReasonTransportError, fmt.Errorf("engine: websocket write: %w", err), false)
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
		// The batch goes out in one write.
		ws.BeginBatch(false)
		var err error
		for _, f := range frames {
			if err = s.writeFrame(ws, f); err != nil {
				break
			}
		}
		if _, uerr := ws.EndBatch(false); err == nil {
			err = uerr
		}
		if err != nil {
			s.mu.Lock()
			s.writing = false
			s.mu.Unlock()
			s.closeWith(sio.ReasonTransportError, fmt.Errorf("engine: websocket write: %w", err), false)
			return
		}
		clear(frames)
		spare = nil
		if cap(frames) <= 64 {
			spare = frames[:0]
		}
	}
}
