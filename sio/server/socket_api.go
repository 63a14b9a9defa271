package server

import (
	"slices"

	"github.com/gosio/socketio/sio"
)

// The parts of Socket's API shared with the client's Socket (see
// sio.Socket and the typed events of package sio).

var _ sio.Socket = (*Socket)(nil)

// ReportError passes err to the socket's OnError handlers, on the calling
// goroutine. The typed handlers of package sio (sio.On, sio.OnAck) report
// through it the events whose argument does not decode.
func (s *Socket) ReportError(err error) {
	s.mu.Lock()
	ehs := slices.Clone(s.onError)
	s.mu.Unlock()
	for _, eh := range ehs {
		eh(err)
	}
}
