package sio

import (
	"context"
	"errors"

	"github.com/gosio/socketio/sio/internal/errs"
)

// Typed events: handlers and emits whose payload is a Go type, on the
// server's and the client's sockets alike (and in the browser), so that
// both sides of an application can share one package declaring its events:
//
//	// package chatapi, imported by the server and the client
//	var (
//		Chat = sio.NewEvent[Message]("chat")
//		Join = sio.NewAckEvent[JoinRequest, JoinResult]("join")
//	)
//
//	// server
//	chatapi.Join.Handle(s, func(ctx context.Context, req chatapi.JoinRequest) (chatapi.JoinResult, error) { ... })
//	// client
//	res, err := chatapi.Join.Call(ctx, c, chatapi.JoinRequest{Name: "ann"})
//
// A typed event carries one argument, its payload, encoded as JSON (a
// []byte field travels as binary).
//
// What goes wrong is answered, never a panic:
//   - An argument that does not decode into the payload type, or a handler
//     that returns an error, is reported to the socket's OnError handlers
//     (as an error wrapping ErrInvalidPayload for a decoding failure) — unless
//     the sender asked for an acknowledgement: it then gets the error, as the
//     ack's first argument, an object {"message": "..."} (see AckError).
//   - A typed acknowledgement is sent as (null, reply) on success and
//     ({"message": "..."}) on failure: the callback convention of Node.js,
//     so a JavaScript client reads it with (err, reply) => ...
//     EmitWithAck returns an *AckError for the second form.

// Socket is what the typed helpers need of a socket: *server.Socket and
// *client.Socket both satisfy it.
type Socket interface {
	Emitter
	// On sets the handler of event, replacing any previous one.
	On(event string, fn func(e *Event))
	// EmitWithAck emits event and waits for the acknowledgement.
	EmitWithAck(ctx context.Context, event string, args ...any) (Args, error)
	// ReportError passes err to the socket's OnError handlers.
	ReportError(err error)
	// Context ends when the socket is disconnected.
	Context() context.Context
}

// Emitter is anything that emits events: sockets, and on the server
// broadcast operators, namespaces and the server itself.
type Emitter interface {
	Emit(event string, args ...any) error
}

// ErrInvalidPayload is wrapped by the error of a typed handler whose
// event's argument does not decode into its payload type.
var ErrInvalidPayload = errors.New("sio: invalid payload")

// AckError is the error a typed acknowledgement carries: the handler
// failed, or the event's payload did not decode. On the wire it is the
// ack's first argument, {"message": "..."}.
type AckError struct {
	Message string `json:"message"`
}

// Error returns the message.
func (e *AckError) Error() string { return e.Message }

// On sets a handler of event on s whose argument is decoded into T. See
// the package documentation of typed events for what happens to decoding
// failures and to the error fn returns. When the sender asked for an
// acknowledgement, it gets (null) once fn succeeded.
func On[T any](s Socket, event string, fn func(msg T) error) {
	s.On(event, func(e *Event) {
		msg, err := Arg[T](e.Args, 0)
		if err != nil {
			err = payloadError(event, err)
		} else {
			err = fn(msg)
		}
		answer(s, e, err)
	})
}

// OnAck sets a handler of event on s that decodes the argument into Req
// and acknowledges with the Resp fn returns: (null, resp), or ({"message"})
// when fn fails or the argument does not decode. ctx is s.Context().
// An event without an acknowledgement is still handled; an error then goes
// to s's OnError handlers.
func OnAck[Req, Resp any](s Socket, event string, fn func(ctx context.Context, req Req) (Resp, error)) {
	s.On(event, func(e *Event) {
		req, err := Arg[Req](e.Args, 0)
		if err != nil {
			answer(s, e, payloadError(event, err))
			return
		}
		resp, err := fn(s.Context(), req)
		if err != nil || !e.WantsAck() {
			answer(s, e, err)
			return
		}
		if err := e.Ack(nil, resp); err != nil && !errors.Is(err, ErrDisconnected) {
			s.ReportError(errs.Wrap("sio: event "+quote(event)+": acknowledgement: "+err.Error(), err))
		}
	})
}

// EmitWithAck emits event with the arguments args on s and decodes the
// acknowledgement of a typed handler (see OnAck) into Resp. A failure of
// the handler is returned as an *AckError. An acknowledgement that is not
// in the typed form — one argument, from a handler that does not use
// OnAck — is decoded into Resp as it is.
//
// Like s.EmitWithAck, it waits until the acknowledgement arrives, ctx ends,
// the socket's ack timeout elapses or the socket disconnects.
func EmitWithAck[Resp any](ctx context.Context, s Socket, event string, args ...any) (Resp, error) {
	var zero Resp
	reply, err := s.EmitWithAck(ctx, event, args...)
	if err != nil {
		return zero, err
	}
	return decodeReply[Resp](event, reply)
}

