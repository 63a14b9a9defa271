package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/internal/errs"
	"github.com/gosio/socketio/sio/internal/jsonx"
	"github.com/gosio/socketio/sio/internal/ordered"
	"github.com/gosio/socketio/sio/internal/sortx"
	"github.com/gosio/socketio/sio/parser"
)

// Socket is the client side of one namespace, like the official client's
// Socket. It is safe for concurrent use.
//
// Handlers — OnConnect, OnConnectError, OnDisconnect, On, OnAny,
// OnAnyOutgoing and the callbacks of EmitWithAckFunc — run on a goroutine of
// the socket's, one at a time, in the order the events happened (for
// received events: the order the server sent them). So they never race with
// each other, and a handler that blocks delays the following ones but not
// the connection: packets, pings and acknowledgements keep being processed.
// In particular a handler may call EmitWithAck and wait for the answer.
// Handlers registered while an event is being dispatched see the events
// after it.
type Socket struct {
	m    *Manager
	nsp  string
	opts SocketOptions
	exec ordered.Queue[ordered.Func]

	hmu sync.Mutex
	h   socketHandlers

	// guarded by m.mu
	active     bool // subscribed to the manager: wants to be connected
	connecting bool // CONNECT sent (or AuthFunc running) on the current connection
	connected  bool
	recovered  bool
	id         string
	pid        string // private session id, when the server offers recovery
	offset     string // offset of the last event received, for recovery
	hasOffset  bool
	ids        uint64
	acks       map[uint64]*pendingAck
	sendBuf    []*outgoing
	recvBuf    []*sio.Event
	queue      []*queued
	waiters    []chan error
	authCancel context.CancelFunc
	ctx        context.Context // see Context; nil until asked for
	cancelCtx  context.CancelFunc
	stopped    bool // stopped for good since the last Connect or Open
}

type socketHandlers struct {
	connect      []func()
	connectError []func(error)
	disconnect   []func(sio.Reason)
	events       map[string]func(*sio.Event)
	any          []*eventHandler
	outgoing     []*eventHandler
	errors       []func(error)
}

// outgoing is an encoded event waiting to be sent.
type outgoing struct {
	name  string
	args  []any
	data  []byte
	atts  [][]byte
	id    uint64
	hasID bool
}

func (o *outgoing) packet(nsp string) *parser.Packet {
	p := &parser.Packet{Type: parser.Event, Namespace: nsp, ID: o.id, HasID: o.hasID, Data: o.data, Attachments: o.atts}
	if len(o.atts) > 0 {
		p.Type = parser.BinaryEvent
	}
	return p
}

// pendingAck is an acknowledgement awaited from the server.
type pendingAck struct {
	timer *time.Timer
	// withError: fail it when the connection is lost.
	withError bool
	// fn receives the outcome, under the manager's lock: it must not block.
	fn func(sio.Args, error)
}

// emitReq is one emit, encoded.
type emitReq struct {
	out        outgoing
	volatile   bool
	timeout    time.Duration
	hasTimeout bool
	ack        func(sio.Args, error) // nil: no acknowledgement requested
	withError  bool
}

// queued is an emit in the retry queue (SocketOptions.Retries).
type queued struct {
	req     emitReq
	tries   int
	pending bool
	ackID   uint64 // acknowledgement of the last try
	hasAck  bool
	result  func(sio.Args, error) // the caller's acknowledgement, or nil
}

func newSocket(m *Manager, nsp string, opts *SocketOptions) *Socket {
	s := &Socket{m: m, nsp: nsp, acks: make(map[uint64]*pendingAck), exec: ordered.Queue[ordered.Func]{OnPanic: handlerPanicked(m.cfg.log)}}
	s.opts = m.cfg.sock
	if opts != nil {
		s.opts = *opts
		if opts.Auth == nil && opts.AuthFunc == nil {
			s.opts.Auth, s.opts.AuthFunc = m.cfg.sock.Auth, m.cfg.sock.AuthFunc
		}
	}
	return s
}

