package server

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/engine"
	"github.com/gosio/socketio/sio/parser"
)

// Handshake describes how a socket connected.
type Handshake struct {
	// Headers of the request that opened the connection.
	Headers http.Header
	// Time the socket was created, and the same in milliseconds since the epoch (Issued).
	Time   time.Time
	Issued int64
	// Address is the client's IP address.
	Address string
	// XDomain reports whether the request had an Origin header.
	XDomain bool
	// Secure reports whether the connection is over TLS.
	Secure bool
	// URL is the request URI of the handshake.
	URL string
	// Query holds the handshake's query parameters.
	Query url.Values
	// Auth is the CONNECT payload, raw ({} when the client sent none).
	Auth json.RawMessage
}

// DecodeAuth decodes the auth payload into dst.
func (h *Handshake) DecodeAuth(dst any) error { return json.Unmarshal(h.Auth, dst) }

// Socket is a client's connection to one namespace. Its methods are safe
// for concurrent use.
type Socket struct {
	id        string
	pid       string // private session id, for connection state recovery
	recovered bool
	nsp       *Namespace
	conn      *conn
	handshake Handshake

	ctx    context.Context // ends at disconnect
	cancel context.CancelFunc

	// connected is set once the CONNECT packet is queued and cleared at
	// disconnection; nothing is sent to the socket while it is false.
	connected atomic.Bool
	// cleaned is set once the socket left its rooms for good: joining
	// then does nothing.
	cleaned atomic.Bool
	// wmu orders a namespace DISCONNECT packet after every packet sent to
	// the socket (writers hold it shared).
	wmu sync.RWMutex

	mu              sync.Mutex
	handlers        []eventHandler  // few: a scan costs less than a map's cache misses
	handlersBuf     [2]eventHandler // handlers' first, next to the lock
	anyHandlers     []anyHandler
	anyOutgoing     []anyHandler
	onDisconnect    []func(reason sio.Reason)
	onDisconnecting []func(reason sio.Reason)
	onError         []func(error)
	packetMWs       []PacketMiddleware
	data            any
	acks            map[uint64]*pendingAck
	nextAck         uint64
	nextAnyID       int
	hasOutgoing     atomic.Bool
}

type eventHandler struct {
	name string
	fn   func(*sio.Event)
}

type anyHandler struct {
	id int
	fn func(*sio.Event)
}

// PacketMiddleware sees every incoming event of a socket before its
// handler (after the catch-all handlers, as upstream); it may change the
// event. A non-nil error drops the event and is passed to the socket's
// OnError handlers.
type PacketMiddleware func(e *sio.Event) error

type pendingAck struct {
	fn    func(sio.Args, error)
	timer *time.Timer
}

func newSocket(n *Namespace, c *conn, auth json.RawMessage, sess *Session) *Socket {
	req := c.eng.Request()
	now := time.Now()
	ctx, cancel := context.WithCancel(context.Background())
	s := &Socket{
		nsp:  n,
		conn: c,
		handshake: Handshake{
			Headers: req.Header,
			Time:    now,
			Issued:  now.UnixMilli(),
			Address: req.RemoteAddr,
			XDomain: req.Header.Get("Origin") != "",
			Secure:  req.Secure,
			URL:     req.URL,
			Query:   req.Query,
			Auth:    auth,
		},
		ctx:    ctx,
		cancel: cancel,
		acks:   make(map[uint64]*pendingAck),
	}
	s.handlers = s.handlersBuf[:0]
	if sess != nil {
		s.id, s.pid, s.data, s.recovered = sess.SID, sess.PID, sess.Data, true
	} else {
		s.id = newSocketID()
		if n.srv.opts.ConnectionStateRecovery != nil {
			s.pid = newSocketID()
		}
	}
	return s
}

func newSocketID() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.URLEncoding.EncodeToString(b[:])
}

// ID returns the socket's id (also the name of its own room).
func (s *Socket) ID() string { return s.id }

// Recovered reports whether the socket is the continuation of a socket
// whose connection was lost: its id, rooms and data were restored and the
// events it missed were sent (connection state recovery).
func (s *Socket) Recovered() bool { return s.recovered }

// Namespace returns the socket's namespace.
func (s *Socket) Namespace() *Namespace { return s.nsp }

// Handshake returns the details of the connection.
func (s *Socket) Handshake() *Handshake { return &s.handshake }

