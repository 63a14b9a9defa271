package client

import (
	"encoding/json"
	"errors"
)

// Errors callers branch on with errors.Is. The errors shared with the server
// (sio.ErrDisconnected, sio.ErrAckTimeout, sio.ErrPayloadTooLarge,
// sio.ErrReservedEvent) live in package sio.
var (
	// ErrBufferFull is returned by an emit that would have to be buffered (the
	// socket is offline, or the retry queue is busy) when the buffer already
	// holds Options.MaxBufferedPackets packets. The packets already buffered
	// are kept: the newest emit is the one refused.
	ErrBufferFull = errors.New("client: send buffer full")
	// ErrConnectTimeout is reported (through OnConnectError and the manager's
	// OnError, and by Dial) when the Engine.IO handshake did not complete
	// within Options.Timeout.
	ErrConnectTimeout = errors.New("client: connection timeout")
	// ErrNoTransport is returned when Options.Transport is nil.
	ErrNoTransport = errors.New("client: Options.Transport is required")
)

// ConnectError is the error a Socket reports when the server refused the
// namespace connection: a middleware called next(err), or the namespace does
// not exist. It is passed to OnConnectError handlers and returned by Dial and
// Socket.Connect; get it with errors.As. The socket does not reconnect after
// it.
type ConnectError struct {
	// Message is the server's error message (err.message on the server).
	Message string
	// Data is the JSON of err.data on the server, or nil when it had none.
	Data json.RawMessage
}

// Error implements the error interface.
func (e *ConnectError) Error() string {
	return "client: server refused the connection: " + e.Message
}
