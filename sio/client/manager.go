package client

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/eio"
	"github.com/gosio/socketio/sio/internal/errs"
	"github.com/gosio/socketio/sio/internal/ordered"
	"github.com/gosio/socketio/sio/parser"
)

type managerState int

const (
	managerClosed managerState = iota
	managerOpening
	managerOpen
)

// Manager is one connection to a Socket.IO server (an Engine.IO session,
// renewed at every reconnection) shared by the sockets of several namespaces,
// like the official client's Manager. It reconnects on its own (see Options)
// and connects again every namespace socket that was connected.
//
// A Manager opens its connection when one of its sockets connects, and closes
// it when the last active socket disconnects, or on Close.
//
// Manager events run on a goroutine of the Manager's, one at a time, in the
// order they happened.
type Manager struct {
	cfg  *config
	exec ordered.Queue[ordered.Func]

	hmu sync.Mutex
	h   managerHandlers

	mu            sync.Mutex
	state         managerState
	engine        *engine
	engines       map[*engine]struct{} // engines that may still have goroutines
	nsps          map[string]*Socket
	sockets       []*Socket // in creation order
	dec           parser.PacketDecoder
	reconnecting  bool
	skipReconnect bool
	backoff       backoff
	timer         *time.Timer // pending reconnection attempt
	openCB        func(err error)
	priorWS       bool
}

type managerHandlers struct {
	open             []func()
	err              []func(error)
	close            []func(sio.Reason)
	ping             []func()
	reconnectAttempt []func(int)
	reconnect        []func(int)
	reconnectError   []func(error)
	reconnectFailed  []func()
}

// NewManager returns a Manager for the server at rawURL (http, https, ws or
// wss; the path of the URL is ignored, see Manager.Socket). It does not
// connect yet.
func NewManager(rawURL string, opts *Options) (*Manager, error) {
	p, err := parseServerURL(rawURL)
	if err != nil {
		return nil, err
	}
	return newManager(p, opts)
}

func newManager(p parsedURL, opts *Options) (*Manager, error) {
	cfg, err := newConfig(p, opts)
	if err != nil {
		return nil, err
	}
	return &Manager{
		cfg:     cfg,
		exec:    ordered.Queue[ordered.Func]{OnPanic: handlerPanicked(cfg.log)},
		engines: make(map[*engine]struct{}),
		nsps:    make(map[string]*Socket),
		backoff: backoff{min: cfg.delay, max: cfg.delayMax, jitter: cfg.jitter, rand: cfg.rand},
	}, nil
}

// Socket returns the manager's socket for namespace nsp ("/" when empty),
// creating it with opts on first use (later calls return the same socket and
// ignore opts). With nil opts the socket takes the SocketOptions of the
// Manager's Options (Auth, AuthFunc, AckTimeout, Retries); opts that set
// neither Auth nor AuthFunc take the Manager's Auth and AuthFunc, so a
// Manager created with credentials sends them on every namespace. The
// socket is not connected: register handlers, then call Socket.Connect or
// Socket.Open.
func (m *Manager) Socket(nsp string, opts *SocketOptions) *Socket {
	if nsp == "" {
		nsp = "/"
	} else if !strings.HasPrefix(nsp, "/") {
		nsp = "/" + nsp
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.nsps[nsp]; s != nil {
		return s
	}
	s := newSocket(m, nsp, opts)
	m.nsps[nsp] = s
	m.sockets = append(m.sockets, s)
	return s
}

func (m *Manager) hasSocket(nsp string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.nsps[nsp] != nil
}

// TransportName returns the transport of the open connection,
// TransportPolling or TransportWebSocket, or "" when there is none.
func (m *Manager) TransportName() string {
	m.mu.Lock()
	e, st := m.engine, m.state
	m.mu.Unlock()
	if e == nil || st != managerOpen {
		return ""
	}
	return e.transportName()
}

// Close closes the connection and stops reconnecting. Connected sockets get
// a disconnect with reason "forced close" (they stay active: connecting one
// of them opens the connection again). Packets already queued are flushed
// first (for at most a few seconds); Close returns once every goroutine of
// the connection has ended.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closeLocked()
	engines := m.enginesLocked()
	m.mu.Unlock()
	waitEngines(engines)
}

// OnOpen registers h, called when a connection is (re)opened.
func (m *Manager) OnOpen(h func()) { addHandler(&m.hmu, &m.h.open, h) }

// OnError registers h, called when a connection attempt fails or the
// connection fails.
func (m *Manager) OnError(h func(error)) { addHandler(&m.hmu, &m.h.err, h) }

// OnClose registers h, called with the reason when the connection closes
// (sio.ReasonTransportClose, sio.ReasonPingTimeout, ...).
func (m *Manager) OnClose(h func(reason sio.Reason)) { addHandler(&m.hmu, &m.h.close, h) }