// Context returns a context that ends when the socket disconnects.
func (s *Socket) Context() context.Context { return s.ctx }

// Connected reports whether the socket is connected.
func (s *Socket) Connected() bool { return s.connected.Load() }

// Transport returns the name of the connection's transport ("polling" or "websocket").
func (s *Socket) Transport() string { return s.conn.eng.Transport() }

// ConnID returns the id of the underlying Engine.IO connection.
func (s *Socket) ConnID() string { return s.conn.eng.ID() }

// Data returns the user data set with SetData.
func (s *Socket) Data() any {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.data
}

// SetData stores user data on the socket (upstream's socket.data). It is
// what FetchSockets shows and what connection state recovery restores.
func (s *Socket) SetData(v any) {
	s.mu.Lock()
	s.data = v
	s.mu.Unlock()
	if s.nsp.hasOnData.Load() {
		s.nsp.socketData(s)
	}
}

// On sets the handler of event (replacing any previous one). The handler
// runs on the connection's handler queue; e.Ack replies when the client
// asked for it.
func (s *Socket) On(event string, fn func(e *sio.Event)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range s.handlers {
		if s.handlers[i].name == event {
			s.handlers[i].fn = fn
			return
		}
	}
	s.handlers = append(s.handlers, eventHandler{event, fn})
}

// Off removes the handler of event.
func (s *Socket) Off(event string) {
	s.mu.Lock()
	s.handlers = slices.DeleteFunc(s.handlers, func(h eventHandler) bool { return h.name == event })
	s.mu.Unlock()
}

// OnDisconnect adds a handler called once with the reason when the socket
// disconnects, after it has left its rooms.
func (s *Socket) OnDisconnect(fn func(reason sio.Reason)) {
	s.mu.Lock()
	s.onDisconnect = append(s.onDisconnect, fn)
	s.mu.Unlock()
}

// OnDisconnecting adds a handler called when the socket is about to
// disconnect, while it is still in its rooms.
func (s *Socket) OnDisconnecting(fn func(reason sio.Reason)) {
	s.mu.Lock()
	s.onDisconnecting = append(s.onDisconnecting, fn)
	s.mu.Unlock()
}

// OnError adds a handler for errors of the socket: a packet middleware's
// refusal, and what ReportError reports (such as a typed event whose
// argument does not decode).
func (s *Socket) OnError(fn func(error)) {
	s.mu.Lock()
	s.onError = append(s.onError, fn)
	s.mu.Unlock()
}

// Use adds a packet middleware; they run in the order they were added.
func (s *Socket) Use(mw PacketMiddleware) {
	s.mu.Lock()
	s.packetMWs = append(s.packetMWs, mw)
	s.mu.Unlock()
}

// OnAny adds a catch-all handler, called for every incoming event before
// the packet middlewares and its own handler. It returns a function that
// removes it.
func (s *Socket) OnAny(fn func(e *sio.Event)) (remove func()) {
	return s.addAny(&s.anyHandlers, fn, false)
}

// PrependAny adds a catch-all handler that runs before the others.
func (s *Socket) PrependAny(fn func(e *sio.Event)) (remove func()) {
	return s.addAny(&s.anyHandlers, fn, true)
}

// OffAny removes every catch-all handler.
func (s *Socket) OffAny() {
	s.mu.Lock()
	s.anyHandlers = nil
	s.mu.Unlock()
}

// OnAnyOutgoing adds a handler called for every event sent to the socket,
// emitted on it or broadcast (e.Args holds the arguments as sent). It runs
// on the goroutine that emits; acknowledgements are not reported.
func (s *Socket) OnAnyOutgoing(fn func(e *sio.Event)) (remove func()) {
	return s.addAny(&s.anyOutgoing, fn, false)
}

// PrependAnyOutgoing adds an outgoing catch-all handler that runs first.
func (s *Socket) PrependAnyOutgoing(fn func(e *sio.Event)) (remove func()) {
	return s.addAny(&s.anyOutgoing, fn, true)
}

// OffAnyOutgoing removes every outgoing catch-all handler.
func (s *Socket) OffAnyOutgoing() {
	s.mu.Lock()
	s.anyOutgoing = nil
	s.hasOutgoing.Store(false)
	s.mu.Unlock()
}

