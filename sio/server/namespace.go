package server

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/parser"
)

// Middleware runs when a socket asks to join a namespace, before it is
// connected. Returning an error refuses the connection: the client gets a
// connect_error with the error's text as message, or with the Message and
// Data of a *ConnectError.
type Middleware func(s *Socket) error

// ConnectError refuses a connection from a middleware with a message and
// data, which the client's connect_error shows as err.message and err.data.
type ConnectError struct {
	Message string
	Data    any
}

func (e *ConnectError) Error() string { return e.Message }

// Namespace is a Socket.IO namespace: its sockets, middlewares, connection
// handlers and adapter.
type Namespace struct {
	srv     *Server
	name    string
	adapter Adapter

	mu          sync.RWMutex
	sockets     map[string]*Socket
	middlewares []Middleware
	onConn      []func(*Socket)
	serverSide  []func(*sio.Event)
	onRoom      []func(AdapterEvent)
	hasOnRoom   atomic.Bool
	onData      []func(*Socket)
	hasOnData   atomic.Bool

	// dynamic namespaces: a parent has match and children; a child has parent
	parent   *Namespace
	match    func(name string, auth json.RawMessage) bool
	children map[string]*Namespace
}

func newNamespace(srv *Server, name string) *Namespace {
	n := &Namespace{srv: srv, name: name, sockets: make(map[string]*Socket)}
	if srv.opts.Adapter != nil {
		n.adapter = srv.opts.Adapter(n)
	} else {
		n.adapter = NewMemoryAdapter(n)
	}
	return n
}

// Name returns the namespace's name, e.g. "/" or "/chat".
func (n *Namespace) Name() string { return n.name }

// Server returns the server the namespace belongs to.
func (n *Namespace) Server() *Server { return n.srv }

// Adapter returns the namespace's adapter.
func (n *Namespace) Adapter() Adapter { return n.adapter }

// Use adds a middleware; middlewares run in the order they were added.
func (n *Namespace) Use(mw Middleware) {
	n.mu.Lock()
	n.middlewares = append(n.middlewares, mw)
	n.mu.Unlock()
}

// OnConnection adds a handler called for each socket that joins the
// namespace. It is the socket's first handler on the connection's queue,
// so handlers it sets up see every event the client sends after
// connecting.
func (n *Namespace) OnConnection(fn func(*Socket)) {
	n.mu.Lock()
	n.onConn = append(n.onConn, fn)
	n.mu.Unlock()
}

func (n *Namespace) runMiddlewares(s *Socket) error {
	n.mu.RLock()
	mws := append([]Middleware(nil), n.middlewares...)
	n.mu.RUnlock()
	for _, mw := range mws {
		if err := n.callMiddleware(mw, s); err != nil {
			return err
		}
	}
	return nil
}

// connect handles the CONNECT of c to the namespace, on its own goroutine:
// the session is restored when the client asks for it and recovery is on,
// the middlewares run (unless skipped for a restored session), then the
// socket is added.
func (n *Namespace) connect(c *conn, auth json.RawMessage) {
	var sess *Session
	if rec := n.srv.opts.ConnectionStateRecovery; rec != nil && !c.v3 {
		if pid, offset, ok := recoveryAuth(auth); ok {
			if rec.SkipMiddlewares {
				if n.restoreAndAdd(c, auth, pid, offset) {
					return
				}
			} else {
				sess = n.restoreSession(pid, offset)
			}
		}
	}
	s := newSocket(n, c, auth, sess)
	if err := n.runMiddlewares(s); err != nil {
		c.refuseConnect(n, err)
		return
	}
	// No lock held: the adapter reports its events at once, so that they
	// come before the client has CONNECT, as upstream's.
	n.add(s, sess, nil)
}

// refuseConnect answers the CONNECT of c to n with a CONNECT_ERROR
// carrying err.
func (c *conn) refuseConnect(n *Namespace, err error) {
	// The client may try again as soon as it has the refusal.
	c.donePending(n.name)
	if closed, _ := c.isClosed(); !closed {
		data := connectErrorPayload(err)
		if c.v3 {
			data = connectErrorPayloadV3(err)
		}
		c.writePacket(&parser.Packet{Type: parser.ConnectError, Namespace: n.name, Data: data})
	}
}

