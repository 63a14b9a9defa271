//go:build !js

package engine

import (
	"context"
	"errors"
	"net/http"

	"github.com/coder/websocket"

	"github.com/gosio/socketio/sio/eio"
)

// wsConn is the session's WebSocket.
type wsConn struct {
	c *websocket.Conn
}

func (w *wsConn) write(ctx context.Context, f Frame) error {
	typ := websocket.MessageText
	if f.Binary {
		typ = websocket.MessageBinary
	}
	return w.c.Write(ctx, typ, f.Data)
}

func (w *wsConn) read(ctx context.Context) (eio.Packet, error) {
	typ, data, err := w.c.Read(ctx)
	if err != nil {
		return eio.Packet{}, err
	}
	return eio.DecodeFrame(data, typ == websocket.MessageBinary)
}

// close closes the connection with a normal close frame, in the background
// (the close handshake may take a while).
func (w *wsConn) close(srv *Server) {
	srv.wg.Add(1)
	go func() {
		defer srv.wg.Done()
		_ = w.c.Close(websocket.StatusNormalClosure, "")
	}()
}

func (w *wsConn) closeNow() { _ = w.c.CloseNow() }

func (s *Server) accept(w http.ResponseWriter, r *http.Request) (*wsConn, error) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		// Origins are checked by CORS and AllowRequest, as upstream does.
		InsecureSkipVerify: true,
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(s.opts.MaxHTTPBufferSize)
	return &wsConn{c: c}, nil
}

// handshakeWebSocket opens a session directly over WebSocket.
func (s *Server) handshakeWebSocket(w http.ResponseWriter, r *http.Request) {
	ws, err := s.accept(w, r)
	if err != nil {
		s.log.Debug("engine: websocket accept failed", "err", err)
		return
	}
	sess, err := s.newSession(r, "websocket", ws)
	if err != nil {
		_ = ws.c.Close(websocket.StatusGoingAway, "server closed")
		return
	}
	sess.readLoop(ws)
}

// serveUpgrade handles a WebSocket that asks to take over a polling session.
func (s *Socket) serveUpgrade(w http.ResponseWriter, r *http.Request) {
	ws, err := s.srv.accept(w, r)
	if err != nil {
		return
	}
	s.mu.Lock()
	ok := s.state == stateOpen && s.transport == "polling" && !s.upgrading && !s.upgraded && !s.srv.opts.DisallowUpgrades
	if ok {
		s.upgrading = true
	}
	s.mu.Unlock()
	if !ok {
		ws.closeNow()
		return
	}
	if err := s.probe(ws); err != nil {
		s.srv.log.Debug("engine: upgrade failed", "sid", s.id, "err", err)
		s.mu.Lock()
		s.upgrading = false
		s.mu.Unlock()
		ws.closeNow()
		return
	}
	s.readLoop(ws)
}

var errUpgrade = errors.New("engine: invalid upgrade")

// probe runs the upgrade: 2probe is answered 3probe, a pending GET is
// released with a noop, and 5 switches the session to the WebSocket, where
// what is queued is flushed.
func (s *Socket) probe(ws *wsConn) error {
	ctx, cancel := context.WithTimeout(s.ctx, s.srv.opts.UpgradeTimeout)
	defer cancel()
	p, err := ws.read(ctx)
	if err != nil {
		return err
	}
	if p.Type != eio.Ping || string(p.Data) != "probe" {
		return errUpgrade
	}
	if err := ws.c.Write(ctx, websocket.MessageText, []byte("3probe")); err != nil {
		return err
	}
	s.mu.Lock()
	s.wakeLocked() // a pending GET gets a noop
	s.mu.Unlock()
	p, err = ws.read(ctx)
	if err != nil {
		return err
	}
	if p.Type != eio.Upgrade {
		return errUpgrade
	}
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return ErrClosed
	}
	s.transport = "websocket"
	s.ws = ws
	s.upgrading = false
	s.upgraded = true
	s.wakeLocked()
	// release a GET that might still be pending
	select {
	case s.pollWake <- struct{}{}:
	default:
	}
	s.mu.Unlock()
	s.srv.log.Debug("engine: upgraded", "sid", s.id)
	if s.onUpgrade != nil {
		s.onUpgrade("websocket")
	}
	return nil
}

// readLoop reads the session's WebSocket until it fails.
func (s *Socket) readLoop(ws *wsConn) {
	for {
		p, err := ws.read(s.ctx)
		if err != nil {
			var ce websocket.CloseError
			switch {
			case errors.Is(err, eio.ErrInvalidPacket):
				s.closeWith(ReasonParseError, errors.Join(ErrInvalidPacket, err), false)
			case errors.As(err, &ce) && (ce.Code == websocket.StatusNormalClosure || ce.Code == websocket.StatusGoingAway):
				s.closeWith(ReasonTransportClose, nil, false)
			case errors.As(err, &ce):
				s.closeWith(ReasonTransportError, err, false)
			default:
				s.closeWith(ReasonTransportClose, err, false)
			}
			return
		}
		s.onPacket(p)
	}
}

// writeLoop writes what is queued on the WebSocket and exits when the
// queue is empty: an idle session has no writer goroutine.
func (s *Socket) writeLoop() {
	defer s.srv.wg.Done()
	for {
		s.mu.Lock()
		frames := s.takeQueueLocked()
		ws := s.ws
		if len(frames) == 0 || ws == nil {
			s.writing = false
			closing := s.state == stateClosing
			s.mu.Unlock()
			if closing {
				s.finish()
			}
			return
		}
		s.mu.Unlock()
		for _, f := range frames {
			if err := ws.write(s.ctx, f); err != nil {
				s.mu.Lock()
				s.writing = false
				s.mu.Unlock()
				s.closeWith(ReasonTransportError, err, false)
				s.finish()
				return
			}
		}
	}
}