func (s *Socket) addAny(list *[]anyHandler, fn func(*sio.Event), prepend bool) func() {
	s.mu.Lock()
	s.nextAnyID++
	h := anyHandler{id: s.nextAnyID, fn: fn}
	if prepend {
		*list = append([]anyHandler{h}, *list...)
	} else {
		*list = append(*list, h)
	}
	s.hasOutgoing.Store(len(s.anyOutgoing) > 0)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, x := range *list {
			if x.id == h.id {
				*list = append((*list)[:i:i], (*list)[i+1:]...)
				break
			}
		}
		s.hasOutgoing.Store(len(s.anyOutgoing) > 0)
	}
}

// Join adds the socket to rooms. It does nothing once the socket has left
// its rooms at disconnection.
func (s *Socket) Join(rooms ...Room) {
	if s.cleaned.Load() {
		return
	}
	s.nsp.adapter.AddAll(s.id, rooms...)
	if s.cleaned.Load() {
		// Disconnected meanwhile: do not leave the rooms behind.
		for _, r := range rooms {
			s.nsp.adapter.Del(s.id, r)
		}
	}
}

// Leave removes the socket from rooms.
func (s *Socket) Leave(rooms ...Room) {
	for _, r := range rooms {
		s.nsp.adapter.Del(s.id, r)
	}
}

// Rooms returns the rooms the socket is in, sorted (its own id included).
func (s *Socket) Rooms() []Room {
	r := s.nsp.adapter.SocketRooms(s.id)
	sort.Strings(r)
	return r
}

// Emit sends an event to this socket. With connection state recovery on,
// it goes through the adapter like a broadcast to the socket's own room, so
// that it is kept for a reconnection (upstream does the same).
func (s *Socket) Emit(event string, args ...any) error {
	return s.emit(event, args, false)
}

func (s *Socket) emit(event string, args []any, volatile bool) error {
	p, err := s.eventPacket(event, args)
	if err != nil {
		return err
	}
	if s.nsp.srv.opts.ConnectionStateRecovery != nil {
		return s.nsp.adapter.Broadcast(p, &BroadcastOptions{Rooms: []Room{s.id}, Volatile: volatile})
	}
	s.notifyOutgoing(p)
	if !s.deliver(encodeFrames(s.nsp.srv.parser, p), volatile) && !volatile {
		return sio.ErrDisconnected
	}
	return nil
}

// deliver sends the frames of a packet to the socket unless it is
// disconnected; it reports whether they were sent.
func (s *Socket) deliver(frames []engine.Frame, volatile bool) bool {
	s.wmu.RLock()
	defer s.wmu.RUnlock()
	if !s.connected.Load() {
		return false
	}
	return s.conn.write(frames, volatile)
}

func (s *Socket) eventPacket(event string, args []any) (*parser.Packet, error) {
	if sio.IsReserved(event) {
		return nil, fmt.Errorf("%w: %q", sio.ErrReservedEvent, event)
	}
	if !s.Connected() {
		return nil, sio.ErrDisconnected
	}
	return newEventPacket(s.nsp.name, event, args)
}

func newEventPacket(nsp, event string, args []any) (*parser.Packet, error) {
	data, atts, err := parser.AppendEvent(nil, event, args)
	if err != nil {
		return nil, fmt.Errorf("sio: encode %q: %w", event, err)
	}
	p := &parser.Packet{Type: parser.Event, Namespace: nsp, Data: data, Attachments: atts}
	if len(atts) > 0 {
		p.Type = parser.BinaryEvent
	}
	return p, nil
}

// notifyOutgoing calls the outgoing catch-all handlers with the event of p.
func (s *Socket) notifyOutgoing(p *parser.Packet) {
	if !s.hasOutgoing.Load() {
		return
	}
	s.mu.Lock()
	hs := slices.Clone(s.anyOutgoing)
	s.mu.Unlock()
	if len(hs) == 0 {
		return
	}
	name, args, err := p.Event()
	if err != nil {
		return
	}
	e := &sio.Event{Name: name, Args: args}
	for _, h := range hs {
		s.callOutgoing(h.fn, e)
	}
}

// EmitWithAck sends an event and waits for the client's acknowledgement,
// until ctx ends (the error then wraps sio.ErrAckTimeout and ctx.Err()),
// the Timeout of the emitter elapses, or the socket disconnects
// (sio.ErrDisconnected). With neither a deadline on ctx nor a Timeout,
// the server's Options.AckTimeout bounds it; when that is zero too (the
// default) it waits as long as the socket stays connected: a client that
// never acknowledges holds the caller until it disconnects.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (sio.Args, error) {
	return s.emitWithAck(ctx, 0, event, args)
}

