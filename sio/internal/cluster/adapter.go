package cluster

import (
	"context"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/jsval"
	"github.com/gosio/socketio/sio/internal/ordered"
	"github.com/gosio/socketio/sio/parser"
	"github.com/gosio/socketio/sio/server"
)

// MessageType is the type of a cluster message (socket.io-adapter's
// MessageType).
type MessageType int

// The message types of socket.io-adapter 2.5's cluster adapter.
const (
	InitialHeartbeat MessageType = iota + 1
	Heartbeat
	Broadcast
	SocketsJoin
	SocketsLeave
	DisconnectSockets
	FetchSockets
	FetchSocketsResponse
	ServerSideEmit
	ServerSideEmitResponse
	BroadcastClientCount
	BroadcastAck
	AdapterClose
)

// MayCarryBinary reports whether messages of type t may hold Buffers (the
// sharded adapter encodes them in msgpack when they do).
func (t MessageType) MayCarryBinary() bool {
	switch t {
	case Broadcast, BroadcastAck, FetchSocketsResponse, ServerSideEmit, ServerSideEmitResponse:
		return true
	}
	return false
}

// Message is a cluster message or response: {type, data, uid, nsp}.
type Message struct {
	Type MessageType
	Data *jsval.Object // nil for the types without data
	UID  string
	NSP  string
	// Offset is, for a message read from a Redis stream, the id of its
	// entry: a broadcast received with one carries it as its last argument
	// when connection state recovery is on. It is not part of the message.
	Offset string
}

// Value returns the message as upstream writes it, keys in its order:
// type, data, uid, nsp.
func (m *Message) Value() *jsval.Object {
	o := jsval.NewObject("type", float64(m.Type))
	if m.Data != nil {
		o.Set("data", m.Data)
	}
	o.Set("uid", m.UID)
	o.Set("nsp", m.NSP)
	return o
}

// DecodeMessage reads a received message value.
func DecodeMessage(v any) (*Message, error) {
	o, ok := v.(*jsval.Object)
	if !ok {
		return nil, malformed("message is not an object")
	}
	t, _ := o.Get("type")
	tf, ok := t.(float64)
	if !ok {
		return nil, malformed("message type is not a number")
	}
	m := &Message{Type: MessageType(tf)}
	if d, ok := o.Get("data"); ok {
		if m.Data, ok = d.(*jsval.Object); !ok && d != nil {
			return nil, malformed("message data is not an object")
		}
	}
	if u, ok := o.Get("uid"); ok {
		m.UID, _ = u.(string)
	}
	if n, ok := o.Get("nsp"); ok {
		m.NSP, _ = n.(string)
	}
	return m, nil
}

// Transport carries an Adapter's messages to the other nodes.
type Transport interface {
	// Publish sends msg to every node (its uid and nsp are set). It may
	// return before the message is sent; the transport logs its errors.
	Publish(msg *Message)
	// PublishResponse sends response to the node whose uid is requester.
	PublishResponse(requester string, response *Message)
	// ServerCount returns the number of nodes, this one included.
	ServerCount(ctx context.Context) (int, error)
}

// OffsetTransport is a Transport that stores broadcasts where a
// reconnecting client's session can find them (a Redis stream), and gives
// each an offset (upstream's publishAndReturnOffset).
type OffsetTransport interface {
	Transport
	// PublishOffset sends a broadcast to every node, as Publish, and
	// returns its offset when the transport needs one (connection state
	// recovery is on; it then waits for it), "" otherwise.
	PublishOffset(msg *Message) (string, error)
}

// Options configures an Adapter.
type Options struct {
	// RequestsTimeout bounds the wait for the responses to fetchSockets
	// and serverSideEmit requests (default 5 s, upstream's DEFAULT_TIMEOUT).
	RequestsTimeout time.Duration
	// Logger gets the debug logs of ignored messages (nil: silent).
	Logger *slog.Logger
}

