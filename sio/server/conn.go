package server

import (
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/engine"
	"github.com/gosio/socketio/sio/internal/ordered"
	"github.com/gosio/socketio/sio/parser"
)

const reasonServerShuttingDown = sio.ReasonServerShuttingDown

// conn is one Engine.IO connection and the namespaces joined over it
// (upstream's Client).
type conn struct {
	srv *Server
	eng *engine.Socket
	dec parser.PacketDecoder // read path only, done with each packet before the next (ReusePackets)
	// v3 is set for a socket.io 2.x client (Engine.IO protocol 3): see
	// Options.AllowEIO3.
	v3 bool

	mu           sync.Mutex
	root         *Socket            // sockets["/"], looked up without the map
	sockets      map[string]*Socket // by namespace name
	pending      map[string]bool    // namespaces whose CONNECT is being handled
	connectTimer *time.Timer
	closed       bool
	closeReason  sio.Reason

	// handler queue (see the package doc): tasks run in order on a
	// goroutine that exists only while there are tasks.
	queue ordered.Queue[task]
}

func newConn(srv *Server, es *engine.Socket) *conn {
	c := &conn{
		srv:     srv,
		eng:     es,
		dec:     srv.parser.NewDecoder(srv.opts.MaxAttachments, true),
		v3:      es.Protocol() == 3,
		sockets: make(map[string]*Socket),
		pending: make(map[string]bool),
	}
	c.queue.OnPanic = srv.taskPanicked
	c.queue.Pool = &srv.pool
	es.OnMessage(c.onMessage)
	es.OnClose(c.onClose)
	es.OnUpgrade(func(transport string) { srv.obs.upgraded(es.ID(), transport) })
	c.connectTimer = time.AfterFunc(srv.opts.ConnectTimeout, func() {
		c.mu.Lock()
		idle := len(c.sockets) == 0 && len(c.pending) == 0 && !c.closed
		c.mu.Unlock()
		if idle {
			srv.log.Debug("sio: no namespace joined in time, closing", "sid", es.ID())
			es.Close()
		}
	})
	return c
}

// onMessage runs on the engine's read path.
func (c *conn) onMessage(data []byte, binary bool) {
	c.srv.obs.received(len(data))
	p, err := c.dec.Decode(data, binary)
	if err != nil {
		c.srv.log.Debug("sio: invalid packet, closing connection", "sid", c.eng.ID(), "err", err)
		c.closeAll(sio.ReasonParseError)
		c.eng.Close()
		return
	}
	if p == nil {
		return // waiting for attachments
	}
	c.onPacket(p)
}

func (c *conn) onPacket(p *parser.Packet) {
	nsp := p.Namespace
	auth := p.Data
	if c.v3 {
		// socket.io 2.x puts the auth in the namespace's query string.
		var query string
		nsp, query, _ = strings.Cut(nsp, "?")
		auth = queryAuth(query)
	}
	if nsp == "" {
		nsp = "/"
	}
	c.mu.Lock()
	var s *Socket
	if nsp == "/" {
		s = c.root
	} else {
		s = c.sockets[nsp]
	}
	pending := s == nil && c.pending[nsp]
	c.mu.Unlock()
	switch {
	case p.Type == parser.Connect && s == nil && !pending:
		c.connect(nsp, auth)
	case p.Type == parser.Connect && pending:
		// The client repeats itself while the middlewares run: once is enough.
	case s != nil && p.Type != parser.Connect && p.Type != parser.ConnectError:
		s.onPacket(p)
	default:
		// As upstream: a packet for a namespace not joined, a second
		// CONNECT or a CONNECT_ERROR from the client ends the connection.
		c.srv.log.Debug("sio: invalid state, closing connection", "sid", c.eng.ID(), "nsp", nsp, "type", p.Type)
		c.closeAll(sio.ReasonForcedServerClose)
		c.eng.Close()
	}
}