// add connects s, as upstream's _doConnect and _onconnect: it joins its
// own room (and, when restored, the rooms of its session), the client gets
// CONNECT (and the packets it missed), then the connection handlers run on
// the connection's queue. With evs, the in-memory adapter's events are
// appended to it for the caller to report once it holds no lock; without,
// the adapter reports them at once.
func (n *Namespace) add(s *Socket, sess *Session, evs *[]AdapterEvent) {
	n.mu.Lock()
	n.sockets[s.id] = s
	handlers := slices.Clone(n.onConn)
	n.mu.Unlock()
	rooms := []Room{s.id}
	if sess != nil {
		for _, r := range sess.Rooms {
			if r != s.id {
				rooms = append(rooms, r)
			}
		}
	}
	n.addAll(s.id, rooms, evs)
	pkts := []*parser.Packet{connectPacket(n.name, s.id, s.pid)}
	if s.conn.v3 {
		// socket.io 2.x: a CONNECT without payload.
		pkts[0] = &parser.Packet{Type: parser.Connect, Namespace: n.name}
	}
	if sess != nil {
		for _, p := range sess.MissedPackets {
			q := *p
			q.Namespace = n.name
			pkts = append(pkts, &q)
		}
	}
	onConnect := func() {
		for _, h := range handlers {
			h(s)
		}
	}
	if !s.conn.register(s, pkts, onConnect) {
		// The connection closed meanwhile.
		s.cleaned.Store(true)
		n.delAll(s.id, evs)
		n.remove(s)
	}
}

// addAll and delAll change the rooms of a socket; with the in-memory
// adapter, its events are collected into evs instead of being reported.
func (n *Namespace) addAll(id string, rooms []Room, evs *[]AdapterEvent) {
	if ma, ok := n.adapter.(*MemoryAdapter); ok && evs != nil {
		*evs = append(*evs, ma.addAll(id, rooms)...)
		return
	}
	n.adapter.AddAll(id, rooms...)
}

func (n *Namespace) delAll(id string, evs *[]AdapterEvent) {
	if ma, ok := n.adapter.(*MemoryAdapter); ok && evs != nil {
		*evs = append(*evs, ma.delAll(id)...)
		return
	}
	n.adapter.DelAll(id)
}

func (n *Namespace) remove(s *Socket) {
	n.mu.Lock()
	if n.sockets[s.id] == s {
		delete(n.sockets, s.id)
	}
	n.mu.Unlock()
	if n.parent != nil {
		n.srv.childMaybeEmpty(n)
	}
}

func (n *Namespace) socket(id string) *Socket {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.sockets[id]
}

// Socket returns the socket of this namespace on this node with id, or nil.
func (n *Namespace) Socket(id string) *Socket { return n.socket(id) }

// SocketsCount returns the number of sockets of this namespace on this node.
func (n *Namespace) SocketsCount() int {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return len(n.sockets)
}

func (n *Namespace) op() *BroadcastOperator { return &BroadcastOperator{nsp: n} }

// To selects rooms for a broadcast; several rooms mean their union.
func (n *Namespace) To(rooms ...Room) *BroadcastOperator { return n.op().To(rooms...) }

// In is the same as To.
func (n *Namespace) In(rooms ...Room) *BroadcastOperator { return n.op().In(rooms...) }

// Except leaves the sockets in rooms out of a broadcast.
func (n *Namespace) Except(rooms ...Room) *BroadcastOperator { return n.op().Except(rooms...) }

// Volatile marks a broadcast as droppable where the transport is busy.
func (n *Namespace) Volatile() *BroadcastOperator { return n.op().Volatile() }

// Local keeps a broadcast on this node.
func (n *Namespace) Local() *BroadcastOperator { return n.op().Local() }

// Compress sets the compression flag of a broadcast.
func (n *Namespace) Compress(c bool) *BroadcastOperator { return n.op().Compress(c) }

// Timeout sets the time a broadcast with acknowledgements waits for replies.
func (n *Namespace) Timeout(d time.Duration) *BroadcastOperator { return n.op().Timeout(d) }

// Emit sends an event to every socket of the namespace.
func (n *Namespace) Emit(event string, args ...any) error { return n.op().Emit(event, args...) }

// EmitWithAck sends an event to every socket of the namespace and gathers
// their acknowledgements; see BroadcastOperator.EmitWithAck.
func (n *Namespace) EmitWithAck(ctx context.Context, event string, args ...any) ([]sio.Args, error) {
	return n.op().EmitWithAck(ctx, event, args...)
}

// FetchSockets returns the sockets of the namespace, on every node.
func (n *Namespace) FetchSockets(ctx context.Context) ([]RemoteSocket, error) {
	return n.op().FetchSockets(ctx)
}

// SocketsJoin makes every socket of the namespace join rooms.
func (n *Namespace) SocketsJoin(rooms ...Room) { n.op().SocketsJoin(rooms...) }

// SocketsLeave makes every socket of the namespace leave rooms.
func (n *Namespace) SocketsLeave(rooms ...Room) { n.op().SocketsLeave(rooms...) }

// DisconnectSockets disconnects every socket of the namespace.
func (n *Namespace) DisconnectSockets(close bool) { n.op().DisconnectSockets(close) }

// ServerSideEmit sends an event to the other nodes of a cluster. With the
// in-memory adapter there is no other node: it does nothing.
func (n *Namespace) ServerSideEmit(ctx context.Context, event string, args ...any) error {
	if isReservedNamespaceEvent(event) {
		return fmt.Errorf("%w: %q", sio.ErrReservedEvent, event)
	}
	_, err := n.adapter.ServerSideEmit(ctx, event, args, false)
	return err
}