// Namespace returns the socket's namespace, such as "/" or "/admin".
func (s *Socket) Namespace() string { return s.nsp }

// Manager returns the Manager the socket belongs to.
func (s *Socket) Manager() *Manager { return s.m }

// ID returns the socket's id given by the server, or "" while disconnected.
func (s *Socket) ID() string {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return s.id
}

// Connected reports whether the socket is connected to its namespace.
func (s *Socket) Connected() bool {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return s.connected
}

// Active reports whether the socket wants to be connected: it is connected
// or will be (automatic reconnection). It is false before Connect or Open,
// after Disconnect, and after the server disconnected or refused it.
func (s *Socket) Active() bool {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return s.active
}

// Recovered reports whether the last connection restored the previous
// session (connection state recovery): same id, rooms kept and the missed
// events delivered.
func (s *Socket) Recovered() bool {
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	return s.recovered
}

// OnConnect registers h, called at every (re)connection to the namespace.
func (s *Socket) OnConnect(h func()) { addHandler(&s.hmu, &s.h.connect, h) }

// OnConnectError registers h, called when a connection attempt fails. A
// refusal by the server is a *ConnectError (no reconnection follows); other
// errors are transport failures (the manager keeps reconnecting).
func (s *Socket) OnConnectError(h func(error)) { addHandler(&s.hmu, &s.h.connectError, h) }

// OnDisconnect registers h, called with the reason (sio.ReasonTransportClose,
// sio.ReasonServerDisconnect, ...) when a connected socket disconnects.
func (s *Socket) OnDisconnect(h func(reason sio.Reason)) { addHandler(&s.hmu, &s.h.disconnect, h) }

// On sets the handler of the event name, replacing any previous one (as
// the server's Socket.On does). It runs after the OnAny handlers.
func (s *Socket) On(event string, h func(*sio.Event)) {
	s.hmu.Lock()
	defer s.hmu.Unlock()
	if s.h.events == nil {
		s.h.events = make(map[string]func(*sio.Event))
	}
	s.h.events[event] = h
}

// Off removes the handler of the event name.
func (s *Socket) Off(event string) {
	s.hmu.Lock()
	defer s.hmu.Unlock()
	delete(s.h.events, event)
}

// eventHandler is a catch-all handler; its address identifies it for
// removal.
type eventHandler struct{ fn func(*sio.Event) }

// OnAny adds h, called for every received event before its own handler.
// It returns a function that removes it.
func (s *Socket) OnAny(h func(*sio.Event)) (remove func()) { return s.addAny(&s.h.any, h) }

// addAny adds h to list and returns its remover.
func (s *Socket) addAny(list *[]*eventHandler, h func(*sio.Event)) func() {
	e := &eventHandler{h}
	addHandler(&s.hmu, list, e)
	return func() {
		s.hmu.Lock()
		defer s.hmu.Unlock()
		*list = slices.DeleteFunc(*list, func(x *eventHandler) bool { return x == e })
	}
}

// OffAny removes every OnAny handler.
func (s *Socket) OffAny() {
	s.hmu.Lock()
	s.h.any = nil
	s.hmu.Unlock()
}

// OnAnyOutgoing adds h, called with every event sent (when it is actually
// written to the connection, so a buffered emit is reported after the
// reconnection); e.Args holds the arguments as sent. It returns a function
// that removes it.
func (s *Socket) OnAnyOutgoing(h func(e *sio.Event)) (remove func()) {
	return s.addAny(&s.h.outgoing, h)
}

// OffAnyOutgoing removes every OnAnyOutgoing handler.
func (s *Socket) OffAnyOutgoing() {
	s.hmu.Lock()
	s.h.outgoing = nil
	s.hmu.Unlock()
}

// dispatch runs the handlers of one socket event on the socket's executor.
func dispatch[T any](s *Socket, list *[]T, call func(T)) {
	s.exec.Post(func() {
		s.hmu.Lock()
		hs := append([]T(nil), *list...)
		s.hmu.Unlock()
		for _, h := range hs {
			call(h)
		}
	})
}

