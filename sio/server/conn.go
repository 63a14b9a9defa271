package server

import (
	"encoding/json"
	"errors"
	"sync"
	"time"

	"github.com/gosio/socketio/sio"
	"github.com/gosio/socketio/sio/engine"
	"github.com/gosio/socketio/sio/parser"
)

const reasonServerShuttingDown = sio.ReasonServerShuttingDown

// conn is one Engine.IO connection and the namespaces joined over it
// (upstream's Client).
type conn struct {
	srv *Server
	eng *engine.Socket
	dec parser.Decoder // read path only

	mu             sync.Mutex
	sockets        map[string]*Socket // by namespace name
	connectTimer   *time.Timer
	closed         bool
	pendingConnect int // namespaces whose middlewares are running
}

func newConn(srv *Server, es *engine.Socket) *conn {
	c := &conn{
		srv:     srv,
		eng:     es,
		dec:     parser.Decoder{MaxAttachments: srv.opts.MaxAttachments},
		sockets: make(map[string]*Socket),
	}
	es.OnMessage(c.onMessage)
	es.OnClose(c.onClose)
	c.connectTimer = time.AfterFunc(srv.opts.ConnectTimeout, func() {
		c.mu.Lock()
		idle := len(c.sockets) == 0 && c.pendingConnect == 0 && !c.closed
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
	var (
		p   *parser.Packet
		err error
	)
	if binary {
		p, err = c.dec.Binary(data)
	} else {
		p, err = c.dec.Text(data)
	}
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
	if nsp == "" {
		nsp = "/"
	}
	if p.Type == parser.Connect {
		c.connect(nsp, p.Data)
		return
	}
	c.mu.Lock()
	s := c.sockets[nsp]
	c.mu.Unlock()
	if s == nil {
		c.srv.log.Debug("sio: packet for a namespace not joined", "sid", c.eng.ID(), "nsp", nsp)
		return
	}
	s.onPacket(p)
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
	if _, dup := c.sockets[name]; dup {
		c.mu.Unlock()
		return
	}
	c.pendingConnect++
	c.mu.Unlock()
	if len(auth) == 0 {
		auth = []byte("{}")
	}
	s := newSocket(n, c, json.RawMessage(auth))
	c.srv.wg.Add(1)
	go func() {
		defer c.srv.wg.Done()
		err := n.runMiddlewares(s)
		c.mu.Lock()
		c.pendingConnect--
		if err == nil && !c.closed {
			c.sockets[name] = s
			c.connectTimer.Stop()
		}
		closed := c.closed
		c.mu.Unlock()
		if err != nil {
			c.writePacket(&parser.Packet{Type: parser.ConnectError, Namespace: name, Data: connectErrorPayload(err)})
			return
		}
		if closed {
			return
		}
		n.add(s)
	}()
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

// write queues the frames of one packet; it reports whether they were
// queued (false when closed, or volatile and the transport is busy).
func (c *conn) write(frames []engine.Frame, volatile bool) bool {
	if volatile && !c.eng.Writable() {
		return false
	}
	return c.eng.Send(frames...) == nil
}

func (c *conn) writePacket(p *parser.Packet) bool {
	return c.write(encodeFrames(p), false)
}

// encodeFrames returns the Engine.IO frames of a packet: the text frame
// (message type '4' then the Socket.IO packet) and one binary frame per
// attachment.
func encodeFrames(p *parser.Packet) []engine.Frame {
	buf := make([]byte, 0, 16+len(p.Namespace)+len(p.Data))
	buf = append(buf, '4')
	buf = parser.AppendPacket(buf, p)
	frames := make([]engine.Frame, 1, 1+len(p.Attachments))
	frames[0] = engine.Frame{Data: buf}
	for _, a := range p.Attachments {
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
	c.mu.Unlock()
}

// closeAll closes every socket of the connection with reason.
func (c *conn) closeAll(reason string) {
	c.mu.Lock()
	c.closed = true
	list := make([]*Socket, 0, len(c.sockets))
	for _, s := range c.sockets {
		list = append(list, s)
	}
	c.sockets = map[string]*Socket{}
	c.mu.Unlock()
	c.connectTimer.Stop()
	for _, s := range list {
		s.onClose(reason)
	}
}

// onClose is the engine's close callback.
func (c *conn) onClose(reason string, err error) {
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
		s.Disconnect(false)
	}
	c.eng.Close()
}