// connect handles a CONNECT packet: the namespace's middlewares run off the
// read path, then the socket joins.
func (c *conn) connect(name string, auth []byte) {
	n := c.srv.namespace(name)
	if n == nil {
		n = c.srv.dynamicNamespace(name, auth)
	}
	if n == nil {
		c.writePacket(&parser.Packet{Type: parser.ConnectError, Namespace: name, Data: []byte(`{"message":"Invalid namespace"}`)})
		return
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.pending[name] = true
	c.mu.Unlock()
	if len(auth) == 0 {
		auth = []byte("{}")
	}
	started := c.srv.pool.Go(func() {
		defer c.donePending(name)
		defer c.recoverConnect(n)
		n.connect(c, json.RawMessage(auth))
	})
	if !started {
		c.donePending(name)
	}
}

func (c *conn) donePending(name string) {
	c.mu.Lock()
	delete(c.pending, name)
	c.mu.Unlock()
}

// register makes s the connection's socket of its namespace, queues
// onConnect, sends pkts (CONNECT, then the packets a restored session
// missed) and marks the socket connected, unless the connection is closed.
//
// onConnect is queued first, so it comes before the handling of anything
// the client sends once it has the CONNECT packet, and before the socket's
// disconnection; it waits until the packets are sent. Nothing else is sent
// to the socket before them (s.wmu). The packets are written without c.mu
// held: a write may close the connection.
func (c *conn) register(s *Socket, pkts []*parser.Packet, onConnect func()) bool {
	ready := make(chan struct{})
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.sockets[s.nsp.name] = s
	if s.nsp.name == "/" {
		c.root = s
	}
	delete(c.pending, s.nsp.name)
	c.connectTimer.Stop()
	c.enqueue(task{s: s, fn: func() {
		<-ready
		defer c.srv.recoverHandler(s, "connection handler")
		onConnect()
	}})
	c.mu.Unlock()
	// The socket is connected before the client can have CONNECT (which
	// may be written at once), so that what the client does next (asking
	// for a broadcast, say) finds it connected; s.wmu makes any packet
	// sent to it meanwhile wait, and so go after these.
	s.wmu.Lock()
	s.connected.Store(true)
	for _, p := range pkts {
		c.writePacket(p)
	}
	s.wmu.Unlock()
	close(ready)
	if closed, reason := c.isClosed(); closed {
		// The connection closed before the socket was connected.
		s.onClose(reason, false)
	}
	return true
}

// isClosed reports whether the connection is closed, and why.
func (c *conn) isClosed() (bool, sio.Reason) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed, c.closeReason
}

// queryAuth returns the JSON object of a query string, as Node's
// querystring makes it: a repeated key has an array of its values.
func queryAuth(query string) []byte {
	vals, _ := url.ParseQuery(query)
	obj := make(map[string]any, len(vals))
	for k, v := range vals {
		if len(v) == 1 {
			obj[k] = v[0]
		} else {
			obj[k] = v
		}
	}
	b, _ := json.Marshal(obj)
	return b
}

// connectErrorPayloadV3 is the CONNECT_ERROR payload for a socket.io 2.x
// client, as upstream sends it: the error's data, or else its message.
func connectErrorPayloadV3(err error) []byte {
	var ce *ConnectError
	if errors.As(err, &ce) && ce.Data != nil {
		if b, mErr := json.Marshal(ce.Data); mErr == nil {
			return b
		}
	}
	msg := err.Error()
	if ce != nil {
		msg = ce.Message
	}
	b, _ := json.Marshal(msg)
	return b
}

func connectErrorPayload(err error) []byte {
	type payload struct {
		Message string `json:"message"`
		Data    any    `json:"data,omitempty"`
	}
	p := payload{Message: err.Error()}
	var ce *ConnectError
	if errors.As(err, &ce) {
		p.Message = ce.Message
		p.Data = ce.Data
	}
	b, mErr := json.Marshal(p)
	if mErr != nil {
		b, _ = json.Marshal(payload{Message: p.Message})
	}
	return b
}