// OnPing registers h, called at every ping from the server.
func (m *Manager) OnPing(h func()) { addHandler(&m.hmu, &m.h.ping, h) }

// OnReconnectAttempt registers h, called before every reconnection attempt
// with the attempt number (from 1).
func (m *Manager) OnReconnectAttempt(h func(attempt int)) {
	addHandler(&m.hmu, &m.h.reconnectAttempt, h)
}

// OnReconnect registers h, called after a successful reconnection with the
// number of attempts it took.
func (m *Manager) OnReconnect(h func(attempt int)) { addHandler(&m.hmu, &m.h.reconnect, h) }

// OnReconnectError registers h, called when a reconnection attempt fails.
func (m *Manager) OnReconnectError(h func(error)) { addHandler(&m.hmu, &m.h.reconnectError, h) }

// OnReconnectFailed registers h, called when Options.ReconnectionAttempts
// attempts failed in a row and the manager gives up.
func (m *Manager) OnReconnectFailed(h func()) { addHandler(&m.hmu, &m.h.reconnectFailed, h) }

func addHandler[T any](mu *sync.Mutex, list *[]T, h T) {
	mu.Lock()
	*list = append(*list, h)
	mu.Unlock()
}

// emit runs the handlers of one manager event on the manager's executor.
func emit[T any](m *Manager, list *[]T, call func(T)) {
	m.exec.Post(func() {
		m.hmu.Lock()
		hs := append([]T(nil), *list...)
		m.hmu.Unlock()
		for _, h := range hs {
			call(h)
		}
	})
}

func waitEngines(engines []*engine) {
	for _, e := range engines {
		e.wait()
	}
}

// enginesLocked returns the engines that may still have goroutines.
func (m *Manager) enginesLocked() []*engine {
	return slices.Collect(maps.Keys(m.engines))
}

// openLocked opens a connection unless one is open or opening. fn, when not
// nil, is told the outcome of the handshake (it is how reconnect learns it).
func (m *Manager) openLocked(fn func(err error)) {
	if m.state == managerOpening || m.state == managerOpen {
		return
	}
	for e := range m.engines {
		if e.finished() {
			delete(m.engines, e)
		}
	}
	e := newEngine(m.cfg, engineHooks{
		open:      m.engineOpened,
		message:   m.engineMessage,
		ping:      m.enginePing,
		close:     m.engineClosed,
		websocket: m.websocketWorked,
	}, m.cfg.rememberUpgrade && m.priorWS)
	m.engine, m.state, m.skipReconnect, m.openCB = e, managerOpening, false, fn
	m.engines[e] = struct{}{}
	e.launch()
}

func (m *Manager) engineOpened(e *engine, err error) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.engine != e {
		return false
	}
	fn := m.openCB
	m.openCB = nil
	if err != nil {
		m.cfg.log.Debug("socket.io client: connection failed", "err", err)
		m.engine, m.state = nil, managerClosed
		m.errorLocked(err)
		if fn != nil {
			fn(err)
		} else if !m.reconnecting && m.cfg.reconnection && m.backoff.attempts == 0 {
			m.reconnectLocked()
		}
		return false
	}
	m.state = managerOpen
	m.dec = m.cfg.parser.NewDecoder(0, false)
	emit(m, &m.h.open, func(h func()) { h() })
	for _, s := range m.sockets {
		if s.active {
			s.onopenLocked()
		}
	}
	if fn != nil {
		fn(nil)
	}
	return true
}

func (m *Manager) engineMessage(e *engine, p eio.Packet) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.engine != e || m.state != managerOpen {
		return
	}
	pkt, err := m.dec.Decode(p.Data, p.Binary)
	if err != nil {
		m.cfg.log.Debug("socket.io client: invalid packet", "err", err)
		m.oncloseLocked(sio.ReasonParseError)
		return
	}
	if pkt == nil {
		return
	}
	if s := m.nsps[pkt.Namespace]; s != nil && s.active {
		s.onpacketLocked(pkt)
	}
}

func (m *Manager) enginePing(e *engine) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.engine == e {
		emit(m, &m.h.ping, func(h func()) { h() })
	}
}

func (m *Manager) engineClosed(e *engine, reason sio.Reason, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.engine != e {
		return
	}
	m.cfg.log.Debug("socket.io client: connection closed", "reason", reason, "err", err)
	if err != nil && reason == sio.ReasonTransportError {
		m.errorLocked(err)
	}
	m.oncloseLocked(reason)
}

func (m *Manager) websocketWorked(ok bool) {
	m.mu.Lock()
	m.priorWS = ok
	m.mu.Unlock()
}

// errorLocked emits the manager's error event, and connect_error on the
// sockets that are not connected.
func (m *Manager) errorLocked(err error) {
	emit(m, &m.h.err, func(h func(error)) { h(err) })
	for _, s := range m.sockets {
		if s.active && !s.connected {
			s.connectErrorLocked(err)
		}
	}
}

