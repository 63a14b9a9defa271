package server

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gosio/socketio/sio/parser"
)

// Connection state recovery, as upstream (see the official documentation
// of connectionStateRecovery):
//
//   - on CONNECT the server sends a private session id, {"sid":…,"pid":…};
//   - every event sent without acknowledgement and not volatile, broadcast
//     or emitted to a single socket, goes through the adapter, which appends
//     an offset as its last argument and keeps it for
//     MaxDisconnectionDuration;
//   - when a socket disconnects for a reason that allows it (the transport
//     closed or failed, ping timeout, server shutting down), the adapter
//     keeps its id, pid, rooms and data (PersistSession);
//   - a client that connects again with auth {"pid":…,"offset":…} (the last
//     offset it got) in time gets them back (RestoreSession): same id,
//     rooms and data, the packets it missed sent in order right after
//     CONNECT, and Socket.Recovered is true.
//
// With the in-memory adapter and SkipMiddlewares, the restoration is atomic
// with respect to broadcasts: a packet is either among the missed packets
// or sent to the restored socket, once. When middlewares run, packets
// broadcast while they run are kept but not sent (as upstream).

// storedPacket is a packet kept for recovery.
type storedPacket struct {
	at     time.Time
	pkt    *parser.Packet // offset included
	rooms  []Room
	except []Room
}

// storedSession is a persisted session and when it was persisted.
type storedSession struct {
	sess Session
	at   time.Time
}

// recoveryAuth returns the pid and offset of a CONNECT payload, when both
// are strings.
func recoveryAuth(auth json.RawMessage) (pid, offset string, ok bool) {
	var a struct {
		PID    *string `json:"pid"`
		Offset *string `json:"offset"`
	}
	if json.Unmarshal(auth, &a) != nil || a.PID == nil || a.Offset == nil {
		return "", "", false
	}
	return *a.PID, *a.Offset, true
}

// restoreSession asks the adapter for a session; errors count as no session.
func (n *Namespace) restoreSession(pid, offset string) *Session {
	sess, err := n.adapter.RestoreSession(n.srv.ctx, pid, offset)
	if err != nil {
		n.srv.log.Debug("sio: restoring a session failed", "nsp", n.name, "err", err)
		return nil
	}
	return sess
}

// restoreAndAdd restores the session pid and adds its socket without
// running the middlewares. It reports false when there is no session to
// restore. With the in-memory adapter, no broadcast runs meanwhile.
func (n *Namespace) restoreAndAdd(c *conn, auth json.RawMessage, pid, offset string) bool {
	var evs []AdapterEvent
	if ma, ok := n.adapter.(*MemoryAdapter); ok {
		ma.logMu.Lock()
		sess := ma.restoreLocked(pid, offset, time.Now())
		if sess != nil {
			n.add(newSocket(n, c, auth, sess), sess, &evs)
		}
		ma.logMu.Unlock()
		ma.emit(evs)
		return sess != nil
	}
	if r, ok := n.adapter.(AtomicRestorer); ok {
		added, err := r.RestoreSessionAndAdd(n.srv.ctx, pid, offset, func(sess *Session) {
			n.add(newSocket(n, c, auth, sess), sess, nil)
		})
		if err != nil {
			n.srv.log.Debug("sio: restoring a session failed", "nsp", n.name, "err", err)
		}
		return added
	}
	sess := n.restoreSession(pid, offset)
	if sess == nil {
		return false
	}
	n.add(newSocket(n, c, auth, sess), sess, &evs)
	return true
}

// recovery returns the recovery options, nil when recovery is off.
func (a *MemoryAdapter) recovery() *RecoveryOptions {
	if a.nsp == nil {
		return nil
	}
	return a.nsp.srv.opts.ConnectionStateRecovery
}

// keepable reports whether a broadcast packet is kept for recovery: an
// event without acknowledgement, not volatile.
func keepable(p *parser.Packet, opts *BroadcastOptions) bool {
	return (p.Type == parser.Event || p.Type == parser.BinaryEvent) && !p.HasID && !opts.Volatile
}

