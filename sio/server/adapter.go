package server

import (
	"context"
	"sync"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/engine"
	"github.com/gosio/socketio/sio/parser"
)

// Room is the name of a room. Every socket is in the room named by its id.
type Room = string

// BroadcastOptions select the receivers of a broadcast and how it is sent.
type BroadcastOptions struct {
	// Rooms: the union of these rooms; empty means the whole namespace.
	Rooms []Room
	// Except: sockets in any of these rooms are left out.
	Except []Room
	// Volatile drops the packet for receivers that cannot take it right now.
	Volatile bool
	// Compress asks for compression where the transport supports it.
	Compress bool
	// Local keeps the broadcast on this node (no effect with the in-memory adapter).
	Local bool
	// Timeout bounds the wait for acknowledgements (BroadcastWithAck).
	Timeout time.Duration
}

// Adapter is what a namespace uses to reach sockets: room membership and
// broadcasting on this node and, for a multi-node adapter (Redis, …), on
// the others. The in-memory adapter (NewMemoryAdapter) is the default. A
// cluster adapter typically embeds a MemoryAdapter for the local part and
// forwards each call to the other nodes unless opts.Local is set.
//
// Methods may be called concurrently.
type Adapter interface {
	// AddAll adds socket id to rooms.
	AddAll(id string, rooms ...Room)
	// Del removes socket id from room.
	Del(id string, room Room)
	// DelAll removes socket id from every room.
	DelAll(id string)
	// SocketRooms returns the rooms socket id is in (this node only).
	SocketRooms(id string) []Room
	// Sockets returns the ids of the sockets in the union of rooms (all
	// sockets of the namespace when rooms is empty), on this node.
	Sockets(rooms []Room) []string
	// Rooms returns every room of the namespace on this node, socket-id rooms included.
	Rooms() []Room
	// Broadcast sends pkt to the sockets selected by opts.
	Broadcast(pkt *parser.Packet, opts *BroadcastOptions) error
	// BroadcastWithAck sends pkt (each receiver gets its own ack id, set
	// by the adapter) to the selected sockets, and reports through acks
	// how many nodes sent it, how many sockets each sent it to, and each
	// reply, as they become known, possibly after it returns. The
	// acknowledgements still pending when ctx ends are forgotten.
	BroadcastWithAck(ctx context.Context, pkt *parser.Packet, opts *BroadcastOptions, acks *BroadcastAcks) error
	// FetchSockets returns the sockets selected by opts, on every node.
	FetchSockets(ctx context.Context, opts *BroadcastOptions) ([]RemoteSocket, error)
	// AddSockets makes the selected sockets join rooms.
	AddSockets(opts *BroadcastOptions, rooms []Room)
	// DelSockets makes the selected sockets leave rooms.
	DelSockets(opts *BroadcastOptions, rooms []Room)
	// DisconnectSockets disconnects the selected sockets (the whole
	// connection when close is true).
	DisconnectSockets(opts *BroadcastOptions, close bool)
	// ServerSideEmit sends an event to the namespaces of the other nodes,
	// whose OnServerSideEmit handlers get it. With withAck it waits for
	// one reply per other node and returns them; when ctx ends, or the
	// adapter stops waiting (a cluster adapter's request timeout), it
	// returns the replies so far with an error wrapping sio.ErrAckTimeout.
	ServerSideEmit(ctx context.Context, event string, args []any, withAck bool) ([]sio.Args, error)
	// ServerCount returns the number of nodes (1 for the in-memory adapter).
	ServerCount(ctx context.Context) (int, error)
	// PersistSession keeps the state of a socket that disconnected for a
	// reason that allows recovery, for RestoreSession. It is called only
	// when connection state recovery is on.
	PersistSession(ctx context.Context, sess *Session) error
	// RestoreSession returns the session pid, with the event packets sent
	// to its rooms after the one whose offset is given, in order (each
	// carries its own offset as its last argument). It returns nil, nil
	// when the session is unknown or expired, or when offset is unknown
	// or too old. Broadcast appends the offsets and keeps the packets.
	RestoreSession(ctx context.Context, pid, offset string) (*Session, error)
	// Close releases the adapter.
	Close() error
}

// Session is the state of a socket kept for connection state recovery.
type Session struct {
	// SID is the socket's id, PID its private session id.
	SID, PID string
	// Rooms are the rooms the socket was in (its own room included).
	Rooms []Room
	// Data is the socket's user data (Socket.Data).
	Data any
	// MissedPackets are, from RestoreSession, the event packets the client
	// missed, in order.
	MissedPackets []*parser.Packet
}