// oncloseLocked handles the end of the connection, whatever the cause.
func (m *Manager) oncloseLocked(reason sio.Reason) {
	if m.timer != nil {
		m.timer.Stop()
		m.timer = nil
	}
	if e := m.engine; e != nil {
		m.engine = nil
		e.closeGracefully()
	}
	m.dec = nil
	m.backoff.reset()
	m.state, m.openCB = managerClosed, nil
	emit(m, &m.h.close, func(h func(sio.Reason)) { h(reason) })
	willReconnect := m.cfg.reconnection && !m.skipReconnect
	for _, s := range m.sockets {
		if s.active {
			s.oncloseLocked(reason)
			if !willReconnect {
				s.failWaitersLocked(errs.Wrap("client: connection closed ("+string(reason)+"): "+sio.ErrDisconnected.Error(), sio.ErrDisconnected))
			}
		}
	}
	if willReconnect {
		m.reconnectLocked()
	}
}

// reconnectLocked schedules the next reconnection attempt.
func (m *Manager) reconnectLocked() {
	if m.reconnecting || m.skipReconnect {
		return
	}
	if m.cfg.attempts > 0 && m.backoff.attempts >= m.cfg.attempts {
		m.backoff.reset()
		m.reconnecting = false
		emit(m, &m.h.reconnectFailed, func(h func()) { h() })
		for _, s := range m.sockets {
			if s.active {
				s.failWaitersLocked(errs.Wrap("client: reconnection failed: "+sio.ErrDisconnected.Error(), sio.ErrDisconnected))
			}
		}
		return
	}
	delay := m.backoff.duration()
	m.reconnecting = true
	var t *time.Timer
	t = time.AfterFunc(delay, func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.timer != t || m.skipReconnect {
			return
		}
		m.timer = nil
		attempt := m.backoff.attempts
		m.cfg.log.Debug("socket.io client: reconnecting", "attempt", attempt)
		emit(m, &m.h.reconnectAttempt, func(h func(int)) { h(attempt) })
		m.openLocked(func(err error) {
			if err != nil {
				m.reconnecting = false
				m.reconnectLocked()
				emit(m, &m.h.reconnectError, func(h func(error)) { h(err) })
				return
			}
			attempt := m.backoff.attempts
			m.reconnecting = false
			m.backoff.reset()
			emit(m, &m.h.reconnect, func(h func(int)) { h(attempt) })
		})
	})
	m.timer = t
}

// closeLocked closes the connection for good (until a socket connects
// again).
func (m *Manager) closeLocked() {
	m.skipReconnect = true
	m.reconnecting = false
	if m.timer != nil {
		m.timer.Stop()
		m.timer = nil
	}
	if m.state != managerClosed {
		m.oncloseLocked(sio.ReasonForcedClose)
		return
	}
	for _, s := range m.sockets {
		if s.active {
			s.failWaitersLocked(errs.Wrap("client: manager closed: "+sio.ErrDisconnected.Error(), sio.ErrDisconnected))
		}
	}
}

// destroyLocked is called when s becomes inactive; the connection closes
// when no socket is active any more. It reports whether it closed.
func (m *Manager) destroyLocked() bool {
	for _, s := range m.sockets {
		if s.active {
			return false
		}
	}
	m.closeLocked()
	return true
}

// packetLocked sends a Socket.IO packet: its text frame then its
// attachments, contiguously. It fails with sio.ErrPayloadTooLarge when one
// of the frames exceeds the server's maxPayload on the current transport,
// and with sio.ErrDisconnected when there is no connection.
func (m *Manager) packetLocked(pkt *parser.Packet) error {
	e := m.engine
	if e == nil {
		return errs.Wrap("client: no connection: "+sio.ErrDisconnected.Error(), sio.ErrDisconnected)
	}
	msg, bin, atts := m.cfg.parser.Encode(nil, pkt)
	pkts := make([]eio.Packet, 0, 1+len(atts))
	pkts = append(pkts, eio.Packet{Type: eio.Message, Data: msg, Binary: bin})
	for _, a := range atts {
		pkts = append(pkts, eio.Packet{Type: eio.Message, Data: a, Binary: true})
	}
	if name, limit := e.limits(); limit > 0 {
		for _, p := range pkts {
			size := frameSize(p)
			if name == TransportPolling {
				size = pollingSize(p)
			}
			if size > limit {
				return errs.Wrap("client: "+pkt.Type.String()+" packet of "+strconv.FormatInt(int64(size), 10)+" bytes, server accepts "+strconv.FormatInt(int64(limit), 10)+": "+sio.ErrPayloadTooLarge.Error(), sio.ErrPayloadTooLarge)
			}
		}
	}
	if !e.send(pkts...) {
		return errs.Wrap("client: connection closing: "+sio.ErrDisconnected.Error(), sio.ErrDisconnected)
	}
	return nil
}