// keepLocked returns a copy of p with a new offset as last argument, and
// keeps it. a.logMu held.
func (a *MemoryAdapter) keepLocked(p *parser.Packet, opts *BroadcastOptions) *parser.Packet {
	now := time.Now()
	a.pruneLocked(now)
	seq := a.nextSeq
	a.nextSeq++
	if len(a.packets) == 0 {
		a.firstSeq = seq
	}
	q := *p
	q.Data = appendOffset(p.Data, a.prefix+strconv.FormatUint(seq, 36))
	a.packets = append(a.packets, storedPacket{
		at:     now,
		pkt:    &q,
		rooms:  slices.Clone(opts.Rooms),
		except: slices.Clone(opts.Except),
	})
	return &q
}

// appendOffset returns the event payload data (a JSON array) with offset
// appended as a last string element.
func appendOffset(data []byte, offset string) []byte {
	end := len(data) - 1 // the closing bracket
	out := make([]byte, 0, len(data)+len(offset)+3)
	out = append(out, data[:end]...)
	out = append(out, ',', '"')
	out = append(out, offset...)
	return append(out, '"', ']')
}

// pruneLocked forgets the packets and sessions older than the maximum
// disconnection duration. a.logMu held.
func (a *MemoryAdapter) pruneLocked(now time.Time) {
	threshold := now.Add(-a.recovery().MaxDisconnectionDuration)
	i := 0
	for i < len(a.packets) && a.packets[i].at.Before(threshold) {
		a.packets[i] = storedPacket{}
		i++
	}
	if i > 0 {
		a.packets = a.packets[i:]
		a.firstSeq += uint64(i)
	}
	for pid, s := range a.sessions {
		if s.at.Before(threshold) {
			delete(a.sessions, pid)
		}
	}
}

// PersistSession implements Adapter.
func (a *MemoryAdapter) PersistSession(ctx context.Context, sess *Session) error {
	if a.recovery() == nil {
		return nil
	}
	a.logMu.Lock()
	defer a.logMu.Unlock()
	now := time.Now()
	a.pruneLocked(now)
	s := *sess
	s.Rooms = slices.Clone(sess.Rooms)
	s.MissedPackets = nil
	a.sessions[sess.PID] = storedSession{sess: s, at: now}
	return nil
}

// RestoreSession implements Adapter. A session is restored once.
func (a *MemoryAdapter) RestoreSession(ctx context.Context, pid, offset string) (*Session, error) {
	if a.recovery() == nil {
		return nil, nil
	}
	a.logMu.Lock()
	defer a.logMu.Unlock()
	return a.restoreLocked(pid, offset, time.Now()), nil
}

// restoreLocked takes the session pid and the packets it missed after
// offset. a.logMu held.
func (a *MemoryAdapter) restoreLocked(pid, offset string, now time.Time) *Session {
	if a.recovery() == nil {
		return nil
	}
	a.pruneLocked(now)
	stored, ok := a.sessions[pid]
	if !ok {
		return nil
	}
	delete(a.sessions, pid)
	digits, ok := strings.CutPrefix(offset, a.prefix)
	if !ok {
		return nil
	}
	seq, err := strconv.ParseUint(digits, 36, 64)
	if err != nil || seq < a.firstSeq || seq-a.firstSeq >= uint64(len(a.packets)) {
		return nil // unknown, or too old
	}
	sess := stored.sess
	sess.Rooms = slices.Clone(stored.sess.Rooms)
	for _, p := range a.packets[seq-a.firstSeq+1:] {
		if includes(sess.Rooms, p) {
			sess.MissedPackets = append(sess.MissedPackets, p.pkt)
		}
	}
	return &sess
}

// includes reports whether a socket in rooms was a receiver of p (upstream's
// shouldIncludePacket).
func includes(rooms []Room, p storedPacket) bool {
	in := len(p.rooms) == 0
	for _, r := range rooms {
		if slices.Contains(p.except, r) {
			return false
		}
		if !in && slices.Contains(p.rooms, r) {
			in = true
		}
	}
	return in
}
