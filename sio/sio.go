// Package sio holds what the Socket.IO server (package server) and the Go
// client (package client) share: received events and their arguments, the
// official disconnect reasons and the errors callers branch on.
//
// The wire codecs live in sio/eio (Engine.IO v4) and sio/parser (Socket.IO v5).
// This package and everything the client needs compile unchanged to
// GOOS=js GOARCH=wasm.
package sio

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/gosio/socketio/sio/internal/errs"
	"github.com/gosio/socketio/sio/parser"
)

// Args are the arguments of a received event or acknowledgement. Each is
// kept as the raw JSON it arrived with (plus the binary attachments its
// placeholders refer to), so passing an argument back out sends exactly the
// same bytes, and each can be decoded into any Go type.
type Args []parser.Value

// Len returns the number of arguments.
func (a Args) Len() int { return len(a) }

// Decode decodes the arguments in order into the pointers dst. It fails when
// there are fewer arguments than pointers; extra arguments are ignored, as
// JavaScript ignores extra arguments. A nil pointer skips that argument.
func (a Args) Decode(dst ...any) error {
	if len(dst) > len(a) {
		return errs.Wrap("sio: decode "+strconv.Itoa(len(dst))+" arguments: "+ErrMissingArgument.Error()+" (got "+strconv.Itoa(len(a))+")", ErrMissingArgument)
	}
	for i, d := range dst {
		if d == nil {
			continue
		}
		if err := a[i].Decode(d); err != nil {
			return errs.Wrap("sio: argument "+strconv.Itoa(i)+": "+err.Error(), err)
		}
	}
	return nil
}

// MarshalJSON returns the arguments as a JSON array, each as it was
// received; a binary attachment appears as the base64 string encoding/json
// gives a []byte. So json.Marshal(args) shows what was sent, not the
// internal form of the arguments.
func (a Args) MarshalJSON() ([]byte, error) {
	out := append(make([]byte, 0, 64), '[')
	for i := range a {
		if i > 0 {
			out = append(out, ',')
		}
		raw := a[i].Raw
		if len(a[i].Attachments) > 0 {
			// A json.RawMessage sees each placeholder as the base64 of its
			// attachment (see parser.Value.Decode).
			var r json.RawMessage
			if err := a[i].Decode(&r); err != nil {
				return nil, errs.Wrap("sio: argument "+strconv.Itoa(i)+": "+err.Error(), err)
			}
			raw = r
		}
		if len(raw) == 0 {
			raw = json.RawMessage("null")
		}
		out = append(out, raw...)
	}
	return append(out, ']'), nil
}

// String returns the arguments as JSON (see MarshalJSON), which is what
// fmt's %v prints.
func (a Args) String() string {
	b, err := a.MarshalJSON()
	if err != nil {
		return "sio.Args(" + err.Error() + ")"
	}
	return string(b)
}

// Raw returns the raw JSON of argument i, or nil when there is no such
// argument. Binary arguments appear as their placeholder objects.
func (a Args) Raw(i int) json.RawMessage {
	if i < 0 || i >= len(a) {
		return nil
	}
	return a[i].Raw
}

// Values decodes every argument into an untyped Go value (map[string]any,
// []any, string, float64, bool, nil, and []byte for binary).
func (a Args) Values() ([]any, error) {
	out := make([]any, len(a))
	for i := range a {
		if err := a[i].Decode(&out[i]); err != nil {
			return nil, errs.Wrap("sio: argument "+strconv.Itoa(i)+": "+err.Error(), err)
		}
	}
	return out, nil
}

// AsAny returns the arguments as values that, when emitted again, are sent
// exactly as they were received (binary included). The values are pointers
// to the elements of a (*parser.Value), which costs no copy.
func (a Args) AsAny() []any {
	out := make([]any, len(a))
	for i := range a {
		out[i] = &a[i]
	}
	return out
}

// Event is a received event. Handlers get a pointer that stays valid after
// the handler returns, so an acknowledgement may be sent later from another
// goroutine.
type Event struct {
	// Name is the event name.
	Name string
	// Args are the event's arguments.
	Args Args
	// AckFunc sends the acknowledgement; nil when the sender asked for none.
	// Use Ack rather than calling it directly.
	AckFunc func(args ...any) error
}

// WantsAck reports whether the sender asked for an acknowledgement.
func (e *Event) WantsAck() bool { return e.AckFunc != nil }

// Ack sends the acknowledgement with args. It returns ErrNoAck when the
// sender asked for none. Only the first acknowledgement is sent; later
// calls return ErrAckSent.
func (e *Event) Ack(args ...any) error {
	if e.AckFunc == nil {
		return ErrNoAck
	}
	return e.AckFunc(args...)
}