// ServerSideEmitWithAck sends an event to the other nodes of a cluster and
// gathers one reply per node. It returns every reply, or, when ctx ends
// first (or the adapter's own request timeout), the replies so far with an
// error wrapping sio.ErrAckTimeout. With the in-memory adapter there is no
// other node: it returns no reply.
func (n *Namespace) ServerSideEmitWithAck(ctx context.Context, event string, args ...any) ([]sio.Args, error) {
	if isReservedNamespaceEvent(event) {
		return nil, fmt.Errorf("%w: %q", sio.ErrReservedEvent, event)
	}
	return n.adapter.ServerSideEmit(ctx, event, args, true)
}

// OnServerSideEmit adds a handler for the events other nodes send with
// ServerSideEmit. e.Ack replies when the sender asked for replies.
func (n *Namespace) OnServerSideEmit(fn func(e *sio.Event)) {
	n.mu.Lock()
	n.serverSide = append(n.serverSide, fn)
	n.mu.Unlock()
}

// DeliverServerSideEmit runs the OnServerSideEmit handlers for an event
// that came from another node. Cluster adapters call it; it runs the
// handlers on the caller's goroutine.
func (n *Namespace) DeliverServerSideEmit(e *sio.Event) {
	n.mu.RLock()
	hs := slices.Clone(n.serverSide)
	n.mu.RUnlock()
	for _, h := range hs {
		n.callServerSide(h, e)
	}
}

// isReservedNamespaceEvent reports the names upstream reserves on namespaces.
func isReservedNamespaceEvent(name string) bool {
	switch name {
	case "connect", "connection", "new_namespace":
		return true
	}
	return false
}

// connectPacket is CONNECT {"sid": id, "pid": pid}, pid omitted when
// empty (recovery off).
func connectPacket(nsp, id, pid string) *parser.Packet {
	b, _ := json.Marshal(struct {
		SID string `json:"sid"`
		PID string `json:"pid,omitempty"`
	}{id, pid})
	return &parser.Packet{Type: parser.Connect, Namespace: nsp, Data: b}
}

// OfRegexp declares a dynamic namespace: a client connecting to a name that
// re matches gets a child namespace of that name, created on demand with
// the parent's middlewares and connection handlers (those added to the
// parent before the child was created). The returned Namespace is the
// parent: broadcasting on it reaches the sockets of every child.
func (s *Server) OfRegexp(re *regexp.Regexp) *Namespace {
	return s.OfFunc(func(name string, _ json.RawMessage) bool { return re.MatchString(name) })
}

// OfFunc declares a dynamic namespace whose children are the names for
// which match returns true; match also gets the CONNECT auth payload. It
// runs on the connection's read path, which may be shared by many
// connections (see engine.Socket.OnMessage): it must not block. A panic in
// it is logged and counts as no match.
func (s *Server) OfFunc(match func(name string, auth json.RawMessage) bool) *Namespace {
	n := newNamespace(s, "")
	n.match = match
	n.children = make(map[string]*Namespace)
	s.mu.Lock()
	s.parents = append(s.parents, n)
	s.mu.Unlock()
	return n
}

// dynamicNamespace returns the child namespace for name of the first
// matching parent, creating it; nil when no parent matches.
func (s *Server) dynamicNamespace(name string, auth []byte) *Namespace {
	s.mu.RLock()
	parents := append([]*Namespace(nil), s.parents...)
	s.mu.RUnlock()
	for _, p := range parents {
		if !s.matches(p, name, auth) {
			continue
		}
		s.mu.Lock()
		if n := s.nsps[name]; n != nil {
			s.mu.Unlock()
			return n
		}
		child := newNamespace(s, name)
		child.parent = p
		p.mu.Lock()
		child.middlewares = append(child.middlewares, p.middlewares...)
		child.onConn = append(child.onConn, p.onConn...)
		p.children[name] = child
		p.mu.Unlock()
		s.nsps[name] = child
		fns := s.onNsp
		s.mu.Unlock()
		s.newNamespaceCreated(child, fns)
		return child
	}
	return nil
}

// childMaybeEmpty removes an empty child namespace when clean-up is on.
func (s *Server) childMaybeEmpty(child *Namespace) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.opts.CleanupEmptyChildNamespaces || child.SocketsCount() > 0 || s.nsps[child.name] != child {
		return
	}
	delete(s.nsps, child.name)
	p := child.parent
	p.mu.Lock()
	delete(p.children, child.name)
	p.mu.Unlock()
	_ = child.adapter.Close()
}

// targets returns the namespaces a broadcast on n reaches: n itself, or
// every child of a dynamic parent.
func (n *Namespace) targets() []*Namespace {
	if n.children == nil {
		return []*Namespace{n}
	}
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]*Namespace, 0, len(n.children))
	for _, c := range n.children {
		out = append(out, c)
	}
	return out
}