// BroadcastAcks receives what BroadcastWithAck learns (upstream's
// serverCount, clientCountCallback and ack callbacks). Its functions may
// be called from several goroutines at once, and in any order.
type BroadcastAcks struct {
	// Nodes is called once with the number of nodes that will call Count:
	// this one and, with a cluster adapter, the others that got the packet.
	Nodes func(n int)
	// Count is called once per node with the number of sockets that node
	// sent the packet to (the replies to expect from there).
	Count func(n int)
	// Ack is called with each socket's reply.
	Ack func(sio.Args)
}

// AdapterFactory creates the adapter of a namespace.
type AdapterFactory func(nsp *Namespace) Adapter

// RemoteSocket is a socket returned by FetchSockets: a snapshot of its
// state, with operations that reach it wherever it is connected.
type RemoteSocket interface {
	ID() string
	Handshake() *Handshake
	Rooms() []Room
	Data() any
	Emit(event string, args ...any) error
	Join(rooms ...Room)
	Leave(rooms ...Room)
	// Disconnect disconnects the socket from its namespace.
	Disconnect()
	// CloseConnection disconnects every namespace of its connection and
	// closes it.
	CloseConnection()
}

// AdapterEvent is a change of room membership reported by the in-memory adapter.
type AdapterEvent struct {
	// Kind is "create-room", "delete-room", "join-room" or "leave-room".
	Kind string
	Room Room
	// ID is the socket, for join-room and leave-room.
	ID string
}

// MemoryAdapter keeps rooms in memory and reaches the sockets of this node.
// It is the default adapter, and the local part of cluster adapters. With
// connection state recovery on, it also keeps the sessions of disconnected
// sockets and the event packets broadcast during the last
// MaxDisconnectionDuration (upstream's SessionAwareAdapter).
type MemoryAdapter struct {
	nsp *Namespace

	mu    sync.RWMutex
	rooms map[Room]map[string]struct{}
	sids  map[string]map[Room]struct{}

	// OnEvent, when set (before use), is called for every membership change
	// (create-room, delete-room, join-room, leave-room), outside locks.
	OnEvent func(AdapterEvent)

	// Connection state recovery. logMu serialises the broadcasts that are
	// kept, so that their order in the log is the order every socket gets
	// them, and makes a restoration atomic with respect to them.
	logMu    sync.Mutex
	sessions map[string]storedSession // by pid
	packets  []storedPacket
	firstSeq uint64 // sequence number of packets[0]
	nextSeq  uint64
	prefix   string // offsets are prefix + sequence number in base 36
}

// NewMemoryAdapter returns the in-memory adapter of nsp.
func NewMemoryAdapter(nsp *Namespace) *MemoryAdapter {
	return &MemoryAdapter{
		nsp:      nsp,
		rooms:    make(map[Room]map[string]struct{}),
		sids:     make(map[string]map[Room]struct{}),
		sessions: make(map[string]storedSession),
		prefix:   newSocketID()[:8] + "-",
	}
}

func (a *MemoryAdapter) emit(evs []AdapterEvent) {
	if a.nsp != nil {
		a.nsp.roomEvents(evs)
	}
	if a.OnEvent == nil {
		return
	}
	for _, e := range evs {
		a.callOnEvent(e)
	}
}

// AddAll implements Adapter.
func (a *MemoryAdapter) AddAll(id string, rooms ...Room) { a.emit(a.addAll(id, rooms)) }

// addAll is AddAll returning the events instead of reporting them.
func (a *MemoryAdapter) addAll(id string, rooms []Room) []AdapterEvent {
	var evs []AdapterEvent
	a.mu.Lock()
	set := a.sids[id]
	if set == nil {
		set = make(map[Room]struct{}, len(rooms))
		a.sids[id] = set
	}
	for _, r := range rooms {
		if _, ok := set[r]; ok {
			continue
		}
		set[r] = struct{}{}
		members := a.rooms[r]
		if members == nil {
			members = make(map[string]struct{})
			a.rooms[r] = members
			evs = append(evs, AdapterEvent{Kind: "create-room", Room: r})
		}
		members[id] = struct{}{}
		evs = append(evs, AdapterEvent{Kind: "join-room", Room: r, ID: id})
	}
	a.mu.Unlock()
	return evs
}