// Errors callers branch on with errors.Is.
var (
	// ErrAckTimeout is returned when an acknowledgement did not arrive in time.
	ErrAckTimeout = errors.New("sio: operation has timed out")
	// ErrNoAck is returned by Event.Ack when the sender asked for no acknowledgement.
	ErrNoAck = errors.New("sio: no acknowledgement was requested")
	// ErrAckSent is returned when an acknowledgement is sent twice.
	ErrAckSent = errors.New("sio: acknowledgement already sent")
	// ErrMissingArgument is returned by Args.Decode when there are too few arguments.
	ErrMissingArgument = errors.New("sio: missing argument")
	// ErrDisconnected is returned for operations on a socket that is not connected,
	// and by pending acknowledgements when the connection is lost.
	ErrDisconnected = errors.New("sio: socket disconnected")
	// ErrReservedEvent is returned when emitting an event name the protocol reserves.
	ErrReservedEvent = errors.New("sio: reserved event name")
	// ErrPayloadTooLarge is returned when a packet exceeds the peer's maximum payload.
	ErrPayloadTooLarge = errors.New("sio: payload too large")
)

// Reason says why a connection or a socket closed. Its values are the
// strings the official implementations use: they reach handlers and, in the
// browser build and the admin UI, JavaScript unchanged (string(r)). Not every
// reason happens on both sides; each constant says where it is seen.
type Reason string

// Disconnect reasons, as the official documentation describes them.
const (
	// ReasonServerDisconnect (client): the server disconnected the socket
	// with socket.disconnect(). The client does not reconnect by itself.
	ReasonServerDisconnect Reason = "io server disconnect"
	// ReasonClientDisconnect (client): the socket was disconnected
	// manually with socket.disconnect().
	ReasonClientDisconnect Reason = "io client disconnect"
	// ReasonServerNamespaceDisconnect (server): the socket was disconnected
	// on the server with socket.disconnect().
	ReasonServerNamespaceDisconnect Reason = "server namespace disconnect"
	// ReasonClientNamespaceDisconnect (server): the client disconnected the
	// socket manually with socket.disconnect().
	ReasonClientNamespaceDisconnect Reason = "client namespace disconnect"
	// ReasonPingTimeout (both): the peer did not answer the heartbeat in
	// time (on the server, no pong within pingTimeout; on the client, no
	// ping within pingInterval+pingTimeout).
	ReasonPingTimeout Reason = "ping timeout"
	// ReasonTransportClose (both): the connection was closed, e.g. the user
	// lost the connection or the network changed from WiFi to 4G.
	ReasonTransportClose Reason = "transport close"
	// ReasonTransportError (both): the connection encountered an error,
	// e.g. the server was killed during an HTTP long-polling cycle.
	ReasonTransportError Reason = "transport error"
	// ReasonParseError (server): the server received an invalid packet
	// from the client.
	ReasonParseError Reason = "parse error"
	// ReasonServerShuttingDown (server): the server is shutting down.
	ReasonServerShuttingDown Reason = "server shutting down"
	// ReasonForcedClose (server): the Engine.IO connection was closed on
	// the server (upstream also uses it for an invalid packet).
	ReasonForcedClose Reason = "forced close"
	// ReasonForcedServerClose (server): the client did not join a
	// namespace in time (the connectTimeout option), or the server closed
	// its connections, and the connection was closed.
	ReasonForcedServerClose Reason = "forced server close"
)

// IsReserved reports whether name is an event name the protocol reserves
// (connect, connect_error, disconnect, disconnecting, newListener,
// removeListener); such events cannot be emitted.
func IsReserved(name string) bool {
	switch name {
	case "connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener":
		return true
	}
	return false
}

// Arg decodes argument i of args into a value of type T, for typed handlers:
//
//	s.On("chat", func(e *sio.Event) {
//		msg, err := sio.Arg[ChatMessage](e.Args, 0)
//		...
//	})
func Arg[T any](args Args, i int) (T, error) {
	var v T
	if i < 0 || i >= len(args) {
		return v, errs.Wrap("sio: argument "+strconv.Itoa(i)+": "+ErrMissingArgument.Error()+" (got "+strconv.Itoa(len(args))+")", ErrMissingArgument)
	}
	if err := args[i].Decode(&v); err != nil {
		return v, errs.Wrap("sio: argument "+strconv.Itoa(i)+": "+err.Error(), err)
	}
	return v, nil
}
