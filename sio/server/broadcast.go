package server

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/gosio/socketio/sio"
)

// BroadcastOperator selects the receivers of a broadcast (rooms, excluded
// rooms, excluded sender) and its flags. Each method returns a new
// operator, so operators can be shared and reused.
type BroadcastOperator struct {
	nsp      *Namespace
	opts     BroadcastOptions
	exceptID string // the sender, for broadcasts from a socket
}

func (b *BroadcastOperator) clone() *BroadcastOperator {
	c := *b
	c.opts.Rooms = append([]Room(nil), b.opts.Rooms...)
	c.opts.Except = append([]Room(nil), b.opts.Except...)
	return &c
}

// To adds rooms to the selection; several rooms mean their union.
func (b *BroadcastOperator) To(rooms ...Room) *BroadcastOperator {
	c := b.clone()
	c.opts.Rooms = append(c.opts.Rooms, rooms...)
	return c
}

// In is the same as To.
func (b *BroadcastOperator) In(rooms ...Room) *BroadcastOperator { return b.To(rooms...) }

// Except leaves the sockets in rooms out.
func (b *BroadcastOperator) Except(rooms ...Room) *BroadcastOperator {
	c := b.clone()
	c.opts.Except = append(c.opts.Except, rooms...)
	return c
}

// Volatile drops the packet for receivers whose transport cannot take it right now.
func (b *BroadcastOperator) Volatile() *BroadcastOperator {
	c := b.clone()
	c.opts.Volatile = true
	return c
}

// Compress sets the compression flag.
func (b *BroadcastOperator) Compress(on bool) *BroadcastOperator {
	c := b.clone()
	c.opts.Compress = on
	return c
}

// Local keeps the broadcast on this node.
func (b *BroadcastOperator) Local() *BroadcastOperator {
	c := b.clone()
	c.opts.Local = true
	return c
}

// Timeout sets how long EmitWithAck waits for acknowledgements.
func (b *BroadcastOperator) Timeout(d time.Duration) *BroadcastOperator {
	c := b.clone()
	c.opts.Timeout = d
	return c
}

// options returns the adapter options, the sender excluded through its own
// room (first, as upstream's socket.broadcast puts it).
func (b *BroadcastOperator) options() *BroadcastOptions {
	o := b.opts
	if b.exceptID != "" {
		o.Except = append([]Room{b.exceptID}, o.Except...)
	}
	return &o
}

// Emit sends an event to the selected sockets. The packet is encoded once.
func (b *BroadcastOperator) Emit(event string, args ...any) error {
	if sio.IsReserved(event) {
		return fmt.Errorf("%w: %q", sio.ErrReservedEvent, event)
	}
	opts := b.options()
	for _, n := range b.nsp.targets() {
		p, err := newEventPacket(n.name, event, args)
		if err != nil {
			return err
		}
		if err := n.adapter.Broadcast(p, opts); err != nil {
			return err
		}
	}
	return nil
}

// ErrPartialAcks is wrapped (with sio.ErrAckTimeout) by the error of a
// broadcast EmitWithAck when some receivers did not answer in time.
var ErrPartialAcks = errors.New("sio: some clients did not acknowledge")

// EmitWithAck sends an event to the selected sockets and gathers their
// acknowledgements. It returns every reply, or, when the timeout (set with
// Timeout) or ctx ends first, the replies so far with an error wrapping
// sio.ErrAckTimeout. With neither a Timeout nor a deadline on ctx, the
// server's Options.AckTimeout is the timeout; when that is zero too (the
// default) only ctx bounds the wait. With a cluster adapter, it is
// complete once every node has said how many sockets it reached and they
// all replied.
func (b *BroadcastOperator) EmitWithAck(ctx context.Context, event string, args ...any) ([]sio.Args, error) {
	if sio.IsReserved(event) {
		return nil, fmt.Errorf("%w: %q", sio.ErrReservedEvent, event)
	}
	if _, ok := ctx.Deadline(); b.opts.Timeout <= 0 && !ok {
		if d := b.nsp.srv.opts.AckTimeout; d > 0 {
			// Exactly as Timeout(d): the cluster adapters get it too.
			b = b.Timeout(d)
		}
	}
	var cancel context.CancelFunc
	if b.opts.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, b.opts.Timeout)
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	// Once it returns, the adapters forget the acknowledgements pending.
	defer cancel()
	opts := b.options()
	targets := b.nsp.targets()
	st := &ackState{
		pendingTargets: len(targets),
		changed:        make(chan struct{}, 1),
	}
	acks := &BroadcastAcks{Nodes: st.setNodes, Count: st.count, Ack: st.ack}
	for _, n := range targets {
		p, err := newEventPacket(n.name, event, args)
		if err != nil {
			return nil, err
		}
		if err := n.adapter.BroadcastWithAck(ctx, p, opts, acks); err != nil {
			return nil, err
		}
	}
	for {
		replies, done, expected := st.snapshot()
		if done {
			return replies, nil
		}
		select {
		case <-st.changed:
		case <-ctx.Done():
			replies, _, expected = st.snapshot()
			return replies, fmt.Errorf("%w: %w (%d of %s replies): %w", sio.ErrAckTimeout, ErrPartialAcks, len(replies), expected, ctx.Err())
		}
	}
}

