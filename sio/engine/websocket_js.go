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

// writeNow is never called: no session has a WebSocket in js/wasm.
func (s *Socket) writeNow(wsConn, []Frame, bool) {}
