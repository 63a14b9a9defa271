package engine

import (
	"fmt"
	"runtime/debug"

	"github.com/gosio/socketio/sio"
)

// PanicError is the error a session closes with (reason "transport
// error") when one of its handlers panicked: OnMessage, OnUpgrade or the
// server's OnConnection handler. OnClose gets it; a panic in OnClose
// itself is only logged, since the session is gone already.
type PanicError struct {
	// Handler names the handler: "OnMessage", "OnUpgrade", "OnConnection"
	// or "OnClose".
	Handler string
	// Value is what the handler panicked with.
	Value any
	// Stack is the stack of the goroutine where it panicked.
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("engine: %s handler panicked: %v", e.Handler, e.Value)
}

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// recovered logs a recovered panic value r of handler with its stack and
// returns it as a *PanicError. It runs in the deferred function that
// recovered, where the stack still shows where the panic happened.
func (s *Socket) recovered(handler string, r any) *PanicError {
	e := &PanicError{Handler: handler, Value: r, Stack: debug.Stack()}
	s.srv.log.Error("engine: handler panicked",
		"sid", s.id, "handler", handler, "panic", r, "stack", string(e.Stack))
	return e
}

// callOnMessage calls fn, the session's OnMessage handler. A panic in it
// closes only this session: the read path (which may serve other
// sessions, or a POST) goes on.
func (s *Socket) callOnMessage(fn func([]byte, bool), data []byte, binary bool) {
	defer func() {
		if r := recover(); r != nil {
			s.closeWith(sio.ReasonTransportError, s.recovered("OnMessage", r), false)
		}
	}()
	fn(data, binary)
}

// callOnUpgrade calls fn, the session's OnUpgrade handler; a panic closes
// the session.
func (s *Socket) callOnUpgrade(fn func(string), transport string) {
	defer func() {
		if r := recover(); r != nil {
			s.closeWith(sio.ReasonTransportError, s.recovered("OnUpgrade", r), false)
		}
	}()
	fn(transport)
}

// callOnClose calls fn, the session's OnClose handler; a panic is logged,
// and the release of the session goes on.
func (s *Socket) callOnClose(fn func(sio.Reason, error), reason sio.Reason, err error) {
	defer func() {
		if r := recover(); r != nil {
			s.recovered("OnClose", r)
		}
	}()
	fn(reason, err)
}

// callOnConnection calls the server's connection handler for the new
// session s; a panic closes the session, which newSession then reports as
// closed.
func (srv *Server) callOnConnection(s *Socket) {
	defer func() {
		if r := recover(); r != nil {
			s.closeWith(sio.ReasonTransportError, s.recovered("OnConnection", r), false)
		}
	}()
	srv.onConnection(s)
}
