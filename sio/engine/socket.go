package engine

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/eio"
)

// Frame is one Engine.IO packet in its WebSocket form: for text, the packet
// type digit followed by the data (a message is '4' then the text); for
// binary, the raw bytes of a binary message. A queued frame is never
// modified, so the same frame may be queued on many sockets.
type Frame struct {
	Data   []byte
	Binary bool
	// Fanout marks a frame of a packet sent to many sessions (a
	// broadcast). Send hands such frames to the server's flusher
	// goroutines, which write a fan-out session after session and
	// gather the frames that queue on a session meanwhile into one write;
	// a frame for one session is written by the sending goroutine when the
	// session's writer is idle. Both are measured in docs/performance.md.
	Fanout bool
	// ctl is set on a WebSocket control frame the engine queues itself, a
	// pong (see Socket.answerPing), so that it goes out in queue order.
	ctl byte
}

// Request describes the HTTP request that opened a session.
type Request struct {
	Header     http.Header
	Query      url.Values
	URL        string
	RemoteAddr string
	Secure     bool
	Host       string
}

const (
	stateOpen = iota
	stateClosing
	stateClosed
)

// Socket is one Engine.IO session. Its methods are safe for concurrent use.
type Socket struct {
	// What every message and every write touches comes first, together:
	// with many sessions each is a cache miss of its own otherwise.

	// recvMu serialises the delivery of received packets, whatever the
	// transport they arrive on (a late POST and the new WebSocket).
	recvMu sync.Mutex

	mu        sync.Mutex
	state     uint8
	writing   bool   // a WebSocket writer goroutine is running
	transport string // eio.TransportPolling or eio.TransportWebSocket
	ws        wsConn // set once the WebSocket transport is in use
	// codec is the Engine.IO revision of the client: 4, or 3 (AllowEIO3).
	codec       codec
	queue       []Frame // waiting to be written
	queuedBytes int
	pongAt      int // 1 + the index in queue of the pong waiting there, if any
	onMessage   func(data []byte, binary bool)
	srv         *Server

	onClose   func(reason sio.Reason, err error)
	onUpgrade func(transport string)
	// polling
	pollWaiting bool          // a GET is pending
	pollWake    chan struct{} // capacity 1: something to send, or closing
	postActive  bool
	// closedByClient: the client closed the session with a close packet
	// POSTed on polling; its GET gets a noop, not a close packet.
	closedByClient bool
	// upgrade
	probing  wsConn // the WebSocket of the upgrade under way
	probed   bool   // the probe was answered: a GET gets a noop after upgradeCheck
	probedAt time.Time
	upgraded bool
	// heartbeat: one timer, alternately waiting to ping and waiting for the pong
	timer     *time.Timer
	awaitPong bool
	// connecting is true while the server's connection handler runs; a
	// session closed meanwhile calls OnClose once the handler returns.
	connecting    bool
	closeDeferred bool
	closeReason   sio.Reason
	closeErr      error
	// done is closed once the session is released and OnClose returned.
	done chan struct{}

	id  string
	req Request

	ctx    context.Context // ends when the session closes
	cancel context.CancelFunc
}

func newSocket(srv *Server, id string, r *http.Request, transport string, ws wsConn) *Socket {
	ctx, cancel := context.WithCancel(srv.ctx)
	q := r.URL.Query()
	return &Socket{
		srv:   srv,
		id:    id,
		codec: codecFor(q),
		req: Request{
			Header:     r.Header.Clone(),
			Query:      q,
			URL:        r.URL.RequestURI(),
			RemoteAddr: remoteIP(r.RemoteAddr),
			Secure:     r.TLS != nil,
			Host:       r.Host,
		},
		ctx:        ctx,
		cancel:     cancel,
		transport:  transport,
		ws:         ws,
		pollWake:   make(chan struct{}, 1),
		connecting: true,
		done:       make(chan struct{}),
	}
}

// requestProtocol returns the Engine.IO revision a request asks for: 4,
// or 3 for anything else, as upstream.
func requestProtocol(q url.Values) int {
	if q.Get("EIO") == "4" {
		return 4
	}
	return protocol3
}

func remoteIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}

// ID returns the session id.
func (s *Socket) ID() string { return s.id }

// Request returns the handshake request.
func (s *Socket) Request() *Request { return &s.req }