// EmitWithAckFunc sends an event and calls fn with the acknowledgement,
// or with an error when the socket disconnects first (or the emitter's
// Timeout, else the server's Options.AckTimeout, elapses). fn runs on the
// connection's handler queue.
func (s *Socket) EmitWithAckFunc(event string, fn func(sio.Args, error), args ...any) error {
	return s.emitWithCallback(0, fn, event, args)
}

// Timeout returns an emitter whose acknowledgements time out after d
// (with an error wrapping sio.ErrAckTimeout).
func (s *Socket) Timeout(d time.Duration) *SocketEmitter { return &SocketEmitter{s: s, timeout: d} }

// Volatile returns an emitter whose events are dropped when the transport
// cannot take them right now (upstream's socket.volatile).
func (s *Socket) Volatile() *SocketEmitter { return &SocketEmitter{s: s, volatile: true} }

// SocketEmitter emits on a socket with flags: an acknowledgement timeout,
// volatile.
type SocketEmitter struct {
	s        *Socket
	timeout  time.Duration
	volatile bool
}

// Timeout returns a copy of the emitter with the acknowledgement timeout d.
func (e *SocketEmitter) Timeout(d time.Duration) *SocketEmitter {
	c := *e
	c.timeout = d
	return &c
}

// Volatile returns a copy of the emitter whose events are volatile.
func (e *SocketEmitter) Volatile() *SocketEmitter {
	c := *e
	c.volatile = true
	return &c
}

// Emit is Socket.Emit with the emitter's flags.
func (e *SocketEmitter) Emit(event string, args ...any) error {
	return e.s.emit(event, args, e.volatile)
}

// EmitWithAck is Socket.EmitWithAck with the emitter's timeout.
func (e *SocketEmitter) EmitWithAck(ctx context.Context, event string, args ...any) (sio.Args, error) {
	return e.s.emitWithAck(ctx, e.timeout, event, args)
}

// EmitWithAckFunc is Socket.EmitWithAckFunc with the emitter's timeout.
func (e *SocketEmitter) EmitWithAckFunc(event string, fn func(sio.Args, error), args ...any) error {
	return e.s.emitWithCallback(e.timeout, fn, event, args)
}

func (s *Socket) emitWithAck(ctx context.Context, timeout time.Duration, event string, args []any) (sio.Args, error) {
	type result struct {
		args sio.Args
		err  error
	}
	ch := make(chan result, 1)
	p, err := s.eventPacket(event, args)
	if err != nil {
		return nil, err
	}
	if _, ok := ctx.Deadline(); timeout <= 0 && !ok {
		timeout = s.nsp.srv.opts.AckTimeout
	}
	id := s.registerAck(func(a sio.Args, err error) { ch <- result{a, err} }, timeout)
	p.ID, p.HasID = id, true
	s.notifyOutgoing(p)
	if !s.deliver(encodeFrames(s.nsp.srv.parser, p), false) {
		s.cancelAck(id)
		return nil, sio.ErrDisconnected
	}
	select {
	case r := <-ch:
		return r.args, r.err
	case <-ctx.Done():
		s.cancelAck(id)
		return nil, fmt.Errorf("%w: %w", sio.ErrAckTimeout, ctx.Err())
	}
}

func (s *Socket) emitWithCallback(timeout time.Duration, fn func(sio.Args, error), event string, args []any) error {
	p, err := s.eventPacket(event, args)
	if err != nil {
		return err
	}
	if timeout <= 0 {
		timeout = s.nsp.srv.opts.AckTimeout
	}
	id := s.registerAck(func(a sio.Args, err error) {
		s.conn.schedule(s, func() {
			defer s.nsp.srv.recoverHandler(s, "acknowledgement callback")
			fn(a, err)
		})
	}, timeout)
	p.ID, p.HasID = id, true
	s.notifyOutgoing(p)
	if !s.deliver(encodeFrames(s.nsp.srv.parser, p), false) {
		s.cancelAck(id)
		return sio.ErrDisconnected
	}
	return nil
}