// ackState gathers what the adapters report for an EmitWithAck.
type ackState struct {
	mu             sync.Mutex
	pendingTargets int // namespaces whose adapter has not reported its node count
	nodeCount      int // nodes expected to report a count
	counted        int // nodes that reported a count
	expected       int // replies expected from the nodes that reported
	replies        []sio.Args
	changed        chan struct{}
}

func (st *ackState) signal() {
	select {
	case st.changed <- struct{}{}:
	default:
	}
}

func (st *ackState) setNodes(n int) {
	st.mu.Lock()
	st.pendingTargets--
	st.nodeCount += n
	st.mu.Unlock()
	st.signal()
}

func (st *ackState) count(n int) {
	st.mu.Lock()
	st.counted++
	st.expected += n
	st.mu.Unlock()
	st.signal()
}

func (st *ackState) ack(a sio.Args) {
	st.mu.Lock()
	st.replies = append(st.replies, a)
	st.mu.Unlock()
	st.signal()
}

// snapshot returns the replies so far, whether they are all there, and
// how many are expected, as text ("?" while some node has not reported).
func (st *ackState) snapshot() ([]sio.Args, bool, string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	out := append([]sio.Args(nil), st.replies...)
	known := st.pendingTargets == 0 && st.counted >= st.nodeCount
	expected := "?"
	if known {
		expected = strconv.Itoa(st.expected)
	}
	return out, known && len(out) >= st.expected, expected
}

// FetchSockets returns the selected sockets, on every node.
func (b *BroadcastOperator) FetchSockets(ctx context.Context) ([]RemoteSocket, error) {
	var out []RemoteSocket
	for _, n := range b.nsp.targets() {
		s, err := n.adapter.FetchSockets(ctx, b.options())
		if err != nil {
			return nil, err
		}
		out = append(out, s...)
	}
	return out, nil
}

// SocketsJoin makes the selected sockets join rooms.
func (b *BroadcastOperator) SocketsJoin(rooms ...Room) {
	for _, n := range b.nsp.targets() {
		n.adapter.AddSockets(b.options(), rooms)
	}
}

// SocketsLeave makes the selected sockets leave rooms.
func (b *BroadcastOperator) SocketsLeave(rooms ...Room) {
	for _, n := range b.nsp.targets() {
		n.adapter.DelSockets(b.options(), rooms)
	}
}

// DisconnectSockets disconnects the selected sockets; with close, their
// whole connections.
func (b *BroadcastOperator) DisconnectSockets(close bool) {
	for _, n := range b.nsp.targets() {
		n.adapter.DisconnectSockets(b.options(), close)
	}
}

// Broadcast returns an operator for events from this socket to every other
// socket of the namespace.
func (s *Socket) Broadcast() *BroadcastOperator {
	return &BroadcastOperator{nsp: s.nsp, exceptID: s.id}
}

// To returns an operator for events from this socket to rooms (the socket
// itself excluded).
func (s *Socket) To(rooms ...Room) *BroadcastOperator { return s.Broadcast().To(rooms...) }

// In is the same as To.
func (s *Socket) In(rooms ...Room) *BroadcastOperator { return s.To(rooms...) }

// Except returns an operator for events from this socket to everyone but
// the sockets in rooms (and itself).
func (s *Socket) Except(rooms ...Room) *BroadcastOperator { return s.Broadcast().Except(rooms...) }