// Del implements Adapter.
func (a *MemoryAdapter) Del(id string, room Room) {
	a.mu.Lock()
	evs := a.delLocked(id, room, nil)
	if set := a.sids[id]; set != nil {
		delete(set, room)
	}
	a.mu.Unlock()
	a.emit(evs)
}

func (a *MemoryAdapter) delLocked(id string, room Room, evs []AdapterEvent) []AdapterEvent {
	members, ok := a.rooms[room]
	if !ok {
		return evs
	}
	if _, in := members[id]; !in {
		return evs
	}
	delete(members, id)
	evs = append(evs, AdapterEvent{Kind: "leave-room", Room: room, ID: id})
	if len(members) == 0 {
		delete(a.rooms, room)
		evs = append(evs, AdapterEvent{Kind: "delete-room", Room: room})
	}
	return evs
}

// DelAll implements Adapter.
func (a *MemoryAdapter) DelAll(id string) { a.emit(a.delAll(id)) }

// delAll is DelAll returning the events instead of reporting them.
func (a *MemoryAdapter) delAll(id string) []AdapterEvent {
	var evs []AdapterEvent
	a.mu.Lock()
	for r := range a.sids[id] {
		evs = a.delLocked(id, r, evs)
	}
	delete(a.sids, id)
	a.mu.Unlock()
	return evs
}

// SocketRooms implements Adapter.
func (a *MemoryAdapter) SocketRooms(id string) []Room {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]Room, 0, len(a.sids[id]))
	for r := range a.sids[id] {
		out = append(out, r)
	}
	return out
}

// Rooms implements Adapter.
func (a *MemoryAdapter) Rooms() []Room {
	a.mu.RLock()
	defer a.mu.RUnlock()
	out := make([]Room, 0, len(a.rooms))
	for r := range a.rooms {
		out = append(out, r)
	}
	return out
}

// HasRoom reports whether room has sockets on this node.
func (a *MemoryAdapter) HasRoom(room Room) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	_, ok := a.rooms[room]
	return ok
}

// HasSocket reports whether id is a socket of this node (and so its room
// is that socket's own room).
func (a *MemoryAdapter) HasSocket(id string) bool {
	a.mu.RLock()
	defer a.mu.RUnlock()
	_, ok := a.sids[id]
	return ok
}

// live returns the connected socket id of the namespace, or nil: a socket
// that is disconnecting is no longer reached, though it is in its rooms
// until its disconnecting handlers have run.
func (a *MemoryAdapter) live(id string) *Socket {
	if s := a.nsp.socket(id); s != nil && s.Connected() {
		return s
	}
	return nil
}

// Sockets implements Adapter.
func (a *MemoryAdapter) Sockets(rooms []Room) []string {
	var out []string
	a.forEach(&BroadcastOptions{Rooms: rooms}, func(id string) { out = append(out, id) })
	return out
}

// forEach calls fn for every selected socket id of this node, each once.
// fn runs without the adapter's lock held.
func (a *MemoryAdapter) forEach(opts *BroadcastOptions, fn func(id string)) {
	ids := a.selectIDs(opts)
	for _, id := range ids {
		fn(id)
	}
}

func (a *MemoryAdapter) selectIDs(opts *BroadcastOptions) []string {
	a.mu.RLock()
	defer a.mu.RUnlock()
	excluded := func(id string) bool {
		for _, r := range opts.Except {
			if _, ok := a.rooms[r][id]; ok {
				return true
			}
		}
		return false
	}
	var ids []string
	if len(opts.Rooms) == 0 {
		ids = make([]string, 0, len(a.sids))
		for id := range a.sids {
			if !excluded(id) {
				ids = append(ids, id)
			}
		}
		return ids
	}
	if len(opts.Rooms) == 1 {
		members := a.rooms[opts.Rooms[0]]
		ids = make([]string, 0, len(members))
		for id := range members {
			if !excluded(id) {
				ids = append(ids, id)
			}
		}
		return ids
	}
	seen := make(map[string]struct{})
	for _, r := range opts.Rooms {
		for id := range a.rooms[r] {
			if _, dup := seen[id]; dup || excluded(id) {
				continue
			}
			seen[id] = struct{}{}
			ids = append(ids, id)
		}
	}
	return ids
}