// registerAck stores fn under a new ack id. fn is called once: with the
// reply, with sio.ErrAckTimeout after timeout (if positive), or with
// sio.ErrDisconnected.
func (s *Socket) registerAck(fn func(sio.Args, error), timeout time.Duration) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextAck
	s.nextAck++
	pa := &pendingAck{fn: fn}
	if timeout > 0 {
		pa.timer = time.AfterFunc(timeout, func() {
			if p := s.takeAck(id); p != nil {
				p.fn(nil, fmt.Errorf("%w after %v", sio.ErrAckTimeout, timeout))
			}
		})
	}
	s.acks[id] = pa
	return id
}

func (s *Socket) takeAck(id uint64) *pendingAck {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.acks[id]
	if p != nil {
		delete(s.acks, id)
		if p.timer != nil {
			p.timer.Stop()
		}
	}
	return p
}

func (s *Socket) cancelAck(id uint64) { s.takeAck(id) }

// Disconnect disconnects the socket from its namespace: the client gets a
// DISCONNECT packet and the reason is "server namespace disconnect"; the
// other namespaces of the connection stay connected. It does nothing when
// the socket is not connected.
func (s *Socket) Disconnect() {
	if !s.Connected() {
		return
	}
	s.onClose(sio.ReasonServerNamespaceDisconnect, true)
}

// CloseConnection disconnects every namespace of the socket's connection
// as Disconnect does, then closes the connection (upstream's
// socket.disconnect(true)). It does nothing when the socket is not
// connected.
func (s *Socket) CloseConnection() {
	if !s.Connected() {
		return
	}
	s.conn.disconnectAll()
}

// onPacket handles a packet of this socket's namespace (read path).
func (s *Socket) onPacket(p *parser.Packet) {
	switch p.Type {
	case parser.Event, parser.BinaryEvent:
		name, args, err := p.Event()
		if err != nil {
			return
		}
		var e *sio.Event
		if p.HasID {
			a := &eventAck{Event: sio.Event{Name: name, Args: args}, s: s, id: p.ID}
			a.AckFunc = a.ack
			e = &a.Event
		} else {
			e = &sio.Event{Name: name, Args: args}
		}
		s.conn.enqueue(task{s: s, e: e})
	case parser.Ack, parser.BinaryAck:
		pa := s.takeAck(p.ID)
		if pa == nil {
			return
		}
		args, err := p.Args()
		pa.fn(args, err)
	case parser.Disconnect:
		s.onClose(sio.ReasonClientNamespaceDisconnect, false)
	}
}

// eventAck is an event that asked for an acknowledgement, with what sends
// it (one allocation for both).
type eventAck struct {
	sio.Event
	s    *Socket
	id   uint64
	sent atomic.Bool
	// frame and buf hold the acknowledgement, sent once, which the engine
	// owns afterwards: a usual one is encoded in buf, with no allocation
	// of its own (the event and its acknowledgement are one).
	frame [1]engine.Frame
	buf   [ackInline]byte
}

// ackInline is the room an eventAck has for its acknowledgement: a short
// reply fits.
const ackInline = 128

// ack sends the acknowledgement, once. Without attachments (the usual
// case) the frame is the packet's header then the arguments, encoded in
// one buffer that the engine then owns; with attachments the header counts
// them, and is made again.
func (a *eventAck) ack(args ...any) error {
	if !a.sent.CompareAndSwap(false, true) {
		return sio.ErrAckSent
	}
	s := a.s
	p := parser.Packet{Type: parser.Ack, Namespace: s.nsp.name, ID: a.id, HasID: true}
	buf := parser.AppendPacket(append(a.buf[:0], '4'), &p)
	head := len(buf)
	buf, atts, err := parser.AppendArgs(buf, args)
	if err != nil {
		return fmt.Errorf("sio: encode ack: %w", err)
	}
	a.frame[0] = engine.Frame{Data: buf}
	frames := a.frame[:]
	if srv := s.nsp.srv; len(atts) > 0 || !srv.textWire {
		// A copy, which escapes (an interface call) on this path alone.
		q := p
		q.Data, q.Attachments = buf[head:], atts
		if len(atts) > 0 {
			q.Type = parser.BinaryAck
		}
		frames = encodeFrames(srv.parser, &q)
	}
	if !s.deliver(frames, false) {
		return sio.ErrDisconnected
	}
	return nil
}

