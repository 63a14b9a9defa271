//go:build js

package engine

import (
	"net/http"

	"github.com/gosio/socketio/sio/eio"
)

// The server side of WebSocket is not available in the browser build; the
// package compiles so that shared code can be vetted for js/wasm.

type wsStack struct{}

func (s *Server) handshakeWebSocket(w http.ResponseWriter, r *http.Request, _ string) {
	s.abort(w, r, http.StatusBadRequest, eio.CodeUnknownTransport, "")
}

func (s *Socket) serveUpgrade(w http.ResponseWriter, r *http.Request) {
	s.srv.abort(w, r, http.StatusBadRequest, eio.CodeUnknownTransport, "")
}

func (s *Socket) writeLoop() { s.srv.wg.Done() }

func (s *Server) initWebSocket() {}

func (s *Socket) wakeWriterLocked() { s.startWriterLocked() }

// SendNow is Send: there is no WebSocket server in js/wasm.
func (s *Socket) SendNow(frames ...Frame) error { return s.Send(frames...) }

// SendNowCopy is Send of a copy of frames, whose data the caller reuses
// once it returns.
func (s *Socket) SendNowCopy(frames ...Frame) error { return s.Send(cloneFrames(frames)...) }