// Protocol returns the Engine.IO protocol revision of the client: 4, or 3
// for the clients Options.AllowEIO3 lets in.
func (s *Socket) Protocol() int { return s.codec.protocol() }

// Context returns a context that ends when the session closes.
func (s *Socket) Context() context.Context { return s.ctx }

// Transport returns the name of the transport in use: "polling" or "websocket".
func (s *Socket) Transport() string { return s.transportName() }

func (s *Socket) transportName() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.transport
}

// OnMessage sets the handler of received messages. It is called from the
// session's read path, one message at a time (never concurrently) and in
// order; data is owned by the handler. It must not block: the read path
// that calls it may serve other sessions too. Hand long work to another
// goroutine. Set it from the server's OnConnection handler.
func (s *Socket) OnMessage(fn func(data []byte, binary bool)) {
	s.mu.Lock()
	s.onMessage = fn
	s.mu.Unlock()
}

// OnClose sets the function called once when the session closes, with the
// official reason and the error behind it, if any. Set it from the
// server's OnConnection handler: a session closed while that handler runs
// calls it when the handler returns.
func (s *Socket) OnClose(fn func(reason sio.Reason, err error)) {
	s.mu.Lock()
	s.onClose = fn
	s.mu.Unlock()
}

// OnUpgrade sets the function called when the session moves to another
// transport. Set it from the server's OnConnection handler.
func (s *Socket) OnUpgrade(fn func(transport string)) {
	s.mu.Lock()
	s.onUpgrade = fn
	s.mu.Unlock()
}

// SendMessage queues a message: text, or binary when binary is true.
func (s *Socket) SendMessage(data []byte, binary bool) error {
	if binary {
		return s.Send(Frame{Data: data, Binary: true})
	}
	f := make([]byte, 0, len(data)+1)
	f = append(f, '4')
	f = append(f, data...)
	return s.Send(Frame{Data: f})
}

// Send sends frames together, in order, with nothing between them. The
// frames must not be modified afterwards. It never waits on the network:
// on a WebSocket whose writer is idle, the calling goroutine writes frames
// for this session alone as far as the connection takes them without
// waiting (which saves a hand-off); what is left, Fanout frames, and
// anything sent while a write is under way go to the session's writer (see
// Frame.Fanout). It returns ErrClosed once the session is closing or
// closed, and ErrQueueFull when the frames overflow
// Options.MaxQueuedBytes, which closes the session.
func (s *Socket) Send(frames ...Frame) error {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return ErrClosed
	}
	if len(frames) > 0 && !frames[0].Fanout && s.idleWebSocketLocked() {
		s.writing = true // this goroutine is the writer for now
		ws := s.ws
		s.mu.Unlock()
		s.writeNow(ws, frames, false)
		return nil
	}
	overflow := s.enqueueLocked(frames...)
	s.mu.Unlock()
	if overflow {
		s.closeWith(sio.ReasonTransportError, ErrQueueFull, false)
		return ErrQueueFull
	}
	return nil
}

// TrySend is Send for a volatile packet: the frames are sent only when they
// would go out at once (a long-poll is waiting, or the WebSocket writer is
// idle), and dropped otherwise. It reports whether they were sent.
func (s *Socket) TrySend(frames ...Frame) bool {
	s.mu.Lock()
	if !s.writableLocked() {
		s.mu.Unlock()
		return false
	}
	s.mu.Unlock()
	return s.Send(frames...) == nil
}

// idleWebSocketLocked reports whether the session is on a WebSocket whose
// writer is idle, with nothing queued. s.mu held.
func (s *Socket) idleWebSocketLocked() bool {
	return s.transport == eio.TransportWebSocket && s.ws != nil && !s.writing && len(s.queue) == 0
}

// writable reports whether frames sent now would go out at once.
func (s *Socket) writable() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.writableLocked()
}

func (s *Socket) writableLocked() bool {
	if s.state != stateOpen {
		return false
	}
	if s.transport == eio.TransportWebSocket {
		return !s.writing
	}
	return s.pollWaiting
}

