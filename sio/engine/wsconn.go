package engine

import (
	"context"

	"github.com/gosio/socketio/sio/engine/internal/wsio"
)

// wsConn is a session's WebSocket: the engine's own protocol
// (wsio.OwnConn) or coder/websocket with permessage-deflate
// (wsio.LibConn), picked once at accept (see Server.accept). How it reads
// (a poller, a goroutine) and writes (a gathered batch, without waiting or
// not) is its own business.
type wsConn interface {
	// Read reads the next data message and passes it to deliver (the
	// upgrade's probe); a deliver error fails the connection.
	// Cancelling ctx ends the read by closing the connection.
	Read(ctx context.Context, deliver func(data []byte, binary bool) error) error
	// Serve has what follows read and delivered to h; false when the
	// server is closing and nothing may start.
	Serve(h wsio.Handler) bool
	// Buffered reports whether bytes received wait to be parsed.
	Buffered() bool
	// BeginBatch starts a batch of writes; with now, nothing is written before
	// EndBatch(true), which writes only what the connection takes without
	// waiting, and reports what is left pending, for EndBatch(false).
	BeginBatch(now bool)
	EndBatch(now bool) (pending bool, err error)
	// WriteMessage writes a data message of payload pre then data.
	WriteMessage(binary bool, pre, data []byte) error
	// WritePong writes a pong (see Socket.answerPing).
	WritePong(data []byte) error
	// Close closes gracefully, in the background; CloseNow at once.
	Close()
	CloseNow()
}