// Connect connects the socket (opening the manager's connection if needed)
// and waits until the server accepted it. On failure — the server's refusal
// (*ConnectError), a transport error, or ctx done — the socket is
// disconnected and will not retry. After a successful Connect, automatic
// reconnection applies as with Open.
//
// Events the server emits at once on connection may be dispatched before
// Connect returns: register their handlers before calling it.
func (s *Socket) Connect(ctx context.Context) error {
	m := s.m
	m.mu.Lock()
	if s.connected {
		m.mu.Unlock()
		return nil
	}
	ch := make(chan error, 1)
	s.waiters = append(s.waiters, ch)
	s.connectLocked()
	m.mu.Unlock()
	select {
	case err := <-ch:
		if err == nil {
			return nil
		}
		s.Disconnect()
		return err
	case <-ctx.Done():
	}
	m.mu.Lock()
	s.waiters = slices.DeleteFunc(s.waiters, func(c chan error) bool { return c == ch })
	m.mu.Unlock()
	select {
	case err := <-ch:
		if err == nil {
			return nil
		}
	default:
	}
	s.Disconnect()
	return errs.Wrap("client: connect "+s.nsp+": "+context.Cause(ctx).Error(), context.Cause(ctx))
}

// Open starts connecting the socket and returns at once, like connect() in
// the official client: the outcome is reported to OnConnect and
// OnConnectError, and the manager keeps trying (see Options) until the
// socket connects, the server refuses it or Disconnect is called.
func (s *Socket) Open() {
	s.m.mu.Lock()
	s.connectLocked()
	s.m.mu.Unlock()
}

func (s *Socket) connectLocked() {
	if s.connected {
		return
	}
	s.active, s.stopped = true, false
	m := s.m
	if !m.reconnecting {
		m.openLocked(nil)
	}
	if m.state == managerOpen {
		s.onopenLocked()
	}
}

// Disconnect disconnects the socket from its namespace; it does not
// reconnect. When it was the last active socket of its manager, the
// connection is closed: Disconnect then returns once the packets already
// queued are flushed (for at most a few seconds) and the connection's
// goroutines have ended. Pending acknowledgements fail with
// sio.ErrDisconnected.
func (s *Socket) Disconnect() {
	m := s.m
	m.mu.Lock()
	wasConnected := s.connected
	if wasConnected {
		_ = m.packetLocked(&parser.Packet{Type: parser.Disconnect, Namespace: s.nsp})
	}
	closed := s.destroyLocked()
	if wasConnected {
		s.oncloseLocked(sio.ReasonClientDisconnect)
	}
	s.failWaitersLocked(errs.Wrap("client: socket disconnected by the client: "+sio.ErrDisconnected.Error(), sio.ErrDisconnected))
	var engines []*engine
	if closed {
		engines = m.enginesLocked()
	}
	m.mu.Unlock()
	waitEngines(engines)
}

// destroyLocked unsubscribes the socket from the manager, which closes the
// connection if no other socket is active; it reports whether it did.
func (s *Socket) destroyLocked() bool {
	if !s.active {
		return false
	}
	s.active, s.connecting = false, false
	s.cancelAuthLocked()
	s.stopped = true
	if s.cancelCtx != nil {
		s.cancelCtx()
		s.ctx, s.cancelCtx = nil, nil
	}
	return s.m.destroyLocked()
}

func (s *Socket) cancelAuthLocked() {
	if s.authCancel != nil {
		s.authCancel()
		s.authCancel = nil
	}
}

func (s *Socket) failWaitersLocked(err error) {
	for _, ch := range s.waiters {
		ch <- err
	}
	s.waiters = nil
}

