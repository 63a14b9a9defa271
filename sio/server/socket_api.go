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

// RoomSize returns the number of this server's sockets of the namespace
// in room (a socket's own id is a room of one). With a cluster adapter,
// sockets on other nodes are not counted: len(In(room).FetchSockets(ctx))
// counts every node's, at the price of a round trip to them.
func (n *Namespace) RoomSize(room Room) int {
	return len(n.Adapter().Sockets([]Room{room}))
}