// decodeReply reads a typed acknowledgement: (null, resp), ({"message"}),
// or a plain (resp).
func decodeReply[Resp any](event string, reply Args) (Resp, error) {
	var zero Resp
	if len(reply) == 0 {
		return zero, errs.Wrap("sio: event "+quote(event)+": empty acknowledgement: "+ErrMissingArgument.Error(), ErrMissingArgument)
	}
	if len(reply) == 1 {
		var ae *AckError
		if reply[0].Decode(&ae) == nil && ae != nil && ae.Message != "" && isErrorObject(reply[0].Raw) {
			return zero, ae
		}
		resp, err := Arg[Resp](reply, 0)
		if err != nil {
			return zero, payloadError(event, err)
		}
		return resp, nil
	}
	var ae *AckError
	if err := reply[0].Decode(&ae); err == nil && ae != nil {
		if ae.Message == "" {
			ae.Message = "sio: event " + quote(event) + ": the handler failed"
		}
		return zero, ae
	}
	resp, err := Arg[Resp](reply, 1)
	if err != nil {
		return zero, payloadError(event, err)
	}
	return resp, nil
}

// isErrorObject reports whether raw is an object whose only key is
// "message": what a failed typed handler sends alone.
func isErrorObject(raw []byte) bool {
	var m map[string]any
	if err := (Args{{Raw: raw}}).Decode(&m); err != nil {
		return false
	}
	_, ok := m["message"]
	return ok && len(m) == 1
}

// answer acknowledges e with err when the sender asked for it, and
// otherwise reports a non-nil err to s's OnError handlers.
func answer(s Socket, e *Event, err error) {
	if !e.WantsAck() {
		if err != nil {
			s.ReportError(err)
		}
		return
	}
	var aerr error
	if err != nil {
		aerr = e.Ack(&AckError{Message: err.Error()})
	} else {
		aerr = e.Ack(nil)
	}
	if aerr != nil && !errors.Is(aerr, ErrDisconnected) && !errors.Is(aerr, ErrAckSent) {
		s.ReportError(aerr)
	}
}

func payloadError(event string, err error) error {
	return errs.Wrap("sio: event "+quote(event)+": "+ErrInvalidPayload.Error()+": "+err.Error(), ErrInvalidPayload)
}

func quote(s string) string { return `"` + s + `"` }

// EventType is an event name with the type of its payload, declared once
// and shared by both sides, so that a typo in a name or a payload of the
// wrong type is a compile error:
//
//	var Chat = sio.NewEvent[Message]("chat")
//
//	Chat.On(s, func(m Message) error { ... })
//	err := Chat.Emit(s.To(room), m)
type EventType[T any] struct{ name string }

// NewEvent declares the event name with the payload type T.
func NewEvent[T any](name string) EventType[T] { return EventType[T]{name} }

// Name returns the event's name.
func (ev EventType[T]) Name() string { return ev.name }

// On is sio.On for this event.
func (ev EventType[T]) On(s Socket, fn func(msg T) error) { On(s, ev.name, fn) }

// Emit emits the event with msg through e (a socket, or on the server a
// broadcast operator, a namespace...).
func (ev EventType[T]) Emit(e Emitter, msg T) error { return e.Emit(ev.name, msg) }

// AckEventType is an event name with the types of its payload and of its
// acknowledgement: a request and its reply.
//
//	var Join = sio.NewAckEvent[JoinRequest, JoinResult]("join")
type AckEventType[Req, Resp any] struct{ name string }

// NewAckEvent declares the event name with the request type Req and the
// reply type Resp.
func NewAckEvent[Req, Resp any](name string) AckEventType[Req, Resp] {
	return AckEventType[Req, Resp]{name}
}

// Name returns the event's name.
func (ev AckEventType[Req, Resp]) Name() string { return ev.name }

// Handle is sio.OnAck for this event.
func (ev AckEventType[Req, Resp]) Handle(s Socket, fn func(ctx context.Context, req Req) (Resp, error)) {
	OnAck(s, ev.name, fn)
}

// Call emits the event with req and waits for the reply: sio.EmitWithAck
// for this event.
func (ev AckEventType[Req, Resp]) Call(ctx context.Context, s Socket, req Req) (Resp, error) {
	return EmitWithAck[Resp](ctx, s, ev.name, req)
}