// write sends the frames of one packet; it reports whether they were sent
// (false when closed, or volatile and the transport is busy).
func (c *conn) write(frames []engine.Frame, volatile bool) bool {
	var ok bool
	if volatile {
		ok = c.eng.TrySend(frames...)
	} else {
		ok = c.eng.Send(frames...) == nil
	}
	if ok {
		c.srv.obs.sent(frames)
	}
	return ok
}

func (c *conn) writePacket(p *parser.Packet) bool {
	return c.write(encodeFrames(c.srv.parser, p), false)
}

// encodeFanout is encodeFrames for a packet sent to many sockets (see
// engine.Frame.Fanout).
func encodeFanout(pr parser.Parser, p *parser.Packet) []engine.Frame {
	frames := encodeFrames(pr, p)
	for i := range frames {
		frames[i].Fanout = true
	}
	return frames
}

// encodeFrames returns the Engine.IO frames of a packet in the format of
// pr: with the default, the text frame (message type '4' then the
// Socket.IO packet) and one binary frame per attachment.
func encodeFrames(pr parser.Parser, p *parser.Packet) []engine.Frame {
	buf := make([]byte, 0, 16+len(p.Namespace)+len(p.Data))
	buf = append(buf, '4')
	buf, bin, atts := pr.Encode(buf, p)
	if bin {
		buf = buf[1:] // a binary frame has no type byte
	}
	frames := make([]engine.Frame, 1, 1+len(atts))
	frames[0] = engine.Frame{Data: buf, Binary: bin}
	for _, a := range atts {
		frames = append(frames, engine.Frame{Data: a, Binary: true})
	}
	return frames
}

// removeSocket forgets the socket of a namespace.
func (c *conn) removeSocket(s *Socket) {
	c.mu.Lock()
	if c.sockets[s.nsp.name] == s {
		delete(c.sockets, s.nsp.name)
	}
	if c.root == s {
		c.root = nil
	}
	c.mu.Unlock()
}

// closeAll marks the connection closed and closes every socket of it with
// reason.
func (c *conn) closeAll(reason sio.Reason) {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		c.closeReason = reason
	}
	list := make([]*Socket, 0, len(c.sockets))
	for _, s := range c.sockets {
		list = append(list, s)
	}
	c.sockets = map[string]*Socket{}
	c.root = nil
	c.mu.Unlock()
	c.connectTimer.Stop()
	for _, s := range list {
		s.onClose(reason, false)
	}
}

// onClose is the engine's close callback.
func (c *conn) onClose(reason sio.Reason, err error) {
	c.srv.obs.closed(c.eng.ID(), reason)
	c.closeAll(reason)
	c.srv.removeConn(c)
}

// disconnectAll disconnects every namespace of the connection (each gets a
// DISCONNECT packet) and then closes the connection gracefully.
func (c *conn) disconnectAll() {
	c.mu.Lock()
	list := make([]*Socket, 0, len(c.sockets))
	for _, s := range c.sockets {
		list = append(list, s)
	}
	c.mu.Unlock()
	for _, s := range list {
		s.Disconnect()
	}
	c.closeAll(sio.ReasonForcedServerClose)
	c.eng.Close()
}

// task is an entry of the handler queue: fn, which runs for socket s, or
// else the dispatch of event e to socket s (which saves a closure per
// event). A panic in a task disconnects s (see Server.taskPanicked).
type task struct {
	fn func()
	s  *Socket
	e  *sio.Event
}

// Run runs the task, on the connection's handler queue.
func (t task) Run() {
	if t.fn != nil {
		t.fn()
		return
	}
	t.s.dispatch(t.e)
}

// schedule appends fn, which runs for socket s, to the connection's
// handler queue.
func (c *conn) schedule(s *Socket, fn func()) { c.enqueue(task{fn: fn, s: s}) }

// enqueue appends t to the connection's handler queue; once the server is
// stopped, nothing runs any more.
func (c *conn) enqueue(t task) { c.queue.Post(t) }