// Adapter is socket.io-adapter's ClusterAdapter: a MemoryAdapter for the
// sockets of this node, every operation that is not local also sent to the
// other nodes through a Transport, and what they send applied here. The
// transport passes what it receives to OnMessage and OnResponse.
type Adapter struct {
	*server.MemoryAdapter
	nsp     *server.Namespace
	uid     string
	t       Transport
	log     *slog.Logger
	timeout time.Duration

	ctx      context.Context // ends at Close
	cancel   context.CancelFunc
	requests Requests
	acks     AckRequests
	handlers ordered.Queue[ordered.Func]
}

// NewAdapter returns the cluster adapter of nsp over t (set with SetTransport
// when the transport needs the adapter first).
func NewAdapter(nsp *server.Namespace, mem *server.MemoryAdapter, t Transport, opts *Options) *Adapter {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.RequestsTimeout <= 0 {
		o.RequestsTimeout = 5 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Adapter{
		MemoryAdapter: mem,
		nsp:           nsp,
		uid:           RandomID(),
		t:             t,
		log:           o.Logger,
		timeout:       o.RequestsTimeout,
		ctx:           ctx,
		cancel:        cancel,
	}
}

// SetTransport sets the transport; call it before the adapter is used.
func (a *Adapter) SetTransport(t Transport) { a.t = t }

// UID returns this node's id.
func (a *Adapter) UID() string { return a.uid }

func (a *Adapter) publish(t MessageType, data *jsval.Object) {
	a.t.Publish(&Message{Type: t, Data: data, UID: a.uid, NSP: a.nsp.Name()})
}

func (a *Adapter) publishResponse(requester string, t MessageType, data *jsval.Object) {
	a.t.PublishResponse(requester, &Message{Type: t, Data: data, UID: a.uid, NSP: a.nsp.Name()})
}

// Broadcast implements server.Adapter. Over an OffsetTransport, the
// packet carries the offset the transport gave it, and this node keeps
// nothing (the transport keeps the packets for recovery).
func (a *Adapter) Broadcast(pkt *parser.Packet, opts *server.BroadcastOptions) error {
	if ot, ok := a.t.(OffsetTransport); ok {
		var offset string
		if !opts.Local {
			p, err := EncodePacket(pkt, "")
			if err != nil {
				return err
			}
			offset, err = ot.PublishOffset(&Message{Type: Broadcast, UID: a.uid, NSP: a.nsp.Name(),
				Data: jsval.NewObject("packet", p, "opts", EncodeOptions(opts, true, time.Time{}))})
			if err != nil {
				// As upstream: the sockets of this node still get it, without offset.
				a.log.Debug("cluster adapter: publishing a broadcast failed", "nsp", a.nsp.Name(), "err", err)
			}
		}
		return a.MemoryAdapter.BroadcastOffset(pkt, opts, offset)
	}
	if !opts.Local {
		p, err := EncodePacket(pkt, "")
		if err != nil {
			return err
		}
		a.publish(Broadcast, jsval.NewObject("packet", p, "opts", EncodeOptions(opts, true, time.Time{})))
	}
	return a.MemoryAdapter.Broadcast(pkt, opts)
}

// BroadcastWithAck implements server.Adapter.
func (a *Adapter) BroadcastWithAck(ctx context.Context, pkt *parser.Packet, opts *server.BroadcastOptions, acks *server.BroadcastAcks) error {
	if opts.Local {
		return a.MemoryAdapter.BroadcastWithAck(ctx, pkt, opts, acks)
	}
	p, err := EncodePacket(pkt, "")
	if err != nil {
		return err
	}
	id := RandomID()
	deadline, _ := ctx.Deadline()
	return BroadcastWithAck(ctx, &a.acks, id, a.MemoryAdapter, a.t.ServerCount, a.timeout, pkt, opts, acks, func() {
		a.publish(Broadcast, jsval.NewObject("packet", p, "requestId", id, "opts", EncodeOptions(opts, true, deadline)))
	})
}

// AddSockets implements server.Adapter.
func (a *Adapter) AddSockets(opts *server.BroadcastOptions, rooms []server.Room) {
	if !opts.Local {
		a.publish(SocketsJoin, jsval.NewObject("opts", EncodeOptions(opts, true, time.Time{}), "rooms", uniq(rooms)))
	}
	a.MemoryAdapter.AddSockets(opts, rooms)
}

// DelSockets implements server.Adapter.
func (a *Adapter) DelSockets(opts *server.BroadcastOptions, rooms []server.Room) {
	if !opts.Local {
		a.publish(SocketsLeave, jsval.NewObject("opts", EncodeOptions(opts, true, time.Time{}), "rooms", uniq(rooms)))
	}
	a.MemoryAdapter.DelSockets(opts, rooms)
}

// DisconnectSockets implements server.Adapter.
func (a *Adapter) DisconnectSockets(opts *server.BroadcastOptions, close bool) {
	if !opts.Local {
		a.publish(DisconnectSockets, jsval.NewObject("opts", EncodeOptions(opts, true, time.Time{}), "close", close))
	}
	a.MemoryAdapter.DisconnectSockets(opts, close)
}

// FetchSockets implements server.Adapter: the sockets of this node and
// those the other nodes report, within the request timeout (the options'
// Timeout when set, as upstream's flags.timeout).
func (a *Adapter) FetchSockets(ctx context.Context, opts *server.BroadcastOptions) ([]server.RemoteSocket, error) {
	local, err := a.MemoryAdapter.FetchSockets(ctx, opts)
	if err != nil || opts.Local {
		return local, err
	}
	n, err := a.t.ServerCount(ctx)
	if err != nil {
		return nil, err
	}
	if n-1 <= 0 {
		return local, nil
	}
	id := RandomID()
	a.requests.Add(id, int(FetchSockets), n-1)
	a.publish(FetchSockets, jsval.NewObject("opts", EncodeOptions(opts, true, time.Time{}), "requestId", id))
	timeout := a.timeout
	if opts.Timeout > 0 {
		timeout = opts.Timeout
	}
	items, err := a.requests.Wait(ctx, id, timeout, func(got, expected int) error {
		return TimeoutError("timeout reached: only " + strconv.Itoa(got) + " responses received out of " + strconv.Itoa(expected))
	})
	if err != nil {
		return nil, err
	}
	for _, it := range items {
		s, err := DecodeSocket(a.nsp, it)
		if err != nil {
			a.log.Debug("cluster adapter: ignoring a malformed socket", "nsp", a.nsp.Name(), "err", err)
			continue
		}
		local = append(local, s)
	}
	return local, nil
}

// ServerSideEmit implements server.Adapter.
func (a *Adapter) ServerSideEmit(ctx context.Context, event string, args []any, withAck bool) ([]sio.Args, error) {
	packet, err := EncodeArgs(append([]any{event}, args...))
	if err != nil {
		return nil, err
	}
	if !withAck {
		a.publish(ServerSideEmit, jsval.NewObject("packet", packet))
		return nil, nil
	}
	n, err := a.t.ServerCount(ctx)
	if err != nil {
		return nil, err
	}
	if n-1 <= 0 {
		return nil, nil
	}
	id := RandomID()
	a.requests.Add(id, int(ServerSideEmit), n-1)
	a.publish(ServerSideEmit, jsval.NewObject("requestId", id, "packet", packet))
	items, err := a.requests.Wait(ctx, id, a.timeout, func(got, expected int) error {
		return TimeoutError("timeout reached: only " + strconv.Itoa(got) + " responses received out of " + strconv.Itoa(expected))
	})
	return RepliesOf(items), err
}

// RepliesOf returns the replies of other nodes to a server-side emit (one
// value each; nil for undefined) as arguments.
func RepliesOf(items []any) []sio.Args {
	out := make([]sio.Args, 0, len(items))
	for _, it := range items {
		if _, none := it.(noReply); none {
			out = append(out, sio.Args{})
			continue
		}
		args, err := DecodeArgs([]any{it})
		if err != nil {
			continue
		}
		out = append(out, args)
	}
	return out
}

// noReply stands for a reply without value (an acknowledgement called
// without argument: undefined in JavaScript).
type noReply struct{}

// NoReply is the item of a response that carried no value.
var NoReply any = noReply{}

// ServerCount implements server.Adapter.
func (a *Adapter) ServerCount(ctx context.Context) (int, error) { return a.t.ServerCount(ctx) }

// Close implements server.Adapter: pending requests end, queued
// server-side handlers are dropped (the one running is waited for).
func (a *Adapter) Close() error {
	a.cancel()
	a.handlers.Close()
	return nil
}

// OnMessage handles a message from another node (ClusterAdapter's
// onMessage): messages from this node or for another namespace are
// ignored, responses go to OnResponse.
func (a *Adapter) OnMessage(m *Message) {
	if m.UID == a.uid {
		return
	}
	if m.NSP != a.nsp.Name() {
		a.log.Debug("cluster adapter: ignoring a message for another namespace", "nsp", a.nsp.Name(), "other", m.NSP)
		return
	}
	if err := a.onMessage(m); err != nil {
		a.log.Debug("cluster adapter: ignoring a malformed message", "nsp", a.nsp.Name(), "type", int(m.Type), "err", err)
	}
}

func (a *Adapter) onMessage(m *Message) error {
	if m.Data == nil {
		switch m.Type {
		case InitialHeartbeat, Heartbeat, AdapterClose:
			return nil // no heartbeats in this adapter, as upstream's sharded one
		}
		return malformed("no data")
	}
	d := m.Data
	switch m.Type {
	case Broadcast:
		pv, _ := d.Get("packet")
		ov, _ := d.Get("opts")
		opts, err := DecodeOptions(ov)
		if err != nil {
			return err
		}
		pkt, err := DecodePacket(pv, a.nsp.Name())
		if err != nil {
			return err
		}
		rid, withAck := d.Get("requestId")
		if !withAck {
			if _, ok := a.t.(OffsetTransport); ok {
				return a.MemoryAdapter.BroadcastOffset(pkt, opts, m.Offset)
			}
			return a.MemoryAdapter.Broadcast(pkt, opts)
		}
		id := jsval.ToKey(rid)
		requester := m.UID
		ctx := RemoteAckContext(a.ctx, opts)
		// The count goes out before any ack: a client may answer before
		// the last socket got the packet, and the count is only known then.
		counted := make(chan struct{})
		return a.MemoryAdapter.BroadcastWithAck(ctx, pkt, opts, &server.BroadcastAcks{
			Count: func(n int) {
				a.publishResponse(requester, BroadcastClientCount, jsval.NewObject("requestId", id, "clientCount", float64(n)))
				close(counted)
			},
			Ack: func(args sio.Args) {
				v, err := FirstArg(args)
				if err != nil {
					return
				}
				<-counted
				data := jsval.NewObject("requestId", id)
				if v != NoReply {
					data.Set("packet", v)
				}
				a.publishResponse(requester, BroadcastAck, data)
			},
		})
	case SocketsJoin, SocketsLeave:
		ov, _ := d.Get("opts")
		opts, err := DecodeOptions(ov)
		if err != nil {
			return err
		}
		rooms, err := RoomList(d, "rooms")
		if err != nil {
			return err
		}
		if m.Type == SocketsJoin {
			a.MemoryAdapter.AddSockets(opts, rooms)
		} else {
			a.MemoryAdapter.DelSockets(opts, rooms)
		}
	case DisconnectSockets:
		ov, _ := d.Get("opts")
		opts, err := DecodeOptions(ov)
		if err != nil {
			return err
		}
		c, _ := d.Get("close")
		a.MemoryAdapter.DisconnectSockets(opts, c == true)
	case FetchSockets:
		ov, _ := d.Get("opts")
		opts, err := DecodeOptions(ov)
		if err != nil {
			return err
		}
		rid, _ := d.Get("requestId")
		sockets, err := a.MemoryAdapter.FetchSockets(a.ctx, opts)
		if err != nil {
			return err
		}
		list := make([]any, 0, len(sockets))
		for _, s := range sockets {
			v, err := EncodeSocket(s)
			if err != nil {
				a.log.Debug("cluster adapter: a socket could not be encoded", "id", s.ID(), "err", err)
				continue
			}
			list = append(list, v)
		}
		a.publishResponse(m.UID, FetchSocketsResponse, jsval.NewObject("requestId", rid, "sockets", list))
	case ServerSideEmit:
		pv, _ := d.Get("packet")
		arr, ok := pv.([]any)
		if !ok || len(arr) == 0 {
			return malformed("server-side emit packet is not an array")
		}
		rid, withAck := d.Get("requestId")
		requester := m.UID
		var reply func(v any)
		if withAck {
			reply = func(v any) {
				data := jsval.NewObject("requestId", rid)
				if v != NoReply {
					data.Set("packet", v)
				}
				a.publishResponse(requester, ServerSideEmitResponse, data)
			}
		}
		return DeliverServerSideEmit(a.nsp, &a.handlers, arr, reply)
	case FetchSocketsResponse, ServerSideEmitResponse, BroadcastClientCount, BroadcastAck:
		// Some transports do not tell messages from responses.
		a.OnResponse(m)
	default:
		return malformed("unknown message type " + strconv.Itoa(int(m.Type)))
	}
	return nil
}

// OnResponse handles a response to one of this node's requests
// (ClusterAdapter's onResponse); others are ignored.
func (a *Adapter) OnResponse(m *Message) {
	if m.Data == nil {
		return
	}
	rid, _ := m.Data.Get("requestId")
	id := jsval.ToKey(rid)
	switch m.Type {
	case BroadcastClientCount:
		c, _ := m.Data.Get("clientCount")
		if n, ok := c.(float64); ok && n >= 0 {
			a.acks.Count(id, int(n))
		}
	case BroadcastAck:
		v, ok := m.Data.Get("packet")
		if !ok {
			v = NoReply
		}
		if r := RepliesOf([]any{v}); len(r) == 1 {
			a.acks.Ack(id, r[0])
		}
	case FetchSocketsResponse:
		sv, _ := m.Data.Get("sockets")
		list, ok := sv.([]any)
		if !ok {
			a.log.Debug("cluster adapter: ignoring a malformed fetchSockets response", "nsp", a.nsp.Name())
			return
		}
		if k, ok := a.requests.Kind(id); ok && k == int(FetchSockets) {
			a.requests.Respond(id, list...)
		}
	case ServerSideEmitResponse:
		v, ok := m.Data.Get("packet")
		if !ok {
			v = NoReply
		}
		if k, ok := a.requests.Kind(id); ok && k == int(ServerSideEmit) {
			a.requests.Respond(id, v)
		}
	default:
		a.log.Debug("cluster adapter: ignoring a response of unknown type", "nsp", a.nsp.Name(), "type", int(m.Type))
	}
}

// RemoteAckContext returns the context of a broadcast with acknowledgement
// received from another node: the acknowledgements are awaited for the
// timeout of its flags, or until the adapter closes (parent ends).
func RemoteAckContext(parent context.Context, opts *server.BroadcastOptions) context.Context {
	if opts.Timeout <= 0 {
		return parent
	}
	ctx, cancel := context.WithTimeout(parent, opts.Timeout)
	context.AfterFunc(ctx, cancel)
	return ctx
}

// FirstArg returns the first argument of a reply as a JavaScript value
// (upstream's acknowledgement callbacks forward only the first), or
// NoReply when there is none.
func FirstArg(args sio.Args) (any, error) {
	if len(args) == 0 {
		return NoReply, nil
	}
	return jsval.FromPacketData(args[0].Raw, args[0].Attachments)
}

// DeliverServerSideEmit runs the namespace's server-side handlers for a
// received [event, ...args], on handlers. With reply, the event asks for
// an acknowledgement, of which only the first is sent, with its first
// argument.
func DeliverServerSideEmit(nsp *server.Namespace, handlers *ordered.Queue[ordered.Func], packet []any, reply func(v any)) error {
	name, ok := packet[0].(string)
	if !ok {
		return malformed("server-side event name is not a string")
	}
	args, err := DecodeArgs(packet[1:])
	if err != nil {
		return err
	}
	e := &sio.Event{Name: name, Args: args}
	if reply != nil {
		var sent atomic.Bool
		e.AckFunc = func(vals ...any) error {
			if !sent.CompareAndSwap(false, true) {
				return sio.ErrAckSent
			}
			var v any = NoReply
			if len(vals) > 0 {
				var err error
				if v, err = EncodeValue(vals[0]); err != nil {
					return err
				}
			}
			reply(v)
			return nil
		}
	}
	handlers.Post(func() { nsp.DeliverServerSideEmit(e) })
	return nil
}