// onopenLocked sends the CONNECT packet once the manager's connection is
// open.
func (s *Socket) onopenLocked() {
	if s.connecting {
		return
	}
	s.connecting = true
	if s.opts.AuthFunc == nil {
		s.sendConnectLocked(s.opts.Auth)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.authCancel = cancel
	e, f := s.m.engine, s.opts.AuthFunc
	// Owned by the socket: cancelled by cancelAuthLocked when the attempt
	// is abandoned.
	go func() {
		auth, err := f(ctx)
		m := s.m
		m.mu.Lock()
		defer m.mu.Unlock()
		defer cancel()
		if ctx.Err() != nil || m.engine != e || !s.active {
			return
		}
		s.authCancel = nil
		if err != nil {
			s.destroyLocked()
			s.connectErrorLocked(errs.Wrap("client: auth: "+err.Error(), err))
			return
		}
		s.sendConnectLocked(auth)
	}()
}

func (s *Socket) sendConnectLocked(auth any) {
	data, err := s.connectPayload(auth)
	if err == nil {
		err = s.m.packetLocked(&parser.Packet{Type: parser.Connect, Namespace: s.nsp, Data: data})
	}
	if err != nil {
		s.destroyLocked()
		s.connectErrorLocked(err)
	}
}

// connectPayload returns the JSON of the CONNECT packet: auth, plus pid and
// offset when the server offered connection state recovery.
func (s *Socket) connectPayload(auth any) ([]byte, error) {
	var fields map[string]json.RawMessage
	if auth != nil {
		b, err := jsonx.Marshal(auth)
		if err != nil {
			return nil, errs.Wrap("client: auth: "+err.Error(), err)
		}
		if string(b) != "null" {
			if err := jsonx.Unmarshal(b, &fields); err != nil || fields == nil {
				return nil, errors.New("client: auth must be a JSON object, got " + errs.Trunc(string(b), 40))
			}
			if s.pid == "" {
				return b, nil
			}
		}
	}
	if s.pid == "" {
		return nil, nil
	}
	if fields == nil {
		fields = make(map[string]json.RawMessage, 2)
	}
	if _, ok := fields["pid"]; !ok {
		fields["pid"], _ = jsonx.Marshal(s.pid)
	}
	if _, ok := fields["offset"]; !ok && s.hasOffset {
		fields["offset"], _ = jsonx.Marshal(s.offset)
	}
	return jsonx.Marshal(fields)
}

// connectErrorLocked reports a failed connection attempt.
func (s *Socket) connectErrorLocked(err error) {
	s.failWaitersLocked(err)
	dispatch(s, &s.h.connectError, func(h func(error)) { h(err) })
}

// oncloseLocked handles the loss of the connection or of the namespace.
func (s *Socket) oncloseLocked(reason sio.Reason) {
	wasConnected := s.connected
	s.connected, s.connecting, s.id = false, false, ""
	s.cancelAuthLocked()
	if wasConnected {
		dispatch(s, &s.h.disconnect, func(h func(sio.Reason)) { h(reason) })
	}
	s.clearAcksLocked(reason)
}

// clearAcksLocked fails the acknowledgements that cannot come any more: those
// of packets sent on the lost connection (buffered ones are still to be
// sent).
func (s *Socket) clearAcksLocked(reason sio.Reason) {
	ids := make([]uint64, 0, len(s.acks))
	for id := range s.acks {
		ids = append(ids, id)
	}
	sortx.Func(len(ids), func(i, j int) bool { return ids[i] < ids[j] }, func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	for _, id := range ids {
		a := s.acks[id]
		if !a.withError || slices.ContainsFunc(s.sendBuf, func(o *outgoing) bool { return o.hasID && o.id == id }) {
			continue
		}
		delete(s.acks, id)
		if a.timer != nil {
			a.timer.Stop()
		}
		a.fn(nil, errs.Wrap("client: "+string(reason)+": "+sio.ErrDisconnected.Error(), sio.ErrDisconnected))
	}
}

func (s *Socket) onpacketLocked(pkt *parser.Packet) {
	switch pkt.Type {
	case parser.Connect:
		var d struct {
			SID string `json:"sid"`
			PID string `json:"pid"`
		}
		if jsonx.Unmarshal(pkt.Data, &d) != nil || d.SID == "" {
			s.connectErrorLocked(errors.New("client: invalid CONNECT packet: the server does not speak Socket.IO v5"))
			return
		}
		s.onconnectLocked(d.SID, d.PID)
	case parser.Event, parser.BinaryEvent:
		s.oneventLocked(pkt)
	case parser.Ack, parser.BinaryAck:
		s.onackLocked(pkt)
	case parser.Disconnect:
		s.destroyLocked()
		s.oncloseLocked(sio.ReasonServerDisconnect)
		s.failWaitersLocked(errs.Wrap("client: socket disconnected by the server: "+sio.ErrDisconnected.Error(), sio.ErrDisconnected))
	case parser.ConnectError:
		var d struct {
			Message string          `json:"message"`
			Data    json.RawMessage `json:"data"`
		}
		if jsonx.Unmarshal(pkt.Data, &d) != nil {
			d.Message = string(pkt.Data)
		}
		s.destroyLocked()
		s.connectErrorLocked(&ConnectError{Message: d.Message, Data: d.Data})
	}
}

func (s *Socket) onconnectLocked(sid, pid string) {
	s.id = sid
	s.recovered = pid != "" && s.pid == pid
	s.pid = pid
	s.connected, s.connecting = true, false
	for _, ev := range s.recvBuf {
		s.dispatchEventLocked(ev)
	}
	s.recvBuf = nil
	buf := s.sendBuf
	s.sendBuf = nil
	for _, o := range buf {
		if err := s.sendLocked(o); err != nil {
			s.m.cfg.log.Warn("socket.io client: buffered packet dropped", "event", o.name, "err", err)
			if o.hasID {
				s.resolveAckLocked(o.id, nil, err)
			}
		}
	}
	s.drainQueueLocked(true)
	dispatch(s, &s.h.connect, func(h func()) { h() })
	s.failWaitersLocked(nil)
}

func (s *Socket) oneventLocked(pkt *parser.Packet) {
	name, args, err := pkt.Event()
	if err != nil {
		s.m.cfg.log.Debug("socket.io client: invalid event", "err", err)
		return
	}
	ev := &sio.Event{Name: name, Args: sio.Args(args)}
	if pkt.HasID {
		ev.AckFunc = s.ackFunc(pkt.ID)
	}
	if s.connected {
		s.dispatchEventLocked(ev)
	} else {
		s.recvBuf = append(s.recvBuf, ev)
	}
}

func (s *Socket) dispatchEventLocked(ev *sio.Event) {
	if s.pid != "" && len(ev.Args) > 0 {
		var off string
		if jsonx.Unmarshal(ev.Args[len(ev.Args)-1].Raw, &off) == nil {
			s.offset, s.hasOffset = off, true
		}
	}
	s.exec.Post(func() {
		s.hmu.Lock()
		anys := slices.Clone(s.h.any)
		h := s.h.events[ev.Name]
		s.hmu.Unlock()
		for _, a := range anys {
			a.fn(ev)
		}
		if h != nil {
			h(ev)
		}
	})
}

// ackFunc returns the function sending the acknowledgement id.
func (s *Socket) ackFunc(id uint64) func(args ...any) error {
	var sent atomic.Bool
	return func(args ...any) error {
		data, atts, err := parser.AppendArgs(nil, args)
		if err != nil {
			return errs.Wrap("client: ack: "+err.Error(), err)
		}
		for i, a := range atts {
			atts[i] = bytes.Clone(a)
		}
		if !sent.CompareAndSwap(false, true) {
			return sio.ErrAckSent
		}
		p := &parser.Packet{Type: parser.Ack, Namespace: s.nsp, ID: id, HasID: true, Data: data, Attachments: atts}
		if len(atts) > 0 {
			p.Type = parser.BinaryAck
		}
		s.m.mu.Lock()
		defer s.m.mu.Unlock()
		if err := s.m.packetLocked(p); err != nil {
			if errors.Is(err, sio.ErrPayloadTooLarge) {
				sent.Store(false)
			}
			return err
		}
		return nil
	}
}

func (s *Socket) onackLocked(pkt *parser.Packet) {
	if !pkt.HasID {
		return
	}
	args, err := pkt.Args()
	if err != nil {
		err = errs.Wrap("client: invalid acknowledgement: "+err.Error(), err)
	}
	s.resolveAckLocked(pkt.ID, sio.Args(args), err)
}

func (s *Socket) resolveAckLocked(id uint64, args sio.Args, err error) {
	a := s.acks[id]
	if a == nil {
		return
	}
	delete(s.acks, id)
	if a.timer != nil {
		a.timer.Stop()
	}
	a.fn(args, err)
}

// Emitter emits events with options; get one from Socket.Volatile or
// Socket.Timeout. The zero value is not usable.
type Emitter struct {
	s          *Socket
	volatile   bool
	timeout    time.Duration
	hasTimeout bool
}

// Volatile returns an Emitter whose events are dropped instead of buffered
// while the socket is not connected.
func (s *Socket) Volatile() *Emitter { return &Emitter{s: s, volatile: true} }

// Timeout returns an Emitter whose acknowledgements fail with
// sio.ErrAckTimeout when they do not arrive within d.
func (s *Socket) Timeout(d time.Duration) *Emitter {
	return &Emitter{s: s, timeout: d, hasTimeout: true}
}

// Volatile returns a copy of e that drops its events while the socket is not
// connected.
func (e *Emitter) Volatile() *Emitter { c := *e; c.volatile = true; return &c }

// Timeout returns a copy of e with the acknowledgement timeout d.
func (e *Emitter) Timeout(d time.Duration) *Emitter {
	c := *e
	c.timeout, c.hasTimeout = d, true
	return &c
}

// Emit emits event with args. Every []byte in args (at any depth) is sent as
// binary (it is copied: the caller may reuse it once Emit returns); a
// parser.Value (an element of sio.Args) is sent as it was received.
//
// While the socket is not connected the packet is buffered and sent in
// order on (re)connection, unless the Emitter is volatile (the packet is
// then dropped). Emit fails with sio.ErrReservedEvent for a reserved name,
// with ErrBufferFull when the buffer is full, with sio.ErrPayloadTooLarge
// when the packet exceeds the server's maxPayload, and when args cannot be
// encoded as JSON.
func (s *Socket) Emit(event string, args ...any) error { return (&Emitter{s: s}).Emit(event, args...) }

// EmitWithAck emits event with args and waits for the acknowledgement,
// returning its arguments. It fails with an error wrapping
// sio.ErrAckTimeout (see Timeout, SocketOptions.AckTimeout),
// sio.ErrDisconnected (the connection was lost after the packet was sent),
// or the cause of ctx; and as Emit does.
func (s *Socket) EmitWithAck(ctx context.Context, event string, args ...any) (sio.Args, error) {
	return (&Emitter{s: s}).EmitWithAck(ctx, event, args...)
}

// EmitWithAckFunc emits event with args and calls ack (on the socket's
// handler goroutine) with the acknowledgement's arguments or the error that
// prevented it (as in EmitWithAck). ack is not called when EmitWithAckFunc
// returns an error.
func (s *Socket) EmitWithAckFunc(event string, ack func(sio.Args, error), args ...any) error {
	return (&Emitter{s: s}).EmitWithAckFunc(event, ack, args...)
}

// Emit is Socket.Emit with e's options.
func (e *Emitter) Emit(event string, args ...any) error {
	return e.emit(event, args, nil)
}

// EmitWithAck is Socket.EmitWithAck with e's options.
func (e *Emitter) EmitWithAck(ctx context.Context, event string, args ...any) (sio.Args, error) {
	type result struct {
		args sio.Args
		err  error
	}
	ch := make(chan result, 1)
	var ticket func()
	err := e.emitTicket(event, args, func(a sio.Args, err error) { ch <- result{a, err} }, &ticket)
	if err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		return r.args, r.err
	case <-ctx.Done():
	}
	e.s.m.mu.Lock()
	ticket()
	e.s.m.mu.Unlock()
	select {
	case r := <-ch:
		return r.args, r.err
	default:
	}
	return nil, errs.Wrap("client: ack of "+strconv.Quote(event)+": "+context.Cause(ctx).Error(), context.Cause(ctx))
}

// EmitWithAckFunc is Socket.EmitWithAckFunc with e's options.
func (e *Emitter) EmitWithAckFunc(event string, ack func(sio.Args, error), args ...any) error {
	if ack == nil {
		return e.emit(event, args, nil)
	}
	s := e.s
	return e.emit(event, args, func(a sio.Args, err error) {
		s.exec.Post(func() { ack(a, err) })
	})
}

func (e *Emitter) emit(event string, args []any, ack func(sio.Args, error)) error {
	return e.emitTicket(event, args, ack, nil)
}

// emitTicket emits; when ticket is not nil it receives a function (to call
// under the manager's lock) abandoning the acknowledgement.
func (e *Emitter) emitTicket(event string, args []any, ack func(sio.Args, error), ticket *func()) error {
	if sio.IsReserved(event) {
		return errs.Wrap("client: emit "+strconv.Quote(event)+": "+sio.ErrReservedEvent.Error(), sio.ErrReservedEvent)
	}
	data, atts, err := parser.AppendEvent(nil, event, args)
	if err != nil {
		return errs.Wrap("client: emit "+strconv.Quote(event)+": "+err.Error(), err)
	}
	// The packet may be written later, by another goroutine: it must not
	// alias the caller's byte slices.
	for i, a := range atts {
		atts[i] = bytes.Clone(a)
	}
	s := e.s
	r := emitReq{
		out:        outgoing{name: event, args: args, data: data, atts: atts},
		volatile:   e.volatile,
		timeout:    e.timeout,
		hasTimeout: e.hasTimeout,
		ack:        ack,
		withError:  true,
	}
	s.m.mu.Lock()
	defer s.m.mu.Unlock()
	if s.opts.Retries > 0 && !r.volatile {
		q, err := s.addToQueueLocked(r)
		if ticket != nil && q != nil {
			*ticket = func() { s.abandonQueuedLocked(q) }
		}
		return err
	}
	id, err := s.emitLocked(&r)
	if ticket != nil {
		*ticket = func() { s.abandonAckLocked(id) }
	}
	return err
}

// emitLocked registers the acknowledgement and sends, buffers or drops the
// packet. It returns the acknowledgement id.
func (s *Socket) emitLocked(r *emitReq) (uint64, error) {
	o := r.out
	if r.ack != nil {
		o.id, o.hasID = s.ids, true
		s.ids++
		s.registerAckLocked(o.id, r)
	}
	connected := s.connected && s.m.engine != nil && !s.m.engine.pingExpired()
	var err error
	switch {
	case connected:
		err = s.sendLocked(&o)
	case r.volatile:
		// Dropped, as in the official client; an acknowledgement times out.
	case s.m.cfg.maxBuffered >= 0 && len(s.sendBuf) >= s.m.cfg.maxBuffered:
		err = errs.Wrap("client: emit "+strconv.Quote(o.name)+": "+ErrBufferFull.Error()+" ("+strconv.Itoa(len(s.sendBuf))+" packets)", ErrBufferFull)
	default:
		s.sendBuf = append(s.sendBuf, &o)
	}
	if err != nil && o.hasID {
		s.abandonAckLocked(o.id)
	}
	return o.id, err
}

// sendLocked writes an event to the connection and reports it to the
// OnAnyOutgoing handlers.
func (s *Socket) sendLocked(o *outgoing) error {
	if err := s.m.packetLocked(o.packet(s.nsp)); err != nil {
		return errs.Wrap("client: emit "+strconv.Quote(o.name)+": "+err.Error(), err)
	}
	s.hmu.Lock()
	none := len(s.h.outgoing) == 0
	s.hmu.Unlock()
	if none {
		return nil
	}
	p := o.packet(s.nsp)
	dispatch(s, &s.h.outgoing, func(h *eventHandler) {
		name, args, err := p.Event()
		if err == nil {
			h.fn(&sio.Event{Name: name, Args: args})
		}
	})
	return nil
}

func (s *Socket) registerAckLocked(id uint64, r *emitReq) {
	timeout, has := r.timeout, r.hasTimeout
	if !has && s.opts.AckTimeout > 0 {
		timeout, has = s.opts.AckTimeout, true
	}
	a := &pendingAck{fn: r.ack, withError: r.withError || has}
	if has {
		name := r.out.name
		a.timer = time.AfterFunc(timeout, func() {
			s.m.mu.Lock()
			defer s.m.mu.Unlock()
			if s.acks[id] != a {
				return
			}
			s.removeBufferedLocked(id)
			s.resolveAckLocked(id, nil, errs.Wrap("client: ack of "+strconv.Quote(name)+" after "+timeout.String()+": "+sio.ErrAckTimeout.Error(), sio.ErrAckTimeout))
		})
	}
	s.acks[id] = a
}

// abandonAckLocked forgets the acknowledgement id (and its buffered packet).
func (s *Socket) abandonAckLocked(id uint64) {
	if a := s.acks[id]; a != nil {
		delete(s.acks, id)
		if a.timer != nil {
			a.timer.Stop()
		}
		s.removeBufferedLocked(id)
	}
}

func (s *Socket) removeBufferedLocked(id uint64) {
	n := 0 // slices.DeleteFunc, without one more instantiation
	for _, o := range s.sendBuf {
		if !o.hasID || o.id != id {
			s.sendBuf[n] = o
			n++
		}
	}
	clear(s.sendBuf[n:])
	s.sendBuf = s.sendBuf[:n]
}

// addToQueueLocked queues an emit for at-least-once delivery.
func (s *Socket) addToQueueLocked(r emitReq) (*queued, error) {
	if max := s.m.cfg.maxBuffered; max >= 0 && len(s.queue) >= max {
		return nil, errs.Wrap("client: emit "+strconv.Quote(r.out.name)+": "+ErrBufferFull.Error()+" ("+strconv.Itoa(len(s.queue))+" packets)", ErrBufferFull)
	}
	q := &queued{req: r, result: r.ack}
	s.queue = append(s.queue, q)
	s.drainQueueLocked(false)
	return q, nil
}

// drainQueueLocked sends the head of the retry queue unless it is in flight
// (force: even then, after a reconnection).
func (s *Socket) drainQueueLocked(force bool) {
	if !s.connected || len(s.queue) == 0 {
		return
	}
	q := s.queue[0]
	if q.pending && !force {
		return
	}
	if q.hasAck {
		// A try lost with the connection, without an error reported.
		s.abandonAckLocked(q.ackID)
	}
	q.pending = true
	q.tries++
	r := q.req
	r.withError = false
	tries := q.tries
	r.ack = func(args sio.Args, err error) {
		if q.tries == tries {
			q.hasAck = false
			s.onQueueAckLocked(q, args, err)
		}
	}
	id, err := s.emitLocked(&r)
	if err != nil {
		s.finishQueuedLocked(q, nil, err)
		return
	}
	q.ackID, q.hasAck = id, true
}

func (s *Socket) onQueueAckLocked(q *queued, args sio.Args, err error) {
	if err == nil || q.tries > s.opts.Retries {
		s.finishQueuedLocked(q, args, err)
		return
	}
	q.pending = false
	s.drainQueueLocked(false)
}

func (s *Socket) finishQueuedLocked(q *queued, args sio.Args, err error) {
	s.queue = removeQueued(s.queue, q)
	q.pending = false
	if q.result != nil {
		q.result(args, err)
	}
	s.drainQueueLocked(false)
}

// abandonQueuedLocked gives up waiting for a queued emit: it leaves the queue
// unless it is in flight.
func (s *Socket) abandonQueuedLocked(q *queued) {
	q.result = nil
	if !q.pending {
		s.queue = removeQueued(s.queue, q)
	}
}

// removeQueued removes q from list like slices.DeleteFunc (one more generic
// instantiation costs WebAssembly size).
func removeQueued(list []*queued, q *queued) []*queued {
	n := 0
	for _, x := range list {
		if x != q {
			list[n] = x
			n++
		}
	}
	clear(list[n:])
	return list[:n]
}