// enqueueLocked appends frames and wakes whatever writes them. It reports
// whether the queue overflowed, in which case it was dropped and the caller
// must close the session once s.mu is released. s.mu held.
func (s *Socket) enqueueLocked(frames ...Frame) (overflow bool) {
	if s.state == stateClosed {
		return false
	}
	for _, f := range frames {
		s.queue = append(s.queue, f)
		s.queuedBytes += len(f.Data)
	}
	if limit := s.srv.opts.MaxQueuedBytes; limit > 0 && s.queuedBytes > limit {
		s.srv.log.Warn("engine: send queue full, closing session", "sid", s.id, "bytes", s.queuedBytes)
		s.queue = nil
		s.queuedBytes = 0
		return true
	}
	s.wakeLocked()
	return false
}

// wakeLocked starts the WebSocket writer, or wakes the pending GET. s.mu held.
func (s *Socket) wakeLocked() {
	if s.state == stateClosed {
		return
	}
	if s.transport == eio.TransportWebSocket && s.ws != nil {
		if !s.writing && len(s.queue) > 0 {
			s.wakeWriterLocked()
		}
		return
	}
	select {
	case s.pollWake <- struct{}{}:
	default:
	}
}

// startWriterLocked starts the WebSocket writer goroutine. s.mu held.
func (s *Socket) startWriterLocked() {
	s.writing = true
	s.srv.wg.Add(1)
	go s.writeLoop()
}

// takeQueueLocked returns the queued frames and empties the queue.
func (s *Socket) takeQueueLocked() []Frame {
	q := s.queue
	s.queue = nil
	s.queuedBytes = 0
	s.pongAt = 0
	return q
}

// startHeartbeat schedules the first ping. In protocol 3 the client pings:
// the session waits for its ping for PingInterval+PingTimeout.
func (s *Socket) startHeartbeat() {
	s.mu.Lock()
	if s.state == stateOpen {
		if s.codec.clientPings() {
			s.awaitPong = true // the timer ends the session when it fires
			s.timer = time.AfterFunc(s.pingTimeoutV3(), s.onTimer)
		} else {
			s.timer = time.AfterFunc(s.srv.opts.PingInterval, s.onTimer)
		}
	}
	s.mu.Unlock()
}

// pingTimeoutV3 is how long a protocol 3 session waits for a ping.
func (s *Socket) pingTimeoutV3() time.Duration {
	return s.srv.opts.PingInterval + s.srv.opts.PingTimeout
}

// onPingV3 answers a protocol 3 client's ping with a pong and restarts the
// wait for the next ping.
func (s *Socket) onPingV3() {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return
	}
	s.timer.Reset(s.pingTimeoutV3())
	overflow := s.enqueueLocked(Frame{Data: pongFrame})
	s.mu.Unlock()
	if overflow {
		s.closeWith(sio.ReasonTransportError, ErrQueueFull, false)
	}
}

// onTimer either sends a ping and waits for the pong, or, if it was
// already waiting, ends the session.
func (s *Socket) onTimer() {
	s.mu.Lock()
	if s.state != stateOpen {
		s.mu.Unlock()
		return
	}
	if s.awaitPong {
		s.mu.Unlock()
		s.closeWith(sio.ReasonPingTimeout, nil, false)
		return
	}
	s.awaitPong = true
	overflow := s.enqueueLocked(Frame{Data: pingFrame})
	s.timer.Reset(s.srv.opts.PingTimeout)
	s.mu.Unlock()
	if overflow {
		s.closeWith(sio.ReasonTransportError, ErrQueueFull, false)
	}
}

func (s *Socket) onPong() {
	s.mu.Lock()
	if s.awaitPong && s.state == stateOpen {
		s.awaitPong = false
		s.timer.Reset(s.srv.opts.PingInterval)
	}
	s.mu.Unlock()
}

var (
	pingFrame  = []byte{'2'}
	pongFrame  = []byte{'3'}
	noopFrame  = []byte{'6'}
	closeFrame = []byte{'1'}
)

// errHeartbeatDirection closes a session whose client pings (protocol 4:
// only the server does) or pongs (protocol 3: only the client pings).
var errHeartbeatDirection = errors.New("engine: invalid heartbeat direction")