// dispatch runs the catch-all handlers, the packet middlewares and the
// event's handler (on the connection's queue), in upstream's order. An
// event is dropped once the socket is disconnected.
func (s *Socket) dispatch(e *sio.Event) {
	if !s.Connected() {
		return
	}
	s.mu.Lock()
	mws := slices.Clone(s.packetMWs)
	anys := slices.Clone(s.anyHandlers)
	h := s.handler(e.Name) // as it is now, when nothing runs before it
	s.mu.Unlock()
	if len(anys) > 0 || len(mws) > 0 {
		for _, a := range anys {
			a.fn(e)
		}
		for _, mw := range mws {
			if err := mw(e); err != nil {
				s.mu.Lock()
				ehs := slices.Clone(s.onError)
				s.mu.Unlock()
				for _, eh := range ehs {
					eh(err)
				}
				return
			}
		}
		if !s.Connected() {
			return
		}
		s.mu.Lock()
		h = s.handler(e.Name) // the middlewares may have changed the event
		s.mu.Unlock()
	}
	if h != nil {
		h(e)
	}
}

// handler returns the handler of event, or nil; s.mu.
func (s *Socket) handler(event string) func(*sio.Event) {
	for i := range s.handlers {
		if s.handlers[i].name == event {
			return s.handlers[i].fn
		}
	}
	return nil
}

// recoverableReasons are the disconnect reasons after which the state of a
// socket is kept for connection state recovery (upstream's
// RECOVERABLE_DISCONNECT_REASONS).
func recoverable(reason sio.Reason) bool {
	switch reason {
	case sio.ReasonTransportError, sio.ReasonTransportClose, sio.ReasonForcedClose,
		sio.ReasonPingTimeout, sio.ReasonServerShuttingDown, sio.ReasonForcedServerClose:
		return true
	}
	return false
}

// onClose disconnects the socket once: with sendDisconnect the client gets
// a DISCONNECT packet (after everything sent to the socket before); the
// context ends and pending acks fail at once; then, on the connection's
// queue, disconnecting handlers run, the state is kept for a reconnection
// when recovery is on and the reason allows it, the socket leaves its rooms
// and the namespace, and disconnect handlers run.
func (s *Socket) onClose(reason sio.Reason, sendDisconnect bool) {
	if sendDisconnect {
		s.wmu.Lock()
		if !s.connected.CompareAndSwap(true, false) {
			s.wmu.Unlock()
			return
		}
		// Forgotten before the client can have the DISCONNECT: a CONNECT
		// it sends at once is then a new socket, not a second CONNECT.
		s.conn.removeSocket(s)
		s.conn.writePacket(&parser.Packet{Type: parser.Disconnect, Namespace: s.nsp.name})
		s.wmu.Unlock()
	} else if !s.connected.CompareAndSwap(true, false) {
		return
	} else {
		s.conn.removeSocket(s)
	}
	s.cancel()
	s.mu.Lock()
	acks := s.acks
	s.acks = make(map[uint64]*pendingAck)
	s.mu.Unlock()
	for _, pa := range acks {
		if pa.timer != nil {
			pa.timer.Stop()
		}
		pa.fn(nil, fmt.Errorf("%w: %s", sio.ErrDisconnected, reason))
	}
	s.conn.schedule(s, func() { s.finishClose(reason) })
}

func (s *Socket) finishClose(reason sio.Reason) {
	s.mu.Lock()
	ding := slices.Clone(s.onDisconnecting)
	s.mu.Unlock()
	for _, h := range ding {
		s.callReasonHandler(h, reason, "disconnecting handler")
	}
	var sess *Session
	if s.nsp.srv.opts.ConnectionStateRecovery != nil && s.pid != "" && recoverable(reason) {
		sess = &Session{SID: s.id, PID: s.pid, Rooms: s.Rooms(), Data: s.Data()}
	}
	s.cleaned.Store(true)
	s.nsp.adapter.DelAll(s.id)
	s.nsp.remove(s)
	if sess != nil {
		if err := s.nsp.adapter.PersistSession(s.nsp.srv.ctx, sess); err != nil {
			s.nsp.srv.log.Warn("sio: persisting the session failed", "nsp", s.nsp.name, "sid", s.id, "err", err)
		}
	}
	s.mu.Lock()
	dis := slices.Clone(s.onDisconnect)
	s.mu.Unlock()
	for _, h := range dis {
		s.callReasonHandler(h, reason, "disconnect handler")
	}
}
