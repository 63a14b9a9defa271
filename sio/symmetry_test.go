//go:build !js

package sio_test

import (
	"context"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/client"
	"github.com/gosio/socketio/sio/server"
)

// socketAPI is the API the server's and the client's Socket share, with
// the same names, argument order and meaning; E is the socket's emitter
// (Timeout, Volatile). The assertions below fail to compile when the two
// drift apart.
type socketAPI[E emitterAPI[E]] interface {
	emitterAPI[E]
	sio.Socket

	ID() string
	Connected() bool
	Recovered() bool
	Context() context.Context

	On(event string, fn func(e *sio.Event))
	Off(event string)
	OnAny(fn func(e *sio.Event)) (remove func())
	OffAny()
	OnAnyOutgoing(fn func(e *sio.Event)) (remove func())
	OffAnyOutgoing()
	OnDisconnect(fn func(reason string))
	OnError(fn func(error))
	ReportError(err error)

	Disconnect()
}

// emitterAPI is what a socket and its emitters share.
type emitterAPI[E any] interface {
	Emit(event string, args ...any) error
	EmitWithAck(ctx context.Context, event string, args ...any) (sio.Args, error)
	EmitWithAckFunc(event string, fn func(sio.Args, error), args ...any) error
	Timeout(d time.Duration) E
	Volatile() E
}

var (
	_ socketAPI[*server.SocketEmitter]  = (*server.Socket)(nil)
	_ socketAPI[*client.Emitter]        = (*client.Socket)(nil)
	_ emitterAPI[*server.SocketEmitter] = (*server.SocketEmitter)(nil)
	_ emitterAPI[*client.Emitter]       = (*client.Emitter)(nil)
)
