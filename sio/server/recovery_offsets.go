package server

import (
	"context"

	"github.com/gosio/socketio/sio/parser"
)

// What adapters that keep the packets of connection state recovery
// themselves (the Redis Streams adapter keeps them in the stream, the
// offset being the entry's id) need from the server.

// Recovery returns a copy of the server's connection state recovery
// options, nil when recovery is off.
func (s *Server) Recovery() *RecoveryOptions {
	if s.opts.ConnectionStateRecovery == nil {
		return nil
	}
	r := *s.opts.ConnectionStateRecovery
	return &r
}

// BroadcastOffset is Broadcast for an adapter whose offsets come from
// elsewhere: when connection state recovery is on, offset is not empty
// and the packet is an event without acknowledgement that is not
// volatile, offset is appended as its last argument (upstream's
// addOffsetIfNecessary); the packet is not kept here.
func (a *MemoryAdapter) BroadcastOffset(pkt *parser.Packet, opts *BroadcastOptions, offset string) error {
	if offset != "" && a.recovery() != nil && keepable(pkt, opts) {
		q := *pkt
		q.Data = appendOffset(pkt.Data, offset)
		pkt = &q
	}
	notify := a.deliver(encodeFanout(a.nsp.srv.parser, pkt), opts)
	for _, s := range notify {
		s.notifyOutgoing(pkt)
	}
	return nil
}

// AtomicRestorer is implemented by an adapter that can restore a session
// and connect its socket with no broadcast of its own handled in between,
// so that each packet reaches the restored client once: among the missed
// packets, or afterwards. When connection state recovery skips the
// middlewares, the server uses it rather than RestoreSession.
type AtomicRestorer interface {
	// RestoreSessionAndAdd restores session pid as RestoreSession does
	// and, when there is one, calls add with it before handling any other
	// broadcast. It reports whether add was called.
	RestoreSessionAndAdd(ctx context.Context, pid, offset string, add func(*Session)) (bool, error)
}
