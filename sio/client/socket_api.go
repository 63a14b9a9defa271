package client

import (
	"context"
	"slices"

	"github.com/gosio/socketio/sio"
)

// The parts of Socket's API shared with the server's Socket (see
// sio.Socket and the typed events of package sio).

var _ sio.Socket = (*Socket)(nil)

// Context returns a context that ends when the socket stops for good:
// Disconnect, or the server disconnected or refused it (no reconnection
// follows). A lost connection being re-established does not end it.
// Once ended, the next Connect or Open starts a new one.
func (s *Socket) Context() context.Context {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if s.stopped {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		return ctx
	}
	if s.ctx == nil {
		s.ctx, s.cancelCtx = context.WithCancel(context.Background())
	}
	return s.ctx
}

// OnError registers h, called with the errors of the socket's handlers that
// ReportError reports (such as a typed event whose argument does not
// decode, see sio.On).
func (s *Socket) OnError(h func(error)) { addHandler(&s.hmu, &s.h.errors, h) }

// ReportError passes err to the OnError handlers, on the calling goroutine.
func (s *Socket) ReportError(err error) {
	s.hmu.Lock()
	hs := slices.Clone(s.h.errors)
	s.hmu.Unlock()
	for _, h := range hs {
		h(err)
	}
}
