// Package wsio is the engine's WebSocket I/O: the opening handshake, and
// two implementations of a session's connection behind one set of methods.
// The engine picks one at accept and never asks which it has.
//
//   - OwnConn speaks RFC 6455 itself (see proto.go): messages are parsed
//     from the read chunks without reader objects, frames are gathered in
//     a corkConn and written in one system call per batch, and, on Linux,
//     a few pollers read the connections of all sessions (see
//     poller_linux.go), so that an idle session holds no goroutine.
//   - LibConn is coder/websocket, for permessage-deflate.
//
// What the engine gets is messages (a Handler), and a batch writer: BeginBatch,
// WriteMessage, EndBatch.
package wsio

import "errors"

// Handler receives what a served connection reads. Its methods are called
// one at a time, in order; they must not block (on Linux a poller calls
// those of many connections).
type Handler interface {
	// Message handles a data message; data is the handler's. An error
	// (the message is no Engine.IO packet) fails the connection.
	Message(data []byte, binary bool) error
	// Ping asks for a pong carrying data, which the handler writes
	// (WritePong) after what it queued before. Only OwnConn calls it:
	// coder/websocket answers pings itself.
	Ping(data []byte)
	// Failed is called once when reading ends, with why (see PeerClosed).
	Failed(err error)
}

// ErrClosing is what a connection's Serve reports when its owner is
// closing and no reader may start.
var ErrClosing = errors.New("wsio: closing")