// Broadcast implements Adapter: the packet is encoded once and the same
// frames are queued on every receiver. With connection state recovery on,
// an event without acknowledgement that is not volatile gets an offset as
// its last argument and is kept for the sessions to restore.
func (a *MemoryAdapter) Broadcast(pkt *parser.Packet, opts *BroadcastOptions) error {
	var notify []*Socket
	if a.recovery() != nil && keepable(pkt, opts) {
		a.logMu.Lock()
		pkt = a.keepLocked(pkt, opts)
		notify = a.deliver(encodeFanout(a.nsp.srv.parser, pkt), opts)
		a.logMu.Unlock()
	} else {
		notify = a.deliver(encodeFanout(a.nsp.srv.parser, pkt), opts)
	}
	for _, s := range notify {
		s.notifyOutgoing(pkt)
	}
	return nil
}

// deliver queues frames on the selected sockets and returns those that
// have outgoing catch-all handlers to notify.
func (a *MemoryAdapter) deliver(frames []engine.Frame, opts *BroadcastOptions) []*Socket {
	var notify []*Socket
	a.forEach(opts, func(id string) {
		if s := a.live(id); s != nil && s.deliver(frames, opts.Volatile) && s.hasOutgoing.Load() {
			notify = append(notify, s)
		}
	})
	return notify
}

// BroadcastWithAck implements Adapter: it reports one node, and the
// number of sockets the packet was sent to. Each receiver gets its own ack
// id, so the text frame is encoded per receiver; attachments are shared.
// The acknowledgements still pending when ctx ends are forgotten.
func (a *MemoryAdapter) BroadcastWithAck(ctx context.Context, pkt *parser.Packet, opts *BroadcastOptions, acks *BroadcastAcks) error {
	if acks.Nodes != nil {
		acks.Nodes(1)
	}
	acks.Count(a.broadcastWithAck(ctx, pkt, opts, acks.Ack))
	return nil
}

// broadcastWithAck sends pkt to the selected sockets of this node, each
// with its own ack id, and returns how many got it.
func (a *MemoryAdapter) broadcastWithAck(ctx context.Context, pkt *parser.Packet, opts *BroadcastOptions, onAck func(sio.Args)) int {
	type sent struct {
		s  *Socket
		id uint64
	}
	var all []sent
	a.forEach(opts, func(id string) {
		s := a.live(id)
		if s == nil {
			return
		}
		p := *pkt
		p.ID = s.registerAck(func(args sio.Args, err error) {
			if err == nil {
				onAck(args)
			}
		}, 0)
		p.HasID = true
		s.notifyOutgoing(&p)
		if s.deliver(encodeFanout(a.nsp.srv.parser, &p), opts.Volatile) {
			all = append(all, sent{s, p.ID})
		} else {
			s.cancelAck(p.ID)
		}
	})
	if len(all) > 0 {
		context.AfterFunc(ctx, func() {
			for _, x := range all {
				x.s.cancelAck(x.id)
			}
		})
	}
	return len(all)
}

// FetchSockets implements Adapter.
func (a *MemoryAdapter) FetchSockets(ctx context.Context, opts *BroadcastOptions) ([]RemoteSocket, error) {
	var out []RemoteSocket
	a.forEach(opts, func(id string) {
		if s := a.live(id); s != nil {
			out = append(out, s)
		}
	})
	return out, nil
}

// AddSockets implements Adapter.
func (a *MemoryAdapter) AddSockets(opts *BroadcastOptions, rooms []Room) {
	a.forEach(opts, func(id string) {
		if s := a.live(id); s != nil {
			s.Join(rooms...)
		}
	})
}

// DelSockets implements Adapter.
func (a *MemoryAdapter) DelSockets(opts *BroadcastOptions, rooms []Room) {
	a.forEach(opts, func(id string) {
		if s := a.live(id); s != nil {
			s.Leave(rooms...)
		}
	})
}

// DisconnectSockets implements Adapter.
func (a *MemoryAdapter) DisconnectSockets(opts *BroadcastOptions, close bool) {
	a.forEach(opts, func(id string) {
		if s := a.live(id); s != nil {
			if close {
				s.CloseConnection()
			} else {
				s.Disconnect()
			}
		}
	})
}

// ServerSideEmit implements Adapter: with a single node there is nobody to
// reach, so there is no reply.
func (a *MemoryAdapter) ServerSideEmit(ctx context.Context, event string, args []any, withAck bool) ([]sio.Args, error) {
	return nil, nil
}

// ServerCount implements Adapter.
func (a *MemoryAdapter) ServerCount(ctx context.Context) (int, error) { return 1, nil }

// Close implements Adapter.
func (a *MemoryAdapter) Close() error { return nil }