// onPacket handles one packet received on the session's transport. Like
// upstream, packets are ignored once the session is closing.
func (s *Socket) onPacket(p eio.Packet) {
	s.recvMu.Lock()
	defer s.recvMu.Unlock()
	s.mu.Lock()
	open := s.state == stateOpen
	onMessage := s.onMessage
	s.mu.Unlock()
	if !open {
		return
	}
	switch p.Type {
	case eio.Message:
		if onMessage != nil {
			s.callOnMessage(onMessage, p.Data, p.Binary)
		}
	case eio.Pong:
		if s.codec.clientPings() {
			s.closeWith(sio.ReasonTransportError, errHeartbeatDirection, false)
			return
		}
		s.onPong()
	case eio.Close:
		s.closeWith(sio.ReasonTransportClose, nil, false)
	case eio.Ping:
		if s.codec.clientPings() {
			s.onPingV3()
			return
		}
		s.closeWith(sio.ReasonTransportError, errHeartbeatDirection, false)
	case eio.Noop, eio.Upgrade, eio.Open:
		// Ignored, as upstream does.
	}
}

// Close closes the session gracefully: what is queued is sent first, then
// the transport is closed (reason "forced close"). It does not wait.
func (s *Socket) Close() {
	s.closeWith(sio.ReasonForcedClose, nil, true)
}

// closeWith ends the session. When graceful, queued frames are flushed
// first: a pending (or the next) long-poll gets them and a close packet, a
// WebSocket writes them before its close handshake. A non-graceful close
// also ends a graceful close under way at once.
func (s *Socket) closeWith(reason sio.Reason, err error, graceful bool) {
	s.mu.Lock()
	switch s.state {
	case stateClosed:
		s.mu.Unlock()
		return
	case stateClosing:
		s.mu.Unlock()
		if !graceful {
			s.finish(false)
		}
		return
	}
	s.closeReason, s.closeErr = reason, err
	if s.timer != nil {
		s.timer.Stop()
	}
	if !graceful {
		s.mu.Unlock()
		s.finish(false)
		return
	}
	s.state = stateClosing
	if s.transport == eio.TransportWebSocket && s.ws != nil {
		// The writer closes the connection once the queue is empty.
		if !s.writing {
			s.startWriterLocked()
		}
		s.mu.Unlock()
		return
	}
	// Polling: the pending (or next) GET gets the queue plus a close packet.
	s.queue = append(s.queue, Frame{Data: closeFrame})
	select {
	case s.pollWake <- struct{}{}:
	default:
	}
	// If no GET comes to collect it, end after a grace period.
	s.srv.wg.Add(1)
	s.mu.Unlock()
	go func() {
		defer s.srv.wg.Done()
		t := time.NewTimer(s.srv.opts.PingTimeout)
		defer t.Stop()
		select {
		case <-t.C:
			s.finish(false)
		case <-s.ctx.Done():
		}
	}()
}

// finish releases the session, once: it is removed from the server, its
// WebSocket is closed (with a close handshake when graceful) and OnClose
// is called.
func (s *Socket) finish(graceful bool) {
	s.mu.Lock()
	if s.state == stateClosed {
		s.mu.Unlock()
		return
	}
	s.state = stateClosed
	if s.timer != nil {
		s.timer.Stop()
	}
	ws := s.ws
	reason, err := s.closeReason, s.closeErr
	s.queue = nil
	s.queuedBytes = 0
	deferred := s.connecting
	s.closeDeferred = deferred
	onClose := s.onClose
	byClient := s.closedByClient
	s.mu.Unlock()

	s.srv.remove(s, byClient)
	if ws != nil {
		if graceful {
			ws.Close()
		} else {
			ws.CloseNow()
		}
	}
	s.cancel()
	select { // release a pending GET
	case s.pollWake <- struct{}{}:
	default:
	}
	s.srv.log.Debug("engine: session closed", "sid", s.id, "reason", reason)
	if deferred {
		return // connected reports it
	}
	if onClose != nil {
		s.callOnClose(onClose, reason, err)
	}
	close(s.done)
	s.srv.live.Done()
}

// connected ends the connection handler's run: a close that happened
// meanwhile is reported now. It reports whether the session is still open.
func (s *Socket) connected() bool {
	s.mu.Lock()
	s.connecting = false
	deferred := s.closeDeferred
	onClose := s.onClose
	reason, err := s.closeReason, s.closeErr
	closed := s.state == stateClosed
	s.mu.Unlock()
	if deferred {
		if onClose != nil {
			s.callOnClose(onClose, reason, err)
		}
		close(s.done)
		s.srv.live.Done()
	}
	return !closed
}
