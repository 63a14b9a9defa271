package server

import (
	"log/slog"
	"slices"
	"sync/atomic"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/engine"
)

// ConnObserver receives what happens to the Engine.IO connections of a
// server, for instrumentation such as package admin (upstream's admin UI
// listens to the engine's connection, upgrade, packet and close events for
// the same figures). Each function may be nil. They run on the
// connections' read and write paths, concurrently: they must be quick and
// must not block.
type ConnObserver struct {
	// Opened is called when a connection opens, with its transport.
	Opened func(id, transport string)
	// Upgraded is called when a connection moves to another transport.
	Upgraded func(id, transport string)
	// Closed is called once when a connection closes, with the reason.
	Closed func(id string, reason sio.Reason)
	// Received and Sent are called for each Engine.IO message (text or
	// binary) received from or queued for a client, with its size in
	// bytes (the Engine.IO type character excluded, as upstream counts).
	Received func(n int)
	Sent     func(n int)
}

// observers is the server's list of ConnObservers, copied on write so
// that the hot paths read it without a lock.
type observers struct {
	list atomic.Pointer[[]*ConnObserver]
	log  *slog.Logger
}

// call runs a hook; a panic in it is logged (the connection goes on).
func (o *observers) call(hook string, fn func()) {
	defer func() {
		if r := recover(); r != nil {
			logPanic(o.log, r, hook, nil)
		}
	}()
	fn()
}

// Observe adds an observer of the server's connections. It sees the
// connections that open after it was added (and the later events of those
// already open).
func (s *Server) Observe(o *ConnObserver) {
	s.obsMu.Lock()
	defer s.obsMu.Unlock()
	var next []*ConnObserver
	if cur := s.obs.list.Load(); cur != nil {
		next = slices.Clone(*cur)
	}
	next = append(next, o)
	s.obs.list.Store(&next)
}

func (o *observers) get() []*ConnObserver {
	if l := o.list.Load(); l != nil {
		return *l
	}
	return nil
}

func (o *observers) opened(id, transport string) {
	for _, x := range o.get() {
		if x.Opened != nil {
			o.call("ConnObserver.Opened", func() { x.Opened(id, transport) })
		}
	}
}

func (o *observers) upgraded(id, transport string) {
	for _, x := range o.get() {
		if x.Upgraded != nil {
			o.call("ConnObserver.Upgraded", func() { x.Upgraded(id, transport) })
		}
	}
}

func (o *observers) closed(id string, reason sio.Reason) {
	for _, x := range o.get() {
		if x.Closed != nil {
			o.call("ConnObserver.Closed", func() { x.Closed(id, reason) })
		}
	}
}

func (o *observers) received(n int) {
	for _, x := range o.get() {
		if x.Received != nil {
			o.call("ConnObserver.Received", func() { x.Received(n) })
		}
	}
}

// sent reports the frames of one packet.
func (o *observers) sent(frames []engine.Frame) {
	l := o.get()
	if len(l) == 0 {
		return
	}
	for _, f := range frames {
		n := len(f.Data)
		if !f.Binary && n > 0 {
			n-- // the Engine.IO message type '4'
		}
		for _, x := range l {
			if x.Sent != nil {
				o.call("ConnObserver.Sent", func() { x.Sent(n) })
			}
		}
	}
}

// OnNamespace calls fn for every namespace of the server now and for each
// one created later (upstream's "new_namespace" event), dynamic children
// included, before any socket joins it. fn must not call OnNamespace.
func (s *Server) OnNamespace(fn func(*Namespace)) {
	s.mu.Lock()
	s.onNsp = append(s.onNsp, fn)
	nsps := make([]*Namespace, 0, len(s.nsps))
	for _, n := range s.nsps {
		nsps = append(nsps, n)
	}
	s.mu.Unlock()
	for _, n := range nsps {
		s.callOnNamespace(fn, n)
	}
}

// newNamespaceCreated runs the OnNamespace handlers for n, which was just
// created; it is called without s.mu held.
func (s *Server) newNamespaceCreated(n *Namespace, fns []func(*Namespace)) {
	for _, fn := range fns {
		s.callOnNamespace(fn, n)
	}
}

// OnRoomEvent adds a function called for every change of room membership
// on this node (create-room, delete-room, join-room, leave-room) that the
// namespace's in-memory adapter makes, the local part of cluster adapters
// included (upstream's adapter events). It is called outside locks, on the
// goroutine that changed the rooms.
func (n *Namespace) OnRoomEvent(fn func(AdapterEvent)) {
	n.mu.Lock()
	n.onRoom = append(n.onRoom, fn)
	n.hasOnRoom.Store(true)
	n.mu.Unlock()
}

func (n *Namespace) roomEvents(evs []AdapterEvent) {
	if !n.hasOnRoom.Load() || len(evs) == 0 {
		return
	}
	n.mu.RLock()
	fns := slices.Clone(n.onRoom)
	n.mu.RUnlock()
	for _, e := range evs {
		for _, fn := range fns {
			n.callRoomEvent(fn, e)
		}
	}
}

// OnSocketData adds a function called after SetData on one of the
// namespace's sockets (upstream's admin UI watches socket.data to send
// socket_updated). It is called on the goroutine that called SetData,
// outside locks.
func (n *Namespace) OnSocketData(fn func(*Socket)) {
	n.mu.Lock()
	n.onData = append(n.onData, fn)
	n.hasOnData.Store(true)
	n.mu.Unlock()
}

func (n *Namespace) socketData(s *Socket) {
	n.mu.RLock()
	fns := slices.Clone(n.onData)
	n.mu.RUnlock()
	for _, fn := range fns {
		func() {
			defer func() {
				if r := recover(); r != nil {
					logPanic(n.srv.log, r, "OnSocketData", s)
				}
			}()
			fn(s)
		}()
	}
}

// callRoomEvent calls an OnRoomEvent function; a panic is logged.
func (n *Namespace) callRoomEvent(fn func(AdapterEvent), e AdapterEvent) {
	defer func() {
		if r := recover(); r != nil {
			logPanic(n.srv.log, r, "OnRoomEvent", nil, "nsp", n.name, "event", e.Kind, "room", e.Room)
		}
	}()
	fn(e)
}

// callOnNamespace calls an OnNamespace function; a panic is logged.
func (s *Server) callOnNamespace(fn func(*Namespace), n *Namespace) {
	defer func() {
		if r := recover(); r != nil {
			logPanic(s.log, r, "OnNamespace", nil, "nsp", n.name)
		}
	}()
	fn(n)
}
