package server

import (
	"encoding/json"
	"log/slog"
	"runtime/debug"

	"github.com/gosio/socketio/sio"
)

// A panic in user code must not take the process down with every other
// client (see the package doc): each place the server calls user code
// recovers, logs the panic with its stack at Error level and disconnects
// the socket concerned, if any. The recovery sits where the user code is
// called, so that what the server does around it (the handler queue, a
// pooled goroutine, the clean-up of a disconnecting socket) goes on.

// errPanicRefusal refuses a CONNECT whose middleware panicked. The panic
// value stays in the server's log: the client learns only that it is the
// server's fault.
var errPanicRefusal = &ConnectError{Message: "server error"}

// logPanic logs r, recovered from handler, with the stack of the goroutine
// it panicked on; it must be called from the deferred function that
// recovered, where the stack still shows the panic. s, when not nil, is the
// socket the handler ran for.
func logPanic(log *slog.Logger, r any, handler string, s *Socket, attrs ...any) {
	if s != nil {
		attrs = append(attrs, "nsp", s.nsp.name, "sid", s.id)
	}
	attrs = append(attrs, "handler", handler, "panic", r, "stack", string(debug.Stack()))
	log.Error("sio: handler panicked", attrs...)
}

// recoverHandler, deferred around a call of user code for socket s (nil
// when there is none), recovers a panic: it is logged and s is
// disconnected (reason "server namespace disconnect": the client gets a
// DISCONNECT packet, "io server disconnect" for it, after which the
// official client does not reconnect on its own; a socket that is already
// disconnecting is left to finish).
func (srv *Server) recoverHandler(s *Socket, handler string) {
	r := recover()
	if r == nil {
		return
	}
	logPanic(srv.log, r, handler, s)
	if s != nil {
		s.Disconnect()
	}
}

// taskPanicked is called with a task of a connection's handler queue that
// panicked, from the deferred function that recovered: the panic is logged,
// the task's socket disconnected, and the queue goes on with the next task.
func (srv *Server) taskPanicked(t task, r any) {
	if t.e != nil {
		logPanic(srv.log, r, "event handler", t.s, "event", t.e.Name)
	} else {
		logPanic(srv.log, r, "handler", t.s)
	}
	if t.s != nil {
		t.s.Disconnect()
	}
}

// callReasonHandler calls a disconnecting or disconnect handler of s. A
// panic is only logged: the socket is going already, and its clean-up
// (leaving its rooms, the other handlers) must go on.
func (s *Socket) callReasonHandler(h func(sio.Reason), reason sio.Reason, handler string) {
	defer s.nsp.srv.recoverHandler(s, handler)
	h(reason)
}

// callOutgoing calls an outgoing catch-all handler, on the goroutine that
// emits. A panic disconnects the socket whose handler it is, not the
// emitter's: the emit then fails with sio.ErrDisconnected.
func (s *Socket) callOutgoing(h func(*sio.Event), e *sio.Event) {
	defer s.nsp.srv.recoverHandler(s, "outgoing catch-all handler")
	h(e)
}

// callMiddleware runs a namespace middleware; a panic refuses the
// connection as an error would, with errPanicRefusal.
func (n *Namespace) callMiddleware(mw Middleware, s *Socket) (err error) {
	defer func() {
		if r := recover(); r != nil {
			logPanic(n.srv.log, r, "namespace middleware", s)
			err = errPanicRefusal
		}
	}()
	return mw(s)
}

// callServerSide calls an OnServerSideEmit handler; a panic is logged.
func (n *Namespace) callServerSide(h func(*sio.Event), e *sio.Event) {
	defer n.srv.recoverHandler(nil, "server-side emit handler")
	h(e)
}

// matches calls the match function of the dynamic namespace p, on the
// read path; a panic counts as no match (the client is then refused with
// "Invalid namespace" unless another dynamic namespace matches).
func (srv *Server) matches(p *Namespace, name string, auth json.RawMessage) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			logPanic(srv.log, r, "dynamic namespace match", nil, "nsp", name)
			ok = false
		}
	}()
	return p.match(name, auth)
}

// recoverConnect, deferred around the handling of a CONNECT to namespace
// n, recovers a panic that no narrower recovery caught (a custom adapter's,
// say): the CONNECT is refused, or the socket disconnected if it got in.
func (c *conn) recoverConnect(n *Namespace) {
	r := recover()
	if r == nil {
		return
	}
	logPanic(c.srv.log, r, "namespace connection", nil, "nsp", n.name, "conn", c.eng.ID())
	c.mu.Lock()
	s := c.sockets[n.name]
	c.mu.Unlock()
	if s != nil {
		s.Disconnect()
		return
	}
	c.refuseConnect(n, errPanicRefusal)
}

// callOnEvent calls the adapter's OnEvent hook; a panic is logged.
func (a *MemoryAdapter) callOnEvent(e AdapterEvent) {
	defer func() {
		if r := recover(); r != nil {
			log := slog.New(slog.DiscardHandler)
			if a.nsp != nil {
				log = a.nsp.srv.log
			}
			logPanic(log, r, "adapter OnEvent", nil, "event", e.Kind, "room", e.Room)
		}
	}()
	a.OnEvent(e)
}
